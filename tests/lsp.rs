//! `ligature lsp` through its stdio, as an editor drives it: a client speaking JSON-RPC to
//! the built binary, on a multi-module workspace in a temporary directory.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/lsp_wire.rs"]
mod lsp_wire;
use lsp_wire::read_message;

use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    /// The server's stderr lines (it runs with `LIGATURE_LSP_TRACE` set).
    stderr: Arc<Mutex<Vec<String>>>,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    /// Notifications and server requests received while waiting for something else.
    pending: Vec<Value>,
    next_id: i64,
}

impl Client {
    fn start(root: &Path) -> Client {
        Client::start_with(root, &["lsp"])
    }

    /// The server started with `args` (clients such as vscode-languageclient add `--stdio`).
    fn start_with(root: &Path, args: &[&str]) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ligature"))
            .args(args)
            .env("LIGATURE_LSP_TRACE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the ligature binary starts");
        let stdin = child.stdin.take().expect("stdin");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().expect("stderr lines").push(line);
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            child,
            stderr,
            stdin,
            incoming,
            pending: Vec::new(),
            next_id: 1,
        };
        let result = client.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(root),
                "capabilities": {},
            }),
        );
        assert!(
            result["capabilities"]["hoverProvider"] == json!(true),
            "{result}"
        );
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: &Value) {
        self.send_raw(message.to_string().as_bytes());
    }

    fn send_raw(&mut self, body: &[u8]) {
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        self.stdin.write_all(header.as_bytes()).expect("write");
        self.stdin.write_all(body).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response (its `result`, or the whole response
    /// when it is an error).
    fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(|it| it["id"] == json!(id) && it.get("method").is_none())
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    /// The first message (pending or new) that `pred` accepts.
    fn wait(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(idx) = self.pending.iter().position(&pred) {
            return self.pending.remove(idx);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(message) if pred(&message) => return message,
                Ok(message) => self.pending.push(message),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "no expected message within {TIMEOUT:?}; got {:#?}",
                        self.pending
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server closed its output; got {:#?}", self.pending)
                }
            }
        }
    }

    /// The diagnostics published for `uri` at `version`.
    fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let message = self.wait(|it| {
            it["method"] == "textDocument/publishDiagnostics"
                && it["params"]["uri"] == uri
                && it["params"]["version"] == json!(version)
        });
        message["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "ligature", "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    /// The server's trace (stderr) once it holds every line of `needles`: the trace is
    /// written after the message it describes and read by another thread, so a test that
    /// has its answer may still have to wait for the line.
    fn trace_with(&self, needles: &[String]) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let trace = self.stderr.lock().expect("stderr lines").join("\n");
            if needles.iter().all(|it| trace.contains(it.as_str())) || Instant::now() > deadline {
                return trace;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn shutdown(mut self) {
        let result = self.request_raw("shutdown", Value::Null);
        assert_eq!(result["result"], Value::Null, "{result}");
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("the server exits");
        assert!(status.success(), "{status}");
    }
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A fresh directory under the system's temporary directory, with `files` (paths may have
/// directories).
fn workspace(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ligature-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(path, text).expect("write a workspace file");
    }
    dir.canonicalize().expect("canonical path")
}

/// The protocol position of the `nth` occurrence of `needle` in `text` (plus `shift`
/// characters), ASCII text.
fn pos(text: &str, needle: &str, nth: usize, shift: usize) -> Value {
    let offset = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle} #{nth} in the text"))
        .0
        + shift;
    let line = text[..offset].matches('\n').count();
    let character = offset - text[..offset].rfind('\n').map_or(0, |it| it + 1);
    json!({"line": line, "character": character})
}

/// The range of `len` characters at `shift` past the first `context` of `text`.
fn span(text: &str, context: &str, shift: usize, len: usize) -> Value {
    let start = pos(text, context, 0, shift);
    let end = pos(text, context, 0, shift + len);
    json!({"start": start, "end": end})
}

fn range(text: &str, needle: &str, nth: usize) -> Value {
    let start = pos(text, needle, nth, 0);
    let end = pos(text, needle, nth, needle.len());
    json!({"start": start, "end": end})
}

const LIB: &str = "module Lib;

export { port, greet, Mode };

type Mode = Fast | Slow;

let port = 8080;

let greet = \\name -> \"hello \" ++ name;
";

const MAIN: &str = "import \"./lib\" as lib;
import \"./lib\" { greet };
import std.core { withDefault };

let server = { host = \"localhost\", port = lib.port };

let message = greet \"world\";

let fallback = withDefault 3 None;

let double = \\n -> n * 2;

let answer = double server.port;
";

#[test]
fn navigation_across_modules() {
    let dir = workspace("nav", &[("lib.lig", LIB), ("main.lig", MAIN)]);
    let main = uri(&dir.join("main.lig"));
    let lib = uri(&dir.join("lib.lig"));
    let mut client = Client::start(&dir);
    client.open(&main, MAIN);
    assert_eq!(client.diagnostics(&main, 1), Vec::<Value>::new());

    // Hover: the checked type of a top-level binding, of an imported one, of a built-in.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": main}, "position": pos(MAIN, "double server", 0, 2)}),
    );
    assert_eq!(
        hover["contents"]["value"],
        "```ligature\ndouble : Integer -> Integer\n```"
    );
    assert_eq!(hover["range"], range(MAIN, "double", 1));
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": main}, "position": pos(MAIN, "greet \"world\"", 0, 1)}),
    );
    assert_eq!(
        hover["contents"]["value"],
        "```ligature\ngreet : String -> String\n```"
    );
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": main}, "position": pos(MAIN, "server = ", 0, 0)}),
    );
    assert_eq!(
        hover["contents"]["value"],
        "```ligature\nserver : { host: String, port: Integer }\n```"
    );

    // Definition: a member through an alias, an imported item, into std.
    let def = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": main}, "position": pos(MAIN, "lib.port", 0, 5)}),
    );
    assert_eq!(
        def,
        json!({"uri": lib, "range": span(LIB, "let port", 4, 4)})
    );
    let def = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": main}, "position": pos(MAIN, "greet \"world\"", 0, 0)}),
    );
    assert_eq!(
        def,
        json!({"uri": lib, "range": span(LIB, "let greet", 4, 5)})
    );
    let def = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": main}, "position": pos(MAIN, "withDefault 3", 0, 0)}),
    );
    let std_uri = def["uri"].as_str().expect("a location").to_string();
    assert!(std_uri.ends_with("/core.lig"), "{def}");
    let std_path = std_uri.trim_start_matches("file://");
    let core = std::fs::read_to_string(std_path).expect("std.core written for the editor");
    assert_eq!(def["range"]["start"], pos(&core, "let withDefault", 0, 4));

    // References: across both files, declaration included.
    let refs = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": lib}, "position": pos(LIB, "greet =", 0, 0),
               "context": {"includeDeclaration": true}}),
    );
    assert_eq!(
        refs,
        json!([
            {"uri": lib, "range": range(LIB, "greet", 0)},
            {"uri": lib, "range": span(LIB, "let greet", 4, 5)},
            {"uri": main, "range": range(MAIN, "greet", 0)},
            {"uri": main, "range": range(MAIN, "greet", 1)},
        ])
    );
    // A local's references stay in its lambda.
    let refs = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": main}, "position": pos(MAIN, "n * 2", 0, 0),
               "context": {"includeDeclaration": true}}),
    );
    assert_eq!(
        refs,
        json!([
            {"uri": main, "range": span(MAIN, "\\n ->", 1, 1)},
            {"uri": main, "range": span(MAIN, "n * 2", 0, 1)},
        ])
    );

    // Document symbols of the library.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": lib}}),
    );
    let names: Vec<(&str, i64)> = symbols
        .as_array()
        .expect("symbols")
        .iter()
        .map(|it| {
            (
                it["name"].as_str().unwrap_or_default(),
                it["kind"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    // Enum 10, Variable 13, Function 12.
    assert_eq!(names, vec![("Mode", 10), ("port", 13), ("greet", 12)]);
    assert_eq!(symbols[0]["children"][1]["name"], "Slow");
    assert_eq!(symbols[1]["selectionRange"], span(LIB, "let port", 4, 4));

    client.shutdown();
}

const LOCALS: &str = "import \"./lib\" { port };

let greetAll = \\names -> map (\\name -> \"hi \" ++ name) names;

let cfg = let base = port + 1 in let id = \\v -> v in { base = id base, label = id \"x\" };

let describe = \\o -> match o { Some p => p, None => port };

let broken = let q = 1 in q ++ \"s\";

type Name = String with startsWith(x ++ \"\") where length x <= 63;
";

/// The hover text at the `nth` `needle` of `text` (plus `shift`).
fn hover_at(
    client: &mut Client,
    uri: &str,
    text: &str,
    needle: &str,
    nth: usize,
    shift: usize,
) -> Value {
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos(text, needle, nth, shift)}),
    );
    hover["contents"]["value"].clone()
}

#[test]
fn hover_shows_the_types_of_local_binders() {
    let dir = workspace("locals", &[("lib.lig", LIB), ("main.lig", LOCALS)]);
    let main = uri(&dir.join("main.lig"));
    let mut client = Client::start(&dir);
    client.open(&main, LOCALS);
    // The last binding is a type error: hover still shows what inference found.
    let diagnostics = client.diagnostics(&main, 1);
    assert!(!diagnostics.is_empty(), "the type error is reported");

    let shown = |ty: &str| json!(format!("```ligature\n{ty}\n```"));
    // (a text at the binder, which occurrence of it, the binder's offset in it, the type shown)
    let cases = [
        // A lambda parameter at a use, fixed by the function it is passed with.
        ("++ name", 0, 4, "name : String"),
        // At its binding site, and one fixed by the rest of the declaration.
        ("\\names", 0, 2, "names : List String"),
        // `let ... in`: monomorphic through an import, and polymorphic.
        ("id base", 0, 4, "base : Integer"),
        ("let id", 0, 4, "id : 'a -> 'a"),
        ("id \"x\"", 0, 0, "id : 'a -> 'a"),
        // A match pattern's variable, at its binding and at its use.
        ("Some p", 0, 5, "p : Integer"),
        ("=> p", 0, 3, "p : Integer"),
        // In the declaration with the error.
        ("q ++", 0, 0, "q : Integer"),
        // A refinement's value `x`, in an item's argument and in the predicate.
        ("(x ++", 0, 1, "x : String"),
        ("length x", 0, 7, "x : String"),
    ];
    for (needle, nth, shift, ty) in cases {
        assert_eq!(
            hover_at(&mut client, &main, LOCALS, needle, nth, shift),
            shown(ty),
            "hover at {needle:?}"
        );
    }

    // After an edit, the new types.
    let edited = LOCALS.replace("port + 1", "\"p\" ++ \"1\"");
    client.change(&main, 2, &edited);
    let _ = client.diagnostics(&main, 2);
    assert_eq!(
        hover_at(&mut client, &main, &edited, "id base", 0, 4),
        shown("base : String")
    );
    client.shutdown();
}

const CONF: &str = "module Conf;

export { cfg };

let cfg = { db = { port = 5432 }, name = \"conf\" };
";

const USES: &str = "import \"./conf\" as conf;

let local = { port = 8080, nested = { depth = 2 } };

let a = local.port;

let b = local.nested.depth;

let c = conf.cfg.db.port;

let d = \\local -> local.port;
";

#[test]
fn definition_of_record_fields() {
    let dir = workspace("fields", &[("conf.lig", CONF), ("uses.lig", USES)]);
    let uses = uri(&dir.join("uses.lig"));
    let conf = uri(&dir.join("conf.lig"));
    let mut client = Client::start(&dir);
    client.open(&uses, USES);
    let definition = |client: &mut Client, needle: &str, shift: usize| {
        client.request(
            "textDocument/definition",
            json!({"textDocument": {"uri": uses}, "position": pos(USES, needle, 0, shift)}),
        )
    };
    // A field of a record literal bound by a top-level let of the file.
    assert_eq!(
        definition(&mut client, "local.port;", 6),
        json!({"uri": uses, "range": span(USES, "port = 8080", 0, 4)})
    );
    // Through a field whose value is a record literal.
    assert_eq!(
        definition(&mut client, "local.nested.depth", 13),
        json!({"uri": uses, "range": span(USES, "depth = 2", 0, 5)})
    );
    // Through a module alias, into the imported file.
    assert_eq!(
        definition(&mut client, "conf.cfg.db.port", 12),
        json!({"uri": conf, "range": span(CONF, "port = 5432", 0, 4)})
    );
    assert_eq!(
        definition(&mut client, "conf.cfg.db.port", 9),
        json!({"uri": conf, "range": span(CONF, "db = ", 0, 2)})
    );
    // A local of the same name is no record literal.
    assert_eq!(definition(&mut client, "-> local.port", 9), Value::Null);
    client.shutdown();
}

#[test]
fn completion_formatting_and_tokens() {
    let dir = workspace("complete", &[("lib.lig", LIB), ("main.lig", MAIN)]);
    let main = uri(&dir.join("main.lig"));
    let mut client = Client::start(&dir);
    client.open(&main, MAIN);
    client.diagnostics(&main, 1);

    let labels = |result: &Value| -> Vec<String> {
        result
            .as_array()
            .expect("completion items")
            .iter()
            .map(|it| it["label"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    // Names in scope inside the lambda: the parameter, top-level and imported names,
    // built-ins and keywords.
    let items = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main}, "position": pos(MAIN, "n * 2", 0, 0)}),
    );
    let names = labels(&items);
    for expected in [
        "n",
        "double",
        "server",
        "greet",
        "withDefault",
        "lib",
        "map",
        "let",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected} in {names:?}"
        );
    }
    let server = items
        .as_array()
        .and_then(|it| it.iter().find(|it| it["label"] == "server"))
        .expect("server");
    assert_eq!(server["detail"], "{ host: String, port: Integer }");
    // Members of a module alias after `.`.
    let items = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main}, "position": pos(MAIN, "lib.port", 0, 4)}),
    );
    assert_eq!(
        labels(&items),
        vec!["Fast", "Mode", "Slow", "greet", "port"]
    );
    // Fields of a record whose type the checker knows.
    let items = client.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": main}, "position": pos(MAIN, "server.port", 0, 7)}),
    );
    assert_eq!(labels(&items), vec!["host", "port"]);

    // Formatting: one edit replacing the whole file with the canonical layout.
    let messy = "let  a=1;\nlet b = [1,2,\n3];\n";
    client.change(&main, 2, messy);
    client.diagnostics(&main, 2);
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": main}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert_eq!(
        edits,
        json!([{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 0}},
                "newText": "let a = 1;\nlet b = [1, 2, 3];\n"}])
    );

    // Semantic tokens: `let` keyword, `a` function (a top-level value), `=` operator,
    // `1` number; the second line starts with `let` again.
    let tokens = client.request(
        "textDocument/semanticTokens/full",
        json!({"textDocument": {"uri": main}}),
    );
    let data: Vec<i64> = tokens["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|it| it.as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(
        &data[..25],
        &[
            0, 0, 3, 0, 0, // let: keyword
            0, 5, 1, 2, 0, // a: function
            0, 1, 1, 10, 0, // =: operator
            0, 1, 1, 8, 0, // 1: number
            1, 0, 3, 0, 0, // let
        ]
    );
    client.shutdown();
}

