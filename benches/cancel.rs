//! Latency of a timeout or a cancel in every phase (LANGUAGE.md 12.3): how long after its
//! deadline a request returns R3008, natively, on the services workload of
//! `benches/gen.py` (140,000 bindings, 5.7 MB, as `gen.py services 140000`).
//!
//! A run without a deadline measures the phases (the median of three); then, for each
//! phase, requests get the deadline in the middle of that phase: on the host's clock
//! (`timeoutMs`, what the wasm builds use) and from a timer thread setting the cancel flag
//! (what the CLI's `--timeout` does), the session idle before each (what a stopped request
//! left is freed before, outside the timing). Each line gives the phases the runs stopped in (from
//! their stats), the time from the deadline to the end of the stopped phase (`stopped`: the
//! polls' latency, from the stats) and to the return of R3008 (`returned`: also freeing
//! what the run had built), median and worst of the rounds. Rounds that finished before
//! their deadline (a machine under load runs at varying speed) are counted apart. The same
//! for `typecheck`, compiling a schema of the same size and validating a JSON document of
//! as many services against it (those report only `returned`).
//!
//! Run with `make bench-cancel` (`cargo bench --bench cancel`); `ROUNDS=n` sets the rounds
//! per phase (default 5). `cargo test --all-targets` runs it on a small program once, as a
//! smoke test (no timing is asserted).
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ligature::api::{
    Cancellation, Clock, DataFormat, EntryRequest, EvalRequest, MemoryFs, Options, SchemaRequest,
    Session, Stats,
};

/// The allocator of the `ligature` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bench_mode() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn rounds() -> usize {
    match std::env::var("ROUNDS").ok().and_then(|n| n.parse().ok()) {
        Some(n) => n,
        None if bench_mode() => 5,
        None => 1,
    }
}

/// `benches/gen.py services n`, without its trailing document when `schema`.
fn services(n: usize, schema: bool) -> String {
    let mut s = String::from(concat!(
        "let mk = \\i w -> {\n    name = \"svc-\" ++ toString i,\n    port = 8000 + i % 1000,\n",
        "    replicas = if i % 3 == 0 then 3 else 1,\n    weight = w,\n",
        "    resources = { cpu = i % 4 + 1, memoryMb = (i % 8 + 1) * 256 },\n",
        "    tags = [\"tier-\" ++ toString (i % 5), w]\n};\n"
    ));
    for i in 0..n {
        s.push_str(&format!("let s{i} = mk {i} \"w{i}\";\n"));
    }
    if schema {
        s.push_str(concat!(
            "type Port = Integer where x >= 1024 && x <= 65535;\n",
            "type Service = { name: String, port: Port, replicas: Integer where x >= 1 };\n",
            "type Fleet = { services: List Service };\n"
        ));
    } else {
        let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        s.push_str(&format!("{{ services = [{}] }}\n", names.join(", ")));
    }
    s
}

/// A JSON document of `n` services that conforms to `Fleet`.
fn fleet(n: usize) -> String {
    let mut s = String::from("{\"services\": [");
    for i in 0..n {
        if i > 0 {
            s.push_str(",\n");
        }
        s.push_str(&format!(
            "{{\"name\": \"svc-{i}\", \"port\": {}, \"replicas\": {}}}",
            8000 + i % 1000,
            1 + i % 3
        ));
    }
    s.push_str("]}\n");
    s
}

fn session(text: &str, clock: &Clock) -> Session {
    let mut fs = MemoryFs::new();
    fs.insert("main.lig", text.as_bytes().to_vec());
    let options = Options {
        clock: Some(clock.clone()),
        cache_capacity: 0,
        // `ONE_SHOT=1`: leave what a run built to the process, as the CLI does (what the
        // difference between `stopped` and `returned` owes to freeing it).
        one_shot: std::env::var("ONE_SHOT").is_ok_and(|it| it == "1"),
        ..Options::default()
    };
    Session::new(options, Arc::new(fs))
}

/// How the request is stopped.
#[derive(Clone, Copy)]
enum How {
    /// `timeout_ms` on the host's clock.
    Deadline,
    /// A timer thread sets the cancel flag.
    Flag,
}

