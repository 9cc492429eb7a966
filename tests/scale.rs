//! Inputs at scale (issue 2): very deep or very big programs either work or fail with a
//! diagnostic, never with a stack overflow, a panic or a hang. Each case runs twice: through
//! the library (`api::Session::evaluate`) on a thread with an ordinary 8 MiB stack, and
//! through the `ligature eval` binary (which runs its pipeline on a big stack).
//!
//! These are not timed tests: the inputs are generated here and each case only checks the
//! exit code (or the library's output) and the diagnostic code.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;

use ligature::api::{EvalRequest, Limits, MemoryFs, Options, Session, Threads};

/// An ordinary thread stack (the main thread's default on Linux).
const LIBRARY_STACK: usize = 8 << 20;

/// What a case must end with.
#[derive(Debug)]
enum Expect {
    /// A document whose JSON text satisfies the check.
    Value(fn(&str) -> bool),
    /// An error with this code (and no document).
    Error(&'static str),
}

/// Evaluates `source` through the library on a thread with an 8 MiB stack; returns the
/// document or the codes of the error diagnostics.
fn library(source: String) -> Result<String, Vec<String>> {
    library_with(source, Limits::default())
}

fn library_with(source: String, limits: Limits) -> Result<String, Vec<String>> {
    std::thread::Builder::new()
        .stack_size(LIBRARY_STACK)
        .spawn(move || {
            let mut fs = MemoryFs::new();
            fs.insert("main.lig", source.into_bytes());
            let options = Options {
                limits,
                threads: Threads::Sequential,
                cache_capacity: 0,
                ..Options::default()
            };
            let session = Session::new(options, Arc::new(fs));
            let out = session.evaluate(&EvalRequest {
                entry: "main.lig".into(),
                ..EvalRequest::default()
            });
            match out.text {
                Some(text) if out.ok() => Ok(text),
                _ => Err(out
                    .diagnostics
                    .iter()
                    .map(|it| it.code.as_str().to_string())
                    .collect()),
            }
        })
        .expect("spawn an 8 MiB thread")
        .join()
        .expect("the library does not panic or overflow its stack")
}

/// Evaluates `source` with `ligature eval - --error-format json`; returns the exit code,
/// stdout and stderr.
fn cli(source: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ligature"))
        .args(["eval", "-", "--error-format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ligature");
    let mut stdin = child.stdin.take().expect("stdin");
    let text = source.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(text.as_bytes()));
    let out = child.wait_with_output().expect("wait for ligature");
    writer
        .join()
        .expect("writer thread")
        .expect("write the program");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `source` both ways and checks each against `expect`.
fn check(name: &str, source: String, expect: Expect) {
    let (code, stdout, stderr) = cli(&source);
    match &expect {
        Expect::Value(ok) => {
            assert_eq!(code, 0, "{name}: cli exit code; stderr: {stderr:.300}");
            assert!(ok(&stdout), "{name}: cli output {stdout:.200}");
        }
        Expect::Error(want) => {
            assert_eq!(code, 1, "{name}: cli exit code; stderr: {stderr:.300}");
            let dtos: serde_json::Value =
                serde_json::from_str(&stderr).unwrap_or_else(|_| panic!("{name}: {stderr:.300}"));
            let codes: Vec<&str> = dtos
                .as_array()
                .map(|it| it.iter().filter_map(|d| d["code"].as_str()).collect())
                .unwrap_or_default();
            assert!(codes.contains(want), "{name}: cli codes {codes:?}");
        }
    }
    match (library(source), &expect) {
        (Ok(text), Expect::Value(ok)) => assert!(ok(&text), "{name}: library output {text:.200}"),
        (Err(codes), Expect::Error(want)) => {
            assert!(
                codes.iter().any(|it| it == want),
                "{name}: library codes {codes:?}"
            )
        }
        (res, _) => panic!("{name}: library gave {res:.200?}, expected {expect:?}"),
    }
}

fn nested(open: &str, inner: &str, close: &str, n: usize) -> String {
    let mut s = String::with_capacity((open.len() + close.len()) * n + inner.len() + 1);
    for _ in 0..n {
        s.push_str(open);
    }
    s.push_str(inner);
    for _ in 0..n {
        s.push_str(close);
    }
    s.push('\n');
    s
}

fn let_chain(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!("let x{i} = {i} in\n"));
    }
    s.push_str(&format!("x{}\n", n - 1));
    s
}

#[test]
fn a_let_chain_of_100_000_links_works() {
    // A chain continues to the right instead of nesting (LANGUAGE.md section 12.4).
    check(
        "let chain",
        let_chain(100_000),
        Expect::Value(|it| it.trim() == "99999"),
    );
}

#[test]
fn parentheses_100_000_deep_are_e1009() {
    check(
        "parentheses",
        nested("(", "1", ")", 100_000),
        Expect::Error("E1009"),
    );
}

#[test]
fn nesting_just_within_the_limit_works() {
    // Within the limit in each nesting construct (tests/nesting.rs has every construct).
    check(
        "parentheses 9,999",
        nested("(", "1", ")", 9_999),
        Expect::Value(|it| it.trim() == "1"),
    );
    check(
        "sums 4,999",
        nested("(1 + ", "1", ")", 4_999),
        Expect::Value(|it| it.trim() == "5000"),
    );
    check(
        "negations 4,900",
        nested("-(", "1", ")", 4_900),
        Expect::Value(|it| it.trim() == "1"),
    );
    check(
        "lists 9,000",
        nested("[", "", "]", 9_000),
        Expect::Value(|it| it.starts_with("[\n  [") && it.matches('[').count() == 9_000),
    );
    check(
        "records 4,000",
        nested("{ a = ", "true", " }", 4_000),
        Expect::Value(|it| it.matches("\"a\"").count() == 4_000),
    );
    check(
        "applied lambdas 3,000",
        nested("(\\x -> ", "x", ") 1", 3_000),
        Expect::Value(|it| it.trim() == "1"),
    );
}

