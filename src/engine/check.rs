//! Type checking one module with its independent declarations in parallel.
//!
//! The checker (`types::decl::ModuleChecker`) is sequential code: it checks declarations
//! one at a time against the environment of the ones before. Types, classes and instances
//! change that environment for everything after them, so they are checked in order, on the
//! calling thread (they are few). Between two of them, a run of `let` declarations only
//! adds values, each seen by the lets after it that mention it: the run is a DAG, and its
//! lets are inferred in parallel against the environment frozen at the run's start, each
//! looking up the earlier lets it uses through an [`Overlay`] of once-cells filled as they
//! finish. The results are then applied to the checker in source order, so diagnostics,
//! schemes and the final environment are exactly those of the sequential check.

use std::sync::{Arc, OnceLock};

use super::cache::Cache;
use super::dag::{self, Dag};
use super::deps;
use super::kept::Kept;
use super::keys::Key;
use crate::hash::{BuildHasher, HashMap};
use crate::par::{Par, Threads};
use crate::source::FileId;
use crate::syntax::ast::{self, DeclKind, Name};
use crate::types::decl::{LetChecked, ModuleChecker};
use crate::types::elab::Elaboration;
use crate::types::env::{Env, Overlay, ValueInfo};
use crate::types::ty::SType;
use crate::types::ty::Scheme;
use crate::types::Checked;
use dashmap::DashMap;

/// Runs shorter than this are checked sequentially on the automatic parallel path (a forced
/// `Threads::Parallel` takes every run through the scheduler, which the tests rely on).
const MIN_RUN: usize = 64;

/// The session's scheme cache and the keys of the module's lets, with the schemes found for
/// them before checking (kept from the module's last check, see [`super::kept`], or in the
/// cache) and those cached during it: what the module keeps for its next check.
pub struct SchemeCache<'a> {
    keys: &'a [Option<Key>],
    schemes: &'a Cache<Key, Arc<Scheme>>,
    found: Vec<Option<Arc<Scheme>>>,
}

impl<'a> SchemeCache<'a> {
    pub fn new(
        keys: &'a [Option<Key>],
        schemes: &'a Cache<Key, Arc<Scheme>>,
        mut kept: Option<Kept<Arc<Scheme>>>,
    ) -> SchemeCache<'a> {
        let n = keys.len();
        let found = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let k = (*k)?;
                match kept.as_mut().and_then(|kept| kept.take(i, n, k)) {
                    Some(found) => {
                        schemes.count_hit();
                        Some(found)
                    }
                    None => schemes.get(&k),
                }
            })
            .collect();
        SchemeCache {
            keys,
            schemes,
            found,
        }
    }

    /// What the module keeps for its next check.
    pub fn into_kept(self) -> Kept<Arc<Scheme>> {
        Kept::new(self.keys.to_vec(), self.found)
    }

    fn key(&self, i: u32) -> Option<Key> {
        self.keys.get(i as usize).copied().flatten()
    }
}

/// Infers let `i`, or takes its scheme from the cache. Only results that depend on nothing
/// but the key are cached: no diagnostics (they carry spans) and no elaboration (it is
/// keyed by expression ids, which move when an earlier declaration changes).
fn infer_let(
    checker: &ModuleChecker,
    cache: Option<&SchemeCache<'_>>,
    i: u32,
    l: &ast::LetDecl,
    overlay: Option<&dyn Overlay>,
) -> Checked1 {
    cached_let(cache, i).unwrap_or_else(|| (checker.infer_let(i, l, overlay), false))
}

/// Let `i` from the cache, if it is there.
fn cached_let(cache: Option<&SchemeCache<'_>>, i: u32) -> Option<Checked1> {
    let scheme = cache?.found.get(i as usize)?.clone()?;
    let checked = LetChecked {
        scheme,
        diagnostics: Vec::new(),
        elab: Elaboration::default(),
    };
    Some((checked, true))
}

/// A checked let, and whether it came from the cache.
type Checked1 = (LetChecked, bool);

/// Applies a checked let and caches its scheme as stored (shared between bindings of the
/// same type) when the check was inferred just now and depends on nothing but its key.
fn apply_let(
    checker: &mut ModuleChecker,
    cache: Option<&mut SchemeCache<'_>>,
    i: u32,
    l: &ast::LetDecl,
    (checked, hit): Checked1,
) {
    let pure = checked.diagnostics.is_empty()
        && checked.elab.uses.is_empty()
        && checked.elab.params.is_empty();
    let target = cache
        .filter(|_| pure && !hit)
        .and_then(|c| c.key(i).map(|k| (c, k)));
    if let Some(scheme) = checker.apply_let(i, l, checked, target.is_some()) {
        if let Some((cache, key)) = target {
            cache.schemes.insert(key, scheme.clone());
            if let Some(slot) = cache.found.get_mut(i as usize) {
                *slot = Some(scheme);
            }
        }
    }
}

