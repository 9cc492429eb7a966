//! Content keys of top-level `let` declarations, for the session caches.
//!
//! The key of a `let` hashes its own source text, the keys of the earlier `let`s it names
//! (a Merkle hash over the declaration DAG) and the *environment key*: a running hash of
//! every other declaration before it (types, classes, instances, exports, imports are part
//! of what the module gives its lets) and of what the host says the module sees (its
//! imports' keys). A `let`'s scheme and value are functions of exactly these, so equal
//! keys mean equal results: editing one binding changes its key and those of the bindings
//! that depend on it, directly or not, and nothing else.

use std::hash::{BuildHasher, Hash, Hasher};

use super::deps;
use crate::hash::HashMap;
use crate::syntax::ast::{self, DeclKind, Name};

/// A content key.
pub type Key = u64;

/// The hasher of content keys: foldhash's quality variant with a fixed seed (the same key
/// on every run and host; SipHash, the standard one, cost a tenth of a re-evaluation on
/// hashing source text).
pub fn key_hasher() -> impl Hasher {
    foldhash::quality::FixedState::with_seed(0x6c69_6761_7475_7265).build_hasher()
}

/// Keys of a module's declarations: `Some` for each `let`, `None` for the others.
pub fn let_keys(module: &ast::Module, source: &str, context: Key) -> Vec<Option<Key>> {
    let mut env = {
        let mut h = key_hasher();
        "ligature-env".hash(&mut h);
        context.hash(&mut h);
        h.finish()
    };
    let mut by_name: HashMap<&Name, Key> = HashMap::default();
    by_name.reserve(module.decls.len());
    let mut keys = Vec::with_capacity(module.decls.len());
    for decl in &module.decls {
        let text = source
            .get(decl.span.start as usize..decl.span.end as usize)
            .unwrap_or("");
        match &decl.kind {
            DeclKind::Let(l) => {
                let mut h = key_hasher();
                env.hash(&mut h);
                text.hash(&mut h);
                for n in deps::mentions(l) {
                    if let Some(k) = by_name.get(n) {
                        k.hash(&mut h);
                    }
                }
                let key = h.finish();
                // The first binding of a name is the one later declarations see
                // (a second one is a T2006 duplicate).
                by_name.entry(&l.name.name).or_insert(key);
                keys.push(Some(key));
            }
            _ => {
                let mut h = key_hasher();
                env.hash(&mut h);
                text.hash(&mut h);
                env = h.finish();
                keys.push(None);
            }
        }
    }
    keys
}

/// The key of a module's trailing expression: its text. A re-check takes its type from the
/// last check when this key, its expression ids and the schemes of every let are the same
/// (`engine::check::recheck`).
pub fn body_key(module: &ast::Module, source: &str) -> Option<Key> {
    let body = module.body.as_ref()?;
    let text = source.get(body.span.start as usize..body.span.end as usize)?;
    let mut h = key_hasher();
    "ligature-body".hash(&mut h);
    text.hash(&mut h);
    Some(h.finish())
}
