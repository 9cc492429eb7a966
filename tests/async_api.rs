//! The async API (`AsyncSession`): requests as futures run on the engine's pool, cancelled
//! when dropped, within their timeouts; many at once on one session, each answer the one a
//! fresh sequential run gives.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ligature::api::{
    self, AsyncFetcher, AsyncSession, CheckOutput, Clock, DataInput, EntryRequest, EvalOutput,
    EvalRequest, FetchRound, Limits, MemoryFs, Options, Session, Threads, ValidateRequest,
};
use ligature::interrupt::Interrupt;
use ligature::loader::remote::FetchError;
use ligature::loader::{FileSystem, FsError};

/// The tests of this file share the process's pool and count its threads: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|it| it.into_inner())
}

fn clock() -> Clock {
    let start = Instant::now();
    Clock(Arc::new(move || start.elapsed().as_secs_f64() * 1000.0))
}

/// A program that runs until it is stopped (about 10^12 calls, never deeper than 60).
const FOREVER: &str =
    "let rec fib = \\n -> if n < 2 then n else fib (n - 1) + fib (n - 2);\nlet x = fib 60;\n";

/// Limits under which [`FOREVER`] only ends by a cancel or a timeout.
fn endless() -> Limits {
    Limits {
        max_steps: u64::MAX,
        ..Limits::default()
    }
}

fn codes(diagnostics: &[ligature::diagnostic::Diagnostic]) -> Vec<String> {
    diagnostics.iter().map(|it| it.code.to_string()).collect()
}

fn eval_request(entry: &str, timeout_ms: Option<f64>) -> EvalRequest {
    EvalRequest {
        entry: entry.into(),
        timeout_ms,
        ..EvalRequest::default()
    }
}

/// Threads of this process whose name is the engine's pool's (`ligature-worker-N`).
fn pool_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with("ligature-worke"))
        })
        .count()
}

fn multi_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The shared module of the stress test, in four versions (the last one does not check).
fn lib_text(version: usize) -> String {
    match version % 4 {
        3 => "let base = \"three\" + 1;\nlet scale = \\x -> x * 3;\n".to_string(),
        v => format!("let base = {v};\nlet scale = \\x -> x * base + {v};\n"),
    }
}

/// The files one request sees: `(path, text)`.
type Files = Vec<(String, String)>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Compute,
    Record,
    TypeError,
    RuntimeError,
    TimedOut,
    Dropped,
    Typecheck,
    Validate,
}

const KINDS: [Kind; 8] = [
    Kind::Compute,
    Kind::Record,
    Kind::TypeError,
    Kind::RuntimeError,
    Kind::TimedOut,
    Kind::Dropped,
    Kind::Typecheck,
    Kind::Validate,
];

const SCHEMA: &str =
    "type Port = Integer where x >= 1024;\ntype Service = { name: String, port: Port };\n";

/// The entry file of request `i`.
fn entry_text(i: usize, kind: Kind) -> String {
    match kind {
        Kind::Compute | Kind::Typecheck => format!(
            "import \"./lib\" as lib;\nlet xs = map (\\n -> lib.scale n) (range 0 {});\nlet total = fold (\\a n -> a + n) 0 xs;\nlet tag = \"t{}\";\n",
            20 + i % 13,
            i % 5
        ),
        Kind::Record => format!(
            "let r = {{ name = \"svc{}\", port = {}, tags = [\"a\", \"b\"] }};\nlet n = r.port + 1;\n",
            i % 7,
            8000 + i % 11
        ),
        Kind::TypeError => format!("let ok = {i};\nlet x: Integer = \"no\";\n"),
        Kind::RuntimeError => format!("let d = 10 / {};\n", i % 3),
        Kind::TimedOut | Kind::Dropped => FOREVER.to_string(),
        Kind::Validate => SCHEMA.to_string(),
    }
}

/// What a request answered, in the terms compared with a fresh run.
#[derive(Debug, PartialEq)]
enum Answer {
    Eval {
        text: Option<String>,
        codes: Vec<String>,
        rendered: Option<String>,
    },
    Check {
        types: Vec<(String, String)>,
        codes: Vec<String>,
        rendered: String,
    },
    Validate {
        ok: bool,
        errors: Vec<(String, String)>,
    },
}

