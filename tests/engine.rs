//! The concurrent engine: output identical for any number of workers (LANGUAGE.md 7.4),
//! and one Session shared by many concurrent evaluations.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ligature::api::{self, EvalRequest, Format, Limits, MemoryFs, Options, Session, Threads};
use ligature::eval::lower;
use ligature::source::FileId;
use ligature::syntax;

/// A session without caches over `fs`: what a session that keeps results across calls
/// must answer like.
fn uncached(fs: Arc<dyn ligature::loader::FileSystem>) -> Session {
    Session::new(
        Options {
            cache_capacity: 0,
            ..Options::default()
        },
        fs,
    )
}

/// A small deterministic generator (xorshift64*), so failures reproduce from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A random DAG of integer and record bindings: each refers to up to three earlier ones;
/// some do a lot of work (steps), a few fail (division by zero, overflow, a failed match).
fn program(seed: u64, n: usize) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut out = String::from("let helper = \\a b -> if a > b then a - b else b - a + 1;\n");
    out.push_str("let b0 = 1;\n");
    for i in 1..n {
        let mut pick = || format!("b{}", rng.below(i as u64));
        let (a, b, c) = (pick(), pick(), pick());
        let k = rng.below(100);
        // Values stay small (modulo a prime) so that only the deliberate failures fail.
        let expr = match rng.below(200) {
            0 => format!("{a} / ({b} - {b})"),
            1 => format!("({a} + 1) * 9223372036854775807 * 2"),
            2 => format!("match {a} % 5 {{ 0 => {b}, 1 => {c}, 2 => {k} }}"),
            r => match r % 6 {
                0 => format!("({a} + {b} * {k} - {c} % 7) % 1000003"),
                1 => format!("if {a} > {b} then helper {a} {c} else ({b} + {k}) % 1000003"),
                2 => format!(
                    "fold (\\acc n -> (acc + n * {k}) % 1000003) {a} (range 0 {})",
                    rng.below(3000)
                ),
                3 => format!(
                    "(match [{a}, {b}] {{ [x, y] => x + y, _ => 0 }}) % 1000003 + length (map (\\x -> x + {k}) (range 0 {}))",
                    rng.below(500)
                ),
                4 => format!("(({{ x = {a}, y = [{b}, {k}] }}).x + {c}) % 1000003"),
                _ => format!("(helper {a} {b} + helper {c} {k}) % 1000003"),
            },
        };
        out.push_str(&format!("let b{i} = {expr};\n"));
    }
    out
}

fn evaluate(source: &str, threads: Threads, workers: Option<usize>, max_steps: u64) -> String {
    let limits = Limits {
        max_steps,
        ..Limits::default()
    };
    let output = run(source, threads, workers, limits);
    let diagnostics = api::render_diagnostics(&output.diagnostics, &output.sources, false);
    format!(
        "{}\n{diagnostics}\nsteps: {}",
        output.text.unwrap_or_default(),
        output.stats.steps
    )
}

/// Evaluates `source` as `main.lig` to JSON in a fresh session.
fn run(source: &str, threads: Threads, workers: Option<usize>, limits: Limits) -> api::EvalOutput {
    let fs = MemoryFs::new().with_file("main.lig", source.as_bytes().to_vec());
    let session = Session::new(
        Options {
            limits,
            threads,
            workers,
            ..Options::default()
        },
        Arc::new(fs),
    );
    session.evaluate(&EvalRequest {
        entry: "main.lig".into(),
        format: Format::Json,
        ..EvalRequest::default()
    })
}

#[test]
fn output_is_identical_for_any_number_of_workers() {
    let mut outcomes = std::collections::BTreeMap::new();
    for seed in 0..24u64 {
        let source = program(seed, 120 + (seed as usize % 5) * 60);
        // Unlimited, then a budget that runs out somewhere in the middle.
        let full = evaluate(&source, Threads::Sequential, None, u64::MAX);
        let budgets = [u64::MAX, 40_000 + seed * 7_919];
        for max_steps in budgets {
            let sequential = if max_steps == u64::MAX {
                full.clone()
            } else {
                evaluate(&source, Threads::Sequential, None, max_steps)
            };
            for workers in [1, 2, 8] {
                let parallel = evaluate(&source, Threads::Parallel, Some(workers), max_steps);
                assert_eq!(
                    sequential, parallel,
                    "seed {seed}, {workers} workers, max_steps {max_steps}\n{source}"
                );
            }
            let code = sequential
                .lines()
                .find_map(|l| l.split("error[").nth(1))
                .map_or("ok".to_string(), |rest| rest.chars().take(5).collect());
            *outcomes.entry(code).or_insert(0) += 1;
        }
    }
    // The generator must exercise successes, run-time errors and the budget, or this test
    // proves little.
    for code in ["ok", "R3002", "R3007"] {
        assert!(
            outcomes.contains_key(code),
            "no `{code}` outcome: {outcomes:?}"
        );
    }
}

/// The automatic mode evaluates a module's first declarations in source order to learn what
/// one costs, then schedules the rest on the pool or keeps it on the calling thread: light
/// and heavy modules, failures inside and after that sample, and budgets that run out give
/// the sequential outcome.
/// A failure of an earlier declaration stops the later ones still running (their outcome
/// cannot matter): without it, `--parallel` ran an evaluation of hours beside a division by
/// zero that decides the run (this test would not end). Each program puts the failing
/// declaration before, and beside, declarations of about 10^10 steps.
#[test]
fn an_earlier_failure_stops_later_declarations_on_every_worker() {
    let long = "fold (\\s i -> s + fold (\\t j -> t + j) 0 (range 0 100000)) 0 (range 0 100000)";
    // Declarations become ready in batches of 32 per worker: the fillers put the long one
    // in another batch, which another worker takes while the failing one runs.
    let fillers: String = (0..40).map(|k| format!("let f{k} = {k};\n")).collect();
    let programs = [
        // Ready after `g`, so queued after the failing `a` in push order.
        format!("let g = \\x -> x;\nlet a = 1 / 0;\nlet b = g ({long});\n"),
        format!("let a = fold (\\s i -> s + i) 0 (range 0 300000) / 0;\n{fillers}let b = {long};\n"),
        format!("let rec f = \\n -> if n == 0 then 1 / 0 else f (n - 1);\nlet a = f 9000;\n{fillers}let b = {long};\nlet c = {long};\n"),
    ];
    for source in &programs {
        for (threads, workers) in [
            (Threads::Parallel, Some(2)),
            (Threads::Parallel, Some(4)),
            (Threads::Auto, Some(2)),
        ] {
            let limits = Limits {
                max_steps: u64::MAX / 2,
                ..Limits::default()
            };
            let out = run(source, threads, workers, limits);
            let codes: Vec<&str> = out.diagnostics.iter().map(|d| d.code.as_str()).collect();
            assert_eq!(codes, ["R3002"], "{threads:?} {workers:?}:\n{source}");
        }
    }
}

