//! `syntax::locate` (the playground's output-to-source) checked against the engine on every
//! evaluation fixture, every example and the www examples: for every path of each evaluated
//! document, the walk stays inside the file and never panics, and wherever it claims to have
//! followed the whole path to a literal, that literal is the value the engine rendered there.
//! A walk that followed a name into the wrong scope, the wrong field or the wrong element
//! selects a literal of another value, and this test names the file and path.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use ligature::api::{EvalRequest, MemoryFs, Options, Session};
use ligature::source::FileId;
use ligature::syntax::locate::{locate, PathKey};
use serde_json::Value;

/// The JSON document of `text`, evaluated by the library.
fn evaluate(text: &str) -> Option<Value> {
    let mut fs = MemoryFs::new();
    fs.insert("main.lig", text.as_bytes().to_vec());
    let session = Session::new(Options::default(), Arc::new(fs));
    let out = session.evaluate(&EvalRequest {
        entry: "main.lig".into(),
        ..EvalRequest::default()
    });
    serde_json::from_str(out.text.as_deref()?).ok()
}

fn lig_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            lig_files(&path, out);
        } else if path.extension().is_some_and(|it| it == "lig") {
            out.push(path);
        }
    }
}

/// The JSON document of a fixture whose expected output is JSON, or of a file evaluated here.
fn document(path: &Path, text: &str) -> Option<Value> {
    if text.starts_with("// args:") {
        return None;
    }
    let expected = path.with_extension("out");
    if let Ok(out) = std::fs::read_to_string(&expected) {
        return serde_json::from_str(&out).ok();
    }
    // Examples may import their siblings: the CLI reads them from disk.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ligature"))
        .args(["eval", "--format", "json"])
        .arg(path)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| serde_json::from_slice(&output.stdout).ok())
        .flatten()
}

/// Counts of one check: documents, walks, literals compared.
#[derive(Default)]
struct Counts {
    documents: usize,
    walked: usize,
    compared: usize,
}

/// Walks every path of `doc` in `text` (see the module docs); panics naming `name` and the path.
fn check_document(name: &str, text: &str, doc: &Value, counts: &mut Counts) {
    counts.documents += 1;
    let parsed = ligature::syntax::parse(FileId(0), text);
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    // The first few thousand paths of a big document (the 10,000-binding example) say what
    // the rest would.
    for (path, value) in all.into_iter().take(3_000) {
        let Some(found) = locate(&parsed.module, &path) else {
            continue;
        };
        counts.walked += 1;
        let (start, end) = (found.span.start as usize, found.span.end as usize);
        let where_ = format!("{name} at {path:?}");
        assert!(
            found.matched <= path.len(),
            "{where_}: matched {}",
            found.matched
        );
        let Some(source) = text.get(start..end) else {
            panic!("{where_}: span {start}..{end} is not inside the file");
        };
        if found.matched != path.len() || path.is_empty() {
            continue;
        }
        if let Some(lit) = literal(source.trim()) {
            counts.compared += 1;
            assert_eq!(lit, value, "{where_}: selected `{source}`\n{text}");
        }
    }
}