impl Answer {
    fn of_eval(output: &EvalOutput) -> Answer {
        let codes = codes(&output.diagnostics);
        // What a stopped run says depends on where it stopped; only its code is compared.
        let stopped = codes.iter().any(|it| it == "R3008");
        Answer::Eval {
            text: output.text.clone(),
            rendered: (!stopped)
                .then(|| api::render_diagnostics(&output.diagnostics, &output.sources, false)),
            codes,
        }
    }

    fn of_check(output: &CheckOutput) -> Answer {
        Answer::Check {
            types: output
                .types
                .iter()
                .map(|it| (it.name.clone(), it.ty.clone()))
                .collect(),
            codes: codes(&output.diagnostics),
            rendered: api::render_diagnostics(&output.diagnostics, &output.sources, false),
        }
    }

    fn of_validate(output: &api::ValidateOutput) -> Answer {
        Answer::Validate {
            ok: output.ok,
            errors: output
                .errors
                .iter()
                .map(|it| (it.path.clone(), it.code.clone()))
                .collect(),
        }
    }
}

/// The data document of validation request `i`: every third one has a low port.
fn document(i: usize) -> String {
    format!(
        "{{\"name\": \"svc{i}\", \"port\": {}}}",
        if i.is_multiple_of(3) {
            80
        } else {
            8080 + i % 100
        }
    )
}

const TIMEOUT_MS: f64 = 30.0;

/// What request `i` asks, given the files it sees, from a fresh session.
fn fresh_answer(i: usize, kind: Kind, files: &[(String, String)]) -> Answer {
    let mut fs = MemoryFs::new();
    for (path, text) in files {
        fs.insert(path, text.as_bytes().to_vec());
    }
    let session = Session::new(
        Options {
            threads: Threads::Sequential,
            cache_capacity: 0,
            clock: Some(clock()),
            ..Options::default()
        },
        Arc::new(fs),
    );
    let entry = format!("t{i}.lig");
    match kind {
        Kind::Typecheck => Answer::of_check(&session.typecheck(&entry)),
        Kind::Validate => Answer::of_validate(&session.validate(&ValidateRequest {
            schema: entry,
            type_name: "Service".into(),
            data: DataInput::Json(document(i)),
            cancellation: Default::default(),
        })),
        Kind::TimedOut => {
            Answer::of_eval(&session.evaluate(&eval_request(&entry, Some(TIMEOUT_MS))))
        }
        _ => Answer::of_eval(&session.evaluate(&eval_request(&entry, None))),
    }
}