#[test]
fn diagnostics_follow_imports_and_edits() {
    let dir = workspace("diag", &[("lib.lig", LIB), ("main.lig", MAIN)]);
    let main = uri(&dir.join("main.lig"));
    let lib = uri(&dir.join("lib.lig"));
    let mut client = Client::start_with(&dir, &["lsp", "--stdio"]);
    client.open(&main, MAIN);
    client.open(&lib, LIB);
    assert!(client.diagnostics(&main, 1).is_empty());
    // `port` becomes a String in the open (unsaved) library: main's `double server.port`
    // is now a type error in main, found through the import.
    let edited = LIB.replace("8080", "\"8080\"");
    client.change(&lib, 2, &edited);
    assert!(client.diagnostics(&lib, 2).is_empty());
    let diagnostics = client.diagnostics(&main, 1);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["severity"], 1);
    assert_eq!(diagnostics[0]["source"], "ligature");
    assert!(
        diagnostics[0]["code"]
            .as_str()
            .is_some_and(|it| it.starts_with('T')),
        "{diagnostics:?}"
    );
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 12);
    // A parse error in the library itself.
    client.change(&lib, 3, "let port = ;");
    let diagnostics = client.diagnostics(&lib, 3);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({"line": 0, "character": 11})
    );
    // Fixed again: every file is cleared.
    client.change(&lib, 4, LIB);
    assert!(client.diagnostics(&lib, 4).is_empty());
    assert!(client.diagnostics(&main, 1).is_empty());
    client.shutdown();
}

