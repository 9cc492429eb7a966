//! The threaded wasm build's global allocator: `dlmalloc` on one thread (std's, over memory
//! grown geometrically: `wasm_heap`), per-thread caches of small blocks while a parallel
//! section runs.
//!
//! Why: std's allocator on `wasm32-unknown-unknown` with atomics is one `dlmalloc` behind one
//! spin lock (a browser's main thread may not block, so it cannot wait). The evaluator
//! allocates at every step, so with two workers the lock was contended on almost every
//! allocation: the compute workload took 3.3 times as long on 2 workers as on one thread of
//! the same build. No maintained allocator fits: `mimalloc` needs a C toolchain and libc for
//! this target; `talc`, `rlsf` and `lol_alloc` have one global lock too. Size-class caches
//! used everywhere cost locality instead: the services workload took 1.6 times as long on one
//! thread as with `dlmalloc`. Hence two regimes:
//!
//! - Outside parallel sections (the sequential phases, `Threads::Sequential`) every block
//!   is `dlmalloc`'s: the lock is uncontended and objects allocated together lie together.
//! - Inside one ([`Parallel`], entered by `par::scope` and `par::for_each_index`), blocks of
//!   up to [`MAX_SMALL`] bytes come from per-thread lists per size class of [`GRAIN`] bytes
//!   (a `#[thread_local]`, no atomics): the blocks the thread freed, reused first; a batch
//!   taken from the class's shared stack; else bump allocation in a [`CHUNK`] of the
//!   thread's own. A thread's freed list of [`BATCH`] blocks moves whole to the shared stack
//!   (a pointer swap under a spin lock), so memory freed on one thread is reused by others.
//!
//! Chunks are `CHUNK`-aligned and marked in a bitmap of the address space, so `dealloc`
//! knows which regime a block came from whatever the thread and the time: the caches'
//! blocks never go back to `dlmalloc` (linear memory cannot shrink anyway) and are reused
//! by the next parallel section.
//!
//! Thread-local storage is not ready during the first allocations of a thread:
//! wasm-bindgen's start function allocates the thread's TLS block with this allocator
//! before it sets `__tls_base` (0 until then; `i32::MIN` after the thread is destroyed).
//! Such calls see their thread-local's address outside the heap and use `dlmalloc`, or give
//! a cached block back to the shared stack.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::ptr;

use crate::wasm_heap::SpinLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Size classes are multiples of this (also the blocks' alignment; at least two words).
const GRAIN: usize = 16;
/// The largest block served from the caches.
const MAX_SMALL: usize = 512;
const CLASSES: usize = MAX_SMALL / GRAIN;
/// A thread's freed list moves to the shared stack at this many blocks.
const BATCH: usize = 128;
/// The caches' unit of memory, taken from `dlmalloc` aligned to its size.
const CHUNK: usize = 64 << 10;
/// Addresses below this are not a thread's TLS block (the start of linear memory is the
/// main thread's stack: see `-zstack-size` in wasm.mk), nor are addresses at or past 2 GiB
/// (the maximum memory is 1 GiB).
const TLS_MIN: usize = 1 << 16;
const TLS_END: usize = 1 << 31;

/// Where blocks the caches do not serve, and the caches' chunks, come from: in wasm the
/// `dlmalloc` std would use, over memory grown geometrically (`wasm_heap`); natively, for the
/// tests, the system's allocator.
#[cfg(target_arch = "wasm32")]
static BACKING: crate::wasm_heap::Heap<crate::wasm_heap::Wasm> =
    crate::wasm_heap::Heap::new(crate::wasm_heap::Wasm);
#[cfg(not(target_arch = "wasm32"))]
static BACKING: std::alloc::System = std::alloc::System;

/// The allocator of the threaded build (`#[global_allocator]` in `lib.rs`).
pub struct ThreadCached;

/// Parallel sections running (nested ones count each).
static PARALLEL: AtomicUsize = AtomicUsize::new(0);

/// While one of these lives, small blocks come from the per-thread caches.
pub struct Parallel(());

impl Parallel {
    pub fn enter() -> Parallel {
        PARALLEL.fetch_add(1, Ordering::Relaxed);
        Parallel(())
    }
}

impl Drop for Parallel {
    fn drop(&mut self) {
        PARALLEL.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A free block: its first word links to the next block of its list; the first block of
/// a batch on a shared stack links to the next batch with its second word.
type Block = *mut u8;

/// One class's lists on one thread.
struct Lists {
    /// Blocks this thread freed (reused first), `count` of them.
    freed: Cell<Block>,
    count: Cell<usize>,
    /// The rest of the batch last taken from the shared stack.
    batch: Cell<Block>,
    /// Bump allocation in the thread's current chunk of this class.
    bump: Cell<Block>,
    end: Cell<Block>,
}

struct Local([Lists; CLASSES]);

/// The initial lists (a template: each thread's static starts as a copy).
#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Lists = Lists {
    freed: Cell::new(ptr::null_mut()),
    count: Cell::new(0),
    batch: Cell::new(ptr::null_mut()),
    bump: Cell::new(ptr::null_mut()),
    end: Cell::new(ptr::null_mut()),
};

/// In the threaded build a `#[thread_local]` static: an offset from `__tls_base`, where
/// `thread_local!` costs an indirect call per access.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
#[thread_local]
static LOCAL: Local = Local([EMPTY; CLASSES]);

#[cfg(not(all(target_arch = "wasm32", target_feature = "atomics")))]
thread_local! {
    static LOCAL: Local = const { Local([EMPTY; CLASSES]) };
}

fn with_local<R>(f: impl FnOnce(&Local) -> R) -> R {
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    return f(&LOCAL);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "atomics")))]
    return LOCAL.with(f);
}