#[test]
fn a_thousand_concurrent_requests_on_one_session_answer_as_fresh_sequential_runs() {
    let _serial = one_at_a_time();
    const WAVES: usize = 10;
    const PER_WAVE: usize = 100;
    let session = AsyncSession::new(
        Options {
            clock: Some(clock()),
            ..Options::default()
        },
        Arc::new(MemoryFs::new()),
    );
    let rt = multi_thread_runtime();
    // The pool exists once a request has run on it.
    session.set_file("warm.lig", "let a = 1;\n");
    let warm = rt.block_on(session.evaluate(eval_request("warm.lig", None)));
    assert!(warm.ok(), "{:?}", warm.diagnostics);
    let threads_before = pool_threads();
    assert!(threads_before > 0, "the pool's threads are named");

    // Each wave edits the shared module, then makes its requests from tasks of the
    // runtime; the next edit waits until every request of the wave is made, so each
    // request's files are known.
    let mut inputs: Vec<(usize, Kind, Files)> = Vec::new();
    let handles = rt.block_on(async {
        let mut handles = Vec::new();
        for wave in 0..WAVES {
            let lib = lib_text(wave);
            session.set_file("lib.lig", lib.clone());
            let (made, mut all_made) = tokio::sync::mpsc::unbounded_channel();
            for j in 0..PER_WAVE {
                let i = wave * PER_WAVE + j;
                let kind = KINDS[(i * 7 + wave) % KINDS.len()];
                let entry = entry_text(i, kind);
                inputs.push((
                    i,
                    kind,
                    vec![
                        ("lib.lig".to_string(), lib.clone()),
                        (format!("t{i}.lig"), entry.clone()),
                    ],
                ));
                let (session, made) = (session.clone(), made.clone());
                handles.push(tokio::spawn(async move {
                    let path = format!("t{i}.lig");
                    session.set_file(&path, entry);
                    let answer = match kind {
                        Kind::Typecheck => {
                            let running = session.typecheck(EntryRequest {
                                entry: path,
                                cancellation: Default::default(),
                            });
                            let _ = made.send(());
                            Some(Answer::of_check(&running.await))
                        }
                        Kind::Validate => {
                            let running = session.validate(ValidateRequest {
                                schema: path,
                                type_name: "Service".into(),
                                data: DataInput::Json(document(i)),
                                cancellation: Default::default(),
                            });
                            let _ = made.send(());
                            Some(Answer::of_validate(&running.await))
                        }
                        Kind::Dropped => {
                            let running = session.evaluate(eval_request(&path, None));
                            let _ = made.send(());
                            tokio::time::sleep(Duration::from_millis((i % 4) as u64)).await;
                            drop(running);
                            None
                        }
                        Kind::TimedOut => {
                            let running = session.evaluate(eval_request(&path, Some(TIMEOUT_MS)));
                            let _ = made.send(());
                            Some(Answer::of_eval(&running.await))
                        }
                        _ => {
                            let running = session.evaluate(eval_request(&path, None));
                            let _ = made.send(());
                            Some(Answer::of_eval(&running.await))
                        }
                    };
                    (i, answer)
                }));
            }
            drop(made);
            while all_made.recv().await.is_some() {}
        }
        let mut answers = Vec::new();
        for handle in handles {
            answers.push(handle.await.expect("a request's task"));
        }
        answers
    });
    drop(rt);

    let mut fresh: HashMap<String, Answer> = HashMap::new();
    let mut completed = [0usize; KINDS.len()];
    assert_eq!(handles.len(), WAVES * PER_WAVE);
    for ((i, answer), (input, kind, files)) in handles.into_iter().zip(&inputs) {
        assert_eq!(i, *input);
        let Some(answer) = answer else {
            assert_eq!(*kind, Kind::Dropped);
            continue;
        };
        completed[KINDS.iter().position(|it| it == kind).unwrap_or(0)] += 1;
        let key = format!("{i}:{kind:?}:{files:?}");
        let want = fresh
            .entry(key)
            .or_insert_with(|| fresh_answer(i, *kind, files));
        assert_eq!(&answer, want, "request {i} ({kind:?}) with {files:?}");
        if *kind == Kind::TimedOut {
            assert!(
                matches!(&answer, Answer::Eval { codes, .. } if codes == &["R3008"]),
                "{answer:?}"
            );
        }
    }
    // Every kind but the dropped one completed, and the answers were not all alike.
    for (kind, n) in KINDS.iter().zip(completed) {
        assert_eq!(n > 0, *kind != Kind::Dropped, "{kind:?}: {n} completed");
    }
    assert_eq!(
        pool_threads(),
        threads_before,
        "requests left no threads behind"
    );
}

/// A file system that counts reads of one path: a request has started once its entry is
/// read.
struct CountingFs {
    files: MemoryFs,
    path: &'static str,
    reads: Arc<AtomicUsize>,
}

impl FileSystem for CountingFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        if path.ends_with(self.path) {
            self.reads.fetch_add(1, Ordering::SeqCst);
        }
        self.files.read(path)
    }
}

