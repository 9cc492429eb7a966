//! Argument parsing, reading input, choosing colours and formats, exit codes.
//!
//! No language logic lives here: everything goes through `ligature::api`. The exit code is
//! 0 on success, 1 for a language error (any error diagnostic), 2 for a usage error.
//! stdout carries only the result; diagnostics go to stderr.

mod fmt;
mod module_cache;
pub(crate) mod os_fs;
mod remote;
mod validate;

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use ligature::api::{self, EvalRequest, Format, Limits, Options, Session, Threads};

use os_fs::OsFs;

/// Stack size of the thread that runs the pipeline: deep (but within limits) programs
/// recurse in the parser, checker and evaluator; the reservation is virtual memory.
const PIPELINE_STACK: usize = 1 << 30;

#[derive(Parser, Debug)]
#[command(
    name = "ligature",
    version,
    about = "The Ligature configuration language"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check and evaluate a file, print its document.
    Eval(EvalArgs),
    /// Check files; with --types, print every top-level binding's type.
    Typecheck(TypecheckArgs),
    /// Check JSON or YAML data files against a type of a schema file.
    Validate(ValidateArgs),
    /// Fetch a file's remote modules into the cache and pin them in `ligature.lock`,
    /// without checking or evaluating (for CI images).
    Fetch(FetchArgs),
    /// Export types of a file as JSON Schema or TypeScript declarations.
    Types(TypesArgs),
    /// Lay files out in the canonical layout, in place (`-`: standard input to standard
    /// output); with --check, list the files that would change.
    Fmt(fmt::FmtArgs),
    /// Run the language server on standard input and output (for editors).
    Lsp(LspArgs),
}

#[derive(clap::Args, Debug)]
struct LspArgs {
    /// Standard input and output, the only transport (accepted because
    /// vscode-languageclient and other clients pass it).
    #[arg(long)]
    stdio: bool,
}

#[derive(clap::Args, Debug)]
struct FetchArgs {
    /// The file whose imports (and their imports) are fetched.
    file: String,
    /// A directory holding registers (repeatable).
    #[arg(long = "register-path", value_name = "DIR")]
    register_path: Vec<String>,
    /// Wall-clock limit, e.g. `500ms`, `30s`, `2m`.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// How to print diagnostics on stderr.
    #[arg(long, value_enum, default_value = "text")]
    error_format: ErrorFormat,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(clap::Args, Debug)]
