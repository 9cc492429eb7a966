//! The fixture corpus: every `.lig` file under `tests/fixtures/` is a named test.
//!
//! The directory sets the mode:
//! - `syntax/ok/*.lig` → `.out`: the AST dump; `syntax/err/*.lig` → `.err`: diagnostics;
//! - `types/ok/*.lig` → `.out`: `name : scheme` per binding; `types/err/*.lig` → `.err`;
//! - `eval/*.lig` → `.out` (the document, JSON unless `// args:` says otherwise) or `.err`;
//! - `errors/<CODE>.lig` → `.err`, which must contain that code.
//!
//! An optional first line `// args: --format yaml --field x --max-steps 100` sets options.
//! `BLESS=1` rewrites the expected files; they are reviewed in the diff, never hand-waved.
//! Diagnostics are rendered without colour, with the fixture's file name as its path.

use std::path::Path;
use std::sync::Arc;

use ligature::api::{self, EvalRequest, Format, Limits, MemoryFs, Options, Session, Threads};

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
}

fn parse_args(source: &str) -> Result<Args, String> {
    let mut args = Args {
        format: Format::Json,
        field: None,
        limits: Limits::default(),
        cancelled: false,
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
            other => return Err(format!("unknown fixture option {other}")),
        }
    }
    Ok(args)
}

/// Compares `actual` with the expected file (or writes it under BLESS).
fn expect_file(path: &Path, actual: &str) -> datatest_stable::Result<()> {
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
            clock: None,
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
    let code = path
        .file_stem()
        .map(|it| it.to_string_lossy().into_owned())
        .unwrap_or_default();
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
    { test = run_error_code, root = "tests/fixtures/errors", pattern = r"\.lig$" },
}
