//! The wasm builds' heap: `dlmalloc` over linear memory that grows geometrically.
//!
//! Why: std's allocator for `wasm32-unknown-unknown` is this same `dlmalloc`, but its system
//! side asks `memory.grow` for just the pages each request lacks, so a large first run grows
//! the memory hundreds of times: the 5.7 MB services program (140,000 services) grew it 306
//! times, 286 of them by one 64 KiB page, from 8.5 to 164 MB. Each grow is cheap for the
//! module but not for V8: it replaces the memory's `ArrayBuffer` and accounts the new one at
//! the memory's whole size as external memory, so past a few tens of MB nearly every grow
//! starts a full garbage collection (Node 20: 300 one-page grows of a 70 MB memory took 200 to
//! 300 ms with 75 to 180 mark-compacts, the same grows of a 9 MB memory 1 ms). The first
//! evaluation of that program in a process took 1.3 to 2.1 s, the next ones 0.55 s.
//!
//! Here the memory grows by at least half its size ([`grow_pages`]), so a run grows it a
//! logarithmic number of times (that program: 8 times). When that much is not available (the
//! threaded build's maximum is 1 GiB) it grows by what the request needs, as before, so no
//! request fails that used to succeed. Pages grown and not yet written cost the host no
//! physical memory; `memory.buffer.byteLength` reads up to half again what is in use.
//!
//! The crate is the `dlmalloc` std itself uses on this target (same version line, kept by the
//! Rust project), with a system side of our own through its `Allocator` trait: the allocation
//! algorithm and its locality stay those measured so far; only the growth changes. The single-
//! threaded build makes a [`Heap`] its global allocator (`lib.rs`); the threaded build's
//! `thread_alloc` takes its blocks and chunks from one. Natively this module is compiled for
//! its tests only, over a simulated memory.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::ptr;
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
use std::sync::atomic::{AtomicBool, Ordering};

/// WebAssembly's page size.
pub(crate) const PAGE: usize = 64 << 10;

/// The pages to grow a memory of `current` pages by when a request lacks `needed` pages: at
/// least half the current size.
pub(crate) fn grow_pages(current: usize, needed: usize) -> usize {
    needed.max(current / 2)
}

/// A linear memory, counted in pages.
pub(crate) trait Memory: Send {
    /// The current size in pages.
    fn pages(&self) -> usize;
    /// Grows the memory by `pages` of zeros, returning the start of the new ones, or `None`
    /// (and leaves it as it was) if it cannot grow that much.
    fn grow(&self, pages: usize) -> Option<*mut u8>;
}

/// The wasm module's own memory (index 0).
#[cfg(target_arch = "wasm32")]
pub(crate) struct Wasm;

#[cfg(target_arch = "wasm32")]
impl Memory for Wasm {
    fn pages(&self) -> usize {
        core::arch::wasm32::memory_size(0)
    }

    fn grow(&self, pages: usize) -> Option<*mut u8> {
        let previous = core::arch::wasm32::memory_grow(0, pages);
        (previous != usize::MAX).then(|| (previous * PAGE) as *mut u8)
    }
}

/// `dlmalloc`'s system side: fresh pages from a memory that grows geometrically.
pub(crate) struct Growing<M>(M);

// SAFETY: a region handed out is pages the memory has just grown by, zeroed, owned by
// `dlmalloc` alone from then on, and never released (linear memory cannot shrink).
#[allow(unsafe_code)]
unsafe impl<M: Memory> dlmalloc::Allocator for Growing<M> {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        let needed = size.div_ceil(PAGE);
        let wanted = grow_pages(self.0.pages(), needed);
        let grown = match self.0.grow(wanted) {
            Some(start) => Some((start, wanted)),
            None if wanted > needed => self.0.grow(needed).map(|start| (start, needed)),
            None => None,
        };
        let Some((start, pages)) = grown else {
            return (ptr::null_mut(), 0, 0);
        };
        let size = pages * PAGE;
        // As the crate's own wasm system side: a region that ends at the top of the address
        // space (a full 4 GiB memory) gives up its last bytes, so that no pointer past its end
        // wraps around to 0.
        let size = if (start as usize).wrapping_add(size) == 0 {
            size - 16
        } else {
            size
        };
        (start, size, 0)
    }

    fn remap(&self, _ptr: *mut u8, _old: usize, _new: usize, _can_move: bool) -> *mut u8 {
        ptr::null_mut()
    }

    fn free_part(&self, _ptr: *mut u8, _old: usize, _new: usize) -> bool {
        false
    }

    fn free(&self, _ptr: *mut u8, _size: usize) -> bool {
        false
    }

    fn can_release_part(&self, _flags: u32) -> bool {
        false
    }

    fn allocates_zeros(&self) -> bool {
        true
    }

    fn page_size(&self) -> usize {
        PAGE
    }
}

