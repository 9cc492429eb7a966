#![allow(unsafe_code)]

use super::*;
use std::cell::Cell;

/// A linear memory of at most `max` pages, reserved zeroed at once (untouched pages cost
/// nothing), that counts its grows.
struct Simulated {
    base: *mut u8,
    max: usize,
    pages: Cell<usize>,
    grows: Cell<usize>,
}

// SAFETY: each test uses its memory and its heap on one thread.
unsafe impl Send for Simulated {}
unsafe impl Sync for Simulated {}

impl Simulated {
    /// `used` pages at the start stand for the stack and data before the heap.
    fn new(used: usize, max: usize) -> Simulated {
        let layout = Layout::from_size_align(max * PAGE, PAGE).expect("a test-sized layout");
        let base = unsafe { std::alloc::alloc_zeroed(layout) };
        assert!(!base.is_null());
        Simulated {
            base,
            max,
            pages: Cell::new(used),
            grows: Cell::new(0),
        }
    }
}

impl Drop for Simulated {
    fn drop(&mut self) {
        let layout = Layout::from_size_align(self.max * PAGE, PAGE).expect("as allocated");
        unsafe { std::alloc::dealloc(self.base, layout) };
    }
}

impl Memory for &Simulated {
    fn pages(&self) -> usize {
        self.pages.get()
    }

    fn grow(&self, pages: usize) -> Option<*mut u8> {
        let previous = self.pages.get();
        if previous + pages > self.max {
            return None;
        }
        self.pages.set(previous + pages);
        self.grows.set(self.grows.get() + 1);
        Some(unsafe { self.base.add(previous * PAGE) })
    }
}

/// Allocates `n` blocks of `size` bytes, each filled with its index's low byte.
fn fill(heap: &Heap<&Simulated>, n: usize, size: usize) -> Vec<*mut u8> {
    let layout = Layout::from_size_align(size, 8).expect("a small layout");
    (0..n)
        .map(|i| {
            let block = unsafe { heap.alloc(layout) };
            assert!(!block.is_null(), "block {i} of {n}");
            unsafe { block.write_bytes(i as u8, size) };
            block
        })
        .collect()
}

fn check_and_free(heap: &Heap<&Simulated>, blocks: Vec<*mut u8>, size: usize) {
    let layout = Layout::from_size_align(size, 8).expect("a small layout");
    for (i, block) in blocks.into_iter().enumerate() {
        let bytes = unsafe { std::slice::from_raw_parts(block, size) };
        assert!(
            bytes.iter().all(|&b| b == i as u8),
            "block {i} was overwritten"
        );
        unsafe { heap.dealloc(block, layout) };
    }
}

#[test]
fn the_memory_grows_by_half_its_size_at_least() {
    assert_eq!(grow_pages(136, 1), 68);
    assert_eq!(grow_pages(136, 100), 100);
    assert_eq!(grow_pages(1, 1), 1);
}

#[test]
fn many_small_blocks_grow_the_memory_a_logarithmic_number_of_times() {
    // 8.5 MiB of stack and data, as the wasm builds start, then 96 MiB in 48-byte blocks.
    let memory = Simulated::new(136, 4096);
    let heap = Heap::new(&memory);
    let blocks = fill(&heap, 2 << 20, 48);
    // 136 pages to about 1,930 (117 MB of chunks): 7 grows by half. Growing by the pages
    // each request lacked took 2,049.
    assert!(memory.grows.get() <= 7, "{} grows", memory.grows.get());
    check_and_free(&heap, blocks, 48);
    // Freed memory is reused: no grow the second time.
    let grows = memory.grows.get();
    let blocks = fill(&heap, 2 << 20, 48);
    assert_eq!(memory.grows.get(), grows);
    check_and_free(&heap, blocks, 48);
}

#[test]
fn near_the_maximum_a_request_takes_only_what_it_lacks() {
    // 100 pages, 60 used: growing by 30 fits once, then only what is lacking does.
    let memory = Simulated::new(60, 100);
    let heap = Heap::new(&memory);
    let mut blocks = fill(&heap, 20, PAGE);
    assert_eq!((memory.pages.get(), memory.grows.get()), (90, 1));
    // Then blocks of a page fit until the memory is full, not only until a geometric grow
    // fails (at 90 pages, 45 more).
    let layout = Layout::from_size_align(PAGE, 8).expect("a layout");
    loop {
        let block = unsafe { heap.alloc(layout) };
        if block.is_null() {
            break;
        }
        unsafe { block.write_bytes(blocks.len() as u8, PAGE) };
        blocks.push(block);
    }
    assert_eq!(memory.pages.get(), 100, "the whole memory is used");
    assert!(
        blocks.len() >= 38,
        "{} blocks of a page in 40 pages",
        blocks.len()
    );
    // A failed request leaves the heap usable.
    let small = fill(&heap, 100, 64);
    check_and_free(&heap, small, 64);
    check_and_free(&heap, blocks, PAGE);
}

#[test]
fn zeroed_and_moved_blocks_keep_their_contents() {
    let memory = Simulated::new(0, 256);
    let heap = Heap::new(&memory);
    let layout = Layout::from_size_align(1000, 16).expect("a layout");
    let block = unsafe { heap.alloc_zeroed(layout) };
    assert!(unsafe { std::slice::from_raw_parts(block, 1000) }
        .iter()
        .all(|&b| b == 0));
    unsafe { block.write_bytes(7, 1000) };
    let moved = unsafe { heap.realloc(block, layout, 3 * PAGE) };
    assert!(unsafe { std::slice::from_raw_parts(moved, 1000) }
        .iter()
        .all(|&b| b == 7));
    assert_eq!(moved as usize % 16, 0);
    unsafe {
        heap.dealloc(
            moved,
            Layout::from_size_align(3 * PAGE, 16).expect("a layout"),
        )
    };
}