/// This thread's lists of `class`, or `None` while its TLS block is not set up.
#[inline]
fn local<R>(class: usize, f: impl FnOnce(&Lists) -> R) -> Option<R> {
    with_local(|local| {
        let at = ptr::from_ref(local) as usize;
        let ready = cfg!(not(target_arch = "wasm32")) || (TLS_MIN..TLS_END).contains(&at);
        #[cfg(test)]
        let ready = ready && !tests::NO_TLS.with(Cell::get);
        ready.then(|| local.0.get(class).map(f)).flatten()
    })
}

/// Which `CHUNK`s of the address space belong to the caches: one bit each over the 4 GiB
/// of wasm32 (8 KiB).
#[cfg(target_arch = "wasm32")]
mod owned {
    use std::sync::atomic::{AtomicU32, Ordering};

    const WORDS: usize = (u32::MAX as usize / super::CHUNK + 1) / 32;
    static BITS: [AtomicU32; WORDS] = [const { AtomicU32::new(0) }; WORDS];

    fn at(address: usize) -> (usize, u32) {
        let chunk = address / super::CHUNK;
        (chunk / 32, 1 << (chunk % 32))
    }

    pub fn mark(chunk: usize) {
        let (word, bit) = at(chunk);
        if let Some(word) = BITS.get(word) {
            word.fetch_or(bit, Ordering::Relaxed);
        }
    }

    /// A block reaches `dealloc` through whatever synchronised its hand-over between
    /// threads, so its chunk's mark, made before the block was first handed out, is seen.
    pub fn contains(address: usize) -> bool {
        let (word, bit) = at(address);
        BITS.get(word)
            .is_some_and(|word| word.load(Ordering::Relaxed) & bit != 0)
    }
}

/// The native tests' version: 64-bit addresses, a set of chunk numbers.
#[cfg(not(target_arch = "wasm32"))]
mod owned {
    use std::collections::BTreeSet;
    use std::sync::{Mutex, PoisonError};

    static CHUNKS: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

    pub fn mark(chunk: usize) {
        let mut chunks = CHUNKS.lock().unwrap_or_else(PoisonError::into_inner);
        chunks.insert(chunk / super::CHUNK);
    }

    pub fn contains(address: usize) -> bool {
        let chunks = CHUNKS.lock().unwrap_or_else(PoisonError::into_inner);
        chunks.contains(&(address / super::CHUNK))
    }
}

/// One class's shared stack of batches behind a spin lock, held for a few instructions.
struct Shared(SpinLock<Block>);

// SAFETY: `top` is only read or written while the lock is held.
#[allow(unsafe_code)]
unsafe impl Sync for Shared {}

static SHARED: [Shared; CLASSES] = [const { Shared(SpinLock::new(ptr::null_mut())) }; CLASSES];

impl Shared {
    fn with<R>(&self, f: impl FnOnce(&mut Block) -> R) -> R {
        self.0.with(f)
    }
}

/// The size class of a layout, if the caches serve it.
fn class(layout: Layout) -> Option<usize> {
    (layout.size() <= MAX_SMALL && layout.align() <= GRAIN)
        .then(|| layout.size().saturating_sub(1) / GRAIN)
}

// SAFETY (for the helpers below): a `Block` passed in is a free block of at least
// `GRAIN` bytes that the caller owns (it is on no list another thread can reach).
#[allow(unsafe_code)]
impl ThreadCached {
    #[inline]
    unsafe fn next(block: Block) -> Block {
        unsafe { block.cast::<Block>().read() }
    }

    #[inline]
    unsafe fn set_next(block: Block, next: Block) {
        unsafe { block.cast::<Block>().write(next) }
    }

    unsafe fn next_batch(block: Block) -> Block {
        unsafe { block.cast::<Block>().add(1).read() }
    }

