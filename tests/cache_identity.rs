//! A session's caches never depend on which run first met a module. The same file gets
//! another `FileId` in another run (the entry of a typecheck or a schema compilation, then
//! imported by an evaluated file), and checked results name unions and classes by it; a
//! scheme cached under one id and reused under another once lost an instance (a false
//! T2008). For every multi-file loader fixture: each of its modules checked first as an
//! entry of its own, in one caching session, then the fixture's entry evaluated must give
//! exactly what a fresh session gives.

use std::path::Path;
use std::sync::Arc;

use ligature::api::{EvalRequest, MemoryFs, Options, Session};

fn files_of(dir: &Path, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if path.is_dir() {
            files_of(&path, &format!("{name}/"), out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((name, bytes));
        }
    }
}

fn answer(session: &Session) -> (Option<String>, Vec<String>) {
    let out = session.evaluate(&EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    });
    let codes = out
        .diagnostics
        .iter()
        .map(|d| d.code.as_str().to_string())
        .collect();
    (out.text, codes)
}

#[test]
fn modules_met_first_as_entries_then_imported_answer_as_in_a_fresh_session() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/loader");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("the loader fixtures")
        .flatten()
        .map(|it| it.path())
        .filter(|it| it.join("main.lig").exists() && !it.join("remote").exists())
        .collect();
    cases.sort();
    let mut checked = 0;
    for case in cases {
        let main = std::fs::read_to_string(case.join("main.lig")).unwrap_or_default();
        if main.starts_with("// args:") {
            continue;
        }
        let mut files = Vec::new();
        files_of(&case, "", &mut files);
        let mut fs = MemoryFs::new();
        for (path, bytes) in &files {
            fs.insert(path, bytes.clone());
        }
        let fs = Arc::new(fs);
        let fresh = answer(&Session::new(Options::default(), fs.clone()));
        let shared = Session::new(Options::default(), fs);
        for (path, _) in files.iter().filter(|(p, _)| p.ends_with(".lig")) {
            let _ = shared.typecheck(path);
        }
        assert_eq!(answer(&shared), fresh, "{}", case.display());
        assert_eq!(answer(&shared), fresh, "{} (again)", case.display());
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} cases");
}
