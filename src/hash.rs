//! The hash maps of the compiler's own tables.
//!
//! Keys are names, type ids and expression ids that the program itself chose, hashed
//! millions of times per run: the standard library's SipHash (built against hash flooding
//! from untrusted network input) cost a sixth of type checking's instructions. foldhash's
//! fixed-seed hasher is several times faster, needs no OS randomness (so it works unchanged
//! in WebAssembly) and makes every run hash identically. Nothing iterates these maps to
//! produce output (clippy's `iter_over_hash_type` guards that), so the order never shows.

pub type BuildHasher = foldhash::fast::FixedState;
pub type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasher>;
pub type HashSet<K> = std::collections::HashSet<K, BuildHasher>;