/// Type-checks `module` against `env` (the prelude plus its imports); the same result as
/// [`crate::types::check_module_in`], computed on `par`'s threads when worth it, with the
/// schemes of unchanged lets taken from `cache`.
pub fn check_module(
    par: &Par,
    file: FileId,
    module: &ast::Module,
    env: Env,
    mut cache: Option<&mut SchemeCache<'_>>,
) -> (Checked, Env) {
    let mut checker = ModuleChecker::new(file, module, env);
    let decls = &module.decls;
    if !par.worth_it(decls.len()) {
        for (i, decl) in decls.iter().enumerate() {
            check_decl(&mut checker, cache.as_deref_mut(), i as u32, decl);
        }
        return checker.finish(module);
    }
    let mut i = 0;
    while i < decls.len() {
        let end = decls
            .iter()
            .skip(i)
            .position(|d| !matches!(d.kind, DeclKind::Let(_)))
            .map_or(decls.len(), |n| i + n);
        if end > i && (par.threads() == Threads::Parallel || worth_a_parallel_run(decls, i, end)) {
            check_run(par, &mut checker, cache.as_deref_mut(), decls, i, end);
            i = end;
        } else {
            // A run not worth the pool, or the declaration that ends one: in order, here.
            let stop = end.max(i + 1);
            for (k, decl) in decls.iter().enumerate().take(stop).skip(i) {
                check_decl(&mut checker, cache.as_deref_mut(), k as u32, decl);
            }
            i = stop;
        }
    }
    checker.finish(module)
}

/// Source bytes per `let`, on average over a run, below which [`Threads::Auto`] checks the
/// run on the calling thread. Checking a let costs about its size; the parallel path adds a
/// fixed cost per let (buffered results applied in order, frees on another thread than the
/// allocation). Measured on 2 cores: lets of about 30 bytes (the services workload,
/// 100,000 of them) checked 3 to 20% slower in parallel; lets of 1.6 KB (30-field records)
/// 17% faster.
const AUTO_MIN_LET_BYTES: usize = 512;

/// Whether the lets `decls[start..end]` are worth checking in parallel under `Auto`.
fn worth_a_parallel_run(decls: &[ast::Decl], start: usize, end: usize) -> bool {
    let n = end - start;
    let bytes: usize = decls
        .get(start..end)
        .unwrap_or(&[])
        .iter()
        .map(|d| (d.span.end - d.span.start) as usize)
        .sum();
    n >= MIN_RUN && bytes >= n * AUTO_MIN_LET_BYTES
}

fn check_decl(
    checker: &mut ModuleChecker,
    cache: Option<&mut SchemeCache<'_>>,
    i: u32,
    decl: &ast::Decl,
) {
    match &decl.kind {
        DeclKind::Let(l) => {
            let checked = infer_let(checker, cache.as_deref(), i, l, None);
            apply_let(checker, cache, i, l, checked);
        }
        _ => checker.check_decl(i, decl),
    }
}

/// The earlier lets of a run, as later lets of the same run see them.
struct RunOverlay<'a> {
    start: usize,
    /// The run's bindings that will enter the environment (first of each name, not
    /// duplicating an earlier declaration), by name.
    names: HashMap<&'a Name, u32>,
    infos: &'a [OnceLock<ValueInfo>],
}

impl Overlay for RunOverlay<'_> {
    fn value(&self, name: &Name, before: u32) -> Option<&ValueInfo> {
        let at = *self.names.get(name)?;
        if at >= before {
            return None;
        }
        self.infos.get(at as usize - self.start)?.get()
    }
}

