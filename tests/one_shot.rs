//! `Options::one_shot`: a host that exits after one request (the CLI) leaves what the run
//! built to the operating system instead of freeing it piece by piece; the answer is the
//! same. Frees are counted by this test binary's own allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ligature::api::{EvalRequest, MemoryFs, Options, Session, Threads};

struct Counting;

static FREES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        FREES.fetch_add(1, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The output and the number of frees during one evaluation of `source`.
fn run(source: &str, one_shot: bool) -> (Option<String>, u64) {
    let fs = MemoryFs::new().with_file("main.lig", source.as_bytes().to_vec());
    let session = Session::new(
        Options {
            threads: Threads::Sequential,
            cache_capacity: 0,
            one_shot,
            ..Options::default()
        },
        Arc::new(fs),
    );
    let request = EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    };
    let before = FREES.load(Ordering::Relaxed);
    let out = session.evaluate(&request);
    let frees = FREES.load(Ordering::Relaxed) - before;
    assert!(out.ok(), "{:?}", out.diagnostics);
    (out.text.clone(), frees)
}

#[test]
fn a_one_shot_run_answers_alike_and_leaves_its_values_to_the_system() {
    let mut source = String::from("let mk = \\i -> { name = \"svc-\" ++ toString i, port = 8000 + i, tags = [\"a\", \"b\"] };\n");
    for i in 0..2_000 {
        source.push_str(&format!("let s{i} = mk {i};\n"));
    }
    source.push_str("{ services = [");
    source.push_str(
        &(0..2_000)
            .map(|i| format!("s{i}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    source.push_str("] }\n");
    let (freed_text, freed) = run(&source, false);
    let (kept_text, kept) = run(&source, true);
    assert_eq!(freed_text, kept_text);
    assert!(freed_text.is_some_and(|t| t.contains("\"svc-1999\"")));
    // 2,000 records of strings and lists are not freed one by one, nor their programs.
    assert!(
        kept + 10_000 < freed,
        "one-shot run freed {kept} blocks, an ordinary one {freed}"
    );
}
