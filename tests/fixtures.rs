//! The fixture corpus: every `.lig` file under `tests/fixtures/` is a named test.
//!
//! The directory sets the mode:
//! - `syntax/ok/*.lig` → `.out`: the AST dump; `syntax/err/*.lig` → `.err`: diagnostics;
//! - `types/ok/*.lig` → `.out`: `name : scheme` per binding; `types/err/*.lig` → `.err`;
//! - `eval/*.lig` → `.out` (the document, JSON unless `// args:` says otherwise) or `.err`;
//! - `errors/<CODE>.lig` → `.err`, which must contain that code; codes that need several
//!   files use a directory `errors/<CODE>/main.lig` with its siblings;
//! - `loader/<case>/main.lig` plus every other file of the case directory (loaded into a
//!   `MemoryFs` under their paths relative to the case) → `main.out` or `main.err`; the
//!   register root is `registers` unless `// args: --register-path DIR ...` says otherwise.
//!   A case with a `remote/` directory also fetches: `https://fixtures.test/PATH` is its
//!   `remote/PATH`, checked against the case's `ligature.lock` (M4009 on a mismatch).
//!
//! An optional first line `// args: --format yaml --field x --max-steps 100` sets options.
//! `BLESS=1` rewrites the expected files; they are reviewed in the diff, never hand-waved.
//! Diagnostics are rendered without colour, with the fixture's file name as its path.

use std::path::Path;
use std::sync::Arc;

use ligature::api::{self, EvalRequest, Format, Limits, MemoryFs, Options, Session, Threads};
use ligature::interrupt::Interrupt;
use ligature::loader::remote::{FetchError, Fetcher};
use ligature::loader::{FileSystem, FsError};

const STACK: usize = 256 << 20;

fn bless() -> bool {
    std::env::var_os("BLESS").is_some_and(|it| it != "0")
}

struct Args {
    format: Format,
    field: Option<String>,
    limits: Limits,
    /// `--cancelled`: the host cancels the run before it starts (R3008, deterministically).
    cancelled: bool,
    /// `--register-path DIR` (repeatable) for loader cases.
    register_paths: Vec<String>,
    /// `--validate FILE` (repeatable) with `--type NAME`: validate data files of the case
    /// against a type of `main.lig` instead of evaluating it.
    validate: Vec<String>,
    type_name: Option<String>,
}

fn parse_args(source: &str) -> Result<Args, String> {
    let mut args = Args {
        format: Format::Json,
        field: None,
        limits: Limits::default(),
        cancelled: false,
        register_paths: Vec::new(),
        validate: Vec::new(),
        type_name: None,
    };
    let Some(rest) = source
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("// args:"))
    else {
        return Ok(args);
    };
    let mut words = rest.split_whitespace();
    while let Some(flag) = words.next() {
        let mut value = || words.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag {
            "--format" => {
                let text = value()?;
                args.format = Format::parse(text).ok_or_else(|| format!("bad format {text}"))?;
            }
            "--field" => args.field = Some(value()?.to_string()),
            "--max-steps" => {
                args.limits.max_steps = value()?.parse().map_err(|_| "bad --max-steps")?
            }
            "--max-depth" => {
                args.limits.max_depth = value()?.parse().map_err(|_| "bad --max-depth")?
            }
            "--max-output-bytes" => {
                args.limits.max_output_bytes =
                    Some(value()?.parse().map_err(|_| "bad --max-output-bytes")?)
            }
            "--cancelled" => args.cancelled = true,
            "--register-path" => args.register_paths.push(value()?.to_string()),
            "--validate" => args.validate.push(value()?.to_string()),
            "--type" => args.type_name = Some(value()?.to_string()),
            other => return Err(format!("unknown fixture option {other}")),
        }
    }
    Ok(args)
}