#[test]
fn a_closed_importer_is_checked_again() {
    let dir = workspace("closed", &[("lib.lig", LIB), ("main.lig", MAIN)]);
    let main = uri(&dir.join("main.lig"));
    let lib = uri(&dir.join("lib.lig"));
    let mut client = Client::start(&dir);
    // Only the library is open; main.lig, beside it, imports it.
    client.open(&lib, LIB);
    assert!(client.diagnostics(&lib, 1).is_empty());
    client.change(&lib, 2, &LIB.replace("8080", "\"8080\""));
    assert!(client.diagnostics(&lib, 2).is_empty());
    // A closed file's diagnostics carry no version.
    let message = client.wait(|it| {
        it["method"] == "textDocument/publishDiagnostics"
            && it["params"]["uri"] == main.as_str()
            && it["params"]["diagnostics"]
                .as_array()
                .is_some_and(|it| !it.is_empty())
    });
    assert_eq!(message["params"]["version"], Value::Null);
    assert_eq!(
        message["params"]["diagnostics"][0]["range"]["start"]["line"],
        12
    );
    // Forget generation 1's empty list for main before the fix.
    client.pending.clear();
    client.change(&lib, 3, LIB);
    assert!(client.diagnostics(&lib, 3).is_empty());
    let message = client.wait(|it| {
        it["method"] == "textDocument/publishDiagnostics" && it["params"]["uri"] == main.as_str()
    });
    assert_eq!(message["params"]["diagnostics"], json!([]));
    client.shutdown();
}

