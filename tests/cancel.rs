//! Timeouts and cancellation stop every phase (LANGUAGE.md 12.3), deterministically.
//!
//! No wall clock: the host's clock is a counter that advances one millisecond per read, so a
//! phase's time in `stats.phases` is the number of times the run read the clock during it.
//! A first run with a far deadline measures where each phase begins and ends in reads; a
//! second run puts the deadline (or sets the cancel flag) in the middle of one phase and
//! must end with R3008 alone, with that phase the last it reports, at most a read or two
//! after the deadline: within one poll interval of work. The phases come from the first
//! run's stats, so a phase added to the pipeline without polling fails here.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use ligature::api::{
    self, Cancellation, Clock, DataFormat, EntryRequest, EvalRequest, MemoryFs, Options,
    SchemaRequest, Session, Stats, Threads,
};

/// Reads of the clock after the deadline before the phase has stopped and the pipeline
/// has noted its end: the read that saw the deadline, and the phase timer's.
const SLACK: f64 = 3.0;

/// A clock that advances one millisecond per read; with `trip`, it also sets that flag at
/// the read numbered `trip.1` (a host's cancel button, pressed at a known point).
fn counting_clock(trip: Option<(Arc<AtomicBool>, u64)>) -> Clock {
    let reads = AtomicU64::new(0);
    Clock(Arc::new(move || {
        let n = reads.fetch_add(1, Ordering::Relaxed);
        if let Some((flag, at)) = &trip {
            if n >= *at {
                flag.store(true, Ordering::Relaxed);
            }
        }
        n as f64
    }))
}

/// The services workload of `benches/gen.py`, `n` bindings.
fn services(n: usize) -> String {
    let mut out = String::from(
        "let mk = \\i w -> {\n    name = \"svc-\" ++ toString i,\n    port = 8000 + i % 1000,\n    \
         replicas = if i % 3 == 0 then 3 else 1,\n    weight = w,\n    \
         resources = { cpu = i % 4 + 1, memoryMb = (i % 8 + 1) * 256 },\n    \
         tags = [\"tier-\" ++ toString (i % 5), w]\n};\n",
    );
    for i in 0..n {
        out.push_str(&format!("let s{i} = mk {i} \"w{i}\";\n"));
    }
    let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    out.push_str(&format!("{{ services = [{}] }}\n", names.join(", ")));
    out
}

fn session(files: &[(String, String)], clock: Clock, threads: Threads) -> Session {
    let mut fs = MemoryFs::new();
    for (path, text) in files {
        fs.insert(path, text.as_bytes().to_vec());
    }
    let options = Options {
        clock: Some(clock),
        threads,
        workers: Some(2),
        cache_capacity: 0,
        ..Options::default()
    };
    Session::new(options, Arc::new(fs))
}

fn codes(diagnostics: &[ligature::diagnostic::Diagnostic]) -> Vec<String> {
    diagnostics.iter().map(|it| it.code.to_string()).collect()
}

/// Each phase of `stats` with the clock values it spans: `(name, first, last)` (the last
/// read is the phase timer's own). The clock's first two reads are the deadline's start
/// and the phase timer's.
fn spans(stats: &Stats) -> Vec<(&'static str, f64, f64)> {
    let mut at = 1.0;
    stats
        .phases
        .iter()
        .map(|(name, reads)| {
            let span = (*name, at + 1.0, at + reads);
            at += reads;
            span
        })
        .collect()
}

/// How a test stops the run: a deadline, or the host's flag set at a given clock read.
#[derive(Clone, Copy, Debug)]
enum Stop {
    Deadline,
    Flag,
}

/// A run of `request` over `files` stopped at clock read `at` by `stop`.
fn stopped_eval(files: &[(String, String)], stop: Stop, at: f64) -> api::EvalOutput {
    let flag = Arc::new(AtomicBool::new(false));
    let (clock, timeout) = match stop {
        Stop::Deadline => (counting_clock(None), at),
        // The deadline is far: only the flag stops the run.
        Stop::Flag => (counting_clock(Some((flag.clone(), at as u64))), 1e12),
    };
    let session = session(files, clock, Threads::Sequential);
    session.evaluate(&EvalRequest {
        entry: "main.lig".into(),
        cancel: Some(flag),
        timeout_ms: Some(timeout),
        ..EvalRequest::default()
    })
}