    unsafe fn set_next_batch(block: Block, next: Block) {
        unsafe { block.cast::<Block>().add(1).write(next) }
    }

    /// The batch on top of the class's shared stack (null when there is none).
    unsafe fn pop_batch(class: usize) -> Block {
        SHARED[class].with(|top| {
            let batch = *top;
            if !batch.is_null() {
                *top = unsafe { Self::next_batch(batch) };
            }
            batch
        })
    }

    /// Pushes the list starting at `batch` on the class's shared stack.
    unsafe fn push_batch(class: usize, batch: Block) {
        SHARED[class].with(|top| {
            unsafe { Self::set_next_batch(batch, *top) };
            *top = batch;
        });
    }

    /// A block of `class` from this thread's lists; `None` without TLS.
    #[inline]
    unsafe fn alloc_cached(class: usize) -> Option<Block> {
        local(class, |lists| {
            let freed = lists.freed.get();
            if !freed.is_null() {
                lists.freed.set(unsafe { Self::next(freed) });
                lists.count.set(lists.count.get() - 1);
                return freed;
            }
            let mut batch = lists.batch.get();
            if batch.is_null() {
                batch = unsafe { Self::pop_batch(class) };
            }
            if !batch.is_null() {
                lists.batch.set(unsafe { Self::next(batch) });
                return batch;
            }
            let size = (class + 1) * GRAIN;
            let mut bump = lists.bump.get();
            if (lists.end.get() as usize).saturating_sub(bump as usize) < size {
                let Ok(layout) = Layout::from_size_align(CHUNK, CHUNK) else {
                    return ptr::null_mut();
                };
                bump = unsafe { BACKING.alloc(layout) };
                if bump.is_null() {
                    return bump;
                }
                owned::mark(bump as usize);
                lists.end.set(unsafe { bump.add(CHUNK) });
            }
            lists.bump.set(unsafe { bump.add(size) });
            bump
        })
    }

    #[inline]
    unsafe fn dealloc_cached(class: usize, block: Block) {
        let cached = local(class, |lists| {
            let count = lists.count.get();
            // The first block of an empty list ends it: a full list is a batch as it is.
            unsafe { Self::set_next(block, lists.freed.get()) };
            if count + 1 < BATCH {
                lists.freed.set(block);
                lists.count.set(count + 1);
            } else {
                lists.freed.set(ptr::null_mut());
                lists.count.set(0);
                unsafe { Self::push_batch(class, block) };
            }
        });
        if cached.is_none() {
            unsafe { Self::set_next(block, ptr::null_mut()) };
            unsafe { Self::push_batch(class, block) };
        }
    }
}

