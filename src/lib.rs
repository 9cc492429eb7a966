//! Ligature: a strict, pure, statically typed configuration language.
//!
//! The library is IO-free: files come through a file-system trait, nothing is printed,
//! no clock or environment is read. [`api`] is the one facade that the CLI, the wasm
//! bindings and the tests use.

#![deny(clippy::print_stdout, clippy::print_stderr)]
// The threaded wasm build is made with the pinned nightly (wasm.mk): its allocator's
// thread-locals are `#[thread_local]` statics (`thread_alloc`).
#![cfg_attr(
    all(target_arch = "wasm32", target_feature = "atomics"),
    feature(thread_local)
)]

pub mod api;
pub mod diagnostic;
pub mod engine;
pub mod eval;
pub mod export_types;
pub mod hash;
pub mod interrupt;
pub mod loader;
pub mod modules;
pub mod par;
pub mod source;
pub mod syntax;
/// The threaded wasm build's allocator (also compiled natively for its tests).
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "atomics")))]
pub(crate) mod thread_alloc;
pub mod types;
pub mod validate;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
/// The wasm builds' heap: `dlmalloc` over geometrically grown memory (tested natively).
#[cfg(any(test, target_arch = "wasm32"))]
pub(crate) mod wasm_heap;

/// The single-threaded wasm build's allocator: std's is the same `dlmalloc`, but grows the
/// memory page by page (see `wasm_heap`).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: wasm_heap::Heap<wasm_heap::Wasm> = wasm_heap::Heap::new(wasm_heap::Wasm);

/// std's allocator in the atomics build is one lock for all threads: see `thread_alloc`.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
#[global_allocator]
static ALLOCATOR: thread_alloc::ThreadCached = thread_alloc::ThreadCached;
