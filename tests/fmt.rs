//! `ligature fmt`'s core (`api::format`) over every program the repository has: the
//! corpus (fixtures that parse, `examples/`, the playground's examples), generated
//! programs and golden files for comments in every position (`tests/fixtures/fmt/`: each
//! `*.lig` against its formatted `*.out`; `BLESS=1` rewrites them).

#[path = "support/format_check.rs"]
mod format_check;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ligature::api::{self, EvalRequest, MemoryFs, Options, Session, Threads};

use format_check::{format_faithfully, spanless_dump};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn lig_files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            lig_files_under(&path, out);
        } else if path.extension().is_some_and(|it| it == "lig") {
            out.push(path);
        }
    }
}

/// Every file of `dir` (recursively) in a memory file system, by path relative to `dir`.
fn memory_fs(dir: &Path, base: &Path, fs: &mut MemoryFs) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            memory_fs(&path, base, fs);
        } else if let (Ok(bytes), Ok(rel)) = (std::fs::read(&path), path.strip_prefix(base)) {
            fs.insert(&rel.to_string_lossy(), bytes);
        }
    }
}

/// The document `entry` evaluates to among its directory's files, with `text` as the
/// entry's text, and the codes of its diagnostics (positions differ between layouts).
fn evaluate(path: &Path, text: &str) -> (Option<String>, Vec<String>) {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut fs = MemoryFs::new();
    memory_fs(dir, dir, &mut fs);
    let name = path
        .file_name()
        .map(|it| it.to_string_lossy().into_owned())
        .unwrap_or_default();
    fs.insert(&name, text.as_bytes().to_vec());
    let options = Options {
        threads: Threads::Sequential,
        cache_capacity: 0,
        ..Options::default()
    };
    let session = Session::new(options, Arc::new(fs));
    let out = session.evaluate(&EvalRequest {
        entry: name,
        ..EvalRequest::default()
    });
    let codes = out
        .diagnostics
        .iter()
        .map(|it| it.code.as_str().to_string())
        .collect();
    (out.text, codes)
}

/// Runs `f` on a thread with a large stack, as the CLI runs the pipeline: the syntax dump
/// this test compares recurses as deep as the fixtures nest.
fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(f)
        .expect("spawn a thread")
        .join()
        .expect("the test passes");
}

#[test]
fn every_program_of_the_corpus_formats_to_a_fixed_point_with_the_same_tree_and_document() {
    on_big_stack(corpus);
}