#[test]
fn importers_anywhere_in_the_workspace_are_checked_again() {
    // lib/lib.lig is open; app/main.lig (another directory) imports it, and
    // app/nested/top.lig imports main only: neither is beside the open file.
    let main_text = MAIN.replace("\"./lib\"", "\"../lib/lib\"");
    let top = "import \"../main\" as main;\n\nlet doubled = main.answer * 2;\n";
    let dir = workspace(
        "importers",
        &[
            (".gitignore", "build/\n"),
            ("lib/lib.lig", LIB),
            ("app/main.lig", main_text.as_str()),
            ("app/nested/top.lig", top),
            // Ignored: never checked, never published.
            ("build/main.lig", main_text.as_str()),
        ],
    );
    let lib = uri(&dir.join("lib/lib.lig"));
    let main = uri(&dir.join("app/main.lig"));
    let nested = uri(&dir.join("app/nested/top.lig"));
    let mut client = Client::start(&dir);
    client.open(&lib, LIB);
    assert!(client.diagnostics(&lib, 1).is_empty());
    // The port becomes a string: main's `double server.port` breaks, and top.lig's use of
    // main's answer is reported where main fails (top itself has nothing of its own).
    client.change(&lib, 2, &LIB.replace("8080", "\"8080\""));
    assert!(client.diagnostics(&lib, 2).is_empty());
    let errors = |it: &Value, uri: &str| {
        it["method"] == "textDocument/publishDiagnostics"
            && it["params"]["uri"] == uri
            && it["params"]["diagnostics"]
                .as_array()
                .is_some_and(|it| !it.is_empty())
    };
    let message = client.wait(|it| errors(it, &main));
    assert_eq!(message["params"]["version"], Value::Null);
    assert_eq!(
        message["params"]["diagnostics"][0]["range"]["start"]["line"],
        12
    );
    let ignored = uri(&dir.join("build/main.lig"));
    // Back to a number: main's error is cleared by the round that published it.
    client.pending.clear();
    client.change(&lib, 3, LIB);
    assert!(client.diagnostics(&lib, 3).is_empty());
    let message = client.wait(|it| {
        it["method"] == "textDocument/publishDiagnostics" && it["params"]["uri"] == main.as_str()
    });
    assert_eq!(message["params"]["diagnostics"], json!([]));
    let trace = client.trace_with(&["generation 3 published 2 more importers".to_string()]);
    assert!(
        trace.contains("generation 3 published 2 more importers"),
        "{trace}"
    );
    // top.lig was checked too (published, empty), the ignored copy never.
    client.wait(|it| {
        it["method"] == "textDocument/publishDiagnostics" && it["params"]["uri"] == nested.as_str()
    });
    assert!(client
        .pending
        .iter()
        .chain(client.incoming.try_iter().collect::<Vec<_>>().iter())
        .all(|it| it["params"]["uri"] != ignored.as_str()));
    client.shutdown();
}

