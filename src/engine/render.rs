//! Rendered records kept across calls: the JSON text of top-level `let`s' records.
//!
//! Re-evaluating an edited file takes the values of the unchanged lets from the value
//! cache; rendering them again would cost as much as everything else together. A record
//! that is the value of a `let` with content key `k` is the same value whenever `k` is
//! (see [`super::keys`]), so its text at a given depth, under the same limits, is too: it
//! is cached by (k, depth, depth limit). Records are recognised by their address, which
//! is stable for the duration of one rendering (the run's values keep them alive).

use std::hash::BuildHasher;
use std::sync::Arc;

use super::cache::Cache;
use super::keys::Key;
use crate::eval::export::json::Fragments;
use crate::eval::value::Record;
use crate::eval::Value;
use crate::hash::HashMap;

/// Fragments longer than this are not kept (the cache bounds entries, not bytes).
const MAX_FRAGMENT: usize = 256 * 1024;

/// The records of one module's lets, for one rendering.
pub struct RenderCache<'a> {
    by_record: HashMap<usize, Key>,
    rendered: &'a Cache<Key, Arc<str>>,
    max_depth: u32,
}

impl<'a> RenderCache<'a> {
    /// `values` and `keys` are a module's declarations' values and content keys (by
    /// declaration index).
    pub fn new(
        values: &[Value],
        keys: &[Option<Key>],
        rendered: &'a Cache<Key, Arc<str>>,
        max_depth: u32,
    ) -> RenderCache<'a> {
        let mut by_record = HashMap::default();
        by_record.reserve(values.len());
        for (value, key) in values.iter().zip(keys) {
            if let (Value::Record(r), Some(key)) = (value, key) {
                by_record.insert(Arc::as_ptr(r) as usize, *key);
            }
        }
        RenderCache {
            by_record,
            rendered,
            max_depth,
        }
    }
}

impl Fragments for RenderCache<'_> {
    fn key(&self, record: &Arc<Record>, depth: u32) -> Option<u64> {
        let key = self.by_record.get(&(Arc::as_ptr(record) as usize))?;
        Some(crate::hash::BuildHasher::default().hash_one(("json", key, depth, self.max_depth)))
    }

    fn get(&self, key: u64) -> Option<Arc<str>> {
        self.rendered.get(&key)
    }

    fn put(&self, key: u64, text: &str) {
        if text.len() <= MAX_FRAGMENT {
            self.rendered.insert(key, Arc::from(text));
        }
    }
}
