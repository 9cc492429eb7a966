//! Fuzzes the whole pipeline through the library facade: any bytes given as a file must
//! end in a document or in error diagnostics (never a panic, a stack overflow or a hang),
//! and never in an internal error (severity `bug`, R3005: a run-time type confusion the
//! checker should have ruled out). Small limits keep each run short: a run that exceeds them
//! must say so with a diagnostic (R3004 budget, R3006 depth, R3007 output).
//!
//! Run with `cargo fuzz run eval -- -max_total_time=600 -timeout=10` from the repository
//! root (see ARCHITECTURE.md, "Fuzzing").

#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use ligature::api::{EvalRequest, Limits, MemoryFs, Options, Session, Threads};
use ligature::diagnostic::Severity;

fuzz_target!(|data: &[u8]| {
    let mut fs = MemoryFs::new();
    fs.insert("main.lig", data.to_vec());
    let options = Options {
        limits: Limits {
            max_steps: 100_000,
            max_depth: 500,
            max_output_bytes: Some(100_000),
        },
        threads: Threads::Sequential,
        cache_capacity: 0,
        ..Options::default()
    };
    let session = Session::new(options, Arc::new(fs));
    let out = session.evaluate(&EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    });
    for diagnostic in &out.diagnostics {
        assert!(
            diagnostic.severity != Severity::Bug,
            "internal error: {diagnostic:?}"
        );
        if let Some(primary) = diagnostic.primary() {
            let file = out
                .sources
                .get(primary.file)
                .expect("the span's file is known");
            assert!(primary.span.start <= primary.span.end);
            assert!(primary.span.end as usize <= file.text.len());
        }
    }
    assert!(out.ok() || out.diagnostics.iter().any(|it| it.is_error()));
});
