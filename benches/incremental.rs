//! Incremental re-evaluation: a 10,000-binding services file is evaluated once in a
//! Session, then one binding is edited and the file evaluated again (the playground's
//! "evaluate as you type"). Prints the median time of the re-evaluation, split into the
//! pipeline's phases, and how many values came from the cache.
//!
//! Run with `cargo bench --bench incremental` (part of `make bench`); `ROUNDS=n` sets the
//! number of timed rounds (for profiling). The process uses the CLI's allocator
//! (mimalloc): glibc's malloc spent a fifth of a re-evaluation faulting in fresh pages.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Instant;

use ligature::api::{Clock, EvalRequest, MemoryFs, Options, Session};

/// The allocator of the `ligature` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const N: usize = 10_000;
/// Timed rounds under `cargo bench`; `cargo test --all-targets` runs two as a smoke test.
fn rounds() -> usize {
    if let Some(n) = std::env::var("ROUNDS").ok().and_then(|n| n.parse().ok()) {
        n
    } else if std::env::args().any(|a| a == "--bench") {
        30
    } else {
        2
    }
}

fn source(edit: usize) -> String {
    let mut s = String::from(concat!(
        "let mk = \\i w -> {\n    name = \"svc-\" ++ toString i,\n    port = 8000 + i % 1000,\n",
        "    replicas = if i % 3 == 0 then 3 else 1,\n    weight = w,\n",
        "    resources = { cpu = i % 4 + 1, memoryMb = (i % 8 + 1) * 256 },\n",
        "    tags = [\"tier-\" ++ toString (i % 5), w]\n};\n"
    ));
    for i in 0..N {
        if i == N / 2 {
            s.push_str(&format!("let s{i} = mk {i} \"edit{edit}\";\n"));
        } else {
            s.push_str(&format!("let s{i} = mk {i} \"w{i}\";\n"));
        }
    }
    s.push_str("{ services = [");
    s.push_str(
        &(0..N)
            .map(|i| format!("s{i}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    s.push_str("] }\n");
    s
}

fn main() {
    let start = Instant::now();
    let clock = Clock(Arc::new(move || start.elapsed().as_secs_f64() * 1000.0));
    let fs = |text: String| -> Arc<dyn ligature::loader::FileSystem> {
        Arc::new(MemoryFs::new().with_file("main.lig", text.into_bytes()))
    };
    let request = EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    };
    let options = Options {
        clock: Some(clock),
        ..Options::default()
    };
    let mut session = Session::new(options, fs(source(0)));
    let cold = session.evaluate(&request);
    assert!(cold.ok());
    let mut times = Vec::new();
    let mut phase_sums: Vec<(&'static str, f64)> = Vec::new();
    let mut reused = 0;
    let rounds = rounds();
    for round in 1..=rounds {
        session = session.with_file_system(fs(source(round)));
        let t = Instant::now();
        let out = session.evaluate(&request);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(out.ok());
        reused = out.stats.reused;
        if phase_sums.is_empty() {
            phase_sums = out.stats.phases.clone();
        } else {
            for (sum, (_, ms)) in phase_sums.iter_mut().zip(&out.stats.phases) {
                sum.1 += ms;
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let phases: Vec<String> = phase_sums
        .iter()
        .map(|(name, ms)| format!("{name} {:.2} ms", ms / rounds as f64))
        .collect();
    let cold_ms: f64 = cold.stats.phases.iter().map(|(_, ms)| ms).sum();
    println!(
        "incremental: {N} bindings, one edited; cold {cold_ms:.1} ms; re-evaluation median {median:.2} ms \
         (min {:.2}); mean phases: {}; values reused {reused} of {N}",
        times[0],
        phases.join(", ")
    );
}