fn check_run(
    par: &Par,
    checker: &mut ModuleChecker,
    mut cache: Option<&mut SchemeCache<'_>>,
    decls: &[ast::Decl],
    start: usize,
    end: usize,
) {
    let lets: Vec<&ast::LetDecl> = decls
        .get(start..end)
        .unwrap_or(&[])
        .iter()
        .filter_map(|d| match &d.kind {
            DeclKind::Let(l) => Some(l),
            _ => None,
        })
        .collect();
    let mut names: HashMap<&Name, u32> = HashMap::default();
    for (k, l) in lets.iter().enumerate() {
        let name = &l.name.name;
        if !checker.declares_value(name) && !names.contains_key(name) {
            names.insert(name, (start + k) as u32);
        }
    }
    let infos: Vec<OnceLock<ValueInfo>> = (0..lets.len()).map(|_| OnceLock::new()).collect();
    let results: Vec<OnceLock<Checked1>> = (0..lets.len()).map(|_| OnceLock::new()).collect();
    // Monomorphic schemes by type, shared as they are inferred: the results wait here until
    // they are applied in order, and 100,000 lets of one record type would otherwise hold
    // 100,000 copies of it (`apply_let` shares them too, but only once they are applied).
    let shared: DashMap<SType, Arc<Scheme>, BuildHasher> = DashMap::default();
    // The lets whose schemes the cache has are done before anything runs (their
    // information is known): only the others are scheduled, over the DAG of the edges
    // between them.
    let mut todo: Vec<usize> = Vec::new();
    let mut node_of: Vec<u32> = vec![u32::MAX; lets.len()];
    for k in 0..lets.len() {
        let i = (start + k) as u32;
        match cached_let(cache.as_deref(), i) {
            Some(checked) => {
                if let Some(slot) = infos.get(k) {
                    let _ = slot.set(checked.0.value_info(i));
                }
                if let Some(slot) = results.get(k) {
                    let _ = slot.set(checked);
                }
            }
            None => {
                if let Some(slot) = node_of.get_mut(k) {
                    *slot = todo.len() as u32;
                }
                todo.push(k);
            }
        }
    }
    let dag = Dag::new(todo.iter().map(|&k| {
        let mut ds = Vec::new();
        if let Some(l) = lets.get(k) {
            deps::names_in_let(l, &mut |n| {
                if let Some(at) = names.get(n) {
                    let node = node_of.get((*at as usize) - start).copied();
                    if let Some(node) = node.filter(|it| *it != u32::MAX) {
                        ds.push(node);
                    }
                }
            });
        }
        ds
    }));
    let overlay = RunOverlay {
        start,
        names,
        infos: &infos,
    };
    {
        let checker = &*checker;
        dag::run(par, &dag, |t| {
            let Some(&k) = todo.get(t) else {
                return true;
            };
            if let Some(l) = lets.get(k) {
                let i = (start + k) as u32;
                let mut checked = (checker.infer_let(i, l, Some(&overlay)), false);
                let scheme = &checked.0.scheme;
                if scheme.n_gen == 0 && scheme.constraints.is_empty() {
                    let known = shared.get(&scheme.ty).map(|it| it.value().clone());
                    match known {
                        Some(known) => checked.0.scheme = known,
                        None => {
                            shared.insert(scheme.ty.clone(), scheme.clone());
                        }
                    }
                }
                if let Some(slot) = infos.get(k) {
                    let _ = slot.set(checked.0.value_info(i));
                }
                if let Some(slot) = results.get(k) {
                    let _ = slot.set(checked);
                }
            }
            true
        });
    }
    drop(overlay);
    drop(infos);
    drop(shared);
    for (k, (l, result)) in lets.iter().zip(results).enumerate() {
        let i = (start + k) as u32;
        match result.into_inner() {
            Some(checked) => apply_let(checker, cache.as_deref_mut(), i, l, checked),
            // Unreachable: checking never fails, so every node runs.
            None => {
                let checked = infer_let(checker, cache.as_deref(), i, l, None);
                apply_let(checker, cache.as_deref_mut(), i, l, checked);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decls(n: usize, body: &str) -> Vec<ast::Decl> {
        let source: String = (0..n).map(|i| format!("let x{i} = {body};\n")).collect();
        crate::syntax::parse(FileId(0), &source).module.decls
    }

    /// `Auto` sends a run of lets to the pool only when it is long enough and its lets are
    /// big enough for the work to outweigh the per-let cost of the parallel path.
    #[test]
    fn auto_checks_small_lets_on_the_calling_thread() {
        let big = format!("[{}]", vec!["1 + 2 * 3"; 60].join(", "));
        let small = decls(200, "1");
        let large = decls(200, &big);
        let few = decls(MIN_RUN - 1, &big);
        assert!(!worth_a_parallel_run(&small, 0, small.len()));
        assert!(worth_a_parallel_run(&large, 0, large.len()));
        assert!(!worth_a_parallel_run(&few, 0, few.len()));
    }
}
