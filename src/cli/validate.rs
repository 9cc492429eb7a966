//! `ligature validate DATA... --schema FILE.lig --type NAME`: the schema is compiled once
//! (through `api`), then the files are read and checked in parallel; a progress bar shows
//! on a terminal only. Every violation is printed as `FILE: PATH: error[CODE]: message` on
//! stderr, in the order the files were given. Exit 1 if any file fails, else 0.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ligature::api::{self, DataFormat, Options, Session, Violation};
use rayon::prelude::*;

use super::os_fs::OsFs;
use super::{print_diagnostics, register_roots, ErrorFormat, ValidateArgs};

/// The outcome for one data file.
struct Checked {
    file: String,
    violations: Vec<Violation>,
}

fn format_of(path: &str) -> DataFormat {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        DataFormat::Yaml
    } else {
        DataFormat::Json
    }
}

fn check_file(schema: &api::Schema, file: &str) -> Checked {
    let violations = match super::os_fs::read_text(file) {
        Ok(text) => schema.check_text(&text, format_of(file)),
        Err(err) => vec![Violation {
            path: "$".into(),
            code: "C5004".into(),
            message: format!("cannot read the data file: {err}"),
        }],
    };
    Checked {
        file: file.to_string(),
        violations,
    }
}

pub(super) fn run(args: ValidateArgs) -> i32 {
    let options = Options {
        register_roots: register_roots(&args.register_path),
        ..Options::default()
    };
    let session = Session::new(options, Arc::new(OsFs::default()));
    let schema = match session.compile_schema(&args.schema, &args.type_name) {
        Ok(schema) => schema,
        Err(err) => {
            print_diagnostics(&err.diagnostics, &err.sources, args.error_format);
            return 1;
        }
    };
    let bar = if std::io::stderr().is_terminal() && args.data.len() > 1 {
        let bar = ProgressBar::with_draw_target(
            Some(args.data.len() as u64),
            ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files {per_sec}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    // One file, or one worker: checked on this thread (a pool gains nothing there, and
    // its idle worker cost time on a busy machine).
    let results: Vec<Checked> = if args.data.len() == 1 || args.threads.worker_count() == 1 {
        args.data
            .iter()
            .map(|file| {
                let res = check_file(&schema, file);
                bar.inc(1);
                res
            })
            .collect()
    } else {
        // Stacks as big as the engine's workers': the refinement checks run the evaluator, whose
        // calls move to a fresh stack segment whenever less than 32 MiB is left (`par::with_stack`);
        // on rayon's default 2 MiB stacks that was a segment per check, ten times slower.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(args.threads.worker_count())
            .stack_size(ligature::par::WORKER_STACK)
            .build();
        let pool = match pool {
            Ok(pool) => pool,
            Err(err) => {
                eprintln!("error: cannot start the worker threads: {err}");
                return 2;
            }
        };
        pool.install(|| {
            args.data
                .par_iter()
                .map(|file| {
                    let res = check_file(&schema, file);
                    bar.inc(1);
                    res
                })
                .collect()
        })
    };
    bar.finish_and_clear();
    let failed = results
        .iter()
        .filter(|it| !it.violations.is_empty())
        .count();
    let mut stderr = std::io::stderr().lock();
    match args.error_format {
        ErrorFormat::Text => {
            for checked in &results {
                for v in &checked.violations {
                    let _ = writeln!(
                        stderr,
                        "{}: {}: error[{}]: {}",
                        checked.file, v.path, v.code, v.message
                    );
                }
            }
            if failed > 0 {
                let _ = writeln!(
                    stderr,
                    "{failed} of {} file(s) do not conform to `{}`",
                    results.len(),
                    args.type_name
                );
            } else if results.len() > 1 {
                let _ = writeln!(
                    stderr,
                    "all {} files conform to `{}`",
                    results.len(),
                    args.type_name
                );
            }
        }
        ErrorFormat::Json => {
            let items: Vec<serde_json::Value> = results
                .iter()
                .map(|it| {
                    serde_json::json!({
                        "file": it.file,
                        "ok": it.violations.is_empty(),
                        "errors": it.violations,
                    })
                })
                .collect();
            let text = serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into());
            let _ = writeln!(stderr, "{text}");
        }
    }
    i32::from(failed > 0)
}
