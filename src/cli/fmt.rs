//! `ligature fmt`: files, directories (recursing over `*.lig`) or standard input in the
//! canonical layout (`ligature::api::format`).
//!
//! A file is rewritten only when its text changes; with `--check` nothing is written and
//! the files that would change are listed. A file that does not format (a syntax error, or
//! the formatter's own check failing) is reported and left alone. The exit code is 1 when
//! any file had diagnostics or, with `--check`, would change.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ligature::api;
use ligature::source::SourceMap;

use super::{print_diagnostics, ErrorFormat};

#[derive(clap::Args, Debug)]
pub(super) struct FmtArgs {
    /// Files or directories (every `*.lig` below them), or `-` for standard input (the
    /// result goes to standard output).
    #[arg(default_value = "-")]
    paths: Vec<String>,
    /// Write nothing: list the files whose layout would change and exit with 1 if any.
    #[arg(long)]
    check: bool,
    /// The line width.
    #[arg(long, value_name = "N", default_value_t = ligature::syntax::format::DEFAULT_WIDTH as u32,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    width: u32,
    /// How to print diagnostics on stderr.
    #[arg(long, value_enum, default_value = "text")]
    error_format: ErrorFormat,
}

/// What happened to one input.
enum Outcome {
    Unchanged,
    Changed,
    Failed,
}

pub(super) fn run(args: FmtArgs) -> i32 {
    let mut failed = false;
    let mut stdout = std::io::stdout().lock();
    for path in &args.paths {
        if path == "-" {
            let mut bytes = Vec::new();
            if let Err(err) = std::io::stdin().read_to_end(&mut bytes) {
                eprintln!("error: cannot read standard input: {err}");
                failed = true;
                continue;
            }
            match format_one("<stdin>", &bytes, &args) {
                Some(text) if args.check => {
                    if text.as_bytes() != bytes {
                        let _ = writeln!(stdout, "<stdin>");
                        failed = true;
                    }
                }
                Some(text) => {
                    if stdout.write_all(text.as_bytes()).is_err() {
                        failed = true;
                    }
                }
                None => failed = true,
            }
            continue;
        }
        let files = match lig_files(Path::new(path)) {
            Ok(files) => files,
            Err(err) => {
                eprintln!("error: cannot read `{path}`: {err}");
                failed = true;
                continue;
            }
        };
        for file in files {
            match format_file(&file, &args) {
                Outcome::Unchanged => {}
                Outcome::Changed if args.check => {
                    let _ = writeln!(stdout, "{}", file.display());
                    failed = true;
                }
                Outcome::Changed => {}
                Outcome::Failed => failed = true,
            }
        }
    }
    let _ = stdout.flush();
    i32::from(failed)
}

/// The formatted text of `bytes`, or `None` after printing why there is none.
fn format_one(name: &str, bytes: &[u8], args: &FmtArgs) -> Option<String> {
    match api::format_bytes(bytes, args.width as usize) {
        Ok(text) => Some(text),
        Err(diagnostics) => {
            let mut sources = SourceMap::default();
            sources.add(name, String::from_utf8_lossy(bytes).into_owned());
            print_diagnostics(&diagnostics, &sources, args.error_format);
            None
        }
    }
}

fn format_file(file: &Path, args: &FmtArgs) -> Outcome {
    let name = file.display().to_string();
    let bytes = match std::fs::read(file) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!("error: cannot read `{name}`: {err}");
            return Outcome::Failed;
        }
    };
    let Some(text) = format_one(&name, &bytes, args) else {
        return Outcome::Failed;
    };
    if text.as_bytes() == bytes {
        return Outcome::Unchanged;
    }
    if !args.check {
        if let Err(err) = write_atomically(file, text.as_bytes()) {
            eprintln!("error: cannot write `{name}`: {err}");
            return Outcome::Failed;
        }
    }
    Outcome::Changed
}

/// Writes a sibling temporary file and renames it over `file`, so that an interrupted run
/// never leaves half a file.
fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = file.as_os_str().to_owned();
    tmp.push(".fmt-tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    if let Ok(meta) = std::fs::metadata(file) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, file).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// `path` itself when it is a file, else every `*.lig` below it, sorted.
fn lig_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !std::fs::metadata(path)?.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut res = Vec::new();
    let mut dirs = vec![path.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let entry_path = entry.path();
            if kind.is_dir() {
                dirs.push(entry_path);
            } else if kind.is_file() && entry_path.extension().is_some_and(|ext| ext == "lig") {
                res.push(entry_path);
            }
        }
    }
    res.sort();
    Ok(res)
}