/// Compares `actual` with the expected file (or writes it under BLESS).
/// Every fixture's output goes through here, so no fixture may end in an internal error:
/// `bug[...]` diagnostics must be unreachable, and are never blessed.
fn expect_file(path: &Path, actual: &str) -> datatest_stable::Result<()> {
    if actual.contains("bug[") {
        return Err(format!(
            "{}: an internal error (a `bug[...]` diagnostic) is never an expected outcome\n{actual}",
            path.display()
        )
        .into());
    }
    if bless() {
        std::fs::write(path, actual)?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(path).map_err(|err| {
        format!(
            "missing expected file {} ({err}); run `make bless` and review",
            path.display()
        )
    })?;
    if expected != actual {
        return Err(format!(
            "{} differs\n--- expected\n{expected}\n--- actual\n{actual}\n(run `make bless` and review the diff)",
            path.display()
        )
        .into());
    }
    Ok(())
}

/// Removes the stale sibling (`.out` when `.err` is produced and vice versa) under BLESS;
/// otherwise a stale sibling is an error.
fn check_no_sibling(path: &Path) -> datatest_stable::Result<()> {
    if path.exists() {
        if bless() {
            std::fs::remove_file(path)?;
        } else {
            return Err(format!(
                "stale expected file {} (the other outcome happened)",
                path.display()
            )
            .into());
        }
    }
    Ok(())
}

/// Workers of the parallel run of each fixture: more than this machine's cores, so that
/// declarations really interleave.
const WORKERS: usize = 4;

fn session_for(name: &str, source: &str, limits: Limits, threads: Threads) -> Session {
    let fs = MemoryFs::new().with_file(name, source.as_bytes().to_vec());
    let workers = (threads == Threads::Parallel).then_some(WORKERS);
    Session::new(
        Options {
            limits,
            threads,
            workers,
            ..Options::default()
        },
        Arc::new(fs),
    )
}

/// Runs `run` sequentially and on the parallel path (forced, whatever the size) and
/// requires the same outcome: LANGUAGE.md 7.4, output identical for any number of threads.
fn both_ways<T: PartialEq + std::fmt::Debug>(
    path: &Path,
    run: impl Fn(Threads) -> T,
) -> Result<T, String> {
    let sequential = run(Threads::Sequential);
    let parallel = run(Threads::Parallel);
    if sequential != parallel {
        return Err(format!(
            "{}: {WORKERS} workers differ from one thread\n--- sequential\n{sequential:?}\n--- parallel\n{parallel:?}",
            path.display()
        ));
    }
    Ok(sequential)
}

/// Every file under `dir`, keyed by its `/`-separated path relative to `dir`.
fn case_files(dir: &Path, prefix: &str, fs: &mut MemoryFs) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
    entries.sort_by_key(|it| it.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let path = entry.path();
        if path.is_dir() {
            case_files(&path, &rel, fs)?;
        } else if !rel.ends_with(".out") && !rel.ends_with(".err") {
            fs.insert(&rel, std::fs::read(&path)?);
        }
    }
    Ok(())
}

/// The host of a multi-file case. When the case has a `remote/` directory, it also fetches:
/// `https://fixtures.test/PATH` is the case's `remote/PATH` (absent: status 404), checked
/// against the case's `ligature.lock` like the CLI checks bodies (M4009 on a mismatch).
struct CaseFs {
    fs: MemoryFs,
    fetches: bool,
    pins: std::collections::BTreeMap<String, String>,
}

const FIXTURE_ORIGIN: &str = "https://fixtures.test/";

impl FileSystem for CaseFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        self.fs.read(path)
    }

    fn exists(&self, path: &str) -> bool {
        self.fs.exists(path)
    }

    fn is_dir(&self, path: &str) -> bool {
        self.fs.is_dir(path)
    }

    fn fetcher(&self) -> Option<&dyn Fetcher> {
        self.fetches.then_some(self as &dyn Fetcher)
    }
}

impl Fetcher for CaseFs {
    fn fetch_all(&self, urls: &[String], _: &Interrupt) -> Vec<Result<Vec<u8>, FetchError>> {
        urls.iter()
            .map(|url| {
                let path = url.strip_prefix(FIXTURE_ORIGIN).unwrap_or(url);
                let body = self.fs.read(&format!("remote/{path}")).map_err(|_| {
                    FetchError::Failed("the server answered with status 404 Not Found".into())
                })?;
                let mut pin = String::from("sha256-");
                for byte in <sha2::Sha256 as sha2::Digest>::digest(&body) {
                    pin.push_str(&format!("{byte:02x}"));
                }
                match self.pins.get(url) {
                    Some(want) if *want != pin => Err(FetchError::Integrity(format!(
                        "its body has {pin}, the lock pins {want}"
                    ))),
                    _ => Ok(body),
                }
            })
            .collect()
    }
}

fn case_fs(dir: &Path, fs: MemoryFs) -> datatest_stable::Result<CaseFs> {
    let mut pins = std::collections::BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(dir.join("ligature.lock")) {
        let table: toml::Table = text.parse()?;
        if let Some(remote) = table.get("remote").and_then(|it| it.as_table()) {
            for (url, pin) in remote {
                pins.insert(url.clone(), pin.as_str().unwrap_or_default().to_string());
            }
        }
    }
    Ok(CaseFs {
        fs,
        fetches: dir.join("remote").is_dir(),
        pins,
    })
}

