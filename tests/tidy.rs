//! Tidy checks: invariants of the code base that are cheaper to test than to review.

use std::path::{Path, PathBuf};

use ligature::diagnostic::Code;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn files_under(dir: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(dir).as_path(),
        &mut out,
    );
    out.sort();
    out
}

/// Codes whose phase belongs to work not done yet.
/// A code listed here must not have a fixture yet; remove it from the list when it gets one.
const NOT_YET: &[Code] = &[];

#[test]
fn every_code_has_an_error_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/errors");
    let mut missing = Vec::new();
    for code in Code::ALL {
        let exists = dir.join(format!("{code}.lig")).exists()
            || dir.join(format!("{code}/main.lig")).exists();
        if NOT_YET.contains(code) {
            assert!(!exists, "{code} has a fixture now: remove it from NOT_YET");
        } else if !exists {
            missing.push(code.as_str());
        }
    }
    assert!(
        missing.is_empty(),
        "codes without tests/fixtures/errors/<CODE>.lig: {missing:?}"
    );
}

#[test]
fn expected_files_have_inputs() {
    let mut orphans = Vec::new();
    for path in files_under("tests/fixtures") {
        let ext = path.extension().and_then(|it| it.to_str()).unwrap_or("");
        if (ext == "out" || ext == "err") && !path.with_extension("lig").exists() {
            orphans.push(path.display().to_string());
        }
    }
    assert!(
        orphans.is_empty(),
        "expected files whose input is gone: {orphans:?}"
    );
}

/// `bug[...]` diagnostics (internal errors) must be unreachable: no fixture expects one.
#[test]
fn no_fixture_expects_an_internal_error() {
    let mut found = Vec::new();
    for path in files_under("tests/fixtures") {
        let ext = path.extension().and_then(|it| it.to_str()).unwrap_or("");
        if ext == "out" || ext == "err" {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.contains("bug[") {
                found.push(path.display().to_string());
            }
        }
    }
    assert!(found.is_empty(), "fixtures expecting `bug[...]`: {found:?}");
}

#[test]
fn library_does_no_io() {
    // The library reads no files, clocks or environment and never prints (DESIGN.md 2).
    let forbidden = [
        "println!",
        "eprintln!",
        "print!(",
        "eprint!(",
        "std::fs",
        "std::env",
        "Instant::now",
        "SystemTime",
        "thread_local!",
    ];
    let mut offences = Vec::new();
    for path in files_under("src") {
        let rel = path
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let test_only = rel.ends_with("/tests.rs") || rel.ends_with("/testparse.rs");
        // The binary's modules (`src/main.rs` declares `cli` and `lsp`) are hosts: they do I/O.
        let binary =
            rel.starts_with("src/cli") || rel.starts_with("src/lsp") || rel == "src/main.rs";
        if test_only || binary || !rel.ends_with(".rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (idx, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in forbidden {
                // The threaded wasm build's allocator keeps its free lists per thread: memory
                // bookkeeping, invisible to any result.
                let allocator = rel == "src/thread_alloc.rs" && word == "thread_local!";
                if code.contains(word) && !allocator {
                    offences.push(format!("{rel}:{}: {word}", idx + 1));
                }
            }
        }
    }
    assert!(offences.is_empty(), "I/O in the library: {offences:#?}");
}

#[test]
fn codes_round_trip() {
    for code in Code::ALL {
        assert_eq!(Code::from_str(code.as_str()), Some(*code));
        assert!(code.name().contains('/'));
    }
}