#[test]
fn references_reach_the_whole_workspace_but_not_ignored_files() {
    let main_text = MAIN.replace("\"./lib\"", "\"../lib/lib\"");
    let user = "import \"../../lib/lib\" as lib;\n\nlet p = lib.port;\n";
    let dir = workspace(
        "refs",
        &[
            (".gitignore", "build/\nnode_modules/\n"),
            ("lib/lib.lig", LIB),
            ("app/main.lig", main_text.as_str()),
            ("app/nested/user.lig", user),
            // Excluded: by .gitignore (no repository needed), and a hidden directory.
            ("node_modules/dep/user.lig", user),
            ("build/out/user.lig", user),
            (".cache/x/user.lig", user),
        ],
    );
    let lib = uri(&dir.join("lib/lib.lig"));
    let main = uri(&dir.join("app/main.lig"));
    let nested = uri(&dir.join("app/nested/user.lig"));
    let mut client = Client::start(&dir);
    // Only the library is open: its importers live in other directories.
    client.open(&lib, LIB);
    assert!(client.diagnostics(&lib, 1).is_empty());
    let refs = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": lib}, "position": pos(LIB, "port =", 0, 0),
               "context": {"includeDeclaration": true}}),
    );
    assert_eq!(
        refs,
        json!([
            {"uri": main, "range": span(&main_text, "lib.port", 4, 4)},
            {"uri": nested, "range": span(user, "lib.port", 4, 4)},
            {"uri": lib, "range": span(LIB, "{ port", 2, 4)},
            {"uri": lib, "range": span(LIB, "let port", 4, 4)},
        ])
    );
    client.shutdown();
}

