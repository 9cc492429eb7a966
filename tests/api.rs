//! The library facade for multi-module programs and data validation, through `MemoryFs`.

use std::sync::Arc;

use ligature::api::{
    DataFormat, DataInput, EvalRequest, MemoryFs, Options, Schema, Session, ValidateRequest,
};

const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    // A compiled schema is shared by the threads that check documents.
    assert_send_sync::<Schema>();
};

fn session(files: &[(&str, &str)]) -> Session {
    let mut fs = MemoryFs::new();
    for (path, text) in files {
        fs.insert(path, text.as_bytes().to_vec());
    }
    Session::new(Options::default(), Arc::new(fs))
}

const SCHEMA: &str = r#"import std.validation { isValidEmail };
type Port = Integer where x >= 1024;
type Email = String where isValidEmail x;
type Service = { name: String, port: Port, owner: Email };
"#;

#[test]
fn validate_one_document_in_each_input_form() {
    let session = session(&[("schema.lig", SCHEMA)]);
    let request = |data| ValidateRequest {
        schema: "schema.lig".into(),
        type_name: "Service".into(),
        data,
        cancellation: Default::default(),
    };
    let good = session.validate(&request(DataInput::Json(
        r#"{"name": "api", "port": 8080, "owner": "a@b.io"}"#.into(),
    )));
    assert!(good.ok, "{:?}", good.errors);
    let yaml = session.validate(&request(DataInput::Yaml(
        "name: api\nport: 80\nowner: nobody\n".into(),
    )));
    assert!(!yaml.ok);
    let paths: Vec<(&str, &str)> = yaml
        .errors
        .iter()
        .map(|it| (it.path.as_str(), it.code.as_str()))
        .collect();
    assert_eq!(paths, [("$.port", "C5005"), ("$.owner", "C5005")]);
    let value = session.validate(&request(DataInput::Value(serde_json::json!({
        "name": "api", "port": "8080", "owner": "a@b.io"
    }))));
    assert_eq!(value.errors.len(), 1);
    assert_eq!(value.errors[0].path, "$.port");
    assert_eq!(value.errors[0].code, "C5004");
    // The DTO serialises like the other outputs.
    let json = serde_json::to_value(&value).expect("serialises");
    assert_eq!(json["errors"][0]["path"], "$.port");
}

#[test]
fn a_compiled_schema_checks_many_documents() {
    let session = session(&[("schema.lig", SCHEMA)]);
    let schema = session
        .compile_schema("schema.lig", "Service")
        .expect("the schema compiles");
    let failing = (0..200)
        .filter(|i| {
            let text = format!(
                r#"{{"name": "s{i}", "port": {}, "owner": "a@b.io"}}"#,
                1000 + i
            );
            !schema.check_text(&text, DataFormat::Json).is_empty()
        })
        .count();
    assert_eq!(failing, 24); // ports 1000..1023
    let broken = schema.check_text("{\"name\": ", DataFormat::Json);
    assert_eq!(broken.len(), 1);
    assert!(broken[0].message.contains("line 1"), "{:?}", broken);
}

#[test]
fn schema_problems_are_diagnostics() {
    let session = session(&[("schema.lig", "type A = Integer;\nlet x = 1 + \"a\";\n")]);
    let err = session
        .compile_schema("schema.lig", "A")
        .expect_err("the schema has a type error");
    assert!(err.diagnostics.iter().any(|d| d.code.as_str() == "T2001"));
    let missing = session
        .compile_schema("nope.lig", "A")
        .expect_err("no file");
    assert!(missing
        .diagnostics
        .iter()
        .any(|d| d.code.as_str() == "M4001"));
}

#[test]
fn modules_evaluate_through_the_session() {
    let session = session(&[
        (
            "app/main.lig",
            "import \"./lib\" as lib;\nlet x = lib.twice 21;\n",
        ),
        ("app/lib.lig", "let twice = \\n -> n * 2;\n"),
    ]);
    let out = session.evaluate(&EvalRequest {
        entry: "app/main.lig".into(),
        ..EvalRequest::default()
    });
    assert!(out.ok(), "{:?}", out.diagnostics);
    assert_eq!(out.text.as_deref(), Some("{\n  \"x\": 42\n}\n"));
    let typed = session.typecheck("app/main.lig");
    assert_eq!(typed.types.len(), 1);
    assert_eq!(typed.types[0].ty, "Integer");
}