// SAFETY: every block handed out is either `dlmalloc`'s, or a distinct `(class + 1) *
// GRAIN`-byte, `GRAIN`-aligned block inside a marked chunk that `dlmalloc` handed out and
// that is never freed; such a block is on at most one list and never in use while it is on
// one. `dealloc` and `realloc` receive the layout the block was allocated with, hence its
// class; the mark says which allocator the block belongs to.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for ThreadCached {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if PARALLEL.load(Ordering::Relaxed) > 0 {
            if let Some(class) = class(layout) {
                if let Some(block) = unsafe { Self::alloc_cached(class) } {
                    return block;
                }
            }
        }
        unsafe { BACKING.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if PARALLEL.load(Ordering::Relaxed) > 0 {
            if let Some(class) = class(layout) {
                if let Some(block) = unsafe { Self::alloc_cached(class) } {
                    if !block.is_null() {
                        unsafe { block.write_bytes(0, layout.size()) };
                    }
                    return block;
                }
            }
        }
        unsafe { BACKING.alloc_zeroed(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        match class(layout) {
            Some(class) if owned::contains(block as usize) => unsafe {
                Self::dealloc_cached(class, block)
            },
            _ => unsafe { BACKING.dealloc(block, layout) },
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let cached = class(layout).filter(|_| owned::contains(block as usize));
        let Some(old) = cached else {
            return unsafe { BACKING.realloc(block, layout, new_size) };
        };
        // SAFETY: the caller guarantees that `new_size`, rounded up to `layout.align()`,
        // does not overflow.
        let new = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if class(new) == Some(old) {
            return block;
        }
        let moved = unsafe { self.alloc(new) };
        if !moved.is_null() {
            unsafe {
                ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
        }
        moved
    }
}

#[cfg(test)]
#[allow(unsafe_code)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    thread_local! {
        /// Makes `local` answer as if this thread's TLS were not set up yet.
        pub(super) static NO_TLS: Cell<bool> = const { Cell::new(false) };
    }

    /// A live block: address, layout and the byte it was filled with.
    struct Block(*mut u8, Layout, u8);
    // SAFETY: the test moves ownership of blocks between threads, as a program would.
    unsafe impl Send for Block {}

    fn rng(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    fn check_and_free(block: Block) {
        let Block(at, layout, fill) = block;
        for i in 0..layout.size() {
            assert_eq!(
                unsafe { at.add(i).read() },
                fill,
                "block {at:?} {layout:?} was overwritten"
            );
        }
        unsafe { ThreadCached.dealloc(at, layout) };
    }

    /// Threads allocate blocks of every class (and larger, and over-aligned ones), fill
    /// them, free some on the spot and pass others to the next thread to free: no block is
    /// handed out twice while live (its filling would be overwritten) and every one is
    /// aligned as asked.
    #[test]
    fn blocks_stay_distinct_across_threads() {
        const THREADS: usize = 4;
        const WITHOUT_TLS: usize = 3;
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..THREADS).map(|_| mpsc::channel::<Block>()).unzip();
        std::thread::scope(|scope| {
            for (t, inbox) in receivers.into_iter().enumerate() {
                let outbox = senders[(t + 1) % THREADS].clone();
                scope.spawn(move || {
                    // One thread behaves as before its TLS is set up (shared stacks only).
                    NO_TLS.with(|it| it.set(t == WITHOUT_TLS));
                    let mut seed = 0x9E37_79B9_7F4A_7C15 ^ (t as u64 + 1);
                    let mut live: Vec<Block> = Vec::new();
                    let mut parallel = None;
                    for step in 0..60_000u32 {
                        // Thread 0 opens and closes parallel sections: blocks of both
                        // regimes are live, handed over and freed in either.
                        if t == 0 && step % 5_000 == 0 {
                            parallel = match parallel {
                                None => Some(Parallel::enter()),
                                Some(_) => None,
                            };
                        }
                        let r = rng(&mut seed);
                        // Mostly three classes, so that lists overflow to the shared ones
                        // and refill from them; every eighth block of any size.
                        let size = 1 + (r % if r.is_multiple_of(8) { 700 } else { 48 }) as usize;
                        let align = 1 << ((r >> 16) % 6);
                        let layout =
                            Layout::from_size_align(size, align).unwrap_or(Layout::new::<u8>());
                        let at = unsafe { ThreadCached.alloc(layout) };
                        assert!(!at.is_null());
                        assert_eq!(at as usize % align, 0);
                        let fill = (step % 251) as u8;
                        unsafe { at.write_bytes(fill, size) };
                        live.push(Block(at, layout, fill));
                        match (r >> 32) % 4 {
                            0 => {
                                let i = (r >> 40) as usize % live.len();
                                check_and_free(live.swap_remove(i));
                            }
                            1 => {
                                let i = (r >> 40) as usize % live.len();
                                let _ = outbox.send(live.swap_remove(i));
                            }
                            _ => {}
                        }
                        while let Ok(block) = inbox.try_recv() {
                            check_and_free(block);
                        }
                        if live.len() > 5_000 {
                            for block in live.drain(..2_500) {
                                check_and_free(block);
                            }
                        }
                    }
                    drop(outbox);
                    live.into_iter().for_each(check_and_free);
                    inbox
                });
            }
        });
        drop(senders);
    }

    #[test]
    fn realloc_keeps_contents_across_classes() {
        for parallel in [false, true] {
            let _section = parallel.then(Parallel::enter);
            realloc_round();
        }
    }

    fn realloc_round() {
        let mut layout = Layout::from_size_align(3, 1).unwrap_or(Layout::new::<u8>());
        let mut at = unsafe { ThreadCached.alloc(layout) };
        unsafe { at.copy_from_nonoverlapping(b"abc".as_ptr(), 3) };
        for size in [17, 16, 200, 513, 2_000, 40, 3] {
            at = unsafe { ThreadCached.realloc(at, layout, size) };
            assert!(!at.is_null());
            assert_eq!(unsafe { std::slice::from_raw_parts(at, 3) }, b"abc");
            layout = Layout::from_size_align(size, 1).unwrap_or(Layout::new::<u8>());
        }
        unsafe { ThreadCached.dealloc(at, layout) };
        let zeroed = Layout::from_size_align(100, 8).unwrap_or(Layout::new::<u8>());
        let block = unsafe { ThreadCached.alloc(zeroed) };
        unsafe { block.write_bytes(7, 100) };
        unsafe { ThreadCached.dealloc(block, zeroed) };
        let again = unsafe { ThreadCached.alloc_zeroed(zeroed) };
        assert!(unsafe { std::slice::from_raw_parts(again, 100) }
            .iter()
            .all(|&b| b == 0));
        unsafe { ThreadCached.dealloc(again, zeroed) };
    }
}
