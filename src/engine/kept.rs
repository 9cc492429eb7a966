//! A module's per-declaration results from its last run, found again in place.
//!
//! The session caches are keyed by content (see [`super::keys`]), and every lookup in a
//! dashmap takes a shard lock, an atomic operation that waits for the stores before it: a
//! re-evaluation of 10,000 unchanged lets spent about a third of its time there. After an
//! edit, though, most declarations are where they were, counted from the start (before the
//! edit) or from the end (after it), with the key they had. So each phase that reads a
//! cache keeps what the module's last run used, by declaration ([`Kept`]), and the next
//! run takes an entry from there when the key at the same place is the same, in order and
//! without a lock, and asks the cache only for the rest. Equal keys mean equal results, so
//! an entry found this way is exactly what the cache would give.

use std::sync::Mutex;

use super::cache::Cache;
use super::keys::Key;
use crate::hash::HashMap;

/// The results of a module's declarations in its last run, with their keys.
pub struct Kept<V> {
    keys: Vec<Option<Key>>,
    items: Vec<Option<V>>,
}

impl<V> Kept<V> {
    /// `items[i]` is the result of the declaration whose key was `keys[i]`.
    pub fn new(keys: Vec<Option<Key>>, items: Vec<Option<V>>) -> Kept<V> {
        Kept { keys, items }
    }

    /// Takes the result kept for the declaration now at `i` of `n`, whose key is `key`:
    /// the one at the same place counted from the start or from the end, if it had `key`.
    pub fn take(&mut self, i: usize, n: usize, key: Key) -> Option<V> {
        let from_end = (i + self.keys.len()).checked_sub(n);
        let at = [Some(i), from_end]
            .into_iter()
            .flatten()
            .find(|j| self.keys.get(*j) == Some(&Some(key)))?;
        self.items.get_mut(at)?.take()
    }
}

/// The result for each key: the one `kept` has in place, else the one `cache` has (a
/// result found in place counts as a hit of the cache).
pub fn find_all<V: Clone>(
    keys: &[Option<Key>],
    cache: &Cache<Key, V>,
    mut kept: Option<Kept<V>>,
) -> Vec<Option<V>> {
    let n = keys.len();
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            let k = (*k)?;
            match kept.as_mut().and_then(|kept| kept.take(i, n, k)) {
                Some(found) => {
                    cache.count_hit();
                    Some(found)
                }
                None => cache.get(&k),
            }
        })
        .collect()
}

/// What the modules of a session kept from their last runs, by module (at most
/// [`MAX_MODULES`]; beyond that, everything is dropped and kept again).
pub struct Store<T>(Mutex<HashMap<String, T>>);

/// Per-declaration results of the modules of a session.
pub type KeptStore<V> = Store<Kept<V>>;

/// Modules whose results are kept: those of the programs a session evaluates.
pub const MAX_MODULES: usize = 64;

impl<T> Default for Store<T> {
    fn default() -> Self {
        Store(Mutex::default())
    }
}

impl<T> Store<T> {
    /// What was kept for `module`, taken out (a concurrent run of the same module finds
    /// nothing and does the work).
    pub fn take(&self, module: &str) -> Option<T> {
        self.0.lock().ok()?.remove(module)
    }

    pub fn keep(&self, module: &str, kept: T) {
        // What is replaced is dropped after the lock is released.
        let _replaced = match self.0.lock() {
            Ok(mut all) => {
                if all.len() >= MAX_MODULES && !all.contains_key(module) {
                    all.clear();
                }
                all.insert(module.to_string(), kept)
            }
            Err(_) => None,
        };
    }

    pub fn clear(&self) {
        let _dropped = self.0.lock().map(|mut all| std::mem::take(&mut *all));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_results_in_place_from_either_end_and_only_under_their_key() {
        let keys = vec![Some(1), None, Some(2), Some(3), Some(4)];
        let items = vec![Some("a"), None, Some("b"), Some("c"), Some("d")];
        // One declaration inserted before the third: keys after it are one further on.
        let mut kept = Kept::new(keys.clone(), items.clone());
        assert_eq!(kept.take(0, 6, 1), Some("a"));
        assert_eq!(kept.take(2, 6, 9), None);
        assert_eq!(kept.take(3, 6, 2), Some("b"));
        assert_eq!(kept.take(5, 6, 4), Some("d"));
        // Taken once only.
        assert_eq!(kept.take(5, 6, 4), None);
        // A changed key is not found, whatever is at its place.
        let mut kept = Kept::new(keys, items);
        assert_eq!(kept.take(3, 5, 7), None);
        assert_eq!(kept.take(3, 5, 3), Some("c"));
        // Out of range on either side.
        assert_eq!(kept.take(9, 2, 1), None);
    }
}