/// A clock that advances one millisecond per read: deterministic, whatever the speed of
/// the machine, and it proves the library reads the host's clock (it has none of its own).
fn ticking_clock() -> (ligature::api::Clock, Arc<std::sync::atomic::AtomicU64>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let reads = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&reads);
    let clock = ligature::api::Clock(Arc::new(move || {
        counter.fetch_add(1, Ordering::Relaxed) as f64
    }));
    (clock, reads)
}

/// Long work in an imported module, in several independent top-level lets of the entry
/// (the engine's per-declaration machines) and in a big `map` (split across the pool).
const SLOW: &[(&str, &str)] = &[
    (
        "main.lig",
        "import \"./lib\" as lib;\n\
         let a = fold (\\s n -> s + n) 0 (range 0 3000000);\n\
         let b = fold (\\s n -> s + n * 2) 0 (range 0 3000000);\n\
         let c = length (map (\\n -> fold (\\s k -> s + k) 0 (range 0 n)) (range 0 3000));\n\
         let d = lib.total;\n",
    ),
    (
        "lib.lig",
        "let total = fold (\\s n -> s + n) 0 (range 0 3000000);\n",
    ),
];

fn slow_session(threads: ligature::api::Threads, clock: ligature::api::Clock) -> Session {
    let mut fs = MemoryFs::new();
    for (path, text) in SLOW {
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

#[test]
fn timeout_on_the_host_clock_stops_every_machine_with_r3008() {
    use ligature::api::Threads;
    for threads in [Threads::Sequential, Threads::Parallel] {
        let (clock, reads) = ticking_clock();
        let session = slow_session(threads, clock);
        let out = session.evaluate(&EvalRequest {
            entry: "main.lig".into(),
            timeout_ms: Some(20.0),
            ..EvalRequest::default()
        });
        let codes: Vec<_> = out
            .diagnostics
            .iter()
            .map(|it| it.code.to_string())
            .collect();
        assert_eq!(codes, ["R3008"], "{threads:?}: {:?}", out.diagnostics);
        assert!(out.text.is_none());
        // The clock is polled every few thousand steps, not per step: the whole program
        // runs tens of millions of steps, the 20 ms budget fires after about 20 reads.
        let reads = reads.load(std::sync::atomic::Ordering::Relaxed);
        assert!((20..200).contains(&reads), "{threads:?}: {reads} reads");
    }
}

#[test]
fn timeout_stops_an_imported_module_too() {
    use ligature::api::Threads;
    let (clock, _) = ticking_clock();
    let mut fs = MemoryFs::new();
    fs.insert(
        "main.lig",
        b"import \"./lib\" as lib;\nlet d = lib.total + 1;\n".to_vec(),
    );
    fs.insert("lib.lig", SLOW[1].1.as_bytes().to_vec());
    let session = Session::new(
        Options {
            clock: Some(clock),
            threads: Threads::Sequential,
            ..Options::default()
        },
        Arc::new(fs),
    );
    // Each read of the clock is a millisecond: the checker (before each declaration) and the
    // pipeline (between phases) read it too, so the deadline leaves room for them and falls
    // in the evaluation of `lib.total`.
    let out = session.evaluate(&EvalRequest {
        entry: "main.lig".into(),
        timeout_ms: Some(100.0),
        ..EvalRequest::default()
    });
    assert_eq!(out.diagnostics.len(), 1, "{:?}", out.diagnostics);
    assert_eq!(out.diagnostics[0].code.to_string(), "R3008");
    let file = out
        .sources
        .get(out.diagnostics[0].primary().expect("located").file);
    assert_eq!(file.map(|it| it.name.as_str()), Some("lib.lig"));
}

#[test]
fn a_far_deadline_or_no_clock_changes_nothing() {
    use ligature::api::Threads;
    let (clock, reads) = ticking_clock();
    let fast = [(
        "main.lig",
        "let a = fold (\\s n -> s + n) 0 (range 0 100000);\n",
    )];
    for (clock, timeout) in [(Some(clock), Some(1e9)), (None, Some(0.0))] {
        let mut fs = MemoryFs::new();
        fs.insert(fast[0].0, fast[0].1.as_bytes().to_vec());
        let session = Session::new(
            Options {
                clock,
                threads: Threads::Sequential,
                ..Options::default()
            },
            Arc::new(fs),
        );
        let out = session.evaluate(&EvalRequest {
            entry: "main.lig".into(),
            timeout_ms: timeout,
            ..EvalRequest::default()
        });
        assert_eq!(out.text.as_deref(), Some("{\n  \"a\": 4999950000\n}\n"));
    }
    assert!(reads.load(std::sync::atomic::Ordering::Relaxed) > 10);
}

/// §9.5: a register whose `register.toml` is present and invalid is M4007 for every import
/// that reaches the register, whatever the form or the module named (the register itself,
/// a module under it, one through its `[exports]`).
#[test]
fn an_invalid_manifest_is_m4007_for_every_import_of_its_register() {
    let manifests = [
        ("not TOML", "this is not toml [[[\n"),
        ("no version", "[register]\nname = \"conf\"\n"),
        (
            "duplicate key",
            "[register]\nname = \"conf\"\nname = \"x\"\nversion = \"1.0.0\"\n",
        ),
        (
            "bad semver",
            "[register]\nname = \"conf\"\nversion = \"one\"\n",
        ),
        (
            "version not a string",
            "[register]\nname = \"conf\"\nversion = 1\n",
        ),
    ];
    let imports = [
        "import conf;\na\n",
        "import conf as c;\nc.a\n",
        "import conf { a };\na\n",
        "import { a } from conf;\na\n",
        "import conf.sub;\nb\n",
        "import conf.sub as s;\ns.b\n",
    ];
    for (what, manifest) in manifests {
        for main in imports {
            let codes = evaluate_with_register(main, manifest);
            assert_eq!(codes, ["M4007"], "manifest {what}, {main:?}");
        }
    }
    // The same register with a valid manifest evaluates every form.
    let valid = "[register]\nname = \"conf\"\nversion = \"1.0.0\"\n";
    for main in imports {
        assert!(evaluate_with_register(main, valid).is_empty(), "{main:?}");
    }
}

/// The codes of evaluating `main` beside a register `conf` (under the root `regs`) with
/// this `register.toml`, a `mod.lig` exporting `a` and a `sub.lig` exporting `b`.
fn evaluate_with_register(main: &str, manifest: &str) -> Vec<String> {
    let mut fs = MemoryFs::new();
    fs.insert("main.lig", main.as_bytes().to_vec());
    fs.insert("regs/conf/register.toml", manifest.as_bytes().to_vec());
    fs.insert("regs/conf/mod.lig", b"export let a = 1;\n".to_vec());
    fs.insert("regs/conf/sub.lig", b"export let b = 2;\n".to_vec());
    let options = Options {
        register_roots: vec!["regs".into()],
        ..Options::default()
    };
    let session = Session::new(options, Arc::new(fs));
    let out = session.evaluate(&EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    });
    out.diagnostics
        .iter()
        .map(|d| d.code.as_str().to_string())
        .collect()
}

/// A failed run's stats (issue 17): `steps` is what it spent until it stopped (for R3007, the
/// whole budget, an imported module's steps included) and the phases run up to evaluation,
/// in every threading mode; before, R3007 reported 0 steps and no `eval` phase. The CLI's
/// `--stats` prints these stats.
#[test]
fn a_failed_evaluation_still_reports_its_steps_and_phases() {
    use ligature::api::{Limits, Threads};
    let files = [
        (
            "main.lig",
            "import \"./lib\" as lib;\n\
             let a = lib.n + 1;\n\
             let rec f = \\n -> if n == 0 then 0 else f (n - 1) + f (n - 1);\n\
             let b = f 40;\n",
        ),
        (
            "lib.lig",
            "let n = fold (\\s k -> s + k) 0 (range 0 100);\n",
        ),
        ("fails.lig", "let a = 1 + 2;\nlet b = 1 / 0;\n"),
    ];
    for threads in [Threads::Sequential, Threads::Auto, Threads::Parallel] {
        let mut fs = MemoryFs::new();
        for (path, text) in files {
            fs.insert(path, text.as_bytes().to_vec());
        }
        let (clock, _) = ticking_clock();
        let options = Options {
            clock: Some(clock),
            threads,
            limits: Limits {
                max_steps: 5_000,
                ..Limits::default()
            },
            ..Options::default()
        };
        let session = Session::new(options, Arc::new(fs));
        let out = session.evaluate(&EvalRequest {
            entry: "main.lig".into(),
            ..EvalRequest::default()
        });
        let codes: Vec<&str> = out.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["R3007"], "{threads:?}");
        assert_eq!(out.stats.steps, 5_000, "{threads:?}: the whole budget");
        let phases: Vec<&str> = out.stats.phases.iter().map(|(name, _)| *name).collect();
        assert_eq!(phases.last(), Some(&"eval"), "{threads:?}: {phases:?}");
        assert!(out.stats.source_bytes > 0);
        // Another run-time error: the steps before it, not zero.
        let out = session.evaluate(&EvalRequest {
            entry: "fails.lig".into(),
            ..EvalRequest::default()
        });
        let codes: Vec<&str> = out.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["R3002"], "{threads:?}");
        assert!(
            out.stats.steps >= 3 && out.stats.steps < 5_000,
            "{threads:?}: {}",
            out.stats.steps
        );
        let phases: Vec<&str> = out.stats.phases.iter().map(|(name, _)| *name).collect();
        assert_eq!(phases.last(), Some(&"eval"), "{threads:?}: {phases:?}");
    }
}