/// A value behind a spin lock held for a few instructions: the allocators' state. A browser's
/// main thread may not block, so the threaded build cannot wait on a real lock (std's
/// allocator cannot either); in the single-threaded build atomics are plain loads and stores.
/// Not `Sync` itself: each user states why its value may be reached from any thread.
pub(crate) struct SpinLock<T> {
    #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

impl<T> SpinLock<T> {
    pub(crate) const fn new(value: T) -> SpinLock<T> {
        SpinLock {
            #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Runs `f` with the value, the lock held.
    ///
    /// The single-threaded build takes no lock, as std's allocator there: a JS stack
    /// overflow unwinds the wasm frames without running any of their code, and a lock left
    /// held by an allocation it cut short would hang every allocation after it (the glue
    /// turns that overflow into an R3006 and the module goes on).
    #[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: one thread, and `f` cannot reach this lock again (allocators do not
        // allocate), so this is the only reference.
        #[allow(unsafe_code)]
        f(unsafe { &mut *self.value.get() })
    }

    /// Runs `f` with the value, the lock held.
    #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        // SAFETY: the lock is held, so this is the only reference.
        #[allow(unsafe_code)]
        let result = f(unsafe { &mut *self.value.get() });
        self.locked.store(false, Ordering::Release);
        result
    }
}

/// A `dlmalloc` over `M` behind a [`SpinLock`].
pub(crate) struct Heap<M>(SpinLock<dlmalloc::Dlmalloc<Growing<M>>>);

// SAFETY: `dlmalloc` is only reached through the lock, and its memory is the process's.
#[allow(unsafe_code)]
unsafe impl<M: Memory> Sync for Heap<M> {}

impl<M: Memory> Heap<M> {
    pub(crate) const fn new(memory: M) -> Heap<M> {
        Heap(SpinLock::new(dlmalloc::Dlmalloc::new_with_allocator(
            Growing(memory),
        )))
    }

    fn with<R>(&self, f: impl FnOnce(&mut dlmalloc::Dlmalloc<Growing<M>>) -> R) -> R {
        self.0.with(f)
    }
}

// SAFETY: `dlmalloc`'s contracts are `GlobalAlloc`'s (its documentation says so), and each
// call passes the caller's layout through. Inlining follows std's allocator, to keep the
// code size: as the single-threaded build's global allocator a `Heap` stays behind a call
// (inlined into the allocator's shims, the lock and the call were inlined at every
// allocation and drop, and the module grew by 9%); under `thread_alloc` it is inlined into
// its caller (behind a call, `thread_alloc`'s shims became small enough to be inlined at
// every drop: 11%).
#[allow(unsafe_code)]
unsafe impl<M: Memory> GlobalAlloc for Heap<M> {
    #[cfg_attr(target_feature = "atomics", inline)]
    #[cfg_attr(not(target_feature = "atomics"), inline(never))]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.with(|heap| unsafe { heap.malloc(layout.size(), layout.align()) })
    }

    #[cfg_attr(target_feature = "atomics", inline)]
    #[cfg_attr(not(target_feature = "atomics"), inline(never))]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.with(|heap| unsafe { heap.calloc(layout.size(), layout.align()) })
    }

    #[cfg_attr(target_feature = "atomics", inline)]
    #[cfg_attr(not(target_feature = "atomics"), inline(never))]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        self.with(|heap| unsafe { heap.free(block, layout.size(), layout.align()) })
    }

    #[cfg_attr(target_feature = "atomics", inline)]
    #[cfg_attr(not(target_feature = "atomics"), inline(never))]
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.with(|heap| unsafe { heap.realloc(block, layout.size(), layout.align(), new_size) })
    }
}

#[cfg(test)]
mod tests;
