//! The pipeline over the declaration graph, scheduled on all cores (DESIGN.md sections 3
//! to 5).
//!
//! `types` and `eval` are sequential code over immutable data; this module decides what
//! runs where. [`check::check_module`] type-checks independent `let` declarations in
//! parallel between the declarations that change the type environment;
//! [`eval::run`] evaluates independent top-level declarations in parallel, each once, into
//! once-cells. Both produce exactly the sequential result, whatever the number of threads
//! ([`dag`] explains the scheduling, [`eval`] the canonical accounting of errors and
//! budget). Threads come only through [`crate::par`].

pub mod cache;
pub mod check;
pub mod dag;
pub mod deps;
pub mod eval;
pub mod kept;
pub mod keys;
pub mod lowered;
pub mod persist;
pub mod render;

pub use crate::par::{Par, Threads};

use std::sync::Arc;

use serde::Serialize;

use crate::eval::Value;
use crate::syntax::chunks::{Chunk, ChunkCache, Previous};
use crate::types::ty::Scheme;
use cache::{Cache, CacheStats};
use keys::Key;

/// Texts shorter than this are parsed in one piece under [`Threads::Auto`]: a piece costs a
/// scan for its start, a walk moving its spans and ids, a hand-off to a worker and the
/// fresh memory a worker's tree takes. Measured on 2 cores (2026-12-03): services-100000
/// (3.96 MB) parsed in 29 ms instead of 46 (lowering the tree a worker built took 4.6 ms
/// more, the run 16 ms less); the chain workload (0.5 MB) saved 2 ms of
/// parsing but ran 5 ms longer in all, with lowering on the pool too.
const AUTO_MIN_PIECE_BYTES: usize = 1 << 20;

/// Into how many pieces `syntax::chunks::parse_in_pieces` may cut a module of `bytes` on
/// `par` (1: parse it whole). Forced parallel cuts every module, so the tests cover the path.
pub fn parse_pieces(par: &Par, bytes: usize) -> usize {
    match par.threads() {
        Threads::Sequential => 1,
        Threads::Parallel => par.workers(),
        Threads::Auto if bytes >= AUTO_MIN_PIECE_BYTES => par.workers(),
        Threads::Auto => 1,
    }
}

/// The caches a `Session` keeps across calls (DESIGN.md section 4).
pub struct Caches {
    /// Parsed top-level chunks by text hash (see `syntax::chunks`). With `previous`, this is
    /// the parsed-module cache: an unchanged module is assembled from its chunks, moving
    /// them out of its previous tree.
    pub chunks: Cache<Key, Arc<Chunk>>,
    /// The last tree assembled from chunks, by module key (see [`kept::Store`]).
    previous: kept::Store<Previous>,
    /// Schemes of lets by content key.
    pub schemes: Cache<Key, Arc<Scheme>>,
    /// Plain-data values of lets by content key, with their steps.
    pub values: Cache<Key, (Value, u64)>,
    /// JSON text of lets' records by (content key, depth), see [`render`].
    pub rendered: Cache<Key, Arc<str>>,
    /// What each module's last run took from `schemes`, `values` and `rendered`, by
    /// declaration (see [`kept`]).
    pub kept_schemes: kept::KeptStore<Arc<Scheme>>,
    pub kept_values: kept::KeptStore<eval::CachedValue>,
    pub kept_renders: kept::KeptStore<(u32, Arc<str>)>,
    /// What each module's last clean check left for re-checking it (`check::recheck`).
    pub kept_checks: kept::Store<check::CheckKept>,
    /// Each module's last program, for lowering only what an edit changed (`lowered`).
    pub kept_programs: kept::Store<lowered::KeptProgram>,
}

/// Counters of the caches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CachesStats {
    pub chunks: CacheStats,
    pub schemes: CacheStats,
    pub values: CacheStats,
    pub rendered: CacheStats,
}

impl Caches {
    /// Caches of at most `capacity` entries each.
    pub fn new(capacity: usize) -> Caches {
        Caches {
            chunks: Cache::new(capacity),
            previous: kept::Store::default(),
            schemes: Cache::new(capacity),
            values: Cache::new(capacity),
            rendered: Cache::new(capacity),
            kept_schemes: kept::KeptStore::default(),
            kept_values: kept::KeptStore::default(),
            kept_renders: kept::KeptStore::default(),
            kept_checks: kept::Store::default(),
            kept_programs: kept::Store::default(),
        }
    }

    pub fn stats(&self) -> CachesStats {
        CachesStats {
            chunks: self.chunks.stats(),
            schemes: self.schemes.stats(),
            values: self.values.stats(),
            rendered: self.rendered.stats(),
        }
    }

    pub fn clear(&self) {
        self.chunks.clear();
        self.previous.clear();
        self.schemes.clear();
        self.values.clear();
        self.rendered.clear();
        self.kept_schemes.clear();
        self.kept_values.clear();
        self.kept_renders.clear();
        self.kept_checks.clear();
        self.kept_programs.clear();
    }
}

/// Chunks by the hash of their text; a hit is checked against the text itself.
impl ChunkCache for Caches {
    fn get(&self, text: &str) -> Option<Arc<Chunk>> {
        let chunk = self.chunks.get(&text_key(text))?;
        (*chunk.text == *text).then_some(chunk)
    }

    fn put(&self, chunk: Arc<Chunk>) {
        self.chunks.insert(text_key(&chunk.text), chunk);
    }

    fn hit(&self) {
        self.chunks.count_hit();
    }

    fn hits(&self, n: u64) {
        self.chunks.count_hits(n);
    }

    fn take_previous(&self, key: &str) -> Option<Previous> {
        self.previous.take(key)
    }

    fn keep_previous(&self, key: &str, previous: Previous) {
        self.previous.keep(key, previous);
    }
}

/// A fast hash: collisions cost a miss, never a wrong tree.
fn text_key(text: &str) -> Key {
    use std::hash::BuildHasher;
    crate::hash::BuildHasher::default().hash_one(text)
}