struct TypesArgs {
    /// The Ligature file that declares (or imports) the types.
    file: String,
    /// What to write on stdout.
    #[arg(long, value_enum)]
    emit: EmitArg,
    /// A type to export (repeatable; default: every type the file declares and exports).
    #[arg(long = "type", value_name = "NAME")]
    type_names: Vec<String>,
    /// A directory holding registers (repeatable).
    #[arg(long = "register-path", value_name = "DIR")]
    register_path: Vec<String>,
    /// How to print diagnostics on stderr.
    #[arg(long, value_enum, default_value = "text")]
    error_format: ErrorFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EmitArg {
    JsonSchema,
    Typescript,
}

#[derive(clap::Args, Debug)]
struct ValidateArgs {
    /// Data files (`.yaml`/`.yml` are read as YAML, anything else as JSON).
    #[arg(required = true)]
    data: Vec<String>,
    /// The Ligature file that declares (or imports) the type.
    #[arg(long, value_name = "FILE.lig")]
    schema: String,
    /// The type every data file must have.
    #[arg(long = "type", value_name = "NAME")]
    type_name: String,
    #[command(flatten)]
    threads: ThreadArgs,
    /// A directory holding registers (repeatable).
    #[arg(long = "register-path", value_name = "DIR")]
    register_path: Vec<String>,
    /// How to print diagnostics of the schema and violations on stderr.
    #[arg(long, value_enum, default_value = "text")]
    error_format: ErrorFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    Json,
    Yaml,
    Toml,
    Text,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ErrorFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
struct EvalArgs {
    /// The file to evaluate, or `-` for standard input.
    #[arg(default_value = "-")]
    file: String,
    /// Output format of the document.
    #[arg(long, value_enum, default_value = "json")]
    format: FormatArg,
    /// Print this top-level binding instead of the document.
    #[arg(long)]
    field: Option<String>,
    /// Evaluation step budget.
    #[arg(long, value_name = "N")]
    max_steps: Option<u64>,
    /// Maximum depth of nested function applications.
    #[arg(long, value_name = "N")]
    max_depth: Option<u32>,
    /// Wall-clock limit, e.g. `500ms`, `30s`, `2m`.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Maximum size of the rendered output in bytes.
    #[arg(long, value_name = "BYTES")]
    max_output_bytes: Option<u64>,
    /// How to print diagnostics on stderr.
    #[arg(long, value_enum, default_value = "text")]
    error_format: ErrorFormat,
    /// Print per-phase times and counters on stderr (one line, `stats: {json}`).
    #[arg(long)]
    stats: bool,
    /// Keep each module's checked types and data values in the cache directory
    /// (`$LIGATURE_CACHE_DIR`, `$XDG_CACHE_HOME/ligature` or `~/.cache/ligature`, under
    /// `modules/`) and take them from there when the module and its imports are unchanged.
    #[arg(long)]
    cache: bool,
    /// A directory holding registers (repeatable; searched before `LIGATURE_PATH` and
    /// `./registers`).
    #[arg(long = "register-path", value_name = "DIR")]
    register_path: Vec<String>,
    #[command(flatten)]
    threads: ThreadArgs,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// How remote modules are fetched (LANGUAGE.md 9.10).
#[derive(clap::Args, Debug, Clone, Copy)]
struct RemoteArgs {
    /// Fetch remote modules concurrently: the default mode, accepted by name (the proposal's `ligature eval --async --timeout 30s FILE`);
    /// `--fetch-jobs` bounds it and `--fetch-jobs 1` fetches one at a time.
    #[arg(long = "async")]
    _async: bool,
    /// Remote modules fetched at once (1: one at a time).
    #[arg(long, value_name = "N", default_value_t = remote::DEFAULT_FETCH_JOBS,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    fetch_jobs: u32,
    /// Never write `ligature.lock`: an unpinned remote module is an error (M4009).
    #[arg(long)]
    frozen: bool,
    /// Fetch nothing: a remote module must be pinned and cached (M4008 otherwise).
    #[arg(long)]
    offline: bool,
}

impl RemoteArgs {
    /// The fetcher for a run whose entry is `entry` (`<stdin>`: the working directory's
    /// lock file), advancing `progress`; the run's interrupt stops it.
    fn fetcher(self, entry: &str, progress: &indicatif::ProgressBar) -> remote::HttpFetcher {
        let options = remote::FetchOptions {
            jobs: self.fetch_jobs as usize,
            frozen: self.frozen,
            offline: self.offline,
            lock: project_root(entry).join(remote::LOCK_FILE),
            cache: remote::cache_dir(),
            progress: progress.clone(),
        };
        remote::HttpFetcher::new(options)
    }
}

/// The project root as the loader takes it (LANGUAGE.md 9.6): the working directory when
/// the entry lies inside it, else the entry's directory.
fn project_root(entry: &str) -> std::path::PathBuf {
    let key = ligature::loader::normalize(entry);
    if entry == "<stdin>" || ligature::loader::resolve::is_inside(&key, ".") {
        return std::path::PathBuf::from(".");
    }
    std::path::PathBuf::from(ligature::loader::resolve::dir_of(&key))
}

/// How many threads a command may use (DESIGN.md section 3).
#[derive(clap::Args, Debug, Clone, Copy)]
struct ThreadArgs {
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    workers: Option<u32>,
    /// Use one thread, the main one.
    #[arg(long, conflicts_with_all = ["parallel", "workers"])]
    sequential: bool,
    /// Use the worker pool even for small inputs.
    #[arg(long)]
    parallel: bool,
}

impl ThreadArgs {
    /// Worker threads for work the CLI spreads itself (validating many files).
    fn worker_count(self) -> usize {
        if self.sequential {
            1
        } else {
            self.workers
                .map(|n| n as usize)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        }
    }

