//! Rendering honours the run's limits as it writes (§12, §12.3): the output limit stops it
//! within one element of the limit, and a timeout stops it, in every format and
//! for documents that share their parts (exponentially bigger than their memory). The
//! bytes held at once are measured by this test binary's own allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use ligature::api::{Clock, EvalRequest, Format, Limits, MemoryFs, Options, Session, Threads};

struct Peak;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Peak = Peak;

/// `let a0 = [1]; let a1 = [a0, a0]; ...`: 2^levels numbers in 4 bytes of memory each level.
fn doubling(levels: usize, leaf: &str) -> String {
    let mut source = format!("let a0 = [{leaf}];\n");
    for i in 0..levels {
        source.push_str(&format!("let a{} = [a{i}, a{i}];\n", i + 1));
    }
    source.push_str(&format!("{{ top = a{levels} }}\n"));
    source
}

fn evaluate(
    source: &str,
    format: Format,
    limits: Limits,
    timeout_ms: Option<f64>,
) -> (Vec<String>, usize) {
    let fs = MemoryFs::new().with_file("main.lig", source);
    let ticks = Arc::new(AtomicU64::new(0));
    let clock = Clock(Arc::new(move || {
        ticks.fetch_add(1, Ordering::Relaxed) as f64
    }));
    let session = Session::new(
        Options {
            threads: Threads::Sequential,
            limits,
            clock: Some(clock),
            ..Options::default()
        },
        Arc::new(fs),
    );
    let request = EvalRequest {
        entry: "main.lig".into(),
        format,
        timeout_ms,
        ..EvalRequest::default()
    };
    let base = NOW.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = session.evaluate(&request);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let codes = out
        .diagnostics
        .iter()
        .map(|d| d.code.as_str().to_string())
        .collect();
    (codes, peak)
}

/// One test, so that no other test allocates while a peak is measured.
#[test]
fn rendering_stops_at_the_output_limit_and_on_cancel_in_every_format() {
    // 2^20 leaves: 30-50 MB of JSON or YAML written in full before the checks per element.
    for leaf in ["1", "\"x\"", "{ a = 1 }", "[true, false]"] {
        let source = doubling(20, leaf);
        for format in [Format::Json, Format::Yaml, Format::Toml, Format::Text] {
            let limits = Limits {
                max_output_bytes: Some(1_000),
                ..Limits::default()
            };
            let (codes, peak) = evaluate(&source, format, limits, None);
            assert_eq!(codes, ["R3010"], "{format:?} of [{leaf}]");
            assert!(peak < 4 << 20, "{format:?} of [{leaf}] held {peak} bytes");
        }
    }
    // 2^60 numbers: the session's value cache walks each shared part once (it walked every
    // path, for ever), and rendering stops at the limit.
    let limits = Limits {
        max_output_bytes: Some(1_000),
        ..Limits::default()
    };
    let (codes, _) = evaluate(&doubling(60, "1"), Format::Json, limits, None);
    assert_eq!(codes, ["R3010"]);
    // A deadline that passes while rendering (a host clock that advances 1 ms per read;
    // evaluation reads it a few times, rendering every 1,024 elements): R3008 long before
    // the 8 MiB output limit, in every format.
    let source = doubling(24, "1");
    for format in [Format::Json, Format::Yaml, Format::Toml, Format::Text] {
        let limits = Limits {
            max_output_bytes: Some(8 << 20),
            ..Limits::default()
        };
        let (codes, peak) = evaluate(&source, format, limits, Some(40.0));
        assert_eq!(codes, ["R3008"], "{format:?}");
        assert!(peak < 20 << 20, "{format:?} held {peak} bytes");
    }
}