fn corpus() {
    let mut files = Vec::new();
    for dir in ["tests/fixtures", "examples", "www/examples"] {
        lig_files_under(&root().join(dir), &mut files);
    }
    files.sort();
    let mut checked = 0;
    let mut failures = Vec::new();
    for path in &files {
        let Ok(src) = std::fs::read_to_string(path) else {
            continue;
        };
        if spanless_dump(&src).is_none() {
            // A syntax error: nothing to format (the CLI tests cover what fmt says).
            assert!(api::format(&src, 100).is_err(), "{}", path.display());
            continue;
        }
        checked += 1;
        let formatted = match format_faithfully(&src) {
            Ok(it) => it,
            Err(why) => {
                failures.push(format!("{}: {why}", path.display()));
                continue;
            }
        };
        if evaluate(path, &src) != evaluate(path, &formatted) {
            failures.push(format!("{}: a different document", path.display()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // The corpus held 278 parsing files when this test was written.
    assert!(checked >= 250, "only {checked} files parse");
}

#[test]
fn golden_files_for_comments_and_layout() {
    let dir = root().join("tests/fixtures/fmt");
    let mut files = Vec::new();
    lig_files_under(&dir, &mut files);
    files.sort();
    assert!(files.len() >= 3);
    let bless = std::env::var_os("BLESS").is_some();
    let mut failures = Vec::new();
    for path in &files {
        let src = std::fs::read_to_string(path).expect("read a golden input");
        let got = match format_faithfully(&src) {
            Ok(it) => it,
            Err(why) => {
                failures.push(format!("{}: {why}", path.display()));
                continue;
            }
        };
        let expected_path = path.with_extension("out");
        if bless {
            std::fs::write(&expected_path, &got).expect("write a golden file");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            failures.push(format!(
                "{}:\n--- expected ---\n{expected}--- got ---\n{got}",
                path.display()
            ));
        }
        // The expected layout is itself canonical.
        if api::format(&expected, 100).ok().as_deref() != Some(expected.as_str()) {
            failures.push(format!("{}: not a fixed point", expected_path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A comment in a position the layout moves still comes out, in its order.
#[test]
fn comments_keep_their_order_and_text() {
    let src = "let /*a*/ x /*b*/ : /*c*/ Integer /*d*/ = /*e*/ 1 /*f*/ ; -- g\n// h\n";
    let out = api::format(src, 100).expect("formats");
    let order: Vec<&str> = out.matches(|c: char| c.is_ascii_lowercase()).collect();
    let comments: String = ["a", "b", "c", "d", "e", "f", "g", "h"].concat();
    let found: String = out
        .split("/*")
        .skip(1)
        .map(|it| it.split("*/").next().unwrap_or(""))
        .collect();
    assert_eq!(found, "abcdef", "{out}");
    assert!(out.contains("-- g") && out.contains("// h"), "{out}");
    assert!(!order.is_empty() && !comments.is_empty());
}

#[test]
fn a_narrow_width_breaks_lines_a_wide_one_joins_them() {
    let src = "let r = { alpha = 1, beta = [1, 2, 3], gamma = \"g\" };\n";
    assert_eq!(api::format(src, 100).expect("formats"), src);
    let narrow = api::format(src, 20).expect("formats");
    assert_eq!(
        narrow,
        "let r = {\n    alpha = 1,\n    beta = [1, 2, 3],\n    gamma = \"g\"\n};\n"
    );
    assert_eq!(api::format(&narrow, 100).expect("formats"), src);
}

#[test]
fn parentheses_are_put_back_where_the_tree_needs_them() {
    let cases = [
        ("let a = (f x) y;", "let a = (f x) y;\n"),
        ("let a = f(x, y);", "let a = f x y;\n"),
        ("let a = f (g x);", "let a = f (g x);\n"),
        ("let a = (1 + 2) * 3;", "let a = (1 + 2) * 3;\n"),
        ("let a = 1 - (2 - 3);", "let a = 1 - (2 - 3);\n"),
        ("let a = (1 - 2) - 3;", "let a = 1 - 2 - 3;\n"),
        ("let a = - (-1);", "let a = -(-1);\n"),
        ("let a = (a < b) == c;", "let a = a < b == c;\n"),
        ("let a = (a == b) == c;", "let a = (a == b) == c;\n"),
        ("let a = f \\x -> x;", "let a = f (\\x -> x);\n"),
        (
            "let a = (if c then 1 else 2) + 3;",
            "let a = (if c then 1 else 2) + 3;\n",
        ),
        (
            "let a = match (f { b = 1 }) { _ => 1 };",
            "let a = match (f { b = 1 }) { _ => 1 };\n",
        ),
        ("let a = (f x).y;", "let a = (f x).y;\n"),
        (
            "type T = (List 'a -> 'b) -> Maybe (List 'a);",
            "type T = (List 'a -> 'b) -> Maybe (List 'a);\n",
        ),
        (
            "let a = match x { Some (Some y) => y, { port, .. } => 1 };",
            "let a = match x { Some (Some y) => y, { port, .. } => 1 };\n",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(api::format(src, 100).as_deref(), Ok(want), "{src}");
    }
}

#[test]
fn syntax_errors_are_reported_not_formatted() {
    let err = api::format("let x = ;", 100).expect_err("a syntax error");
    assert!(err.iter().any(|it| it.code.as_str() == "E1001"), "{err:?}");
    let err = api::format_bytes(b"let x = \"\xff\";", 100).expect_err("invalid UTF-8");
    assert_eq!(err[0].code.as_str(), "E1006");
}

#[test]
fn blank_lines_between_declarations_collapse_to_one() {
    let src = "let a = 1;\n\n\n\nlet b = 2;\nlet c = 3;\n\n// note\n\n\nlet d = 4;\n";
    assert_eq!(
        api::format(src, 100).as_deref(),
        Ok("let a = 1;\n\nlet b = 2;\nlet c = 3;\n\n// note\n\nlet d = 4;\n")
    );
}