#[test]
fn dropping_futures_stops_their_runs_and_frees_the_pool() {
    let _serial = one_at_a_time();
    let reads = Arc::new(AtomicUsize::new(0));
    let fs = CountingFs {
        files: MemoryFs::new()
            .with_file("forever.lig", FOREVER)
            .with_file("quick.lig", "let a = 40 + 2;\n"),
        path: "forever.lig",
        reads: reads.clone(),
    };
    let session = AsyncSession::new(
        Options {
            limits: endless(),
            ..Options::default()
        },
        Arc::new(fs),
    );
    let rt = multi_thread_runtime();
    let quick = rt.block_on(session.evaluate(eval_request("quick.lig", None)));
    let workers = quick
        .stats
        .workers
        .max(std::thread::available_parallelism().map_or(1, |n| n.get()));
    rt.block_on(async {
        // As many endless runs as the pool has workers, each started (its entry read)
        // before its future is dropped: every worker is inside one.
        let running: Vec<_> = (0..workers)
            .map(|_| session.evaluate(eval_request("forever.lig", None)))
            .collect();
        while reads.load(Ordering::SeqCst) < workers {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        drop(running);
        // Only a stopped run frees its worker: these can finish only if every endless run
        // saw its cancel (without it they would run for about 10^12 calls).
        let after: Vec<_> = (0..workers * 2)
            .map(|_| session.evaluate(eval_request("quick.lig", None)))
            .collect();
        for running in after {
            let output = running.await;
            assert_eq!(
                output.text.as_deref().map(str::trim),
                Some("{\n  \"a\": 42\n}")
            );
        }
    });
}

#[test]
fn a_cancel_flag_stops_the_run_and_its_future_answers_r3008() {
    let _serial = one_at_a_time();
    let session = AsyncSession::new(
        Options {
            limits: endless(),
            ..Options::default()
        },
        Arc::new(MemoryFs::new().with_file("forever.lig", FOREVER)),
    );
    let output = multi_thread_runtime().block_on(async {
        let running = session.evaluate(eval_request("forever.lig", None));
        running
            .cancel_flag()
            .store(true, std::sync::atomic::Ordering::SeqCst);
        running.await
    });
    assert_eq!(codes(&output.diagnostics), ["R3008"]);
    assert!(output.text.is_none());
}

#[test]
fn the_requests_timeout_ends_it_with_r3008() {
    let _serial = one_at_a_time();
    let session = AsyncSession::new(
        Options {
            limits: endless(),
            clock: Some(clock()),
            ..Options::default()
        },
        Arc::new(MemoryFs::new().with_file("forever.lig", FOREVER)),
    );
    let rt = current_thread_runtime();
    let output = rt.block_on(session.evaluate(eval_request("forever.lig", Some(50.0))));
    assert_eq!(codes(&output.diagnostics), ["R3008"]);
    let checked = rt.block_on(session.typecheck(EntryRequest {
        entry: "forever.lig".into(),
        cancellation: api::Cancellation {
            timeout_ms: Some(0.0),
            ..Default::default()
        },
    }));
    assert_eq!(codes(&checked.diagnostics), ["R3008"]);
}

#[test]
fn a_long_run_leaves_a_current_thread_executor_free() {
    let _serial = one_at_a_time();
    // Finite, so that a future that ran the pipeline inside `poll` would end (R3007)
    // before the timer below ticked, and fail the test instead of hanging it.
    let session = AsyncSession::new(
        Options {
            limits: Limits {
                max_steps: 200_000_000,
                ..Limits::default()
            },
            ..Options::default()
        },
        Arc::new(MemoryFs::new().with_file("forever.lig", FOREVER)),
    );
    let output = current_thread_runtime().block_on(async {
        let running = session.evaluate(eval_request("forever.lig", None));
        let cancel = running.cancel_flag().clone();
        tokio::pin!(running);
        let mut ticks = 0;
        while ticks < 3 {
            tokio::select! {
                biased;
                output = &mut running => panic!("the run ended before the timer ticked: {:?}", codes(&output.diagnostics)),
                () = tokio::time::sleep(Duration::from_millis(2)) => ticks += 1,
            }
        }
        cancel.store(true, std::sync::atomic::Ordering::SeqCst);
        running.await
    });
    assert_eq!(codes(&output.diagnostics), ["R3008"]);
}

#[test]
fn edits_apply_to_requests_made_after_them() {
    let _serial = one_at_a_time();
    let session = AsyncSession::new(Options::default(), Arc::new(MemoryFs::new()));
    let rt = current_thread_runtime();
    session.set_file("main.lig", "import \"./lib\" as lib;\nlet v = lib.x;\n");
    session.set_file("lib.lig", "let x = 1;\n");
    let first = session.evaluate(eval_request("main.lig", None));
    session.set_file("lib.lig", "let x = 2;\n");
    let second = session.evaluate(eval_request("main.lig", None));
    assert!(session.remove_file("lib.lig"));
    let third = session.evaluate(eval_request("main.lig", None));
    let text = |output: EvalOutput| output.text.unwrap_or_default().replace([' ', '\n'], "");
    assert_eq!(text(rt.block_on(first)), "{\"v\":1}");
    assert_eq!(text(rt.block_on(second)), "{\"v\":2}");
    let third = rt.block_on(third);
    assert_eq!(codes(&third.diagnostics), ["M4001"]);
}

/// An `AsyncFetcher` over a map of URLs whose fetches all wait for a gate to open (or for
/// the request's interrupt), recording each round it is asked.
struct GatedFetcher {
    bodies: HashMap<String, String>,
    open: tokio::sync::watch::Receiver<bool>,
    rounds: Arc<Mutex<Vec<Vec<String>>>>,
}

impl AsyncFetcher for GatedFetcher {
    fn fetch_all(&self, urls: Vec<String>, interrupt: Interrupt) -> FetchRound {
        self.rounds.lock().expect("rounds").push(urls.clone());
        let mut open = self.open.clone();
        let bodies = self.bodies.clone();
        Box::pin(async move {
            let stopped = async {
                while !interrupt.fired() {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            };
            tokio::select! {
                _ = open.wait_for(|it| *it) => {}
                () = stopped => return urls.iter().map(|_| Err(FetchError::Interrupted)).collect(),
            }
            urls.iter()
                .map(|url| {
                    bodies
                        .get(url)
                        .map(|it| it.as_bytes().to_vec())
                        .ok_or_else(|| FetchError::Failed("the server answered 404".into()))
                })
                .collect()
        })
    }
}

#[test]
fn an_async_fetcher_fetches_on_the_executor_and_leaves_the_pool_free() {
    let _serial = one_at_a_time();
    let (opener, open) = tokio::sync::watch::channel(false);
    let rounds: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let bodies: HashMap<String, String> = [
        (
            "https://h/lib/a.lig",
            "import \"./b.lig\" as b;\nexport let a = b.b + 1;\n",
        ),
        ("https://h/lib/b.lig", "export let b = 41;\n"),
    ]
    .into_iter()
    .map(|(url, text)| (url.to_string(), text.to_string()))
    .collect();
    let fetcher = GatedFetcher {
        bodies,
        open,
        rounds: rounds.clone(),
    };
    let session = AsyncSession::new(
        Options {
            clock: Some(clock()),
            ..Options::default()
        },
        Arc::new(
            MemoryFs::new()
                .with_file(
                    "main.lig",
                    "import \"https://h/lib/a.lig\" as a;\nlet v = a.a;\n",
                )
                .with_file(
                    "missing.lig",
                    "import \"https://h/lib/c.lig\" as c;\nlet v = c.c;\n",
                )
                .with_file("quick.lig", "let q = 7;\n"),
        ),
    )
    .with_async_fetcher(Arc::new(fetcher));
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rt = multi_thread_runtime();
    rt.block_on(async {
        // More requests than workers, each waiting in its first fetch round.
        let waiting: Vec<_> = (0..workers * 2 + 1)
            .map(|_| tokio::spawn(session.evaluate(eval_request("main.lig", None))))
            .collect();
        // (Futures are lazy: with an async fetcher, a request's rounds go as it is polled.)
        let timed_out = tokio::spawn(session.evaluate(eval_request("main.lig", Some(20.0))));
        while rounds.lock().expect("rounds").len() < waiting.len() + 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // Fetches wait on the executor, not on pool workers: a request without remote
        // imports still runs (a fetch that held a worker would leave none for it).
        let quick = session.evaluate(eval_request("quick.lig", None)).await;
        assert!(quick.ok(), "{:?}", quick.diagnostics);
        // The timeout ends a request whose fetch is still waiting.
        let timed_out = timed_out.await.expect("a request's task");
        assert_eq!(codes(&timed_out.diagnostics), ["R3008"]);
        let _ = opener.send(true);
        for handle in waiting {
            let output = handle.await.expect("a request's task");
            assert_eq!(
                output.text.as_deref(),
                Some("{\n  \"v\": 42\n}\n"),
                "{:?}",
                codes(&output.diagnostics)
            );
        }
        let missing = session.evaluate(eval_request("missing.lig", None)).await;
        assert_eq!(codes(&missing.diagnostics), ["M4008"]);
        assert!(
            missing.diagnostics[0].message.contains("404"),
            "{:?}",
            missing.diagnostics
        );
    });
    // Each request asked for each level of its graph once, in the loader's rounds.
    let rounds = rounds.lock().expect("rounds");
    let a = vec!["https://h/lib/a.lig".to_string()];
    let b = vec!["https://h/lib/b.lig".to_string()];
    assert_eq!(
        rounds.iter().filter(|it| **it == a).count(),
        workers * 2 + 2
    );
    assert_eq!(
        rounds.iter().filter(|it| **it == b).count(),
        workers * 2 + 1
    );
}