/// Evaluates a multi-file case: `main` (the entry's path) inside its directory.
fn case_outcome(main: &Path) -> datatest_stable::Result<(bool, String)> {
    let source = std::fs::read_to_string(main)?;
    let args = parse_args(&source)?;
    let dir = main.parent().ok_or("no case directory")?;
    let mut fs = MemoryFs::new();
    case_files(dir, "", &mut fs)?;
    let mut register_roots = args.register_paths.clone();
    register_roots.push("registers".into());
    if let Some(type_name) = args.type_name.clone() {
        let data: Vec<(String, String)> = args
            .validate
            .iter()
            .map(|name| {
                let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
                (name.clone(), text)
            })
            .collect();
        return on_big_stack(move || {
            let session = Session::new(
                Options {
                    register_roots,
                    ..Options::default()
                },
                Arc::new(fs),
            );
            validate_outcome(&session, &type_name, &data)
        });
    }
    let owned = main.to_path_buf();
    let fs = Arc::new(case_fs(dir, fs)?);
    on_big_stack(move || {
        both_ways(&owned, |threads| {
            let session = Session::new(
                Options {
                    limits: args.limits,
                    register_roots: register_roots.clone(),
                    threads,
                    workers: (threads == Threads::Parallel).then_some(WORKERS),
                    ..Options::default()
                },
                fs.clone(),
            );
            let request = EvalRequest {
                entry: "main.lig".into(),
                field: args.field.clone(),
                format: args.format,
                cancel: Some(Arc::new(std::sync::atomic::AtomicBool::new(args.cancelled))),
                timeout_ms: None,
            };
            let output = session.evaluate(&request);
            let rendered = api::render_diagnostics(&output.diagnostics, &output.sources, false);
            match output.text {
                Some(text) if output.ok() => (true, text),
                _ => (false, rendered),
            }
        })
    })?
    .map_err(Into::into)
}

/// Validation mode: the schema's diagnostics, or each data file's violations as the CLI
/// prints them (`FILE: PATH: error[CODE]: message`, or `FILE: ok`).
fn validate_outcome(
    session: &Session,
    type_name: &str,
    data: &[(String, String)],
) -> (bool, String) {
    let schema = match session.compile_schema("main.lig", type_name) {
        Ok(schema) => schema,
        Err(err) => {
            return (
                false,
                api::render_diagnostics(&err.diagnostics, &err.sources, false),
            )
        }
    };
    let mut ok = true;
    let mut text = String::new();
    for (name, source) in data {
        let format = if name.ends_with(".yaml") || name.ends_with(".yml") {
            api::DataFormat::Yaml
        } else {
            api::DataFormat::Json
        };
        let violations = schema.check_text(source, format);
        if violations.is_empty() {
            text.push_str(&format!("{name}: ok\n"));
        }
        for v in violations {
            ok = false;
            text.push_str(&format!(
                "{name}: {}: error[{}]: {}\n",
                v.path, v.code, v.message
            ));
        }
    }
    (ok, text)
}

/// `validate/<case>/main.lig`: a schema with `// args: --type T --validate DATA...`.
fn run_validate(path: &Path) -> datatest_stable::Result<()> {
    run_loader(path)
}