/// Stops an evaluation of `files` in the middle of every phase, by deadline and by flag.
fn stops_in_every_phase(files: &[(String, String)], what: &str) {
    let full = stopped_eval(files, Stop::Deadline, 1e12);
    assert!(full.ok(), "{what}: {:?}", full.diagnostics);
    let phases = spans(&full.stats);
    let names: Vec<&str> = phases.iter().map(|it| it.0).collect();
    assert_eq!(names, api::PHASES, "{what}: every phase reports its time");
    for (k, &(phase, first, last)) in phases.iter().enumerate() {
        // The clock read twice or more inside the phase (besides the timer's read): it
        // polls the deadline as it works, not only at its start.
        assert!(
            last - first >= 2.0,
            "{what}: {phase} reads the clock {}",
            last - first
        );
        let at = (first + (last - first) / 2.0).floor();
        for stop in [Stop::Deadline, Stop::Flag] {
            let out = stopped_eval(files, stop, at);
            let context = format!("{what}: {stop:?} in {phase} at read {at}");
            assert_eq!(codes(&out.diagnostics), ["R3008"], "{context}");
            assert!(out.text.is_none(), "{context}");
            let got = spans(&out.stats);
            let reported: Vec<&str> = got.iter().map(|it| it.0).collect();
            assert_eq!(reported, names[..=k], "{context}: the phases that ran");
            let end = got.last().map_or(0.0, |it| it.2);
            assert!(
                end <= at + SLACK,
                "{context}: stopped at read {end}, {} reads after the deadline",
                end - at
            );
        }
    }
}

#[test]
fn an_evaluation_stops_in_the_middle_of_every_phase() {
    let files = [("main.lig".to_string(), services(3_000))];
    stops_in_every_phase(&files, "one module");
}

#[test]
fn one_big_declaration_stops_inside_each_phase() {
    // One let of 100,000 elements: checking and lowering poll inside a declaration too.
    let items: Vec<String> = (0..100_000).map(|i| format!("{{ n = {i} }}")).collect();
    let text = format!("let big = [{}];\n", items.join(", "));
    stops_in_every_phase(&[("main.lig".to_string(), text)], "one big let");
}

#[test]
fn loading_many_modules_stops_between_and_inside_them() {
    // A chain of 40 modules, each importing the next, each of 200 bindings.
    let n = 40;
    let mut files = Vec::new();
    for m in 0..n {
        let mut text = String::new();
        if m + 1 < n {
            text.push_str(&format!("import \"./m{}\" as next;\n", m + 1));
        }
        for i in 0..200 {
            text.push_str(&format!("let v{i} = {i} + {m};\n"));
        }
        if m == 0 {
            // A document big enough for rendering to read the clock.
            text.push_str("let big = range 0 5000;\n");
        }
        let name = if m == 0 {
            "main.lig".to_string()
        } else {
            format!("m{m}.lig")
        };
        files.push((name, text));
    }
    let full = stopped_eval(&files, Stop::Deadline, 1e12);
    assert!(full.ok(), "{:?}", full.diagnostics);
    assert_eq!(full.sources.len(), n);
    let (_, first, last) = spans(&full.stats)[0];
    let at = (first + (last - first) / 2.0).floor();
    for stop in [Stop::Deadline, Stop::Flag] {
        let out = stopped_eval(&files, stop, at);
        assert_eq!(codes(&out.diagnostics), ["R3008"], "{stop:?}");
        let read = out.sources.len();
        assert!(0 < read && read < n, "{stop:?}: {read} modules read of {n}");
        assert_eq!(
            out.stats.phases.len(),
            1,
            "{stop:?}: {:?}",
            out.stats.phases
        );
    }
    stops_in_every_phase(&files, "40 modules");
}