#[test]
fn automatic_mode_matches_sequential_after_its_sample() {
    let light: String = (0..900)
        .map(|i| format!("let x{i} = {{ n = {i}, s = \"x{i}\" }};\n"))
        .collect();
    let mut cases = vec![light.clone(), format!("{light}let bad = 1 / 0;\n")];
    cases.push(format!("let early = 1 / 0;\n{light}"));
    cases.extend((0..6).map(|seed| program(100 + seed, 700)));
    for (case, source) in cases.iter().enumerate() {
        for max_steps in [u64::MAX, 60_000 + case as u64 * 10_007] {
            let sequential = evaluate(source, Threads::Sequential, None, max_steps);
            for workers in [2, 8] {
                let auto = evaluate(source, Threads::Auto, Some(workers), max_steps);
                assert_eq!(
                    sequential, auto,
                    "case {case}, {workers} workers, max_steps {max_steps}"
                );
            }
        }
    }
}

/// A shared session under load: many programs at once, some failing, some cancelled.
#[test]
fn one_session_serves_a_thousand_concurrent_evaluations() {
    let session = thousand_concurrent_evaluations(api::DEFAULT_CACHE_CAPACITY);
    let stats = session.cache_stats().expect("the session caches");
    assert!(stats.values.hits > 0, "{stats:?}");
}

/// The same load on caches far too small for it: entries are evicted while other threads
/// look them up and insert, and every result is still right.
#[test]
fn eviction_under_concurrent_load_loses_nothing() {
    let session = thousand_concurrent_evaluations(8);
    let stats = session.cache_stats().expect("the session caches");
    assert!(stats.values.evictions > 0, "{stats:?}");
    assert!(stats.schemes.evictions > 0, "{stats:?}");
    // Concurrent inserts may overshoot by at most one entry per inserting thread (12 here).
    assert!(stats.values.entries <= 8 + 16, "{stats:?}");
}