fn run_loader(path: &Path) -> datatest_stable::Result<()> {
    let (ok, text) = case_outcome(path)?;
    let (expected, other) = if ok { ("out", "err") } else { ("err", "out") };
    check_no_sibling(&path.with_extension(other))?;
    expect_file(&path.with_extension(expected), &text)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|it| it.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn on_big_stack<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> datatest_stable::Result<T> {
    let handle = std::thread::Builder::new().stack_size(STACK).spawn(f)?;
    handle.join().map_err(|_| "the pipeline panicked".into())
}

fn eval_outcome(path: &Path, source: String) -> datatest_stable::Result<(bool, String)> {
    let args = parse_args(&source)?;
    let name = file_name(path);
    let owned = path.to_path_buf();
    on_big_stack(move || {
        both_ways(&owned, |threads| {
            let session = session_for(&name, &source, args.limits, threads);
            let request = EvalRequest {
                entry: name.clone(),
                field: args.field.clone(),
                format: args.format,
                cancel: Some(Arc::new(std::sync::atomic::AtomicBool::new(args.cancelled))),
                timeout_ms: None,
            };
            let output = session.evaluate(&request);
            let rendered = api::render_diagnostics(&output.diagnostics, &output.sources, false);
            match output.text {
                Some(text) if output.ok() => (true, text),
                _ => (false, rendered),
            }
        })
    })?
    .map_err(Into::into)
}

fn run_eval(path: &Path) -> datatest_stable::Result<()> {
    let source = std::fs::read_to_string(path)?;
    let (ok, text) = eval_outcome(path, source)?;
    let (expected, other) = if ok { ("out", "err") } else { ("err", "out") };
    check_no_sibling(&path.with_extension(other))?;
    expect_file(&path.with_extension(expected), &text)
}

fn run_error_code(path: &Path) -> datatest_stable::Result<()> {
    let source = std::fs::read_to_string(path)?;
    let in_dir = path.file_name().is_some_and(|it| it == "main.lig");
    let code = if in_dir {
        path.parent().and_then(Path::file_name)
    } else {
        path.file_stem()
    }
    .map(|it| it.to_string_lossy().into_owned())
    .unwrap_or_default();
    if in_dir {
        let (ok, text) = case_outcome(path)?;
        if ok {
            return Err(format!("{} produced no diagnostic", path.display()).into());
        }
        if !text.contains(&format!("[{code}]")) {
            return Err(format!("{} did not report {code}:\n{text}", path.display()).into());
        }
        return expect_file(&path.with_extension("err"), &text);
    }
    let is_check_phase = code.starts_with('T') || code == "C5001" || code == "C5002";
    let (ok, text) = if is_check_phase {
        let name = file_name(path);
        on_big_stack(move || {
            let session = session_for(&name, &source, Limits::default(), Threads::Parallel);
            let output = session.typecheck(&name);
            (
                output.diagnostics.is_empty(),
                api::render_diagnostics(&output.diagnostics, &output.sources, false),
            )
        })?
    } else {
        eval_outcome(path, source)?
    };
    if ok {
        return Err(format!("{} produced no diagnostic", path.display()).into());
    }
    if !text.contains(&format!("[{code}]")) {
        return Err(format!("{} did not report {code}:\n{text}", path.display()).into());
    }
    expect_file(&path.with_extension("err"), &text)
}

fn run_types(path: &Path) -> datatest_stable::Result<()> {
    let source = std::fs::read_to_string(path)?;
    let name = file_name(path);
    let owned = path.to_path_buf();
    let (ok, text) = on_big_stack(move || {
        both_ways(&owned, |threads| {
            let session = session_for(&name, &source, Limits::default(), threads);
            let output = session.typecheck(&name);
            let mut text = String::new();
            for binding in &output.types {
                text.push_str(&format!("{} : {}\n", binding.name, binding.ty));
            }
            let rendered = api::render_diagnostics(&output.diagnostics, &output.sources, false);
            if output.ok() {
                // Warnings of a successful check are part of the expected output.
                text.push_str(&rendered);
                (true, text)
            } else {
                (false, rendered)
            }
        })
    })??;
    let in_err_dir = path.parent().is_some_and(|dir| dir.ends_with("err"));
    if ok == in_err_dir {
        return Err(format!(
            "{}: expected the check to {}:\n{text}",
            path.display(),
            if in_err_dir { "fail" } else { "succeed" }
        )
        .into());
    }
    expect_file(&path.with_extension(if ok { "out" } else { "err" }), &text)
}

fn run_syntax(path: &Path) -> datatest_stable::Result<()> {
    let source = std::fs::read_to_string(path)?;
    let name = file_name(path);
    let in_err_dir = path.parent().is_some_and(|dir| dir.ends_with("err"));
    let (ok, text) = on_big_stack(move || {
        let mut sources = ligature::source::SourceMap::default();
        let file = sources.add(name, source.clone());
        let parsed = ligature::syntax::parse(file, &source);
        if parsed.diagnostics.is_empty() {
            (true, ligature::syntax::dump::dump(&parsed.module))
        } else {
            (
                false,
                api::render_diagnostics(&parsed.diagnostics, &sources, false),
            )
        }
    })?;
    if ok == in_err_dir {
        return Err(format!("{}: unexpected outcome:\n{text}", path.display()).into());
    }
    expect_file(&path.with_extension(if ok { "out" } else { "err" }), &text)
}

datatest_stable::harness! {
    { test = run_syntax, root = "tests/fixtures/syntax", pattern = r"\.lig$" },
    { test = run_types, root = "tests/fixtures/types", pattern = r"\.lig$" },
    { test = run_eval, root = "tests/fixtures/eval", pattern = r"\.lig$" },
    { test = run_error_code, root = "tests/fixtures/errors", pattern = r"^([^/]+\.lig|[^/]+/main\.lig)$" },
    { test = run_loader, root = "tests/fixtures/loader", pattern = r"^[^/]+/main\.lig$" },
    { test = run_validate, root = "tests/fixtures/validate", pattern = r"^[^/]+/main\.lig$" },
}