/// §8.4 through `validate`: refinements inside a recursive union are checked at every depth,
/// in text and in values (the wasm route), directly and through a record.
#[test]
fn validation_checks_refinements_inside_recursive_unions() {
    let schema = "type Port = Integer where x >= 1;\n\
                  type Tree 'a = Leaf 'a | Node (List (Tree 'a));\n\
                  type T = Tree Port;\n\
                  type Rose = Rose { port: Port, kids: List Rose };\n";
    let session = session(&[("schema.lig", schema)]);
    let cases = [
        (
            "T",
            r#"{"Node":[{"Leaf":1},{"Node":[{"Leaf":0}]}]}"#,
            Some("$.Node[1].Node[0].Leaf"),
        ),
        ("T", r#"{"Node":[{"Leaf":1},{"Node":[{"Leaf":5}]}]}"#, None),
        (
            "Rose",
            r#"{"Rose":{"port":1,"kids":[{"Rose":{"port":0,"kids":[]}}]}}"#,
            Some("$.Rose.kids[0].Rose.port"),
        ),
    ];
    for (type_name, data, bad) in cases {
        let value: serde_json::Value = serde_json::from_str(data).expect("json");
        for input in [DataInput::Json(data.into()), DataInput::Value(value)] {
            let out = session.validate(&ValidateRequest {
                schema: "schema.lig".into(),
                type_name: type_name.into(),
                data: input,
                cancellation: Default::default(),
            });
            let got: Vec<(&str, &str)> = out
                .errors
                .iter()
                .map(|it| (it.path.as_str(), it.code.as_str()))
                .collect();
            match bad {
                Some(path) => assert_eq!(got, [(path, "C5005")], "{data}"),
                None => assert!(got.is_empty(), "{data}: {got:?}"),
            }
        }
    }
}

/// A session's caches are shared by schema compilation and evaluation: a module checked for
/// `compile_schema` and then imported by an evaluated file must give the same answer as a
/// fresh session (a class instance of the schema module once went missing: a false T2008).
#[test]
fn a_schema_compiled_then_imported_in_one_session_checks_as_in_a_fresh_one() {
    const SCHEMA: &str = "\
typeclass D 'a where
    d : 'a -> String;
type E = A | B;
instance D E where
    d = \\e -> \"x\";
type T = { a: Integer };
let e = A;
let v = d e;
";
    const MAIN: &str = "import \"./schema\" as s;\nlet n = s.v;\n";
    let files = [("schema.lig", SCHEMA), ("main.lig", MAIN)];
    let request = EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    };
    let fresh = session(&files).evaluate(&request);
    assert!(fresh.ok(), "{:?}", fresh.diagnostics);
    let shared = session(&files);
    assert!(shared.compile_schema("schema.lig", "T").is_ok());
    let out = shared.evaluate(&request);
    assert!(out.ok(), "{:?}", out.diagnostics);
    assert_eq!(out.text, fresh.text);
    // And the other way round: evaluated first, then compiled.
    let other = session(&files);
    assert!(other.evaluate(&request).ok());
    assert!(other.compile_schema("schema.lig", "T").is_ok());
    assert_eq!(other.evaluate(&request).text, fresh.text);
}