/// Runs 1,000 evaluations from 8 threads on one session with caches of `capacity` entries
/// and asserts every result; returns the session for its counters.
fn thousand_concurrent_evaluations(capacity: usize) -> Arc<Session> {
    let mut fs = MemoryFs::new();
    let mut expected = Vec::new();
    for k in 0..20u64 {
        // sum of 0..(100 k) = 100k(100k - 1)/2, in a record.
        let n = 100 * k;
        fs.insert(
            &format!("ok{k}.lig"),
            format!("let n = {n};\nlet total = fold (\\a x -> a + x) 0 (range 0 n);\n"),
        );
        expected.push((
            format!("ok{k}.lig"),
            Ok(format!(
                "{{\n  \"n\": {n},\n  \"total\": {}\n}}\n",
                n * n.saturating_sub(1) / 2
            )),
        ));
        fs.insert(
            &format!("bad{k}.lig"),
            format!("let a = {k};\nlet b = a / (a - a);\n"),
        );
        expected.push((format!("bad{k}.lig"), Err("R3002")));
    }
    // Doubling work: never finishes within any budget; stopped by its cancel flag.
    fs.insert(
        "slow.lig",
        "let rec f = \\n -> if n == 0 then 0 else f (n - 1) + f (n - 1);\nlet x = f 60;\n",
    );
    let session = Arc::new(Session::new(
        Options {
            threads: Threads::Parallel,
            workers: Some(4),
            cache_capacity: capacity,
            ..Options::default()
        },
        Arc::new(fs),
    ));
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for t in 0..8usize {
            let session = session.clone();
            let expected = &expected;
            let failures = &failures;
            scope.spawn(move || {
                for j in 0..125usize {
                    let index = t * 125 + j;
                    let (entry, want) = if index % 50 == 7 {
                        ("slow.lig".to_string(), Err("R3008"))
                    } else {
                        let (e, w) = &expected[index % expected.len()];
                        (e.clone(), w.clone())
                    };
                    let cancel = Arc::new(AtomicBool::new(false));
                    if want == Err("R3008") {
                        let flag = cancel.clone();
                        std::thread::spawn(move || {
                            std::thread::sleep(Duration::from_millis(20));
                            flag.store(true, Ordering::SeqCst);
                        });
                    }
                    let output = session.evaluate(&EvalRequest {
                        entry: entry.clone(),
                        cancel: Some(cancel),
                        ..EvalRequest::default()
                    });
                    let got = match (&output.text, output.diagnostics.first()) {
                        (Some(text), None) => Ok(text.clone()),
                        (_, Some(d)) => Err(d.code.as_str()),
                        (None, None) => Err("nothing"),
                    };
                    let matches = match (&got, &want) {
                        (Ok(a), Ok(b)) => a == b,
                        (Err(a), Err(b)) => a == b,
                        _ => false,
                    };
                    if !matches {
                        failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(format!("{entry}: got {got:?}, want {want:?}"));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    assert!(
        failures.is_empty(),
        "{} wrong results: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    session
}

/// A 10,000-binding configuration edited in one binding: the second evaluation reuses every
/// value but the edited binding's and its dependents' (LANGUAGE.md 7.4 allows reuse; the
/// result must equal a fresh evaluation).
#[test]
fn editing_one_binding_recomputes_only_it_and_its_dependents() {
    const N: usize = 10_000;
    let mut source = String::from(
        "let mk = \\i w -> { name = \"svc-\" ++ toString i, port = 8000 + i % 1000, tags = [w] };\n",
    );
    for i in 0..N {
        source.push_str(&format!("let s{i} = mk {i} \"w{i}\";\n"));
    }
    source.push_str("let total = s5000.port + s17.port;\n");
    let edited = source.replace(
        "let s5000 = mk 5000 \"w5000\";",
        "let s5000 = mk 5 \"edited\";",
    );
    assert_ne!(source, edited);

    let fs = |text: &str| -> Arc<dyn ligature::loader::FileSystem> {
        Arc::new(MemoryFs::new().with_file("main.lig", text.as_bytes().to_vec()))
    };
    let request = EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    };
    let first = Session::new(Options::default(), fs(&source));
    let out1 = first.evaluate(&request);
    assert!(out1.ok(), "{:?}", out1.diagnostics);
    assert_eq!(out1.stats.reused, 0);
    let before = first.cache_stats().expect("caches are on by default");

    let second = first.with_file_system(fs(&edited));
    let out2 = second.evaluate(&request);
    assert!(out2.ok(), "{:?}", out2.diagnostics);
    let after = second.cache_stats().expect("caches");
    // Evaluated again: mk (a function, never cached), s5000 and total. Everything else
    // (N - 1 services) came from the cache.
    assert_eq!(out2.stats.reused, (N - 1) as u64);
    // Checked again: s5000 and total (mk's scheme and the other services' are hits).
    assert_eq!(after.schemes.misses - before.schemes.misses, 2);
    assert_eq!(after.schemes.hits - before.schemes.hits, N as u64);
    // Rendered again: s5000 (and the document around the records); the other services'
    // JSON text came from the cache.
    assert_eq!(after.rendered.misses - before.rendered.misses, 1);
    assert_eq!(after.rendered.hits - before.rendered.hits, (N - 1) as u64);

    // Same answer as a session that never saw the first version, and a different one
    // from the first version's.
    let fresh = uncached(fs(&edited)).evaluate(&request);
    assert_eq!(out2.text, fresh.text);
    assert_ne!(out1.text, out2.text);
    assert!(out2
        .text
        .as_deref()
        .unwrap_or("")
        .contains("\"total\": 16022"));
}

/// A run that fails keeps, by declaration, the values it found or made, as a run that
/// succeeds does: the next run of the module takes them in place, even after the session's
/// value cache has evicted them.
#[test]
fn a_failed_run_keeps_its_values_for_the_next_one() {
    const N: usize = 100;
    let lets: String = (0..N).map(|i| format!("let a{i} = {i} * 2;\n")).collect();
    let good = format!("{lets}{{ x = a1 }}\n");
    let bad = format!("{lets}{{ x = a1 / 0 }}\n");
    // Four times the cache's capacity of other values: every one of main.lig's is evicted.
    let other: String = (0..4 * N)
        .map(|i| format!("let b{i} = {i} + 7;\n"))
        .chain(["{ y = b1 }\n".to_string()])
        .collect();
    let fs = |main: &str| -> Arc<dyn ligature::loader::FileSystem> {
        Arc::new(
            MemoryFs::new()
                .with_file("main.lig", main.as_bytes().to_vec())
                .with_file("other.lig", other.as_bytes().to_vec()),
        )
    };
    let request = |entry: &str| EvalRequest {
        entry: entry.into(),
        ..EvalRequest::default()
    };
    let options = Options {
        cache_capacity: N + N / 2,
        threads: Threads::Sequential,
        ..Options::default()
    };
    let first = Session::new(options, fs(&good));
    let out = first.evaluate(&request("main.lig"));
    assert!(out.ok(), "{:?}", out.diagnostics);
    assert_eq!(out.stats.reused, 0);

    let second = first.with_file_system(fs(&bad));
    let failed = second.evaluate(&request("main.lig"));
    assert!(!failed.ok());
    assert!(
        failed
            .diagnostics
            .iter()
            .any(|d| d.code.to_string() == "R3002"),
        "{:?}",
        failed.diagnostics
    );
    assert_eq!(failed.stats.reused, N as u64);

    let flood = second.evaluate(&request("other.lig"));
    assert!(flood.ok(), "{:?}", flood.diagnostics);
    let again = second.evaluate(&request("main.lig"));
    assert!(!again.ok());
    // Every value from what the failed run kept, none from the (flooded) cache.
    assert_eq!(again.stats.reused, N as u64);
    assert_eq!(again.diagnostics.len(), failed.diagnostics.len());
}

/// Big list built-ins split across workers: same values, same first error, same budget
/// outcome as one thread, including `all`/`any` stopping at the first deciding element.
#[test]
fn split_list_builtins_match_the_sequential_loop() {
    let mut rng = Rng(0x5eed);
    for case in 0..40u64 {
        let n = 500 + rng.below(5000);
        let bad = rng.below(n * 2); // beyond n: no failing element
        let f = format!("\\x -> if x == {bad} then x / (x - x) else x * 3 % 1000");
        let body = match case % 4 {
            0 => format!("length (map ({f}) (range 0 {n}))"),
            1 => format!("length (filter (\\x -> ({f}) x > 500) (range 0 {n}))"),
            2 => format!(
                "if all (\\x -> ({f}) x < 999 - {}) (range 0 {n}) then 1 else 0",
                rng.below(50)
            ),
            _ => format!(
                "if any (\\x -> ({f}) x == {}) (range 0 {n}) then 1 else 0",
                rng.below(1000)
            ),
        };
        let source = format!("let r = {body};\n");
        for max_steps in [u64::MAX, 2_000 + rng.below(n * 6)] {
            let sequential = evaluate(&source, Threads::Sequential, None, max_steps);
            for workers in [2, 8] {
                let parallel = evaluate(&source, Threads::Parallel, Some(workers), max_steps);
                assert_eq!(
                    sequential, parallel,
                    "case {case}, {workers} workers, max_steps {max_steps}: {source}"
                );
            }
        }
    }
}

/// Big lists of the document are rendered in chunks on the pool: the text is the
/// sequential render's, and so is the error when the output limit falls anywhere in it.
#[test]
fn split_rendering_matches_the_sequential_render() {
    let render = |source: &str, threads: Threads, max_output_bytes: Option<u64>| {
        let limits = Limits {
            max_output_bytes,
            ..Limits::default()
        };
        let output = run(source, threads, Some(4), limits);
        let codes: Vec<&str> = output.diagnostics.iter().map(|d| d.code.as_str()).collect();
        (output.text, format!("{codes:?}"))
    };
    let sources = [
        "{ xs = map (\\i -> { id = i, name = \"n\" ++ toString i, tags = [i, i * 2] }) (range 0 3000) }",
        "map (\\i -> map (\\j -> i * j) (range 0 (i % 7))) (range 0 2000)",
        "{ a = [], b = map (\\i -> if i % 2 == 0 then Some i else None) (range 0 2500), c = \"end\" }",
    ];
    for source in sources {
        let sequential = render(source, Threads::Sequential, None);
        assert!(sequential.0.is_some(), "{source}: {}", sequential.1);
        assert_eq!(
            render(source, Threads::Parallel, None),
            sequential,
            "{source}"
        );
        let size = sequential.0.as_deref().map_or(0, str::len) as u64;
        for limit in [size / 7, size / 2, size - 1, size] {
            let sequential = render(source, Threads::Sequential, Some(limit));
            let parallel = render(source, Threads::Parallel, Some(limit));
            assert_eq!(parallel, sequential, "{source}, limit {limit}");
        }
    }
}

/// A session that lives through a series of edits (parse errors and their fixes, type
/// errors, renames, edits of a dependency, a trailing document) answers every version
/// exactly as a fresh session without caches does: text and diagnostics, in every format.
#[test]
fn a_session_through_a_series_of_edits_answers_like_a_fresh_one() {
    let base = |dep: &str, extra: &str| {
        let mut s = String::from("type Port = Int;\n");
        s.push_str(&format!("let base = {dep};\n"));
        s.push_str("let mk = \\i -> { name = \"svc-\" ++ toString i, port = base + i, deep = { a = [i, base] } };\n");
        for i in 0..40 {
            s.push_str(&format!("let s{i} = mk {i};\n"));
        }
        s.push_str("let pair = { left = s1, right = { inner = s2 } };\n");
        s.push_str(extra);
        s
    };
    let versions = vec![
        base("8000", ""),
        base("8001", ""),
        // A parse error, then its fix.
        base("8001", "let broken = (1 + ;\n"),
        base("8001", "let broken = (1 + 2);\n"),
        // A type error, then its fix.
        base("8001", "let bad = 1 + \"x\";\n"),
        base("8001", "let bad = 1 + 2;\n"),
        // A rename of a dependency: its users now fail, then follow.
        base("8001", "").replace("let base =", "let base2 ="),
        base("8001", "").replace("base", "base2"),
        // A trailing document made of cached records.
        base("8002", "{ all = [s1, s2, s1], p = pair }\n"),
        base("8002", "{ all = [s1, s3], p = pair }\n"),
        // A run-time error inside a cached record's dependency.
        base("8002 / 0", ""),
        base("7999", ""),
        base("8000", ""),
        // Declarations inserted and removed before and after the others: each record's
        // kept text is found again at its new place (counted from the start or the end).
        format!(
            "let zz = 1;\nlet zy = [zz];\n{}",
            base("8000", "{ all = [s1, s2], p = pair }\n")
        ),
        base("8000", "{ all = [s1, s2], p = pair }\n"),
        base("8000", "let zz = s3;\n{ all = [s1, s2, zz], p = pair }\n"),
        base("8000", "{ all = [pair, s1, s2], p = s1 }\n"),
        // Edits a re-check of the changed lets alone (`engine::check::recheck`) must not
        // take on, each after a clean version: a reference to a later let, to itself, a
        // changed type its users see, an elaborated let, a renamed let, a type declared
        // after the lets, a changed trailing expression.
        base("8000", "let fw = 3;\nlet later1 = 5;\n"),
        base("8000", "let fw = later1;\nlet later1 = 5;\n"),
        base("8000", "let sr = 1;\n"),
        base("8000", "let sr = sr + 1;\n"),
        base("8000", "let tc = 1;\nlet tu = tc + 1;\n"),
        base("8000", "let tc = \"x\";\nlet tu = tc + 1;\n"),
        base("8000", "let tc = 2;\nlet tu = tc + 1;\n"),
        base("8000", "let el = 1;\nlet eu = [el];\n"),
        base("8000", "let el = toString 5;\nlet eu = [el];\n"),
        base("8000", "let el = 2;\nlet eu = [el];\n"),
        base("8000", "let rn = 1;\nlet ru = rn;\n"),
        base("8000", "let rn2 = 1;\nlet ru = rn;\n"),
        base("8000", "let zt : Z = 1;\ntype Z = Int;\n"),
        base("8000", "let zt : Z = 2;\ntype Z = String;\n"),
        base("8000", "let bd = 1;\n{ a = bd, b = s1 }\n"),
        base("8000", "let bd = 2;\n{ a = bd, b = s1 }\n"),
        base("8000", "let bd = 2;\n{ a = bd + 1, b = s1 }\n"),
        base("8000", "let bd = 3;\n{ a = bd + 1, b = s2 }\n"),
    ];
    let fs = |text: &str| -> Arc<dyn ligature::loader::FileSystem> {
        Arc::new(MemoryFs::new().with_file("main.lig", text.as_bytes().to_vec()))
    };
    for format in [Format::Json, Format::Yaml, Format::Toml, Format::Text] {
        let request = EvalRequest {
            entry: "main.lig".into(),
            format,
            ..EvalRequest::default()
        };
        let mut session = Session::new(Options::default(), fs(""));
        for (n, version) in versions.iter().enumerate() {
            session = session.with_file_system(fs(version));
            let cached = session.evaluate(&request);
            let fresh = uncached(fs(version)).evaluate(&request);
            assert_eq!(cached.text, fresh.text, "version {n} as {format:?}");
            assert_eq!(
                format!("{:?}", cached.diagnostics),
                format!("{:?}", fresh.diagnostics),
                "version {n} as {format:?}"
            );
            let typed = session.typecheck("main.lig");
            let fresh_typed = uncached(fs(version)).typecheck("main.lig");
            assert_eq!(
                format!("{:?} {:?}", typed.types, typed.diagnostics),
                format!("{:?} {:?}", fresh_typed.types, fresh_typed.diagnostics),
                "version {n}"
            );
        }
    }
}

/// After a clean version, an edit that a re-check of the changed lets alone
/// (`engine::check::recheck`) must not take on, or must take on correctly: the session
/// answers exactly like a fresh one (document, diagnostics, types).
#[test]
fn rechecking_only_the_changed_lets_answers_like_a_fresh_check() {
    let prelude = "typeclass Render 'a where\n    render : 'a -> String;\n\
                   instance Render Integer where\n    render = \\n -> \"i\" ++ toString n;\n\
                   instance Render String where\n    render = \\s -> \"s\" ++ s;\n\
                   let k0 = 0;\n";
    let pairs: Vec<(String, String)> = [
        // A reference to a later let, and to itself.
        ("let a = 1;\nlet b = 2;\n", "let a = b;\nlet b = 2;\n"),
        ("let a = 1;\n", "let a = a + 1;\n"),
        // A changed type that a later let sees.
        (
            "let a = 1;\nlet b = a + 1;\n",
            "let a = \"x\";\nlet b = a + 1;\n",
        ),
        // A let that had elaboration loses it, with the same shape and type.
        (
            "let p = render 5;\nlet q = [p];\n",
            "let p = toString 5;\nlet q = [p];\n",
        ),
        // A let whose elaboration changes (another instance), with the same shape and type.
        (
            "let p = render 5;\nlet q = [p];\n",
            "let p = render \"a\";\nlet q = [p];\n",
        ),
        // A let that gains elaboration.
        (
            "let p = toString 5;\nlet q = [p];\n",
            "let p = render 5;\nlet q = [p];\n",
        ),
        // Expression ids move under an overloaded function lowered on every run.
        (
            "let a = 1;\nlet f = \\y -> render y ++ render (y + 1);\n{ r = f 3, a = a }\n",
            "let a = 1 + 2 * 3;\nlet f = \\y -> render y ++ render (y + 1);\n{ r = f 3, a = a }\n",
        ),
        // An error that keeps the annotated type; a let renamed to an earlier let's name.
        (
            "let a : Integer = 1;\nlet b = a;\n",
            "let a : Integer = \"x\";\nlet b = a;\n",
        ),
        (
            "let a = 1;\nlet b = 2;\nlet c = b;\n",
            "let a = 1;\nlet a = 2;\nlet c = b;\n",
        ),
        // A renamed let whose old name is still used.
        (
            "let rn = 1;\nlet ru = rn;\n",
            "let rn2 = 1;\nlet ru = rn;\n",
        ),
        // A type declared after the lets changes; the trailing expression uses it.
        (
            "let x = 1;\ntype Z = Integer;\n{ v = (2 : Z) }\n",
            "let x = 1;\ntype Z = String;\n{ v = (2 : Z) }\n",
        ),
        // The trailing expression changes, the lets do not (or change type-preservingly).
        (
            "let bd = 1;\n{ a = bd }\n",
            "let bd = 1;\n{ a = bd ++ \"x\" }\n",
        ),
        ("let bd = 1;\n{ a = bd }\n", "let bd = 2;\n{ a = bd + 1 }\n"),
        ("let bd = 1;\n{ a = bd }\n", "let bd = 2;\n{ a = bd }\n"),
    ]
    .iter()
    .map(|(a, b)| (format!("{prelude}{a}"), format!("{prelude}{b}")))
    .collect();
    let fs = |text: &str| -> Arc<dyn ligature::loader::FileSystem> {
        Arc::new(MemoryFs::new().with_file("main.lig", text.as_bytes().to_vec()))
    };
    let request = EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    };
    let answer = |session: &Session| {
        let out = session.evaluate(&request);
        let typed = session.typecheck("main.lig");
        format!(
            "{:?}\n{}\n{:?}",
            out.text,
            api::render_diagnostics(&out.diagnostics, &out.sources, false),
            typed.types
        )
    };
    for (before, after) in &pairs {
        let session = Session::new(Options::default(), fs(before));
        let first = session.evaluate(&request);
        assert!(first.ok(), "{before}: {:?}", first.diagnostics);
        let session = session.with_file_system(fs(after));
        let fresh = uncached(fs(after));
        assert_eq!(answer(&session), answer(&fresh), "{before}=>\n{after}");
    }
}

/// A session lowers again only the lets an edit changed (`engine::lowered`) when the
/// re-check kept every declaration in place: series of edits that move what follows them,
/// with errors whose places the diagnostics show, answer like a fresh session at each step.
#[test]
fn lowering_only_the_changed_lets_answers_like_a_fresh_run() {
    let series: [&[&str]; 3] = [
        // A failing let and a failing trailing expression after an edit that moves them.
        &[
            "let a = 1;\nlet z = 0;\nlet e = [1, 2];\nlet d = 10 / z;\n{ r = d }\n",
            "let a = 1000;\nlet z = 0;\nlet e = [1, 2];\nlet d = 10 / z;\n{ r = d }\n",
            "let a = 7;\nlet z = 0;\nlet e = [1, 2];\nlet d = 10 / z;\n{ r = d }\n",
            "let a = 7;\nlet z = 0;\nlet e = [1, 2];\nlet d = 10 / (z + 1);\n{ r = d / z }\n",
            "let a = 70000;\nlet z = 0;\nlet e = [1, 2];\nlet d = 10 / (z + 1);\n{ r = d / z }\n",
        ],
        // Values in and out of the cache, a prelude name bound later.
        &[
            "let n = length [1, 2, 3];\nlet k = 1;\nlet length = \\xs -> 42;\n{ n = n, k = k, m = length [1] }\n",
            "let n = length [1, 2, 3];\nlet k = 22;\nlet length = \\xs -> 42;\n{ n = n, k = k, m = length [1] }\n",
            "let n = length [1, 2, 3];\nlet k = 3;\nlet length = \\xs -> 43;\n{ n = n, k = k, m = length [1] }\n",
        ],
        // The trailing expression edited in place, then moved.
        &[
            "let a = 1;\nlet b = 2;\n{ x = a }\n",
            "let a = 1;\nlet b = 2;\n{ x = b }\n",
            "let a = 1;\nlet b = 200;\n{ x = b }\n",
            "let a = 1;\nlet b = 200;\n{ x = b / 0 }\n",
            "let a = 12;\nlet b = 200;\n{ x = b / 0 }\n",
        ],
    ];
    let fs = |text: &str| -> Arc<dyn ligature::loader::FileSystem> {
        Arc::new(MemoryFs::new().with_file("main.lig", text.as_bytes().to_vec()))
    };
    let request = EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    };
    let answer = |out: api::EvalOutput| {
        let diagnostics = api::render_diagnostics(&out.diagnostics, &out.sources, false);
        format!("{:?}\n{diagnostics}\n{}", out.text, out.stats.steps)
    };
    for versions in series {
        let mut session = Session::new(Options::default(), fs(versions[0]));
        for text in versions {
            session = session.with_file_system(fs(text));
            let fresh = uncached(fs(text));
            assert_eq!(
                answer(session.evaluate(&request)),
                answer(fresh.evaluate(&request)),
                "{text}"
            );
        }
    }
}

/// The import statements are part of what a module's lets see: editing only which names
/// an import brings, or their aliases, gives the answer of a fresh session (the lets'
/// content keys, and so the caches, the re-check and the kept lowering, include them).
#[test]
fn editing_only_an_import_list_answers_like_a_fresh_session() {
    let lib = "let f = 1;\nlet g = 2;\n";
    let versions = [
        "import \"./lib\" { f };\nlet x = f;\nlet y = 3;\n{ x = x, y = y }\n",
        "import \"./lib\" { g as f };\nlet x = f;\nlet y = 3;\n{ x = x, y = y }\n",
        "import \"./lib\" { f };\nlet x = f;\nlet y = 3;\n{ x = x, y = y }\n",
    ];
    let fs = |main: &str| -> Arc<dyn ligature::loader::FileSystem> {
        Arc::new(
            MemoryFs::new()
                .with_file("main.lig", main.as_bytes().to_vec())
                .with_file("lib.lig", lib.as_bytes().to_vec()),
        )
    };
    let request = EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    };
    let mut session = Session::new(Options::default(), fs(versions[0]));
    for main in versions {
        session = session.with_file_system(fs(main));
        let fresh = uncached(fs(main));
        let (kept, fresh) = (session.evaluate(&request), fresh.evaluate(&request));
        assert!(fresh.ok(), "{main}: {:?}", fresh.diagnostics);
        assert_eq!(kept.text, fresh.text, "{main}");
    }
}

/// Random edits (lets changed, inserted, deleted, duplicated, swapped) to random programs
/// with records in the document: after each, a session that keeps its caches and each
/// module's results by declaration (`engine::kept`) answers exactly like a fresh one,
/// output, diagnostics and steps.
#[test]
fn random_edit_sequences_answer_like_a_fresh_session() {
    let fs = |text: &str| -> Arc<dyn ligature::loader::FileSystem> {
        Arc::new(MemoryFs::new().with_file("main.lig", text.as_bytes().to_vec()))
    };
    let request = EvalRequest {
        entry: "main.lig".into(),
        format: Format::Json,
        ..EvalRequest::default()
    };
    let answer = |out: api::EvalOutput| {
        let diagnostics = api::render_diagnostics(&out.diagnostics, &out.sources, false);
        format!(
            "{}\n{diagnostics}\nsteps: {}",
            out.text.unwrap_or_default(),
            out.stats.steps
        )
    };
    let mut reused = 0;
    for seed in 0..8u64 {
        let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let mut lines: Vec<String> = program(seed + 100, 40)
            .lines()
            .map(str::to_string)
            .collect();
        for i in 0..12 {
            let at = 2 + rng.below(38) as usize;
            lines.insert(
                at,
                format!("let r{i} = {{ v = b0, w = [b0, {i}], n = {{ k = {i} }} }};"),
            );
        }
        let mut session = Session::new(Options::default(), fs(""));
        for step in 0..14 {
            let n = lines.len() as u64;
            let i = 1 + rng.below(n - 1) as usize;
            // Errors that would stay (a name removed, moved after its users, defined
            // twice) are made only to records nobody uses, or in the last step.
            let record = |l: &str| l.starts_with("let r") || l.starts_with("let z");
            let last = step == 13;
            // The name of line `i` and its expression.
            let (name, expr) = {
                let l = lines[i].trim_start_matches("let ").trim_end_matches(';');
                let (name, expr) = l.split_once(" = ").unwrap_or((l, "0"));
                (name.to_string(), expr.to_string())
            };
            match rng.below(6) {
                0 if record(&lines[i]) => {
                    lines[i] = lines[i].replacen("k = ", "k = 1 + ", 1);
                }
                0 => lines[i] = format!("let {name} = {};", rng.below(50)),
                5 if !record(&lines[i]) => lines[i] = format!("let {name} = ({expr}) % 7 + 1;"),
                1 => lines.insert(i, format!("let z{step} = {{ q = {step}, b = b0 }};")),
                2 if record(&lines[i]) || last => {
                    lines.remove(i);
                }
                3 if last => {
                    let line = lines[i].clone();
                    lines.insert(i, line);
                }
                4 => {
                    let j = 1 + rng.below(n - 1) as usize;
                    if (record(&lines[i]) && record(&lines[j])) || last {
                        lines.swap(i, j);
                    }
                }
                _ => {}
            }
            let named = |first: char| -> Vec<String> {
                lines
                    .iter()
                    .filter_map(|l| l.strip_prefix("let "))
                    .filter_map(|l| l.split(' ').next())
                    .filter(|name| name.starts_with(first))
                    .map(str::to_string)
                    .collect()
            };
            let (rs, zs) = (named('r'), named('z'));
            let text = format!(
                "{}\n{{ rs = [{}], zs = [{}], pair = {{ a = [{}] }} }}\n",
                lines.join("\n"),
                rs.join(", "),
                zs.join(", "),
                rs.iter()
                    .rev()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            session = session.with_file_system(fs(&text));
            let kept = session.evaluate(&request);
            reused += kept.stats.reused;
            let fresh = uncached(fs(&text)).evaluate(&request);
            assert_eq!(
                answer(kept),
                answer(fresh),
                "seed {seed}, step {step}:\n{text}"
            );
        }
    }
    // The edits left most declarations alone: most values came from the session.
    assert!(reused > 3000, "{reused}");
}

/// Parsing a file from cached chunks gives exactly the tree and diagnostics of a whole
/// parse, for every fixture: on a cold cache, on a warm one, and after edits that move
/// every chunk (bytes and expression ids) or change one declaration.
#[test]
fn parsing_from_chunks_equals_a_whole_parse_on_every_fixture() {
    // Comparing and dropping the deepest fixtures' trees recurses: a big stack, as the CLI.
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(compare_chunked_parses_on_fixtures)
        .expect("thread")
        .join()
        .expect("no failure");
}

fn compare_chunked_parses_on_fixtures() {
    use ligature::syntax::chunks;
    use std::sync::Mutex;

    #[derive(Default)]
    struct MapCache(
        Mutex<Vec<Arc<chunks::Chunk>>>,
        Mutex<Option<chunks::Previous>>,
    );
    impl chunks::ChunkCache for MapCache {
        fn take_previous(&self, _key: &str) -> Option<chunks::Previous> {
            self.1.lock().ok()?.take()
        }
        fn keep_previous(&self, _key: &str, previous: chunks::Previous) {
            if let Ok(mut kept) = self.1.lock() {
                *kept = Some(previous);
            }
        }
        fn get(&self, text: &str) -> Option<Arc<chunks::Chunk>> {
            let chunks = self.0.lock().ok()?;
            chunks.iter().find(|it| &*it.text == text).cloned()
        }
        fn put(&self, chunk: Arc<chunks::Chunk>) {
            if let Ok(mut chunks) = self.0.lock() {
                chunks.push(chunk);
            }
        }
    }

    let mut files = Vec::new();
    lig_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &mut files,
    );
    assert!(files.len() > 100);
    let file = FileId(0);
    let split = AtomicUsize::new(0);
    let same = |text: &str, cache: &MapCache, what: &str| {
        let whole = syntax::parse(file, text);
        let reused = chunks::parse_reusing(file, text, cache);
        assert_eq!(whole.module, reused.module, "{what}");
        assert_eq!(
            format!("{:?}", whole.diagnostics),
            format!("{:?}", reused.diagnostics),
            "{what}"
        );
        // In pieces cut at declaration starts, as on the pool (here one after another).
        for pieces in [2, 3, 7] {
            let in_pieces = chunks::parse_in_pieces(file, text, pieces, &|n, job| {
                split.fetch_add(usize::from(n > 1), Ordering::Relaxed);
                (0..n).for_each(job)
            });
            assert_eq!(whole.module, in_pieces.module, "{what} ({pieces} pieces)");
            assert_eq!(
                format!("{:?}", whole.diagnostics),
                format!("{:?}", in_pieces.diagnostics),
                "{what} ({pieces} pieces)"
            );
        }
        // Also through the previous tree, moved out and shifted back and forth.
        let (module, diagnostics) =
            chunks::parse_module_reusing("main", file, &Arc::from(text), cache);
        assert_eq!(whole.module, *module, "{what} (previous tree)");
        assert_eq!(
            format!("{:?}", whole.diagnostics),
            format!("{:?}", diagnostics),
            "{what} (previous tree)"
        );
    };
    let mut reused_somewhere = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read");
        let what = path.display().to_string();
        let cache = MapCache::default();
        same(&text, &cache, &what);
        same(&text, &cache, &what);
        same(&format!("\n{text}"), &cache, &what);
        same(&format!("let zz0 = (1 + 2) * 3;\n{text}"), &cache, &what);
        let edited = text.replacen("1", "12", 1);
        same(&edited, &cache, &what);
        same(&text, &cache, &what);
        same(
            &format!("let zz1 = 2;\nlet zz2 = [3];\n{edited}"),
            &cache,
            &what,
        );
        same(&text, &cache, &what);
        if cache.0.lock().map_or(0, |it| it.len()) > 1 {
            reused_somewhere += 1;
        }
    }
    assert!(reused_somewhere > 50, "{reused_somewhere}");
    let split = split.load(Ordering::Relaxed);
    assert!(split > 500, "only {split} texts were cut in pieces");
    // Chunks of equal text, some found in place and some only by the cache, around edits
    // that insert, delete and change declarations.
    let cache = MapCache::default();
    let texts = [
        "let a = 1;\nlet a = 1;\nlet b = [a];\nlet a = 1;\n{ x = a }\n",
        "let a = 1;\nlet b = [a];\nlet a = 1;\nlet a = 1;\n{ x = a }\n",
        "let a = 1;\nlet a = 1;\nlet a = 1;\nlet b = [a];\nlet a = 1;\n{ x = a }\n",
        "let b = [a];\nlet a = 1;\n{ x = a }\n",
        "let a = 1;\nlet a = 2;\nlet b = [a];\nlet a = 1;\n{ x = a }\n",
        "let a = 1;\nlet a = 1;\nlet b = [a];\nlet a = 1;\n{ x = a }\n",
    ];
    for _ in 0..2 {
        for text in texts {
            same(text, &cache, text);
        }
    }
}

/// Lets of one closed type share one scheme, compared with a neighbour instead of written
/// out (`Arena::is_exactly`); on the pool, the neighbour is whichever one the worker just
/// inferred. Random runs of equal, nearly equal (a field renamed, a type changed, fields
/// in another order) and polymorphic types must type exactly as one thread types them.
#[test]
fn runs_of_lets_of_one_type_type_alike_on_any_number_of_workers() {
    let shapes = [
        "{ name = \"a\", port = 1, tags = [\"x\"] }",
        "{ name = \"a\", port = 1.5, tags = [\"x\"] }",
        "{ name = \"a\", pork = 1, tags = [\"x\"] }",
        "{ port = 1, name = \"a\", tags = [\"x\"] }",
        "{ name = \"a\", port = 1, tags = [] }",
        "mk 1",
        "[]",
        "\\x -> x",
    ];
    for seed in 1..=6u64 {
        let mut rng = Rng(seed);
        let mut source =
            String::from("let mk = \\i -> { name = \"m\", port = i, tags = [\"x\"] };\n");
        let mut k = 0;
        while k < 600 {
            // Runs, so that neighbours on the pool often have the same type.
            let shape = shapes[rng.below(shapes.len() as u64) as usize];
            for _ in 0..=rng.below(40) {
                source.push_str(&format!("let v{k} = {shape};\n"));
                k += 1;
            }
        }
        let fs = Arc::new(MemoryFs::new().with_file("main.lig", source.into_bytes()));
        let types = |threads: Threads, workers: Option<usize>| {
            let session = Session::new(
                Options {
                    threads,
                    workers,
                    cache_capacity: 0,
                    ..Options::default()
                },
                fs.clone(),
            );
            let out = session.typecheck("main.lig");
            assert!(out.ok(), "seed {seed}: {:?}", out.diagnostics);
            out.types
                .iter()
                .map(|t| format!("{} : {}", t.name, t.ty))
                .collect::<Vec<_>>()
        };
        let one = types(Threads::Sequential, None);
        assert_eq!(one.len(), k + 1);
        assert!(one
            .iter()
            .any(|t| t.ends_with("{ name: String, port: Integer, tags: List String }")));
        assert!(one
            .iter()
            .any(|t| t.ends_with("{ port: Integer, name: String, tags: List String }")));
        assert!(one
            .iter()
            .any(|t| t.ends_with("{ name: String, pork: Integer, tags: List String }")));
        for workers in [2, 8] {
            assert_eq!(
                types(Threads::Parallel, Some(workers)),
                one,
                "seed {seed}, {workers} workers"
            );
        }
    }
}

/// The program of `text` lowered in order, and with its runs of lets cut into parts of
/// one let (lowered here one after another, as the pool may, in any order), absolute or
/// not, with every third let's value supplied or none.
fn lowered_both_ways(text: &str) -> Vec<(String, String)> {
    let file = FileId(0);
    let module = syntax::parse(file, text).module;
    let checked = ligature::types::check_module(file, &module);
    let imports = lower::Imports::default();
    // Backwards, so that a part never finds the tables as an earlier part left them.
    let for_each = |n: usize, job: &(dyn Fn(usize) + Sync)| (0..n).rev().for_each(job);
    let spread = lower::Spread {
        for_each: &for_each,
        workers: 1_000_000,
        min_run: 2,
    };
    let mut out = Vec::new();
    for absolute in [false, true] {
        let none = |_: u32| false;
        let some = |i: u32| i % 3 == 1;
        let skips: [&lower::Skip<'_>; 2] = [&none, &some];
        for skip in skips {
            let lower = |spread| {
                let lowered = lower::lower_linked(
                    &module,
                    &checked.elaboration,
                    file,
                    text,
                    &imports,
                    absolute,
                    skip,
                    spread,
                );
                format!("{:?}", lowered.map(|(program, _)| program))
            };
            out.push((lower(None), lower(Some(spread))));
        }
    }
    out
}

#[test]
fn runs_of_lets_lowered_in_parts_lower_as_in_order() {
    // The fixtures include 10,000-link `let ... in` chains (not nesting: no E1009), which
    // checking and lowering walk recursively: a big stack, as the CLI and the library give.
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(compare_lowerings_in_parts_and_in_order)
        .expect("thread")
        .join()
        .expect("no failure");
}

fn compare_lowerings_in_parts_and_in_order() {
    // Lets that use names bound later in the run (the prelude's `length` before the
    // module's), records, functions, annotations, a trailing expression naming them.
    let text = "let a = length [1, 2];
let length = \\xs -> 42;
let b = length [1];
let f = \\x -> { v = x + a, w = b };
let c : { v: Integer, w: Integer } = f 1;
let rec go = \\n -> if n <= 0 then 0 else go (n - 1);
type T = { x: Integer };
let d : T = { x = go 3 };
let e = d.x + c.v;
{ all = [a, b, e], g = f 2 }
";
    for (in_order, in_parts) in lowered_both_ways(text) {
        assert_eq!(in_order, in_parts);
        assert!(in_order.starts_with("Ok("), "{in_order}");
    }
    // Every fixture that checks cleanly without imports.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut compared = 0;
    for dir in ["types/ok", "eval"] {
        let mut paths = Vec::new();
        lig_files(&root.join(dir), &mut paths);
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("fixture");
            let parsed = syntax::parse(FileId(0), &text);
            let clean = parsed.diagnostics.is_empty() && parsed.module.imports.is_empty();
            if !clean
                || !ligature::types::check_module(FileId(0), &parsed.module)
                    .diagnostics
                    .is_empty()
            {
                continue;
            }
            for (in_order, in_parts) in lowered_both_ways(&text) {
                assert_eq!(in_order, in_parts, "{}", path.display());
            }
            compared += 1;
        }
    }
    assert!(compared >= 40, "only {compared} fixtures compared");
}

/// The `.lig` files under `dir`, at any depth.
fn lig_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixtures").flatten() {
        let path = entry.path();
        if path.is_dir() {
            lig_files(&path, out);
        } else if path.extension().is_some_and(|it| it == "lig") {
            out.push(path);
        }
    }
}