fn paths(value: &Value, prefix: &mut Vec<PathKey>, out: &mut Vec<(Vec<PathKey>, Value)>) {
    out.push((prefix.clone(), value.clone()));
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                prefix.push(PathKey::Key(key.clone()));
                paths(inner, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (idx, inner) in items.iter().enumerate() {
                prefix.push(PathKey::Index(idx));
                paths(inner, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

/// The value of a literal's source text, when it is a plain one.
fn literal(text: &str) -> Option<Value> {
    if let Ok(n) = text.parse::<i64>() {
        return Some(Value::from(n));
    }
    match text {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        "()" => return Some(Value::Null),
        _ => {}
    }
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains(['\\', '"'])).then(|| Value::String(inner.to_string()))
}

#[test]
fn located_literals_are_the_rendered_values() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    lig_files(&root.join("tests/fixtures/eval"), &mut files);
    lig_files(&root.join("tests/fixtures/types/ok"), &mut files);
    lig_files(&root.join("examples"), &mut files);
    lig_files(&root.join("www/examples"), &mut files);
    files.sort();
    let mut counts = Counts::default();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("a readable .lig file");
        if let Some(doc) = document(file, &text) {
            check_document(&file.display().to_string(), &text, &doc, &mut counts);
        }
    }
    // The corpus must exercise the walk (37 documents and 427 literals when this was written).
    let Counts {
        documents,
        walked,
        compared,
    } = counts;
    assert!(documents >= 35, "only {documents} documents");
    assert!(
        compared >= 400,
        "only {compared} literals compared ({walked} walks)"
    );
}

/// Programs made to trip a walk that loses track of scopes: helpers whose parameters shadow
/// top-level names and each other, `let ... in` shadowing, calls passing names of the caller,
/// records extended with `...base`. Every binding's literals must be found where they are.
#[test]
fn generated_programs_with_shadowing() {
    let mut counts = Counts::default();
    for seed in 0..1_000u64 {
        let text = Gen::new(seed).program();
        let doc =
            evaluate(&text).unwrap_or_else(|| panic!("seed {seed} does not evaluate:\n{text}"));
        check_document(&format!("seed {seed}"), &text, &doc, &mut counts);
    }
    assert!(
        counts.compared >= 3_000,
        "only {} literals compared",
        counts.compared
    );
}

/// The shapes a generated expression may have.
#[derive(Clone, Copy, PartialEq)]
enum Ty {
    Int,
    Str,
    /// `{ a: Integer, b: String }`
    Rec,
    /// `List Integer`
    Ints,
}

/// The innermost name of `scope` of type `ty` that no later binding shadows.
fn visible(scope: &[(String, Ty)], ty: Ty) -> Option<String> {
    let mut seen: Vec<&str> = Vec::new();
    for (name, t) in scope.iter().rev() {
        if !seen.contains(&name.as_str()) && *t == ty {
            return Some(name.clone());
        }
        seen.push(name);
    }
    None
}

struct Gen {
    state: u64,
    /// Top-level helpers so far: `h{i} : Integer -> Integer -> {result type}`.
    helpers: Vec<(String, Ty)>,
    /// Top-level values so far and their types.
    values: Vec<(String, Ty)>,
}

/// The names a generated scope may bind, reused everywhere so that shadowing is common.
const NAMES: [&str; 4] = ["a", "b", "x", "y"];

impl Gen {
    fn new(seed: u64) -> Gen {
        Gen {
            state: seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
            helpers: Vec::new(),
            values: Vec::new(),
        }
    }

    fn next(&mut self, n: u64) -> u64 {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.state >> 33) % n
    }

    fn ty(&mut self) -> Ty {
        [Ty::Int, Ty::Str, Ty::Rec, Ty::Ints][self.next(4) as usize]
    }

    fn program(&mut self) -> String {
        let mut out = String::new();
        for i in 0..8 {
            if self.next(3) == 0 {
                // Parameters named like the values they shadow.
                let (p, q) = (NAMES[self.next(4) as usize], NAMES[self.next(4) as usize]);
                let q = if p == q { "z" } else { q };
                let ty = self.ty();
                let scope = vec![(p.to_string(), Ty::Int), (q.to_string(), Ty::Int)];
                let body = self.expr(ty, &scope, 3);
                out.push_str(&format!("let h{i} = \\{p} {q} -> {body};\n"));
                self.helpers.push((format!("h{i}"), ty));
            } else {
                let name = if self.next(2) == 0 {
                    NAMES[self.next(4) as usize].to_string()
                } else {
                    format!("v{i}")
                };
                if self.values.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                let ty = self.ty();
                let body = self.expr(ty, &[], 3);
                out.push_str(&format!("let {name} = {body};\n"));
                self.values.push((name, ty));
            }
        }
        out
    }

    fn expr(&mut self, ty: Ty, scope: &[(String, Ty)], depth: u32) -> String {
        let choice = if depth == 0 { 0 } else { self.next(6) };
        match choice {
            // A name of the scope (innermost first) or a top-level value, of the right type.
            1 => {
                let local = visible(scope, ty);
                let shadowed = |n: &str| scope.iter().any(|(s, _)| s == n);
                let global = self
                    .values
                    .iter()
                    .find(|(n, t)| *t == ty && !shadowed(n))
                    .map(|(n, _)| n.clone());
                match local.or(global) {
                    Some(name) => name,
                    None => self.literal(ty),
                }
            }
            // `let n = e in body`, shadowing.
            2 => {
                let name = NAMES[self.next(4) as usize].to_string();
                let bound = self.ty();
                let value = self.expr(bound, scope, depth - 1);
                let mut inner = scope.to_vec();
                inner.push((name.clone(), bound));
                let body = self.expr(ty, &inner, depth - 1);
                format!("(let {name} = {value} in {body})")
            }
            // A call of an earlier helper with the right result type.
            3 => match self.helpers.iter().find(|(_, t)| *t == ty).cloned() {
                Some((helper, _)) => {
                    let arg1 = self.expr(Ty::Int, scope, depth - 1);
                    let arg2 = self.expr(Ty::Int, scope, depth - 1);
                    format!("({helper} {arg1} {arg2})")
                }
                None => self.shaped(ty, scope, depth),
            },
            _ => self.shaped(ty, scope, depth),
        }
    }

    fn shaped(&mut self, ty: Ty, scope: &[(String, Ty)], depth: u32) -> String {
        match ty {
            Ty::Int | Ty::Str => self.literal(ty),
            Ty::Ints => {
                let n = self.next(3);
                let items: Vec<String> = (0..n)
                    .map(|_| self.expr(Ty::Int, scope, depth.saturating_sub(1)))
                    .collect();
                format!("[{}]", items.join(", "))
            }
            Ty::Rec => {
                let base = visible(scope, Ty::Rec);
                let a = self.expr(Ty::Int, scope, depth.saturating_sub(1));
                let b = self.expr(Ty::Str, scope, depth.saturating_sub(1));
                match base {
                    Some(base) if self.next(2) == 0 => format!("{{ ...{base}, a = {a} }}"),
                    _ => format!("{{ a = {a}, b = {b} }}"),
                }
            }
        }
    }

    fn literal(&mut self, ty: Ty) -> String {
        match ty {
            Ty::Int => self.next(1000).to_string(),
            Ty::Str => format!("\"s{}\"", self.next(1000)),
            Ty::Rec => format!(
                "{{ a = {}, b = \"r{}\" }}",
                self.next(1000),
                self.next(1000)
            ),
            Ty::Ints => format!("[{}]", self.next(1000)),
        }
    }
}