#[test]
fn one_big_file_stops_in_the_middle_of_its_parse_on_the_pool_too() {
    // 2 MiB: parsed in pieces on the pool under `Threads::Parallel` (any size when forced).
    let text = services(60_000);
    assert!(text.len() > 2 << 20);
    for threads in [Threads::Sequential, Threads::Parallel] {
        let flag = Arc::new(AtomicBool::new(false));
        // The flag is set at the 20th read: about 20,000 tokens into the parse.
        let clock = counting_clock(Some((flag.clone(), 20)));
        let files = [("main.lig".to_string(), text.clone())];
        let out = session(&files, clock, threads).evaluate(&EvalRequest {
            entry: "main.lig".into(),
            cancel: Some(flag),
            // Far: the clock is polled (and the flag set by it), the deadline never met.
            timeout_ms: Some(1e12),
            ..EvalRequest::default()
        });
        assert_eq!(codes(&out.diagnostics), ["R3008"], "{threads:?}");
        let phases: Vec<&str> = out.stats.phases.iter().map(|it| it.0).collect();
        assert_eq!(phases, ["parse"], "{threads:?}");
        // Stopped mid-parse: far fewer reads than the 1,024-token intervals of the file.
        let parse_reads = out.stats.phases[0].1;
        assert!(parse_reads < 40.0, "{threads:?}: {parse_reads} reads");
    }
}

#[test]
fn a_set_flag_stops_every_thread_at_once_with_r3008_alone() {
    let files = [("main.lig".to_string(), services(2_000))];
    for threads in [Threads::Sequential, Threads::Parallel, Threads::Auto] {
        let session = session(&files, counting_clock(None), threads);
        let flag = Arc::new(AtomicBool::new(true));
        let out = session.evaluate(&EvalRequest {
            entry: "main.lig".into(),
            cancel: Some(flag.clone()),
            ..EvalRequest::default()
        });
        assert_eq!(codes(&out.diagnostics), ["R3008"], "{threads:?}");
        let request = EntryRequest {
            entry: "main.lig".into(),
            cancellation: Cancellation {
                cancel: Some(flag.clone()),
                ..Cancellation::default()
            },
        };
        let typed = session.typecheck_with(&request);
        assert_eq!(codes(&typed.diagnostics), ["R3008"], "{threads:?}");
        assert!(typed.types.is_empty());
        assert_eq!(codes(&session.load_only_with(&request)), ["R3008"]);
        // What the stopped requests built is freed later, and the session answers as new.
        session.free_leftovers();
        let out = session.evaluate(&EvalRequest {
            entry: "main.lig".into(),
            ..EvalRequest::default()
        });
        assert!(out.ok(), "{threads:?}: {:?}", out.diagnostics);
    }
}

#[test]
fn a_typecheck_stops_in_the_middle_of_each_of_its_phases() {
    let files = [("main.lig".to_string(), services(3_000))];
    let typecheck = |timeout: f64| {
        let session = session(&files, counting_clock(None), Threads::Sequential);
        session.typecheck_with(&EntryRequest {
            entry: "main.lig".into(),
            cancellation: Cancellation {
                timeout_ms: Some(timeout),
                ..Cancellation::default()
            },
        })
    };
    let full = typecheck(1e12);
    assert!(full.ok(), "{:?}", full.diagnostics);
    let phases = spans(&full.stats);
    let names: Vec<&str> = phases.iter().map(|it| it.0).collect();
    assert_eq!(names, ["parse", "check"]);
    for (k, &(phase, first, last)) in phases.iter().enumerate() {
        assert!(
            last - first >= 2.0,
            "{phase} reads the clock {}",
            last - first
        );
        let at = (first + (last - first) / 2.0).floor();
        let out = typecheck(at);
        assert_eq!(codes(&out.diagnostics), ["R3008"], "{phase}");
        assert!(out.types.is_empty(), "{phase}: no partial answer");
        let got = spans(&out.stats);
        let reported: Vec<&str> = got.iter().map(|it| it.0).collect();
        assert_eq!(reported, names[..=k], "{phase}");
        assert!(got.last().is_some_and(|it| it.2 <= at + SLACK), "{phase}");
    }
}

/// A schema whose module is big (all of it is checked, lowered and evaluated once).
fn schema_files() -> Vec<(String, String)> {
    let mut text = String::from(
        "type Port = Integer where x >= 1024;\ntype Service = { name: String, port: Port };\n\
         type Fleet = List Service;\n",
    );
    for i in 0..3_000 {
        text.push_str(&format!("let limit{i} = {i} * 2 + 1;\n"));
    }
    vec![("schema.lig".to_string(), text)]
}