    fn options(self, limits: Limits, clock: Option<api::Clock>) -> Options {
        let threads = if self.sequential {
            Threads::Sequential
        } else if self.parallel {
            Threads::Parallel
        } else {
            Threads::Auto
        };
        Options {
            limits,
            clock,
            threads,
            workers: self.workers.map(|n| n as usize),
            // One run per process: nothing to reuse, so no cache bookkeeping.
            cache_capacity: 0,
            ..Options::default()
        }
    }
}

#[derive(clap::Args, Debug)]
struct TypecheckArgs {
    /// Files to check.
    #[arg(required = true)]
    files: Vec<String>,
    /// Print each top-level binding with its type scheme.
    #[arg(long)]
    types: bool,
    /// Keep each module's checked types and data values in the cache directory
    /// (`$LIGATURE_CACHE_DIR`, `$XDG_CACHE_HOME/ligature` or `~/.cache/ligature`, under
    /// `modules/`) and take them from there when the module and its imports are unchanged.
    #[arg(long)]
    cache: bool,
    /// How to print diagnostics on stderr.
    #[arg(long, value_enum, default_value = "text")]
    error_format: ErrorFormat,
    #[command(flatten)]
    threads: ThreadArgs,
    /// A directory holding registers (repeatable).
    #[arg(long = "register-path", value_name = "DIR")]
    register_path: Vec<String>,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// Register roots in search order (LANGUAGE.md 9.4): `--register-path`s, then the entries
/// of `LIGATURE_PATH` (colon-separated), then `./registers`.
fn register_roots(given: &[String]) -> Vec<String> {
    let mut roots: Vec<String> = given.to_vec();
    if let Some(path) = std::env::var_os("LIGATURE_PATH") {
        let path = path.to_string_lossy().into_owned();
        roots.extend(
            path.split(':')
                .filter(|it| !it.is_empty())
                .map(String::from),
        );
    }
    roots.push("registers".into());
    roots
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|ch: char| !ch.is_ascii_digit() && ch != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration `{text}`"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "invalid duration unit `{unit}` (use ms, s, m or h)"
            ))
        }
    };
    if !seconds.is_finite() || !(0.0..=1e9).contains(&seconds) {
        return Err(format!("invalid duration `{text}`"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Runs the command line and returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() { 2 } else { 0 };
            let _ = err.print();
            return code;
        }
    };
    // The pipeline runs on a thread with a large stack (see PIPELINE_STACK).
    let worker = std::thread::Builder::new()
        .name("ligature".into())
        .stack_size(PIPELINE_STACK)
        .spawn(move || run(cli));
    match worker.map(|handle| handle.join()) {
        Ok(Ok(code)) => code,
        Ok(Err(_)) => {
            eprintln!("error: internal error (the pipeline thread panicked); please report this");
            1
        }
        Err(err) => {
            eprintln!("error: cannot start the pipeline thread: {err}");
            1
        }
    }
}

fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Eval(args) => eval(args),
        Command::Typecheck(args) => typecheck(args),
        Command::Validate(args) => validate::run(args),
        Command::Fetch(args) => fetch(args),
        Command::Types(args) => types(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Lsp(_) => crate::lsp::run(),
    }
}

/// A monotonic clock in milliseconds for the library's phase timings.
fn host_clock() -> api::Clock {
    let start = std::time::Instant::now();
    api::Clock(Arc::new(move || start.elapsed().as_secs_f64() * 1000.0))
}

fn color_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn print_diagnostics(
    diagnostics: &[ligature::diagnostic::Diagnostic],
    sources: &ligature::source::SourceMap,
    format: ErrorFormat,
) {
    if diagnostics.is_empty() {
        return;
    }
    let mut stderr = std::io::stderr().lock();
    match format {
        ErrorFormat::Text => {
            let _ = stderr.write_all(
                api::render_diagnostics(diagnostics, sources, color_stderr()).as_bytes(),
            );
        }
        ErrorFormat::Json => {
            let dtos = api::diagnostics_to_dtos(diagnostics, sources);
            let text = serde_json::to_string_pretty(&dtos).unwrap_or_else(|_| "[]".into());
            let _ = writeln!(stderr, "{text}");
        }
    }
}

