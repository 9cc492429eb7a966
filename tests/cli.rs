//! The `ligature` binary at its boundary: exit codes, stdin, formats, diagnostics on stderr.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn ligature(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ligature"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ligature binary starts");
    if let Some(mut input) = child.stdin.take() {
        // A run that fails early (usage errors) may exit before reading stdin: a broken
        // pipe here is expected, and the exit code is what the tests assert.
        let _ = input.write_all(stdin.as_bytes());
    }
    child
        .wait_with_output()
        .expect("the ligature binary finishes")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const CONFIG: &str = "let name = \"edge\";\nlet double = \\n -> n * 2;\nlet replicas = double 3;\n";

#[test]
fn eval_stdin_json() {
    let out = ligature(&["eval", "-"], CONFIG);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "{\n  \"name\": \"edge\",\n  \"replicas\": 6\n}\n"
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn eval_defaults_to_stdin() {
    let out = ligature(&["eval"], "1 + 2");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "3\n");
}

#[test]
fn eval_each_format() {
    let src = "{ name = \"api\", ports = [80, 443], tls = { on = true } }";
    let yaml = ligature(&["eval", "-", "--format", "yaml"], src);
    assert_eq!(yaml.status.code(), Some(0), "{}", stderr(&yaml));
    assert_eq!(
        stdout(&yaml),
        "name: api\nports:\n  - 80\n  - 443\ntls:\n  \"on\": true\n"
    );
    let toml = ligature(&["eval", "-", "--format", "toml"], src);
    assert_eq!(toml.status.code(), Some(0), "{}", stderr(&toml));
    assert_eq!(
        stdout(&toml),
        "name = \"api\"\nports = [80, 443]\n\n[tls]\non = true\n"
    );
    let text = ligature(&["eval", "-", "--format", "text"], src);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    assert_eq!(
        stdout(&text),
        "{ name = \"api\", ports = [80, 443], tls = { on = true } }\n"
    );
}

#[test]
fn eval_field() {
    let out = ligature(&["eval", "-", "--field", "replicas"], CONFIG);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "6\n");
    let missing = ligature(&["eval", "-", "--field", "nope"], CONFIG);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("T2003"), "{}", stderr(&missing));
}

#[test]
fn language_error_exits_1_with_excerpt_and_empty_stdout() {
    let out = ligature(&["eval", "-"], "let a = 1;\nlet b = a / 0;\n");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(err.starts_with("<stdin>:2:9: error[R3002]"), "{err}");
    assert!(
        err.contains("let b = a / 0;"),
        "the excerpt shows the line: {err}"
    );
}

#[test]
fn error_format_json() {
    let out = ligature(&["eval", "-", "--error-format", "json"], "let x = 1 +;\n");
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_str(&stderr(&out)).expect("stderr is JSON");
    let first = &value[0];
    assert_eq!(first["code"], "E1001");
    assert_eq!(first["name"], "parse/unexpected-token");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["file"], "<stdin>");
    assert_eq!(first["line"], 1);
    assert_eq!(first["column"], 12);
    assert!(first["rendered"]
        .as_str()
        .is_some_and(|it| it.contains("E1001")));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        ligature(&["eval", "-", "--format", "xml"], "1")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(ligature(&["frobnicate"], "").status.code(), Some(2));
    assert_eq!(
        ligature(&["eval", "-", "--timeout", "soon"], "1")
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn missing_file_exits_1() {
    let out = ligature(&["eval", "/nonexistent/dir/x.lig"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot find file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn invalid_utf8_is_e1006() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ligature"))
        .args(["eval", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"let a = \"\xff\";")
        .expect("write");
    let out = child.wait_with_output().expect("finishes");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("E1006"), "{}", stderr(&out));
}

#[test]
fn timeout_stops_a_long_run() {
    let src = "let rec spin = \\n -> if n == 0 then 0 else spin (n - 1);\nlet x = fold (\\a n -> a + spin 50) 0 (range 0 100000000);\n";
    let started = std::time::Instant::now();
    let out = ligature(&["eval", "-", "--timeout", "100ms"], src);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("R3008"), "{}", stderr(&out));
    // Generous bound: this is a functional check that the run stops, not a benchmark.
    assert!(started.elapsed().as_secs() < 20);
}

#[test]
fn step_budget_flag() {
    let out = ligature(
        &["eval", "-", "--max-steps", "1000"],
        "fold (\\a n -> a + n) 0 (range 0 100000)",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("R3007"), "{}", stderr(&out));
}

#[test]
fn typecheck_types() {
    let dir = std::env::temp_dir().join(format!("ligature-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("t.lig");
    std::fs::write(&file, "let twice = \\f x -> f (f x);\nlet n = 1;\n").expect("write");
    let path = file.to_string_lossy().into_owned();
    let out = ligature(&["typecheck", &path, "--types"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "twice : ('a -> 'a) -> 'a -> 'a\nn : Integer\n"
    );
    std::fs::write(&file, "let n = 1 + \"a\";\n").expect("write");
    let bad = ligature(&["typecheck", &path], "");
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("T2001") || stderr(&bad).contains("T2008"),
        "{}",
        stderr(&bad)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
