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

/// A fresh directory for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn write(dir: &std::path::Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("dirs");
    }
    std::fs::write(path, text).expect("write");
}

fn ligature_in(dir: &std::path::Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ligature"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("LIGATURE_PATH")
        .stdin(Stdio::null());
    for (key, value) in envs {
        cmd.env(key, value);
    }
    cmd.output().expect("the ligature binary runs")
}

const SCHEMA: &str =
    "type Port = Integer where x >= 1024;\ntype Service = { name: String, port: Port };\n";

#[test]
fn validate_exit_codes_and_paths() {
    let dir = scratch("validate_exit_codes");
    write(&dir, "schema.lig", SCHEMA);
    write(&dir, "good.json", r#"{"name": "api", "port": 8080}"#);
    write(&dir, "good.yaml", "name: web\nport: 9000\n");
    write(&dir, "bad.json", r#"{"name": "api", "port": 80}"#);
    write(&dir, "shape.json", r#"{"name": 1, "port": 8080}"#);
    write(&dir, "broken.json", r#"{"name": "#);
    let ok = ligature_in(
        &dir,
        &[
            "validate",
            "good.json",
            "good.yaml",
            "--schema",
            "schema.lig",
            "--type",
            "Service",
        ],
        &[],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let bad = ligature_in(
        &dir,
        &[
            "validate",
            "good.json",
            "bad.json",
            "shape.json",
            "broken.json",
            "--schema",
            "schema.lig",
            "--type",
            "Service",
            "--workers",
            "2",
        ],
        &[],
    );
    assert_eq!(bad.status.code(), Some(1));
    let text = stderr(&bad);
    assert!(text.contains("bad.json: $.port: error[C5005]"), "{text}");
    assert!(text.contains("shape.json: $.name: error[C5004]"), "{text}");
    assert!(
        text.contains("broken.json: $: error[C5004]: malformed JSON at line 1"),
        "{text}"
    );
    assert!(!text.contains("good.json:"), "{text}");
    assert!(text.contains("3 of 4 file(s) do not conform"), "{text}");
    // The output lists files in the order given, whatever the thread count.
    let bad_at = text.find("bad.json").unwrap_or(usize::MAX);
    let shape_at = text.find("shape.json").unwrap_or(0);
    assert!(bad_at < shape_at, "{text}");
}

#[test]
fn validate_usage_and_schema_errors() {
    let dir = scratch("validate_usage");
    write(&dir, "schema.lig", SCHEMA);
    write(&dir, "good.json", r#"{"name": "api", "port": 8080}"#);
    let usage = ligature_in(
        &dir,
        &["validate", "good.json", "--schema", "schema.lig"],
        &[],
    );
    assert_eq!(usage.status.code(), Some(2));
    let unknown = ligature_in(
        &dir,
        &[
            "validate",
            "good.json",
            "--schema",
            "schema.lig",
            "--type",
            "Nope",
        ],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no type `Nope`"),
        "{}",
        stderr(&unknown)
    );
    let json = ligature_in(
        &dir,
        &[
            "validate",
            "good.json",
            "--schema",
            "schema.lig",
            "--type",
            "Service",
            "--error-format",
            "json",
        ],
        &[],
    );
    assert_eq!(json.status.code(), Some(0));
    let parsed: serde_json::Value = serde_json::from_str(&stderr(&json)).expect("json");
    assert_eq!(parsed[0]["ok"], serde_json::Value::Bool(true));
}

#[test]
fn register_roots_from_flags_environment_and_default() {
    let dir = scratch("register_roots");
    write(
        &dir,
        "main.lig",
        "import tools.fmt { style };\nlet s = style;\n",
    );
    write(&dir, "flag/tools/fmt.lig", "let style = \"flag\";\n");
    write(&dir, "env1/tools/fmt.lig", "let style = \"env\";\n");
    write(
        &dir,
        "registers/tools/fmt.lig",
        "let style = \"default\";\n",
    );
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let mut all = vec!["eval", "main.lig", "--format", "text"];
        all.extend_from_slice(args);
        let out = ligature_in(&dir, &all, envs);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(run(&[], &[]), "{ s = \"default\" }\n");
    assert_eq!(
        run(&[], &[("LIGATURE_PATH", "missing:env1")]),
        "{ s = \"env\" }\n"
    );
    assert_eq!(
        run(&["--register-path", "flag"], &[("LIGATURE_PATH", "env1")]),
        "{ s = \"flag\" }\n"
    );
    let out = ligature_in(
        &dir,
        &["typecheck", "main.lig", "--register-path", "flag"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    std::fs::remove_dir_all(dir.join("registers")).expect("remove");
    let missing = ligature_in(&dir, &["eval", "main.lig"], &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("M4001"), "{}", stderr(&missing));
}

/// The worked example of LANGUAGE.md section 14 imports std.validation and prints exactly
/// this JSON.
const SECTION_14_JSON: &str = r#"{
  "environment": "prod",
  "owner": "checkout-oncall@example.com",
  "services": [
    {
      "name": "api",
      "port": 8080,
      "replicas": 6,
      "memoryMb": 512,
      "cpu": 0.5,
      "healthCheck": "https://api.prod.example.com/health"
    },
    {
      "name": "worker",
      "port": 9090,
      "replicas": 3,
      "memoryMb": 1024,
      "cpu": 0.25,
      "healthCheck": "https://worker.prod.example.com/health"
    },
    {
      "name": "web",
      "port": 8443,
      "replicas": 12,
      "memoryMb": 256,
      "cpu": 1.0,
      "healthCheck": "https://web.prod.example.com/health"
    }
  ],
  "summary": {
    "serviceCount": 3,
    "replicas": "21 replicas",
    "memoryMb": 9216,
    "cpu": 15.75,
    "ports": [
      8080,
      8443
    ]
  }
}
"#;

#[test]
fn deploy_example_prints_section_14() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(root.join("examples/deploy.lig")).expect("example");
    assert!(source.contains("import std.validation { validateEmail, isValidUrl };"));
    let out = ligature_in(
        root,
        &["eval", "examples/deploy.lig", "--format", "json"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), SECTION_14_JSON);
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_out_of_the_project_is_m4006() {
    let dir = scratch("symlink_escape");
    write(&dir, "outside/secret.lig", "let secret = 1;\n");
    write(
        &dir,
        "project/main.lig",
        "import \"./link\" { secret };\nlet s = secret;\n",
    );
    write(&dir, "project/inner.lig", "let inner = 2;\n");
    std::os::unix::fs::symlink(dir.join("outside/secret.lig"), dir.join("project/link.lig"))
        .expect("symlink");
    let out = ligature_in(&dir.join("project"), &["eval", "main.lig"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("M4006"), "{}", stderr(&out));
    // A link that stays inside the project is fine.
    std::fs::remove_file(dir.join("project/link.lig")).expect("remove");
    std::os::unix::fs::symlink(dir.join("project/inner.lig"), dir.join("project/link.lig"))
        .expect("symlink");
    write(
        &dir,
        "project/main.lig",
        "import \"./link\" { inner };\nlet s = inner;\n",
    );
    let out = ligature_in(&dir.join("project"), &["eval", "main.lig"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

fn validate_in(dir: &std::path::Path, data: &str, type_name: &str) -> Output {
    ligature_in(
        dir,
        &[
            "validate",
            data,
            "--schema",
            "schema.lig",
            "--type",
            type_name,
        ],
        &[],
    )
}

#[test]
fn validate_accepts_a_union_at_the_top_level_as_eval_writes_it() {
    let dir = scratch("validate_top_union");
    write(
        &dir,
        "schema.lig",
        "type U = A Integer | B;\ntype W = U;\nlet a : U = A 1;\nlet b : U = B;\n",
    );
    for (name, value) in [("a", "A 1"), ("b", "B")] {
        write(
            &dir,
            "v.lig",
            &format!("type U = A Integer | B;\nlet v : U = {value};\nv\n"),
        );
        let out = ligature_in(&dir, &["eval", "v.lig"], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        write(&dir, &format!("{name}.json"), &stdout(&out));
        let out = ligature_in(&dir, &["eval", "v.lig", "--format", "yaml"], &[]);
        write(&dir, &format!("{name}.yaml"), &stdout(&out));
        for ext in ["json", "yaml"] {
            for ty in ["U", "W"] {
                let out = validate_in(&dir, &format!("{name}.{ext}"), ty);
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{name}.{ext} as {ty}: {}",
                    stderr(&out)
                );
            }
        }
    }
    // Near misses: a payload constructor without its payload, a nullary one with one,
    // two members, an unknown constructor.
    for (k, bad) in [
        r#""A""#,
        r#"{"B": null}"#,
        r#"{"A": 1, "B": null}"#,
        r#""C""#,
        r#"{"A": "1"}"#,
    ]
    .iter()
    .enumerate()
    {
        write(&dir, &format!("bad{k}.json"), bad);
        let out = validate_in(&dir, &format!("bad{k}.json"), "U");
        assert_eq!(out.status.code(), Some(1), "{bad}: {}", stderr(&out));
        assert!(stderr(&out).contains("error[C5004]"), "{}", stderr(&out));
    }
}

#[test]
fn validate_data_edge_cases() {
    let dir = scratch("validate_edges");
    write(
        &dir,
        "schema.lig",
        "type I = List Integer;\ntype F = List Float;\ntype P = { port: Integer };\ntype T = Leaf Integer | Node (List T);\n",
    );
    let case = |name: &str, text: &str, ty: &str| {
        write(&dir, name, text);
        let out = validate_in(&dir, name, ty);
        (out.status.code(), stderr(&out))
    };
    // -0 is the integer 0 in both formats; -0.0 has a fraction (section 11.8).
    assert_eq!(case("z.json", "[-0, 0]", "I").0, Some(0));
    assert_eq!(case("z.yaml", "- -0\n- 0\n", "I").0, Some(0));
    let (code, text) = case("zf.json", r#"[-0, "-0.0", -0.0, -0e0, -0]"#, "I");
    assert_eq!(code, Some(1));
    assert!(text.contains("$[1]: error[C5004]"), "{text}");
    assert!(text.contains("$[2]: error[C5004]"), "{text}");
    assert!(text.contains("$[3]: error[C5004]"), "{text}");
    assert!(!text.contains("$[0]") && !text.contains("$[4]"), "{text}");
    assert_eq!(case("zf.yaml", "- -0.0\n", "I").0, Some(1));
    assert_eq!(case("f.json", "[-0, -0.0, 1e3]", "F").0, Some(0));
    // YAML's non-finite numbers are named, never "null".
    let (code, text) = case("f.yaml", "- .nan\n- .inf\n- -.inf\n- 1.5\n", "F");
    assert_eq!(code, Some(1));
    assert!(
        text.contains("$[0]: error[C5004]: expected a Float, found .nan"),
        "{text}"
    );
    assert!(
        text.contains(
            "$[1]: error[C5004]: expected a Float, found .inf, which is not a finite Float"
        ),
        "{text}"
    );
    assert!(
        text.contains("$[2]: error[C5004]: expected a Float, found -.inf"),
        "{text}"
    );
    assert!(!text.contains("null") && !text.contains("$[3]"), "{text}");
    // Duplicate keys are refused, naming the key and its path, in both formats.
    let (code, text) = case("dup.json", r#"{"port":99999,"port":80}"#, "P");
    assert_eq!(code, Some(1));
    assert!(
        text.contains("dup.json: $.port: error[C5004]: duplicate key `port`"),
        "{text}"
    );
    let (code, text) = case("dup.yaml", "port: 99999\nport: 80\n", "P");
    assert_eq!(code, Some(1));
    assert!(
        text.contains("dup.yaml: $.port: error[C5004]: duplicate key `port`"),
        "{text}"
    );
    let (code, text) = case("dup2.json", r#"[{"Node": [{"Leaf": 1, "Leaf": 2}]}]"#, "I");
    assert_eq!(code, Some(1), "{text}");
    let (code, text) = case(
        "dup3.json",
        r#"{"Node": [{"Leaf": 1}, {"Node": [], "Node": []}]}"#,
        "T",
    );
    assert_eq!(code, Some(1));
    assert!(
        text.contains("$.Node[1].Node: error[C5004]: duplicate key `Node`"),
        "{text}"
    );
    // A UTF-8 byte order mark is skipped.
    assert_eq!(case("bom.json", "\u{feff}{\"port\": 80}", "P").0, Some(0));
    assert_eq!(case("bom.yaml", "\u{feff}port: 80\n", "P").0, Some(0));
    // Deep data: 20,000 levels of a tree (40,000 of JSON) validate; 60,000 (120,000 of
    // JSON, beyond the bound) are a clean C5004.
    let tree = |depth: usize| {
        format!(
            "{}{{\"Leaf\": 1}}{}",
            "{\"Node\": [".repeat(depth),
            "]}".repeat(depth)
        )
    };
    let (code, text) = case("deep.json", &tree(20_000), "T");
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = case("deeper.json", &tree(60_000), "T");
    assert_eq!(code, Some(1));
    assert!(
        text.contains("error[C5004]: the document is nested deeper than 100000 levels"),
        "{text}"
    );
    // Beyond the bound inside a part already found wrong too.
    let (code, text) = case(
        "deepbad.json",
        &format!("{}{}", "[".repeat(150_000), "]".repeat(150_000)),
        "P",
    );
    assert_eq!(code, Some(1));
    assert!(text.contains("error[C5004]"), "{text}");
}

#[test]
fn validate_reads_a_deep_tree_that_eval_writes() {
    let dir = scratch("validate_deep_eval");
    write(
        &dir,
        "schema.lig",
        "type T = Leaf Integer | Node (List T);\n",
    );
    let depth = 2_000;
    write(
        &dir,
        "deep.lig",
        &format!(
            "type T = Leaf Integer | Node (List T);\nlet t : T = {}Leaf 1{};\nt\n",
            "Node [".repeat(depth),
            "]".repeat(depth)
        ),
    );
    for format in ["json", "yaml"] {
        let out = ligature_in(&dir, &["eval", "deep.lig", "--format", format], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        write(&dir, &format!("deep.{format}"), &stdout(&out));
    }
    // YAML as deep as JSON (beyond serde_yaml's 128 levels, docs/spec-notes.md 26).
    for name in ["deep.json", "deep.yaml"] {
        let out = validate_in(&dir, name, "T");
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    }
}

/// Deep YAML in the other forms: compact block lists beyond the bound are the JSON bound's
/// C5004; flow collections nested beyond the YAML reader's 255 levels are read as JSON when
/// they are JSON, else a C5004 naming that bound; malformed deep YAML keeps 1-based positions.
#[test]
fn validate_reads_deep_yaml_in_every_form() {
    let dir = scratch("validate_deep_yaml");
    write(&dir, "schema.lig", "type L = List (List Integer);\n");
    let case = |name: &str, text: &str| {
        write(&dir, name, text);
        let out = validate_in(&dir, name, "L");
        (out.status.code(), stderr(&out))
    };
    let (code, text) = case(
        "block.yaml",
        &format!("- - 1\n  - 2\n- {}1\n", "- ".repeat(300)),
    );
    assert_eq!(code, Some(1));
    assert!(
        text.contains("$[1][0]: error[C5004]: expected an Integer, found an array"),
        "{text}"
    );
    let (code, text) = case("beyond.yaml", &format!("{}1\n", "- ".repeat(100_000)));
    assert_eq!(code, Some(1));
    assert!(
        text.contains("$: error[C5004]: the document is nested deeper than 100000 levels"),
        "{text}"
    );
    let flow = |inner: &str| format!("[[1], {}{inner}{}]\n", "[".repeat(300), "]".repeat(300));
    let (code, text) = case("flow.yaml", &flow("1"));
    assert_eq!(code, Some(1));
    assert!(
        text.contains("$[1][0]: error[C5004]: expected an Integer, found an array"),
        "{text}"
    );
    let (code, text) = case("flowplain.yaml", &flow("x"));
    assert_eq!(code, Some(1));
    assert!(
        text.contains("error[C5004]: the YAML document nests flow collections"),
        "{text}"
    );
    let (code, text) = case("bad.yaml", &format!("{}1\n  x: 2\n", "- ".repeat(200)));
    assert_eq!(code, Some(1));
    assert!(
        text.contains("error[C5004]: malformed YAML at line 2, column "),
        "{text}"
    );
}

#[test]
fn yaml_errors_have_one_based_positions() {
    let dir = scratch("validate_yaml_positions");
    write(&dir, "schema.lig", "type P = { port: Integer };\n");
    let cases = [
        ("a.yaml", "port: [1,\n  2\n  x: 3\n", Some("line 3")),
        ("b.yaml", "port: 1\n  bad: 2\n", Some("line 2")),
        ("c.yaml", "port: \"open\n", Some("line 2")),
        ("d.yaml", "port: 1\n---\nport: 2\n", None),
        ("e.yaml", "", None),
        ("f.yaml", "- [\n", Some("line 2")),
        ("g.yaml", "port: *nope\n", Some("line 1")),
    ];
    for (name, text, line) in cases {
        write(&dir, name, text);
        let out = validate_in(&dir, name, "P");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains("error[C5004]"), "{name}: {err}");
        assert!(
            !err.contains("line 0") && !err.contains("column 0"),
            "{name}: {err}"
        );
        if let Some(line) = line {
            assert!(
                err.contains(&format!("malformed YAML at {line}, column ")),
                "{name}: {err}"
            );
        }
    }
}

/// Runs the binary with a time bound: a read that blocks fails the test instead of
/// hanging the suite.
fn ligature_bounded(
    dir: &std::path::Path,
    args: &[&str],
    stdin: Stdio,
    envs: &[(&str, &str)],
) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ligature"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in envs {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().expect("the ligature binary starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut err);
            }
            return (status.code(), err);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`ligature {}` did not finish in 30 s", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn only_regular_files_and_bounded_stdin_are_read() {
    let dir = scratch("read_bounds");
    write(&dir, "schema.lig", "type P = { port: Integer };\n");
    write(&dir, "p.json", r#"{"port": 80}"#);
    write(&dir, "imp.lig", "import \"./fifo.lig\" as f;\n1\n");
    let made = Command::new("mkfifo")
        .arg(dir.join("fifo.lig"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let _ = Command::new("mkfifo").arg(dir.join("fifo.json")).status();
    let runs: [&[&str]; 7] = [
        &["eval", "fifo.lig"],
        &["eval", "/dev/zero"],
        &["typecheck", "fifo.lig"],
        &[
            "validate",
            "fifo.json",
            "--schema",
            "schema.lig",
            "--type",
            "P",
        ],
        &[
            "validate",
            "/dev/zero",
            "--schema",
            "schema.lig",
            "--type",
            "P",
        ],
        &["validate", "p.json", "--schema", "fifo.lig", "--type", "P"],
        &["validate", "p.json", "--schema", "/dev/zero", "--type", "P"],
    ];
    for args in runs {
        let (code, err) = ligature_bounded(&dir, args, Stdio::null(), &[]);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(
            err.contains("only regular files are read"),
            "{args:?}: {err}"
        );
    }
    let (code, err) = ligature_bounded(&dir, &["eval", "imp.lig"], Stdio::null(), &[]);
    assert_eq!(code, Some(1), "{err}");
    // Standard input and files are read up to a bound (here lowered to 4 KiB).
    let zero = std::fs::File::open("/dev/zero").expect("/dev/zero");
    let limit = [("LIGATURE_MAX_INPUT_BYTES", "4096")];
    let (code, err) = ligature_bounded(&dir, &["eval", "-"], Stdio::from(zero), &limit);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("larger than the limit of 4096 bytes"), "{err}");
    write(&dir, "big.json", &format!("[{}0]", "0, ".repeat(2000)));
    write(
        &dir,
        "big.lig",
        &format!("let x = [{}0];\n", "0, ".repeat(2000)),
    );
    let (code, err) = ligature_bounded(
        &dir,
        &[
            "validate",
            "big.json",
            "--schema",
            "schema.lig",
            "--type",
            "P",
        ],
        Stdio::null(),
        &limit,
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("larger than the limit"), "{err}");
    let (code, err) = ligature_bounded(&dir, &["eval", "big.lig"], Stdio::null(), &limit);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("larger than the limit"), "{err}");
    let (code, err) = ligature_bounded(&dir, &["eval", "big.lig"], Stdio::null(), &[]);
    assert_eq!(code, Some(0), "{err}");
}

const TYPES: &str = "type Port = Integer where x >= 1 && x <= 65535;\ntype Even = Integer where x % 2 == 0;\ntype Service = { name: String, port: Port, shards: Even };\nlet port : Port = 8080;\n";

#[test]
fn types_emit_json_schema_and_typescript() {
    let dir = scratch("types_emit");
    write(&dir, "types.lig", TYPES);
    let out = ligature_in(&dir, &["types", "types.lig", "--emit", "json-schema"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let schema: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let names: Vec<&String> = schema["$defs"].as_object().expect("defs").keys().collect();
    assert_eq!(names, ["Port", "Even", "Service"]);
    assert_eq!(schema["$defs"]["Port"]["maximum"], 65535);
    // The inexpressible refinement is a warning on stderr, once per place.
    assert_eq!(
        stderr(&out),
        "warning: `Even` at $: refinement not expressed: where x % 2 == 0\n\
         warning: `Service` at $.shards: refinement not expressed: where x % 2 == 0\n"
    );
    let one = ligature_in(
        &dir,
        &[
            "types",
            "types.lig",
            "--emit",
            "json-schema",
            "--type",
            "Port",
        ],
        &[],
    );
    assert_eq!(one.status.code(), Some(0), "{}", stderr(&one));
    assert_eq!(stderr(&one), "");
    let schema: serde_json::Value = serde_json::from_str(&stdout(&one)).expect("JSON");
    assert_eq!(schema["$ref"], "#/$defs/Port");
    let ts = ligature_in(&dir, &["types", "types.lig", "--emit", "typescript"], &[]);
    assert_eq!(ts.status.code(), Some(0), "{}", stderr(&ts));
    let text = stdout(&ts);
    assert!(text.contains("export interface Service {"), "{text}");
    assert!(
        text.contains("/** @minimum 1 @maximum 65535 */\nexport type Port = number;"),
        "{text}"
    );
    assert!(
        text.contains("export declare const port: number;"),
        "{text}"
    );
}

#[test]
fn types_errors_and_usage() {
    let dir = scratch("types_errors");
    write(&dir, "types.lig", TYPES);
    write(&dir, "bad.lig", "let x : Integer = \"s\";\n");
    let unknown = ligature_in(
        &dir,
        &[
            "types",
            "types.lig",
            "--emit",
            "typescript",
            "--type",
            "Nope",
        ],
        &[],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("error[T2004]: the file declares or imports no type `Nope`"));
    assert_eq!(stdout(&unknown), "");
    let bad = ligature_in(&dir, &["types", "bad.lig", "--emit", "json-schema"], &[]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("error[T2001]"), "{}", stderr(&bad));
    assert_eq!(stdout(&bad), "");
    let missing = ligature_in(&dir, &["types", "nope.lig", "--emit", "json-schema"], &[]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("M4001"), "{}", stderr(&missing));
    let usage = ligature_in(&dir, &["types", "types.lig", "--emit", "xml"], &[]);
    assert_eq!(usage.status.code(), Some(2));
    let usage = ligature_in(&dir, &["types", "types.lig"], &[]);
    assert_eq!(usage.status.code(), Some(2));
}

// ---------------------------------------------------------------- ligature fmt

const UNFORMATTED: &str = "let a =   {x=1,   y=[1,2]} ; // kept\n\n\n\nlet b=a.x;\n";
const FORMATTED: &str = "let a = { x = 1, y = [1, 2] }; // kept\n\nlet b = a.x;\n";

#[test]
fn fmt_stdin_to_stdout() {
    let out = ligature(&["fmt", "-"], UNFORMATTED);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), FORMATTED);
    let again = ligature(&["fmt"], FORMATTED);
    assert_eq!(stdout(&again), FORMATTED);
}

#[test]
fn fmt_check_on_stdin_names_it_and_exits_with_1() {
    let out = ligature(&["fmt", "--check", "-"], UNFORMATTED);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "<stdin>\n");
    let out = ligature(&["fmt", "--check", "-"], FORMATTED);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn fmt_rewrites_files_and_directories_in_place() {
    let dir = scratch("fmt-in-place");
    write(&dir, "a.lig", UNFORMATTED);
    write(&dir, "sub/b.lig", UNFORMATTED);
    write(&dir, "sub/notes.txt", UNFORMATTED);
    write(&dir, "done.lig", FORMATTED);
    let out = ligature_in(&dir, &["fmt", "a.lig", "sub"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).expect("read");
    assert_eq!(read("a.lig"), FORMATTED);
    assert_eq!(read("sub/b.lig"), FORMATTED);
    assert_eq!(read("sub/notes.txt"), UNFORMATTED);
    assert_eq!(read("done.lig"), FORMATTED);
}

#[test]
fn fmt_check_lists_the_files_that_would_change_and_writes_nothing() {
    let dir = scratch("fmt-check");
    write(&dir, "a.lig", UNFORMATTED);
    write(&dir, "b.lig", FORMATTED);
    write(&dir, "c/d.lig", UNFORMATTED);
    let out = ligature_in(&dir, &["fmt", "--check", "."], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let listed = stdout(&out);
    assert!(
        listed.contains("a.lig") && listed.contains("d.lig"),
        "{listed}"
    );
    assert!(!listed.contains("b.lig"), "{listed}");
    assert_eq!(
        std::fs::read_to_string(dir.join("a.lig")).expect("read"),
        UNFORMATTED
    );
    let clean = ligature_in(&dir, &["fmt", "--check", "b.lig"], &[]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
}

#[test]
fn fmt_never_rewrites_a_file_with_a_syntax_error() {
    let dir = scratch("fmt-syntax-error");
    let broken = "let a =   1;\nlet b = ;\n";
    write(&dir, "broken.lig", broken);
    write(&dir, "fine.lig", UNFORMATTED);
    let out = ligature_in(&dir, &["fmt", "broken.lig", "fine.lig"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("E1001") && err.contains("broken.lig"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("broken.lig")).expect("read"),
        broken
    );
    // The other files are still formatted.
    assert_eq!(
        std::fs::read_to_string(dir.join("fine.lig")).expect("read"),
        FORMATTED
    );
    let stdin = ligature(&["fmt", "-"], broken);
    assert_eq!(stdin.status.code(), Some(1));
    assert_eq!(stdout(&stdin), "");
    assert!(stderr(&stdin).contains("<stdin>"), "{}", stderr(&stdin));
}

#[test]
fn fmt_reports_invalid_utf8_and_missing_files() {
    let dir = scratch("fmt-bytes");
    std::fs::write(dir.join("bad.lig"), b"let a = \"\xff\";\n").expect("write");
    let out = ligature_in(&dir, &["fmt", "bad.lig", "missing.lig"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("E1006") && err.contains("missing.lig"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.join("bad.lig")).expect("read"),
        b"let a = \"\xff\";\n"
    );
}

#[test]
fn fmt_width_option() {
    let src = "let r = { alpha = 1, beta = 2 };\n";
    let out = ligature(&["fmt", "--width", "16", "-"], src);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "let r = {\n    alpha = 1,\n    beta = 2\n};\n"
    );
    let bad = ligature(&["fmt", "--width", "0", "-"], src);
    assert_eq!(bad.status.code(), Some(2));
}