fn eval(args: EvalArgs) -> i32 {
    let mut fs = OsFs::default();
    let entry = if args.file == "-" {
        match os_fs::read_stdin() {
            Ok(bytes) => fs.stdin = Some(bytes),
            Err(err) => {
                eprintln!("error: cannot read standard input: {err}");
                return 1;
            }
        }
        "<stdin>".to_string()
    } else {
        args.file.clone()
    };
    let defaults = Limits::default();
    let limits = Limits {
        max_steps: args.max_steps.unwrap_or(defaults.max_steps),
        max_depth: args.max_depth.unwrap_or(defaults.max_depth),
        max_output_bytes: args.max_output_bytes,
    };
    let clock = args.stats.then(host_clock);
    let mut options = args.threads.options(limits, clock);
    options.register_roots = register_roots(&args.register_path);
    // One request, then the process exits.
    options.one_shot = true;
    let cancel = Arc::new(AtomicBool::new(false));
    let progress = remote::progress_bar();
    fs.remote = Some(args.remote.fetcher(&entry, &progress));
    if args.cache {
        options.cache_capacity = api::DEFAULT_CACHE_CAPACITY;
    }
    let session = with_module_cache(Session::new(options, Arc::new(fs)), args.cache);
    if let Some(timeout) = args.timeout {
        start_timer(timeout, cancel.clone());
    }
    let format = match args.format {
        FormatArg::Json => Format::Json,
        FormatArg::Yaml => Format::Yaml,
        FormatArg::Toml => Format::Toml,
        FormatArg::Text => Format::Text,
    };
    let request = EvalRequest {
        entry,
        field: args.field,
        format,
        cancel: Some(cancel),
        timeout_ms: None,
    };
    let output = session.evaluate(&request);
    remote::finish_progress(&progress);
    print_diagnostics(&output.diagnostics, &output.sources, args.error_format);
    if args.stats {
        let text = serde_json::to_string(&output.stats).unwrap_or_default();
        eprintln!("stats: {text}");
    }
    match (&output.text, output.ok()) {
        (Some(text), true) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return 1;
            }
            0
        }
        _ => 1,
    }
}

/// Sets `flag` after `timeout` (the library reads no clock: the host's timer stops the run).
fn start_timer(timeout: Duration, flag: Arc<AtomicBool>) {
    let _ = std::thread::Builder::new()
        .name("ligature-timer".into())
        .spawn(move || {
            std::thread::sleep(timeout);
            flag.store(true, Ordering::SeqCst);
        });
}

/// `ligature fetch FILE`: loads the file's module graph (reading, fetching and parsing,
/// nothing checked or evaluated), which fills the cache and the lock file as a run would,
/// then prints what it did on stdout. Any diagnostic of loading (a failed fetch, a pin
/// mismatch, a missing or unparsable module) is printed and fails the command.
fn fetch(args: FetchArgs) -> i32 {
    let progress = remote::progress_bar();
    let fs = Arc::new(OsFs {
        remote: Some(args.remote.fetcher(&args.file, &progress)),
        ..OsFs::default()
    });
    let options = Options {
        register_roots: register_roots(&args.register_path),
        cache_capacity: 0,
        one_shot: true,
        ..Options::default()
    };
    let session = Session::new(options, fs.clone());
    let cancel = Arc::new(AtomicBool::new(false));
    if let Some(timeout) = args.timeout {
        start_timer(timeout, cancel.clone());
    }
    let request = api::EntryRequest {
        entry: args.file.clone(),
        cancellation: api::Cancellation {
            cancel: Some(cancel),
            ..api::Cancellation::default()
        },
    };
    let (mut diagnostics, sources) = session.load_only_with_sources(&request);
    ligature::diagnostic::sort_and_dedup(&mut diagnostics, |file| file.0);
    remote::finish_progress(&progress);
    print_diagnostics(&diagnostics, &sources, args.error_format);
    if ligature::diagnostic::has_errors(&diagnostics) {
        return 1;
    }
    let counts = fs.remote.as_ref().map(|it| it.counts()).unwrap_or_default();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "{} remote module{}: {} fetched, {} from the cache; {} new pin{} in {}",
        counts.modules,
        plural(counts.modules),
        counts.fetched,
        counts.from_cache,
        counts.pinned,
        plural(counts.pinned),
        remote::LOCK_FILE,
    );
    0
}