#[test]
fn pieces_cut_inside_comments_and_strings_parse_as_the_whole_text() {
    // Lines that start with `let` inside block comments and multi-line strings: a cut
    // there leaves a piece with an unclosed comment or string, and the whole text is parsed
    // instead. The result must be the whole parse for any number of pieces, with and
    // without an error elsewhere.
    let mut text = String::new();
    for i in 0..40 {
        text.push_str(&format!("let a{i} = {i};\n"));
        match i % 4 {
            0 => text.push_str("/* a comment\nlet hidden = 1;\n*/\n"),
            1 => text.push_str(&format!("let s{i} = \"two\nlet lines = 2;\n\";\n")),
            2 => text.push_str("// let line = 3;\n"),
            _ => text.push_str(&format!("let r{i} = {{ x = a{i} }};\n")),
        }
    }
    text.push_str("{ last = a39 }\n");
    let broken = text.replace("let a20 = 20;", "let a20 = ;");
    let file = FileId(0);
    for text in [&text, &broken] {
        let whole = syntax::parse(file, text);
        for pieces in 2..=12 {
            let in_pieces =
                syntax::chunks::parse_in_pieces(file, text, pieces, &|n, job| (0..n).for_each(job));
            assert_eq!(whole.module, in_pieces.module, "{pieces} pieces");
            assert_eq!(
                format!("{:?}", whole.diagnostics),
                format!("{:?}", in_pieces.diagnostics),
                "{pieces} pieces"
            );
        }
    }
}
