//! Bounded concurrent caches (dashmap) that a `Session` keeps across calls.
//!
//! Entries are keyed by content hashes (see [`super::keys`]), so a hit is always valid: a
//! key changes whenever anything its entry depends on changes. Each entry remembers when
//! it was last used (a session-wide tick); when an insert takes the map over its capacity,
//! the least recently used tenth is evicted. Lookups clone the entry out and never hold a
//! dashmap guard while doing other work. Hits, misses and evictions are counted for
//! `--stats` and the JS `stats`.

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use serde::Serialize;

use crate::hash::BuildHasher;

/// Counters of one cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    pub entries: u64,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

impl CacheStats {
    /// The change from `before` to `self` of the counters (entries as of `self`).
    pub fn since(self, before: CacheStats) -> CacheStats {
        CacheStats {
            entries: self.entries,
            hits: self.hits - before.hits.min(self.hits),
            misses: self.misses - before.misses.min(self.misses),
            evictions: self.evictions - before.evictions.min(self.evictions),
        }
    }
}

struct Entry<V> {
    value: V,
    used: AtomicU64,
}

/// A concurrent map with a size bound and LRU-like eviction.
pub struct Cache<K, V> {
    map: DashMap<K, Entry<V>, BuildHasher>,
    capacity: usize,
    tick: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

impl<K: Eq + Hash + Clone, V: Clone> Cache<K, V> {
    /// A cache of at most `capacity` entries (0 disables it).
    pub fn new(capacity: usize) -> Cache<K, V> {
        Cache {
            map: DashMap::with_hasher(BuildHasher::default()),
            capacity,
            tick: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let found = self.map.get(key).map(|entry| {
            entry
                .used
                .store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
            entry.value.clone()
        });
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// The entry of `key`, without counting a hit or a miss or marking it used.
    pub fn peek(&self, key: &K) -> Option<V> {
        self.map.get(key).map(|entry| entry.value.clone())
    }

    /// Counts a hit served without a lookup (from a module's previous results).
    pub fn count_hit(&self) {
        self.count_hits(1);
    }

    /// Counts hits and misses of lookups that results kept elsewhere made unnecessary.
    pub fn count_hits(&self, n: u64) {
        self.hits.fetch_add(n, Ordering::Relaxed);
    }

    pub fn count_misses(&self, n: u64) {
        self.misses.fetch_add(n, Ordering::Relaxed);
    }

    pub fn insert(&self, key: K, value: V) {
        if self.capacity == 0 {
            return;
        }
        let used = AtomicU64::new(self.tick.fetch_add(1, Ordering::Relaxed));
        self.map.insert(key, Entry { value, used });
        if self.map.len() > self.capacity {
            self.evict();
        }
    }

    /// Removes the least recently used tenth (at least one entry).
    fn evict(&self) {
        // Snapshot first: no guard is held while removing.
        let mut ages: Vec<(u64, K)> = self
            .map
            .iter()
            .map(|e| (e.value().used.load(Ordering::Relaxed), e.key().clone()))
            .collect();
        let excess = ages.len().saturating_sub(self.capacity);
        let n = (self.capacity / 10).max(1).max(excess).min(ages.len());
        if n == 0 {
            return;
        }
        ages.select_nth_unstable_by_key(n - 1, |(used, _)| *used);
        for (_, key) in ages.into_iter().take(n) {
            if self.map.remove(&key).is_some() {
                self.evictions.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            entries: self.map.len() as u64,
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
        }
    }

    pub fn clear(&self) {
        self.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_recently_used_entries_go_first() {
        let cache: Cache<u32, u32> = Cache::new(10);
        for k in 0..10 {
            cache.insert(k, k * 2);
        }
        // Touch 0..5 so that 5..10 are the oldest.
        for k in 0..5 {
            assert_eq!(cache.get(&k), Some(k * 2));
        }
        cache.insert(100, 1);
        let stats = cache.stats();
        assert_eq!(stats.evictions, 1);
        assert_eq!(stats.entries, 10);
        assert_eq!(cache.get(&5), None, "the oldest entry was evicted");
        assert_eq!(cache.get(&0), Some(0));
        assert_eq!(cache.get(&100), Some(1));
    }

    #[test]
    fn concurrent_inserts_stay_bounded() {
        let cache: Cache<u64, u64> = Cache::new(1000);
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let cache = &cache;
                s.spawn(move || {
                    for k in 0..5000 {
                        cache.insert(t * 100_000 + k, k);
                        let _ = cache.get(&(t * 100_000 + k / 2));
                    }
                });
            }
        });
        let stats = cache.stats();
        assert!(stats.entries <= 1000 + 4, "{stats:?}");
        assert!(stats.evictions >= 20_000 - 1004, "{stats:?}");
        assert_eq!(stats.hits + stats.misses, 20_000);
    }
}
