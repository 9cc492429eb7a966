//! The `ligature` command: a thin client of `ligature::api`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v3's `mi_option_purge_delay` (libmimalloc-sys, pinned in Cargo.toml, lists only
/// v2's option numbers; v3.h: show_errors 0 ... deprecated_eager_commit_delay 14,
/// purge_delay 15). Its default is 1,000 ms (v3/src/options.c).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Returns freed pages to the system at once instead of a second later. Memory freed on one
/// thread (the tree, dropped before evaluation) is then reused by the pool's workers instead
/// of sitting in the main thread's heap: services-100000 at 2 workers peaked at 240-250 MB
/// of RSS with the default and at 145 MB with this, and ran faster (fewer page faults).
#[allow(unsafe_code)]
fn tune_allocator() {
    // SAFETY: plain reads and writes of mimalloc's option table, before any other thread
    // exists. The default is checked first, so a different numbering changes nothing.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == 1000 {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        }
    }
}

fn main() {
    tune_allocator();
    std::process::exit(cli::main());
}