/// A big file: checking it takes long enough for edits to arrive meanwhile.
fn big_file(n: usize, last: &str) -> String {
    let mut text = String::new();
    for idx in 0..n {
        text.push_str(&format!(
            "let v{idx} = {{ name = \"service-{idx}\", port = {port}, tags = [\"a\", \"b\"] }};\n",
            port = 1000 + idx % 5000
        ));
    }
    text.push_str(&format!("let last = {last};\n"));
    text
}

#[test]
fn an_edit_during_a_long_check_supersedes_it() {
    let dir = workspace("cancel", &[]);
    let file = uri(&dir.join("big.lig"));
    let mut client = Client::start(&dir);
    // Version 1 has a type error at its end; versions 2 and 3 follow at once, while
    // version 1 is being checked. Only the newest version's diagnostics may arrive, and
    // they must be those of version 3 (a different error).
    client.open(&file, &big_file(60_000, "1 + \"one\""));
    client.change(&file, 2, &big_file(60_000, "2 + \"two\""));
    client.change(&file, 3, &big_file(60_000, "true && 3"));
    let diagnostics = client.diagnostics(&file, 3);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 60_000);
    // The checks of versions 1 and 2 were superseded (stopped by the cancel flag, or
    // finished and not published), version 3's published.
    let expected = [
        "generation 1 superseded".to_string(),
        "generation 2 superseded".to_string(),
        "generation 3 published".to_string(),
    ];
    let trace = client.trace_with(&expected);
    for generation in [1, 2] {
        assert!(
            trace.contains(&format!("generation {generation} superseded")),
            "{trace}"
        );
    }
    assert!(trace.contains("generation 3 published"), "{trace}");
    // Nothing was published for the stale versions.
    assert!(
        !client
            .pending
            .iter()
            .any(|it| it["method"] == "textDocument/publishDiagnostics"),
        "{:?}",
        client.pending
    );
    // The server still answers.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": file}, "position": {"line": 5, "character": 5}}),
    );
    assert_eq!(
        hover["contents"]["value"],
        "```ligature\nv5 : { name: String, port: Integer, tags: List String }\n```"
    );
    client.shutdown();
}