#[test]
fn compiling_a_schema_stops_wherever_the_deadline_falls() {
    let files = schema_files();
    let reads = Arc::new(AtomicU64::new(0));
    let counter = reads.clone();
    let clock = Clock(Arc::new(move || {
        counter.fetch_add(1, Ordering::Relaxed) as f64
    }));
    let compile = |clock: Clock, timeout: f64| {
        session(&files, clock, Threads::Sequential).compile_schema_with(&SchemaRequest {
            schema: "schema.lig".into(),
            type_name: "Service".into(),
            cancellation: Cancellation {
                timeout_ms: Some(timeout),
                ..Cancellation::default()
            },
        })
    };
    assert!(compile(clock, 1e12).is_ok());
    let total = reads.load(Ordering::Relaxed) as f64;
    assert!(total >= 8.0, "compiling reads the clock {total} times");
    // Every read but the deadline's own start is a poll of some phase of the compilation.
    let mut at = 1.0;
    while at < total {
        match compile(counting_clock(None), at) {
            Ok(_) => panic!("compiled past the deadline at read {at} of {total}"),
            Err(err) => assert_eq!(codes(&err.diagnostics), ["R3008"], "at read {at}"),
        }
        at += 1.0;
    }
}

#[test]
fn validating_big_data_stops_in_the_middle_of_the_document() {
    let files = schema_files();
    let session = session(&files, counting_clock(None), Threads::Sequential);
    let fleet = session
        .compile_schema("schema.lig", "Fleet")
        .expect("compiles");
    // 20,000 services: 60,000 values.
    let mut data = String::from("[");
    for i in 0..20_000 {
        if i > 0 {
            data.push(',');
        }
        data.push_str(&format!("{{\"name\": \"s{i}\", \"port\": {}}}", 2000 + i));
    }
    data.push(']');
    assert!(fleet.check_text(&data, DataFormat::Json).is_empty());
    for stop in [Stop::Deadline, Stop::Flag] {
        let flag = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicU64::new(0));
        let counter = reads.clone();
        let tripped = flag.clone();
        // Read 0 is the deadline's start; the deadline (or the flag) is at read 20, about
        // 20,000 values into the document's 60,000.
        let clock = Clock(Arc::new(move || {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            if n >= 20 && matches!(stop, Stop::Flag) {
                tripped.store(true, Ordering::Relaxed);
            }
            n as f64
        }));
        let cancellation = Cancellation {
            cancel: Some(flag),
            timeout_ms: Some(if matches!(stop, Stop::Deadline) {
                20.0
            } else {
                1e12
            }),
            started_ms: None,
        };
        let interrupt = cancellation.interrupt(Some(&clock));
        let violations = fleet.check_text_until(&data, DataFormat::Json, &interrupt);
        let got: Vec<(&str, &str)> = violations
            .iter()
            .map(|it| (it.path.as_str(), it.code.as_str()))
            .collect();
        assert_eq!(got, [("$", "R3008")], "{stop:?}");
        let reads = reads.load(Ordering::Relaxed);
        assert!((21..=23).contains(&reads), "{stop:?}: {reads} reads");
        let value: serde_json::Value = serde_json::from_str(&data).expect("json");
        let interrupt = Cancellation {
            cancel: Some(Arc::new(AtomicBool::new(true))),
            ..Cancellation::default()
        }
        .interrupt(None);
        let violations = fleet.check_value_until(&value, &interrupt);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].code, "R3008");
    }
}

#[test]
fn the_timeout_counts_from_the_hosts_start() {
    let files = [("main.lig".to_string(), services(200))];
    let session = session(&files, counting_clock(None), Threads::Sequential);
    let request = EvalRequest {
        entry: "main.lig".into(),
        timeout_ms: Some(10.0),
        ..EvalRequest::default()
    };
    // Started long before on the host's clock: the deadline has passed at the first poll.
    let out = session.evaluate_from(&request, -100.0);
    assert_eq!(codes(&out.diagnostics), ["R3008"]);
    let phases: Vec<&str> = out.stats.phases.iter().map(|it| it.0).collect();
    assert_eq!(phases, ["parse"]);
}