#[test]
fn deep_lists_and_records_beyond_the_limit_are_e1009() {
    check(
        "lists",
        nested("[", "", "]", 100_000),
        Expect::Error("E1009"),
    );
    check(
        "records",
        nested("{ a = ", "1", " }", 100_000),
        Expect::Error("E1009"),
    );
}

#[test]
fn a_10_mb_string_literal_works() {
    let n = 10 << 20;
    let source = format!("\"{}\"\n", "ab".repeat(n / 2));
    check(
        "10 MB string",
        source,
        Expect::Value(|it| it.len() == (10 << 20) + 3 && it.starts_with("\"abab")),
    );
}

#[test]
fn deep_recursion_is_r3006() {
    let f = "let rec f = \\n -> if n == 0 then 0 else 1 + f (n - 1);\n";
    check(
        "recursion 100,000",
        format!("{f}f 100000\n"),
        Expect::Error("R3006"),
    );
    check(
        "recursion 9,000",
        format!("{f}f 9000\n"),
        Expect::Value(|it| it.trim() == "9000"),
    );
}

#[test]
fn a_raised_depth_limit_costs_memory_not_a_stack_overflow() {
    // 40,000 calls need more native stack than one 256 MiB segment in debug builds; the
    // evaluator moves to a new segment when the current one runs low.
    let limits = Limits {
        max_depth: 1_000_000,
        ..Limits::default()
    };
    let f = "let rec f = \\n -> if n == 0 then 0 else 1 + f (n - 1);\n";
    let res = library_with(format!("{f}f 40000\n"), limits);
    assert_eq!(res.as_deref().map(str::trim), Ok("40000"));
}

/// A value 300,000 levels deep, built by `fold` without any recursion.
const DEEP_NAT: &str =
    "type Nat = Z | S Nat;\nlet deep = fold (\\acc x -> S acc) Z (range 0 300000);\n";

#[test]
fn deep_values_built_without_recursion() {
    // Exporting it is deeper than the depth limit.
    check(
        "export",
        format!("{DEEP_NAT}deep\n"),
        Expect::Error("R3006"),
    );
    // So is comparing it.
    check(
        "equality",
        format!("{DEEP_NAT}deep == fold (\\acc x -> S acc) Z (range 0 300000)\n"),
        Expect::Error("R3006"),
    );
    // Only inspecting its head works, and dropping it afterwards must not overflow.
    check(
        "drop",
        format!("{DEEP_NAT}match deep {{ S _ => true, Z => false }}\n"),
        Expect::Value(|it| it.trim() == "true"),
    );
}

#[test]
fn long_operator_chains_are_e1009_and_else_if_chains_work() {
    // Left-nested trees built by loops in the parser still count as nesting.
    check(
        "sum of 100,000 terms",
        format!("{}\n", vec!["1"; 100_000].join(" + ")),
        Expect::Error("E1009"),
    );
    // An `else if` chain continues to the right: not nesting (section 12.4).
    check(
        "100,000 else-ifs",
        format!(
            "let n = 99999 in {}0\n",
            (0..100_000)
                .map(|i| format!("if n == {i} then {i} else "))
                .collect::<String>()
        ),
        Expect::Value(|it| it.trim() == "99999"),
    );
    check(
        "sum of 4,000 terms",
        format!("{}\n", vec!["2"; 4_000].join(" + ")),
        Expect::Value(|it| it.trim() == "8000"),
    );
}

#[test]
fn wide_programs_work() {
    check(
        "a match with 100,000 cases",
        format!(
            "match 99999 {{ {}, _ => 0 }}\n",
            (0..100_000)
                .map(|i| format!("{i} => {i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expect::Value(|it| it.trim() == "99999"),
    );
    check(
        "100,000 arguments",
        format!("let f = \\x -> x in f{} 1\n", " f".repeat(100_000)),
        Expect::Value(|it| it.trim() == "1"),
    );
    check(
        "a list of 1,000,000 elements",
        format!(
            "length [{}]\n",
            (0..1_000_000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expect::Value(|it| it.trim() == "1000000"),
    );
    check(
        "a record of 100,000 fields",
        format!(
            "{{ {} }}.f99999\n",
            (0..100_000)
                .map(|i| format!("f{i} = {i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expect::Value(|it| it.trim() == "99999"),
    );
}

const RESOLVE: &str = "typeclass R 'a where r : 'a -> Integer;
instance R Integer where r = \\x -> x;
instance R 'a => R (List 'a) where r = \\xs -> 0;
";

#[test]
fn instance_resolution_as_deep_as_the_parser_allows_works() {
    // Dictionaries were cut at 64 levels (an internal error at 65); each level of the
    // list is one level of `R 'a => R (List 'a)`.
    check(
        "instance resolution 9,990",
        format!("{RESOLVE}r {}", nested("[", "1", "]", 9_990)),
        Expect::Value(|it| it.trim() == "0"),
    );
}

#[test]
fn instance_resolution_that_never_ends_is_t2017() {
    check(
        "instance loop",
        "typeclass C 'a where c : 'a -> Integer;
instance C (List 'a) => C (List 'a) where c = \\x -> 1;
c [1]
"
        .into(),
        Expect::Error("T2017"),
    );
    check(
        "instance growing",
        "typeclass C 'a where c : 'a -> Integer;
instance C (List (List 'a)) => C (List 'a) where c = \\x -> 1;
c [1]
"
        .into(),
        Expect::Error("T2017"),
    );
}