impl How {
    fn name(self) -> &'static str {
        match self {
            How::Deadline => "deadline",
            How::Flag => "flag",
        }
    }

    /// The request's cancellation for a deadline `at_ms` from now; with a flag, the timer.
    fn cancellation(self, at_ms: f64) -> (Cancellation, Option<std::thread::JoinHandle<()>>) {
        match self {
            How::Deadline => (
                Cancellation {
                    timeout_ms: Some(at_ms),
                    ..Cancellation::default()
                },
                None,
            ),
            How::Flag => {
                let flag = Arc::new(AtomicBool::new(false));
                let set = flag.clone();
                let timer = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs_f64(at_ms / 1000.0));
                    set.store(true, Ordering::SeqCst);
                });
                let cancellation = Cancellation {
                    cancel: Some(flag),
                    ..Cancellation::default()
                };
                (cancellation, Some(timer))
            }
        }
    }
}

/// The phases of `stats` as `(name, start, end)` in milliseconds from the request.
fn windows(stats: &Stats) -> Vec<(&'static str, f64, f64)> {
    let mut at = 0.0;
    stats
        .phases
        .iter()
        .map(|(name, ms)| {
            let window = (*name, at, at + ms);
            at += ms;
            window
        })
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

/// What a stopped request answered: its codes, the phase it stopped in and when that phase
/// ended (ms from the request, from its stats; `None` without phase times).
struct Answer {
    codes: Vec<String>,
    phase: &'static str,
    stopped_ms: Option<f64>,
}

/// Runs `request(cancellation)` with the deadline in the middle of each phase of `phases`
/// and prints the latencies. Before each round the session frees what the last stopped
/// request left (`Session::free_leftovers`, what an idle host does), outside the timing.
fn measure(
    what: &str,
    session: &Session,
    phases: &[(&'static str, f64, f64)],
    request: &dyn Fn(&Cancellation) -> Answer,
) {
    for &(phase, start, end) in phases {
        let at = start + (end - start) / 2.0;
        for how in [How::Deadline, How::Flag] {
            let mut returned = Vec::new();
            let mut stopped = Vec::new();
            let mut stopped_in: Vec<&str> = Vec::new();
            let mut finished_first = 0;
            for _ in 0..rounds() {
                session.free_leftovers();
                let (cancellation, timer) = how.cancellation(at);
                let began = Instant::now();
                let answer = request(&cancellation);
                let took = began.elapsed().as_secs_f64() * 1000.0;
                if let Some(timer) = timer {
                    timer.join().unwrap();
                }
                if answer.codes.is_empty() || answer.codes == ["ok"] {
                    finished_first += 1;
                    continue;
                }
                assert_eq!(answer.codes, ["R3008"], "{what} {phase} {}", how.name());
                returned.push(took - at);
                stopped.extend(answer.stopped_ms.map(|it| it - at));
                if !stopped_in.contains(&answer.phase) {
                    stopped_in.push(answer.phase);
                }
            }
            let worst = |xs: &[f64]| xs.iter().copied().fold(f64::NAN, f64::max);
            let stopped_text = if stopped.is_empty() {
                String::new()
            } else {
                format!(
                    "stopped {:5.1} ms (worst {:5.1}), ",
                    median(stopped.clone()),
                    worst(&stopped)
                )
            };
            let first = if finished_first > 0 {
                format!(", {finished_first} finished first")
            } else {
                String::new()
            };
            println!(
                "cancel: {what:<9} {phase:<8} {:<8} deadline {at:7.1} ms: {stopped_text}returned {:5.1} ms (worst {:5.1}), stopped in {}{first}",
                how.name(),
                median(returned.clone()),
                worst(&returned),
                stopped_in.join("/"),
            );
        }
    }
}

fn codes(diagnostics: &[ligature::diagnostic::Diagnostic]) -> Vec<String> {
    diagnostics.iter().map(|it| it.code.to_string()).collect()
}

fn answer(diagnostics: &[ligature::diagnostic::Diagnostic], stats: &Stats) -> Answer {
    Answer {
        codes: codes(diagnostics),
        phase: stats.phases.last().map_or("-", |it| it.0),
        stopped_ms: Some(stats.phases.iter().map(|it| it.1).sum()),
    }
}

fn main() {
    let n = if bench_mode() { 140_000 } else { 2_000 };
    let started = Instant::now();
    let clock = Clock(Arc::new(move || started.elapsed().as_secs_f64() * 1000.0));
    let program = services(n, false);
    let session = session(&program, &clock);
    println!(
        "cancel: services {n}, {:.2} MB, {} workers, {} rounds",
        program.len() as f64 / 1e6,
        session.options().workers.unwrap_or(0).max(
            std::thread::available_parallelism()
                .map(|it| it.get())
                .unwrap_or(1)
        ),
        rounds()
    );
    let request = |cancellation: &Cancellation| EvalRequest {
        entry: "main.lig".into(),
        cancel: cancellation.cancel.clone(),
        timeout_ms: cancellation.timeout_ms,
        ..EvalRequest::default()
    };

    // Evaluation: the phases of an unstopped run (median of three).
    let full: Vec<Vec<(&str, f64, f64)>> = (0..3)
        .map(|_| {
            let out = session.evaluate(&request(&Cancellation::default()));
            assert!(out.ok());
            windows(&out.stats)
        })
        .collect();
    let phases: Vec<(&str, f64, f64)> = (0..full[0].len())
        .map(|k| {
            let name = full[0][k].0;
            let start = median(full.iter().map(|it| it[k].1).collect());
            let end = median(full.iter().map(|it| it[k].2).collect());
            (name, start, end)
        })
        .collect();
    let summary: Vec<String> = phases
        .iter()
        .map(|(name, start, end)| format!("{name} {:.1}", end - start))
        .collect();
    println!("cancel: evaluate  phases (ms): {}", summary.join(", "));
    measure("evaluate", &session, &phases, &|cancellation| {
        let out = session.evaluate(&request(cancellation));
        answer(&out.diagnostics, &out.stats)
    });

    if std::env::var("EVAL_ONLY").is_ok_and(|it| it == "1") {
        return;
    }

    // Type checking: its two phases.
    let entry = |cancellation: &Cancellation| EntryRequest {
        entry: "main.lig".into(),
        cancellation: cancellation.clone(),
    };
    let typed = session.typecheck_with(&entry(&Cancellation::default()));
    assert!(typed.ok());
    measure(
        "typecheck",
        &session,
        &windows(&typed.stats),
        &|cancellation| {
            let out = session.typecheck_with(&entry(cancellation));
            answer(&out.diagnostics, &out.stats)
        },
    );

    // A schema of the same size: compiling it (no phase times: its whole length), then
    // validating a document of as many services.
    let schema_session = self::session(&services(n, true), &clock);
    let schema_request = |cancellation: &Cancellation| SchemaRequest {
        schema: "main.lig".into(),
        type_name: "Fleet".into(),
        cancellation: cancellation.clone(),
    };
    let began = Instant::now();
    let schema = schema_session
        .compile_schema_with(&schema_request(&Cancellation::default()))
        .unwrap();
    let compile_ms = began.elapsed().as_secs_f64() * 1000.0;
    measure(
        "schema",
        &schema_session,
        &[("compile", 0.0, compile_ms)],
        &|cancellation| {
            let codes = match schema_session.compile_schema_with(&schema_request(cancellation)) {
                Ok(_) => vec!["ok".to_string()],
                Err(err) => codes(&err.diagnostics),
            };
            Answer {
                codes,
                phase: "compile",
                stopped_ms: None,
            }
        },
    );
    let data = fleet(n);
    let began = Instant::now();
    assert!(schema.check_text(&data, DataFormat::Json).is_empty());
    let check_ms = began.elapsed().as_secs_f64() * 1000.0;
    println!(
        "cancel: validate  {:.1} MB of JSON in {check_ms:.1} ms",
        data.len() as f64 / 1e6
    );
    measure(
        "validate",
        &schema_session,
        &[("data", 0.0, check_ms)],
        &|cancellation| {
            let interrupt = schema_session.interrupt(cancellation);
            let violations = schema.check_text_until(&data, DataFormat::Json, &interrupt);
            Answer {
                codes: violations.iter().map(|it| it.code.clone()).collect(),
                phase: "data",
                stopped_ms: None,
            }
        },
    );
}
