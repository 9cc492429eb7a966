//! Rendered records kept across calls: the JSON text of top-level `let`s' records.
//!
//! Re-evaluating an edited file takes the values of the unchanged lets from the value
//! cache; rendering them again would cost as much as everything else together. A record
//! that is the value of a `let` with content key `k` is the same value whenever `k` is
//! (see [`super::keys`]), so its text at a given depth, under the same limits, is too: it
//! is cached by (k, depth, depth limit). Records are recognised by their address, which
//! is stable for the duration of one rendering (the run's values keep them alive).
//!
//! Besides the session-wide cache, the texts of a module's last rendering are kept by
//! declaration ([`Kept`]): after an edit, most declarations have the key they had at the
//! same place, counted from the start or from the end, and their text is taken from there
//! in order, without a lookup in the cache for each.

use std::hash::BuildHasher;
use std::sync::{Arc, OnceLock};

use super::cache::Cache;
use super::keys::Key;
use crate::eval::export::json::Fragments;
use crate::eval::value::Record;
use crate::eval::Value;
use crate::hash::HashMap;

/// Fragments longer than this are not kept (the cache bounds entries, not bytes).
const MAX_FRAGMENT: usize = 256 * 1024;

/// A module's last rendering: the text of each let's record at the depth it was rendered
/// at (under one depth limit: the store's module key includes it, see [`kept_key`]).
pub type Kept = super::kept::Kept<(u32, Arc<str>)>;

/// The name under which a module's rendering under a depth limit is kept.
pub fn kept_key(module: &str, max_depth: u32) -> String {
    format!("{module}\u{0}{max_depth}")
}

/// The records of one module's lets, for one rendering.
pub struct RenderCache<'a> {
    /// Declaration index by record address.
    by_record: HashMap<usize, u32>,
    keys: &'a [Option<Key>],
    /// The text of each declaration's record, at a depth: kept from the last rendering or
    /// rendered now.
    texts: Vec<OnceLock<(u32, Arc<str>)>>,
    rendered: &'a Cache<Key, Arc<str>>,
    max_depth: u32,
    /// The length of the texts kept from the last rendering.
    kept_len: usize,
}

impl<'a> RenderCache<'a> {
    /// `values` and `keys` are a module's declarations' values and content keys (by
    /// declaration index); `kept` is the module's last rendering, if any.
    pub fn new(
        values: &[Value],
        keys: &'a [Option<Key>],
        rendered: &'a Cache<Key, Arc<str>>,
        max_depth: u32,
        kept: Option<Kept>,
    ) -> RenderCache<'a> {
        let mut by_record = HashMap::default();
        by_record.reserve(values.len());
        for (i, (value, key)) in values.iter().zip(keys).enumerate() {
            if let (Value::Record(r), Some(_)) = (value, key) {
                by_record.insert(Arc::as_ptr(r) as usize, i as u32);
            }
        }
        let texts: Vec<OnceLock<(u32, Arc<str>)>> = keys.iter().map(|_| OnceLock::new()).collect();
        let mut kept_len = 0;
        if let Some(mut kept) = kept {
            let mut hits = 0;
            for (i, (key, slot)) in keys.iter().zip(&texts).enumerate() {
                if let Some(text) = key.and_then(|key| kept.take(i, keys.len(), key)) {
                    hits += 1;
                    kept_len += text.1.len();
                    let _ = slot.set(text);
                }
            }
            rendered.count_hits(hits);
        }
        RenderCache {
            by_record,
            keys,
            texts,
            rendered,
            max_depth,
            kept_len,
        }
    }

    /// What to keep for the module's next rendering.
    pub fn into_kept(self) -> Kept {
        let texts = self.texts.into_iter().map(OnceLock::into_inner).collect();
        Kept::new(self.keys.to_vec(), texts)
    }

    /// The key of declaration `i`'s text at `depth` in the session's cache.
    fn cache_key(&self, i: usize, depth: u32) -> Option<Key> {
        let key = self.keys.get(i).copied().flatten()?;
        Some(crate::hash::BuildHasher::default().hash_one(("json", key, depth, self.max_depth)))
    }
}

/// A fragment is named by its declaration index (high half) and depth (low half).
fn split(fragment: u64) -> (usize, u32) {
    ((fragment >> 32) as usize, fragment as u32)
}

impl Fragments for RenderCache<'_> {
    fn key(&self, record: &Arc<Record>, depth: u32) -> Option<u64> {
        let i = *self.by_record.get(&(Arc::as_ptr(record) as usize))?;
        Some((u64::from(i) << 32) | u64::from(depth))
    }

    fn get(&self, fragment: u64, out: &mut String) -> bool {
        let (i, depth) = split(fragment);
        let slot = self.texts.get(i);
        if let Some((at, text)) = slot.and_then(OnceLock::get) {
            if *at == depth {
                out.push_str(text);
                return true;
            }
        }
        let Some(text) = self.cache_key(i, depth).and_then(|k| self.rendered.get(&k)) else {
            return false;
        };
        out.push_str(&text);
        if let Some(slot) = slot {
            let _ = slot.set((depth, text));
        }
        true
    }

    /// The kept texts and a tenth more (the document around them, the edited records).
    fn size_hint(&self) -> usize {
        self.kept_len + self.kept_len / 10
    }

    fn put(&self, fragment: u64, text: &str) {
        if text.len() > MAX_FRAGMENT {
            return;
        }
        let (i, depth) = split(fragment);
        let Some(key) = self.cache_key(i, depth) else {
            return;
        };
        let text: Arc<str> = Arc::from(text);
        self.rendered.insert(key, text.clone());
        if let Some(slot) = self.texts.get(i) {
            let _ = slot.set((depth, text));
        }
    }
}