/// `session` with the persistent module cache when `--cache` asks for it (and there is a
/// cache directory).
fn with_module_cache(session: Session, cache: bool) -> Session {
    match module_cache::ModuleFiles::new().filter(|_| cache) {
        Some(files) => session.with_module_store(Arc::new(files)),
        None => session,
    }
}

fn typecheck(args: TypecheckArgs) -> i32 {
    let mut options = args.threads.options(Limits::default(), None);
    options.register_roots = register_roots(&args.register_path);
    // With several files, each one's trees are freed before the next is checked.
    options.one_shot = args.files.len() == 1;
    if args.cache {
        options.cache_capacity = api::DEFAULT_CACHE_CAPACITY;
    }
    let pool = with_module_cache(Session::new(options, Arc::new(OsFs::default())), args.cache);
    let progress = remote::progress_bar();
    let mut failed = false;
    let mut stdout = std::io::stdout().lock();
    for file in &args.files {
        // Each file with the lock file of its own project root.
        let fs = OsFs {
            remote: Some(args.remote.fetcher(file, &progress)),
            ..OsFs::default()
        };
        let session = pool.with_file_system(Arc::new(fs));
        let output = session.typecheck(file);
        remote::finish_progress(&progress);
        print_diagnostics(&output.diagnostics, &output.sources, args.error_format);
        if !output.ok() {
            failed = true;
            continue;
        }
        if args.types {
            if args.files.len() > 1 {
                let _ = writeln!(stdout, "-- {file}");
            }
            for binding in &output.types {
                let _ = writeln!(stdout, "{} : {}", binding.name, binding.ty);
            }
        }
    }
    i32::from(failed)
}

/// `ligature types FILE --emit json-schema|typescript [--type NAME]...`: the export on
/// stdout, each refinement it could not express as a warning on stderr (exit 0).
fn types(args: TypesArgs) -> i32 {
    let mut options = ThreadArgs {
        workers: None,
        sequential: false,
        parallel: false,
    }
    .options(Limits::default(), None);
    options.register_roots = register_roots(&args.register_path);
    options.one_shot = true;
    let session = Session::new(options, Arc::new(OsFs::default()));
    let request = api::TypesRequest {
        entry: args.file.clone(),
        type_names: args.type_names,
        emit: match args.emit {
            EmitArg::JsonSchema => api::TypesEmit::JsonSchema,
            EmitArg::Typescript => api::TypesEmit::TypeScript,
        },
        cancellation: api::Cancellation::default(),
    };
    let output = session.export_types(&request);
    print_diagnostics(&output.diagnostics, &output.sources, args.error_format);
    if !output.ok() {
        return 1;
    }
    if output.schema.is_none() && output.typescript.is_none() {
        return 1;
    }
    {
        // Buffered: a schema's export can warn some 15,000 times, and stderr writes each
        // piece of a line at once otherwise.
        let mut stderr = std::io::BufWriter::new(std::io::stderr().lock());
        for it in &output.unexpressed {
            let _ = writeln!(
                stderr,
                "warning: `{}` at {}: refinement not expressed: {}",
                it.type_name, it.path, it.refinement
            );
        }
        let _ = stderr.flush();
    }
    let mut stdout = std::io::stdout().lock();
    // The schema is indented as it is written out, never held whole in its pretty form.
    let written = match (&output.schema, &output.typescript) {
        (Some(schema), _) => schema
            .write_pretty(&mut stdout)
            .and_then(|()| stdout.write_all(b"\n")),
        (None, Some(text)) => stdout.write_all(text.as_bytes()),
        (None, None) => Ok(()),
    }
    .and_then(|()| stdout.flush());
    // The process exits next: the operating system frees the schema's tree faster.
    std::mem::forget(output);
    i32::from(written.is_err())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("100ms"), Ok(Duration::from_millis(100)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("5parsecs").is_err());
    }
}
