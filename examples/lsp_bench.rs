//! `make bench-lsp`: the language server on a 10,000-binding file, through its stdio as an
//! editor drives it (issue 22's goals).
//!
//! - edit: a one-character change of one binding (an incremental `didChange`) to the
//!   `publishDiagnostics` of that version (goal: under 15 ms);
//! - hover: a hover request on a binding to its answer (goal: under 5 ms), right after an
//!   edit, on a top-level binding and on a local one (a lambda's parameter), and with no
//!   edit before it;
//! - memory: the server's peak resident set (`VmHWM`) at the end (goal: under 300 MB).
//!
//! Runs `target/release/ligature lsp` (or `$LIGATURE_BIN`); `ROUNDS=n` sets the rounds.
#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::io::{BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "../tests/support/lsp_wire.rs"]
mod lsp_wire;
use lsp_wire::read_message;

const N: usize = 10_000;

/// The services file of `benches/incremental.rs`: a helper and 10,000 bindings using it.
fn source() -> String {
    let mut s = String::from(concat!(
        "let mk = \\i w -> {\n    name = \"svc-\" ++ toString i,\n    port = 8000 + i % 1000,\n",
        "    replicas = if i % 3 == 0 then 3 else 1,\n    weight = w,\n",
        "    resources = { cpu = i % 4 + 1, memoryMb = (i % 8 + 1) * 256 },\n",
        "    tags = [\"tier-\" ++ toString (i % 5), w]\n};\n"
    ));
    for i in 0..N {
        s.push_str(&format!("let s{i} = mk {i} \"w{i}\";\n"));
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

fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let bin = std::env::var("LIGATURE_BIN").unwrap_or_else(|_| "target/release/ligature".into());
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|it| it.parse().ok())
        .unwrap_or(30);
    let dir = std::env::temp_dir().join(format!("ligature-lsp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("services.lig");
    let text = source();
    std::fs::write(&file, &text).unwrap();
    let uri = format!("file://{}", file.display());

    let mut child = Command::new(&bin)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{bin} lsp: {err} (make bench-lsp builds it)"));
    let pid = child.id();
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<(Instant, Value)>();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        while let Some(message) = read_message(&mut reader) {
            if tx.send((Instant::now(), message)).is_err() {
                break;
            }
        }
    });
    let mut send = |message: Value| -> Instant {
        let body = message.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
        Instant::now()
    };
    let wait_for = |pred: &dyn Fn(&Value) -> bool| -> (Instant, Value) {
        loop {
            let (at, message) = rx.recv_timeout(Duration::from_secs(120)).unwrap();
            if pred(&message) {
                return (at, message);
            }
        }
    };
    let wait = |pred: &dyn Fn(&Value) -> bool| -> Instant { wait_for(pred).0 };
    let diagnostics_of = |version: i64| {
        move |it: &Value| {
            it["method"] == "textDocument/publishDiagnostics"
                && it["params"]["version"] == json!(version)
        }
    };

    send(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                "params": {"processId": null, "rootUri": format!("file://{}", dir.display()), "capabilities": {}}}));
    wait(&|it| it["id"] == 0);
    send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    let opened = send(json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": {"textDocument": {"uri": uri, "languageId": "ligature", "version": 1, "text": text}}}));
    let first = wait(&diagnostics_of(1));
    println!(
        "lsp: {N} bindings ({:.1} MB): first diagnostics {:.1} ms after didOpen",
        text.len() as f64 / 1e6,
        (first - opened).as_secs_f64() * 1000.0
    );

    // The edited binding: `let s5000 = mk 5000 "w5000";` on line 8 + 5000; its `w`
    // alternates with `v`.
    let line = 8 + N / 2;
    let column = format!("let s{} = mk {} \"", N / 2, N / 2).len();
    let mut edits = Vec::new();
    let mut hovers = Vec::new();
    for round in 0..rounds {
        let version = 2 + round as i64;
        let ch = if round % 2 == 0 { "v" } else { "w" };
        let sent = send(json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
            "params": {"textDocument": {"uri": uri, "version": version},
                       "contentChanges": [{"range": {"start": {"line": line, "character": column},
                                                     "end": {"line": line, "character": column + 1}},
                                           "text": ch}]}}));
        let got = wait(&diagnostics_of(version));
        edits.push((got - sent).as_secs_f64() * 1000.0);

        let id = 1000 + round as i64;
        let sent = send(
            json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover",
            "params": {"textDocument": {"uri": uri}, "position": {"line": line - 1, "character": 5}}}),
        );
        let got = wait(&|it: &Value| it["id"] == json!(id));
        hovers.push((got - sent).as_secs_f64() * 1000.0);
    }
    // Hover on a local binder (`mk`'s parameter `i`) right after each edit: its type comes
    // from a check of the file that records the local binders (`Session::binder_types`).
    let mut locals = Vec::new();
    for round in 0..rounds {
        let version = 2 + rounds as i64 + round as i64;
        let ch = if round % 2 == 0 { "v" } else { "w" };
        send(json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
            "params": {"textDocument": {"uri": uri, "version": version},
                       "contentChanges": [{"range": {"start": {"line": line, "character": column},
                                                     "end": {"line": line, "character": column + 1}},
                                           "text": ch}]}}));
        wait(&diagnostics_of(version));
        let id = 3000 + round as i64;
        let sent = send(
            json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover",
            "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 10}}}),
        );
        let (got, answer) = wait_for(&|it: &Value| it["id"] == json!(id));
        assert_eq!(
            answer["result"]["contents"]["value"],
            json!("```ligature\ni : Integer\n```"),
            "the hover on mk's parameter"
        );
        locals.push((got - sent).as_secs_f64() * 1000.0);
    }
    // Hover with no edit before it: the parsed file and the types are ready.
    let mut steady = Vec::new();
    for round in 0..rounds {
        let id = 5000 + round as i64;
        let sent = send(
            json!({"jsonrpc": "2.0", "id": id, "method": "textDocument/hover",
            "params": {"textDocument": {"uri": uri}, "position": {"line": 8 + round, "character": 5}}}),
        );
        let got = wait(&|it: &Value| it["id"] == json!(id));
        steady.push((got - sent).as_secs_f64() * 1000.0);
    }
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let peak_kb: f64 = status
        .lines()
        .find_map(|it| it.strip_prefix("VmHWM:"))
        .and_then(|it| it.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let edit = median(&mut edits);
    let hover = median(&mut hovers);
    let peak = peak_kb / 1024.0;
    println!(
        "lsp: one-character edit to diagnostics: median {edit:.2} ms, max {:.2} ms (goal < 15 ms) over {rounds} rounds",
        edits.last().copied().unwrap_or(0.0)
    );
    println!(
        "lsp: hover right after each edit: median {hover:.2} ms, max {:.2} ms (goal < 5 ms)",
        hovers.last().copied().unwrap_or(0.0)
    );
    let local = median(&mut locals);
    println!(
        "lsp: hover on a local binder right after each edit: median {local:.2} ms, max {:.2} ms (goal < 5 ms)",
        locals.last().copied().unwrap_or(0.0)
    );
    let steady_median = median(&mut steady);
    println!(
        "lsp: hover with no edit before: median {steady_median:.2} ms, max {:.2} ms",
        steady.last().copied().unwrap_or(0.0)
    );
    println!("lsp: server peak RSS {peak:.0} MB (goal < 300 MB)");

    send(json!({"jsonrpc": "2.0", "id": 9999, "method": "shutdown", "params": null}));
    wait(&|it| it["id"] == 9999);
    send(json!({"jsonrpc": "2.0", "method": "exit", "params": null}));
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