#[test]
fn survives_garbage() {
    let dir = workspace("garbage", &[("a.lig", "let a = 1;\n")]);
    let file = uri(&dir.join("a.lig"));
    let mut client = Client::start(&dir);
    // Not JSON, JSON that is no message, a message of the wrong shape.
    client.send_raw(b"{ this is not json");
    client.send_raw(b"[1, 2, 3]");
    // A header without a usable length.
    client
        .stdin
        .write_all(b"Content-Length: many\r\n\r\n")
        .expect("write");
    client.send(&json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": 42}));
    // An unknown method is MethodNotFound; bad parameters are InvalidParams.
    let response = client.request_raw("ligature/nonsense", json!({}));
    assert_eq!(response["error"]["code"], -32601, "{response}");
    let response = client.request_raw("textDocument/hover", json!({"what": true}));
    assert_eq!(response["error"]["code"], -32602, "{response}");
    // Absurd positions, unknown documents, edits out of range.
    client.open(&file, "let a = 1;\n");
    client.diagnostics(&file, 1);
    for position in [
        json!({"line": 0, "character": 4_000_000_000u32}),
        json!({"line": 4_000_000_000u32, "character": 0}),
    ] {
        let hover = client.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": file}, "position": position}),
        );
        assert_eq!(hover, Value::Null);
        client.request(
            "textDocument/completion",
            json!({"textDocument": {"uri": file}, "position": position}),
        );
        client.request(
            "textDocument/definition",
            json!({"textDocument": {"uri": "file:///nowhere/x.lig"}, "position": position}),
        );
    }
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": file, "version": 2},
               "contentChanges": [{"range": {"start": {"line": 99, "character": 99}, "end": {"line": 0, "character": 0}}, "text": "é"}]}),
    );
    assert_eq!(client.diagnostics(&file, 2).len(), 1);
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": "http://example.com/a.lig"}}),
    );
    assert_eq!(symbols, Value::Null);
    // Still alive and correct.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": file}, "position": {"line": 0, "character": 4}}),
    );
    assert_eq!(hover["contents"]["value"], "```ligature\na : Integer\n```");
    client.shutdown();
}
