//! The facade: the one surface the CLI, the wasm bindings and the tests use.
//!
//! A [`Session`] owns the options and a [`FileSystem`]; [`Session::evaluate`] and
//! [`Session::typecheck`] run the pipeline (read, parse, check, lower, evaluate, render) on
//! an entry file and return plain outputs: the rendered document and/or diagnostics,
//! together with the [`SourceMap`] needed to render those diagnostics. Only this module's
//! DTOs are serialisable ([`DiagnosticDto`]); the same JSON is the CLI's
//! `--error-format json` and the JS API's shape.
//!
//! The library reads no clock of its own. A host that wants a timeout either sets the
//! `cancel` flag of the request from its own timer, or gives [`Options::clock`] and a
//! timeout ([`EvalRequest::timeout_ms`], [`Cancellation::timeout_ms`]): every phase then
//! polls the host's clock every few thousand units of work (`crate::interrupt`). Either
//! way the request ends with R3008 alone (LANGUAGE.md 12.3). The timeout counts from the
//! start of the request: when the library is called, or the host's own start
//! ([`Cancellation::started_ms`], [`Session::evaluate_from`]).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::Serialize;

use crate::diagnostic::{self, Code, Diagnostic};
use crate::engine;
use crate::loader::{self, FileSystem, ModuleGraph};
use crate::par::Par;
pub use crate::par::Threads;
use crate::source::{self, SourceMap, Span};
use crate::syntax;
use crate::{eval, modules, types};

pub use crate::export_types::{JsonText, Unexpressed};
pub use crate::loader::MemoryFs;
pub use crate::validate::{Data, DataFormat, Schema, Violation};

/// The async API: requests as futures run on the pool (native builds only).
#[cfg(not(target_arch = "wasm32"))]
mod async_session;
#[cfg(not(target_arch = "wasm32"))]
pub use async_session::{Answer, AsyncFetcher, AsyncSession, FetchRound, Running};

/// Evaluation limits (LANGUAGE.md section 12). Defaults never bother a normal config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_steps: u64,
    pub max_depth: u32,
    pub max_output_bytes: Option<u64>,
}

impl Limits {
    fn for_eval(&self) -> eval::Limits {
        eval::Limits {
            max_steps: self.max_steps,
            max_depth: self.max_depth,
            max_output_bytes: self.max_output_bytes,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps: 1_000_000_000,
            max_depth: 10_000,
            max_output_bytes: None,
        }
    }
}

/// Output formats of the document (LANGUAGE.md section 11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Yaml,
    Toml,
    Text,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "json" => Some(Format::Json),
            "yaml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            "text" => Some(Format::Text),
            _ => None,
        }
    }
}

/// A host-supplied clock in milliseconds (the library reads no clock itself): the CLI
/// passes a monotonic clock, JS passes `performance.now`.
#[derive(Clone)]
pub struct Clock(pub Arc<dyn Fn() -> f64 + Send + Sync>);

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

impl Clock {
    pub fn now_ms(&self) -> f64 {
        (self.0)()
    }
}

/// Session-wide options.
#[derive(Clone, Debug)]
pub struct Options {
    pub limits: Limits,
    /// When set, outputs carry per-phase times in [`Stats`].
    pub clock: Option<Clock>,
    /// Register roots in search order (LANGUAGE.md 9.4). The CLI passes its
    /// `--register-path`s, then the entries of `LIGATURE_PATH`, then `registers`.
    pub register_roots: Vec<String>,
    /// The project root that relative imports must stay inside (LANGUAGE.md 9.6); by
    /// default the working directory when the entry lies inside it, else the entry's
    /// directory.
    pub project_root: Option<String>,
    /// Sequential, parallel, or parallel when the work is big enough (the default).
    pub threads: Threads,
    /// Size of a dedicated worker pool (`--workers N`); `None`: one worker per core.
    pub workers: Option<usize>,
    /// Entries per session cache (schemes and values of top-level lets); 0 disables
    /// caching, which suits a one-shot run (the CLI).
    pub cache_capacity: usize,
    /// The host makes one request and exits (the CLI): what a run built and no longer
    /// needs once its answer is ready (values, lowered programs, module trees, checked
    /// environments) is left to the operating system instead of being freed piece by
    /// piece, about 5% of the instructions of a 100,000-binding run. Only what is released
    /// at the end is left: nothing later could reuse that memory. Default `false`.
    pub one_shot: bool,
}

/// Default entries per session cache: room for the lets of a large configuration.
pub const DEFAULT_CACHE_CAPACITY: usize = 200_000;

impl Default for Options {
    fn default() -> Options {
        Options {
            limits: Limits::default(),
            clock: None,
            register_roots: Vec::new(),
            project_root: None,
            threads: Threads::Auto,
            workers: None,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            one_shot: false,
        }
    }
}

/// The phases of a run as [`Stats::phases`] names them, in order: `parse` is reading and
/// parsing every module (loading), then checking, lowering, evaluation and rendering.
/// Each one polls the request's interrupt (LANGUAGE.md 12.3); `tests/cancel.rs` stops a run
/// in the middle of each phase a run reports.
pub const PHASES: [&str; 5] = ["parse", "check", "lower", "eval", "render"];

/// Measurements of one run: per-phase wall times (when the host gave a clock), source
/// size and evaluation steps.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// `(phase, milliseconds)` in pipeline order: read, parse, check, lower, eval, render.
    pub phases: Vec<(&'static str, f64)>,
    pub source_bytes: u64,
    pub steps: u64,
    /// Worker threads the session may use (1 when sequential).
    pub workers: usize,
    /// Top-level values taken from the session cache instead of being evaluated.
    pub reused: u64,
    /// The session's cache counters after the call (`None` without caches).
    pub cache: Option<engine::CachesStats>,
    /// The persistent module cache's counters (`None`, and left out of the JSON, without a
    /// module store: the wasm builds' stats are unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persist: Option<PersistStats>,
}

/// What the persistent module cache did in one run ([`Session::with_module_store`]), in
/// modules of the graph: `read` came from the store, `missed` had no valid entry there
/// (new, edited, importing an edited module, or `rejected`: present but corrupt, foreign
/// or of another version), `written` were stored after the run. The lets of the `missed`
/// modules are the ones checked and evaluated anew.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PersistStats {
    pub modules: u64,
    pub read: u64,
    pub missed: u64,
    pub rejected: u64,
    pub written: u64,
    /// Of `modules`: checked by this run, and taken checked from their entries (their
    /// interface and elaboration: not checked, `engine::persist::checked`).
    pub checked: u64,
    pub check_read: u64,
    /// The whole output came from the store (an `eval` of an unchanged graph with the same
    /// request): nothing was checked, lowered, evaluated or rendered.
    pub document: bool,
}

/// Records phase times with the host's clock, if any.
struct PhaseTimer<'a> {
    clock: Option<&'a Clock>,
    last: f64,
    stats: Stats,
}

impl<'a> PhaseTimer<'a> {
    fn new(clock: Option<&'a Clock>) -> PhaseTimer<'a> {
        let last = clock.map_or(0.0, Clock::now_ms);
        PhaseTimer {
            clock,
            last,
            stats: Stats::default(),
        }
    }

    fn done(&mut self, phase: &'static str) {
        debug_assert!(PHASES.contains(&phase), "a phase not in `PHASES`: {phase}");
        if let Some(clock) = self.clock {
            let now = clock.now_ms();
            self.stats.phases.push((phase, now - self.last));
            self.last = now;
        }
    }
}

/// What stops a request from outside (LANGUAGE.md 12.3): the host's cancel flag and/or a
/// timeout on [`Options::clock`]. `Default` stops nothing.
#[derive(Clone, Debug, Default)]
pub struct Cancellation {
    /// Set by the host (timer or user) to stop the request with R3008.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Wall-clock limit in milliseconds on [`Options::clock`] (ignored without a clock).
    pub timeout_ms: Option<f64>,
    /// When the host received the request, on [`Options::clock`]: the timeout counts from
    /// there (the host's own work before the call, such as copying the files, is inside
    /// it). `None`: from the library's call.
    pub started_ms: Option<f64>,
}

impl Cancellation {
    /// The interrupt every phase polls: the flag, and the deadline `timeout_ms` after
    /// `started_ms` (or now) on `clock`.
    pub fn interrupt(&self, clock: Option<&Clock>) -> eval::Interrupt {
        let deadline = match (clock, self.timeout_ms) {
            (Some(clock), Some(timeout)) => Some(eval::Deadline {
                clock: Arc::clone(&clock.0),
                at_ms: self.started_ms.unwrap_or_else(|| clock.now_ms()) + timeout,
            }),
            _ => None,
        };
        eval::Interrupt::new(self.cancel.clone(), deadline)
    }
}

/// A request about one entry file that a host may stop: [`Session::typecheck_with`],
/// [`Session::load_only_with`].
#[derive(Clone, Debug, Default)]
pub struct EntryRequest {
    /// Path of the entry file in the session's file system.
    pub entry: String,
    pub cancellation: Cancellation,
}

/// A schema to compile ([`Session::compile_schema_with`]): the type `type_name` of the
/// module `schema`.
#[derive(Clone, Debug, Default)]
pub struct SchemaRequest {
    pub schema: String,
    pub type_name: String,
    pub cancellation: Cancellation,
}

/// What [`Session::export_types`] writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TypesEmit {
    /// One JSON Schema (draft 2020-12) whose `$defs` hold the types.
    #[default]
    JsonSchema,
    /// TypeScript declarations, with the file's document when no type is named.
    TypeScript,
}

/// Types of a file to export ([`Session::export_types`]): `type_names` of the module
/// `entry`, or every type it declares (those it exports, when it has an export list).
#[derive(Clone, Debug, Default)]
pub struct TypesRequest {
    pub entry: String,
    pub type_names: Vec<String>,
    pub emit: TypesEmit,
    pub cancellation: Cancellation,
}

/// The exported types: `schema` for JSON Schema, `typescript` for TypeScript (`None`
/// when there are errors), the refinements they could not express, the diagnostics.
#[derive(Debug)]
pub struct TypesOutput {
    /// Compact JSON text (`JsonText::to_pretty` indents it).
    pub schema: Option<JsonText>,
    pub typescript: Option<String>,
    pub unexpressed: Vec<Unexpressed>,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Arc<SourceMap>,
}

impl TypesOutput {
    pub fn ok(&self) -> bool {
        !diagnostic::has_errors(&self.diagnostics)
    }
}

/// What to evaluate and how to render it.
#[derive(Clone, Debug, Default)]
pub struct EvalRequest {
    /// Path of the entry file in the session's file system.
    pub entry: String,
    /// `--field NAME`: render this top-level binding instead of the document.
    pub field: Option<String>,
    pub format: Format,
    /// Set by the host (timer or user) to stop evaluation with R3008.
    pub cancel: Option<Arc<AtomicBool>>,
    /// Wall-clock limit in milliseconds, measured with [`Options::clock`] (ignored without a
    /// clock) from the call. For hosts that cannot run a timer beside the run
    /// (single-threaded wasm); every phase polls the clock and stops with R3008.
    pub timeout_ms: Option<f64>,
}

impl EvalRequest {
    /// The request's cancel flag and timeout, counted from the call.
    pub fn cancellation(&self) -> Cancellation {
        Cancellation {
            cancel: self.cancel.clone(),
            timeout_ms: self.timeout_ms,
            started_ms: None,
        }
    }
}

/// The result of an evaluation: the rendered document on success, diagnostics always
/// (warnings may accompany a success).
#[derive(Debug)]
pub struct EvalOutput {
    pub text: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Arc<SourceMap>,
    pub stats: Stats,
}

/// One top-level binding and its generalised type scheme.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BindingType {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
}

/// The result of type checking.
#[derive(Debug)]
pub struct CheckOutput {
    pub types: Vec<BindingType>,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Arc<SourceMap>,
    pub stats: Stats,
}

impl EvalOutput {
    pub fn ok(&self) -> bool {
        self.text.is_some() && !diagnostic::has_errors(&self.diagnostics)
    }
}

impl CheckOutput {
    pub fn ok(&self) -> bool {
        !diagnostic::has_errors(&self.diagnostics)
    }
}

/// What to validate (LANGUAGE.md 11.8): a data document against the type `type_name`
/// declared in (or imported by) the schema file `schema`, a path in the session's file
/// system.
#[derive(Clone, Debug)]
pub struct ValidateRequest {
    pub schema: String,
    pub type_name: String,
    pub data: DataInput,
    /// Covers compiling the schema and checking the data.
    pub cancellation: Cancellation,
}

/// A data document: JSON or YAML text, or an already parsed value.
#[derive(Clone, Debug)]
pub enum DataInput {
    Json(String),
    Yaml(String),
    Value(serde_json::Value),
}

/// The result of validating one document. `errors` lists every violation with its JSON
/// path (C5004 shape mismatches, or C5005/C5003 refinement failures, or C5004 for
/// malformed text); `diagnostics` carries problems of the schema itself.
#[derive(Debug, Serialize)]
pub struct ValidateOutput {
    pub ok: bool,
    pub errors: Vec<Violation>,
    #[serde(skip)]
    pub diagnostics: Vec<Diagnostic>,
    #[serde(skip)]
    pub sources: Arc<SourceMap>,
}

/// Why a schema could not be compiled: its diagnostics and the sources to render them.
#[derive(Debug)]
pub struct SchemaError {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Arc<SourceMap>,
}

/// A diagnostic as JSON for tools: `--error-format json` and the JS API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticDto {
    pub code: String,
    pub name: String,
    pub severity: String,
    pub message: String,
    pub file: String,
    pub start: u32,
    pub end: u32,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub utf16_column: u32,
    pub labels: Vec<LabelDto>,
    pub notes: Vec<String>,
    pub help: Option<String>,
    pub rendered: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelDto {
    pub file: String,
    pub start: u32,
    pub end: u32,
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub primary: bool,
}

impl DiagnosticDto {
    pub fn new(diagnostic: &Diagnostic, sources: &SourceMap) -> DiagnosticDto {
        let primary = diagnostic.primary().unwrap_or_default();
        let file = sources.get(primary.file);
        let start = file.map(|it| it.position(primary.span.start));
        let end = file.map(|it| it.position(primary.span.end));
        let labels = diagnostic
            .labels
            .iter()
            .map(|label| {
                let file = sources.get(label.span.file);
                let pos = file.map(|it| it.position(label.span.span.start));
                LabelDto {
                    file: file.map(|it| it.name.clone()).unwrap_or_default(),
                    start: label.span.span.start,
                    end: label.span.span.end,
                    line: pos.map_or(0, |it| it.line),
                    column: pos.map_or(0, |it| it.column),
                    message: label.message.clone(),
                    primary: label.primary,
                }
            })
            .collect();
        DiagnosticDto {
            code: diagnostic.code.as_str().to_string(),
            name: diagnostic.code.name().to_string(),
            severity: diagnostic.severity.as_str().to_string(),
            message: diagnostic.message.clone(),
            file: file.map(|it| it.name.clone()).unwrap_or_default(),
            start: primary.span.start,
            end: primary.span.end,
            line: start.map_or(0, |it| it.line),
            column: start.map_or(0, |it| it.column),
            end_line: end.map_or(0, |it| it.line),
            end_column: end.map_or(0, |it| it.column),
            utf16_column: start.map_or(0, |it| it.utf16_column),
            labels,
            notes: diagnostic.notes.clone(),
            help: diagnostic.help.clone(),
            rendered: diagnostic::render::render(std::slice::from_ref(diagnostic), sources, false),
        }
    }
}

/// Diagnostics as DTOs, in the order given (already sorted by the pipeline).
pub fn diagnostics_to_dtos(diagnostics: &[Diagnostic], sources: &SourceMap) -> Vec<DiagnosticDto> {
    diagnostics
        .iter()
        .map(|it| DiagnosticDto::new(it, sources))
        .collect()
}

pub use crate::syntax::locate::PathKey;

/// Where the value at `path` of a file's document comes from ([`crate::syntax::locate`]):
/// the playground's output-to-source. The range is in the file `text`; `matched` steps of
/// the path were followed (fewer than asked when the rest depends on evaluation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceRange {
    pub start: u32,
    pub end: u32,
    pub line: u32,
    pub utf16_column: u32,
    pub end_line: u32,
    pub end_utf16_column: u32,
    pub matched: usize,
}

/// [`SourceRange`] of `path` in the document of `text` (parsed alone: nothing is loaded,
/// checked or evaluated); `None` when its first step names nothing of the file.
pub fn locate(text: &str, path: &[PathKey]) -> Option<SourceRange> {
    let parsed = crate::syntax::parse(crate::source::FileId(0), text);
    let found = crate::syntax::locate::locate(&parsed.module, path)?;
    let file = crate::source::SourceFile::new("", text);
    let (start, end) = (
        file.position(found.span.start),
        file.position(found.span.end),
    );
    Some(SourceRange {
        start: found.span.start,
        end: found.span.end,
        line: start.line,
        utf16_column: start.utf16_column,
        end_line: end.line,
        end_utf16_column: end.utf16_column,
        matched: found.matched,
    })
}

/// The canonical layout of one file (`ligature fmt`, [`crate::syntax::format`]) in
/// `width` columns; [`crate::syntax::format::DEFAULT_WIDTH`] is the CLI's default. A text
/// with a syntax error gives its diagnostics (in `FileId(0)`); a result that would not parse
/// back to the same tree with the same comments gives one internal error (severity `Bug`),
/// and nothing should be written.
///
/// A big text is parsed and checked in pieces on the default pool (from the size at which
/// parsing goes in pieces, `engine::parse_pieces`).
pub fn format(text: &str, width: usize) -> Result<String, Vec<Diagnostic>> {
    let par = Par::new(Threads::Auto);
    let pieces = engine::parse_pieces(&par, text.len());
    if pieces < 2 {
        return crate::syntax::format::format(text, width);
    }
    let for_each = |n, job: &(dyn Fn(usize) + Sync)| par.for_each(n, job);
    crate::syntax::format::format_with(text, width, pieces, &for_each)
}

/// [`format`] for a host that shows the result (the wasm builds): the text, or the
/// diagnostics as DTOs of the file named `name`.
#[derive(Clone, Debug, Serialize)]
pub struct Formatted {
    pub ok: bool,
    pub text: Option<String>,
    pub diagnostics: Vec<DiagnosticDto>,
}

/// [`format`] of `text` (named `name` in its diagnostics) as a [`Formatted`].
pub fn format_to_dto(text: &str, width: usize, name: &str) -> Formatted {
    match format(text, width) {
        Ok(text) => Formatted {
            ok: true,
            text: Some(text),
            diagnostics: Vec::new(),
        },
        Err(diagnostics) => {
            let mut sources = SourceMap::default();
            sources.add(name, text);
            Formatted {
                ok: false,
                text: None,
                diagnostics: diagnostics_to_dtos(&diagnostics, &sources),
            }
        }
    }
}

/// [`format`] of raw bytes: invalid UTF-8 is E1006 at the first bad byte, as when loading.
pub fn format_bytes(bytes: &[u8], width: usize) -> Result<String, Vec<Diagnostic>> {
    match std::str::from_utf8(bytes) {
        Ok(text) => format(text, width),
        Err(err) => {
            let offset = err.valid_up_to() as u32;
            Err(vec![Diagnostic::new(
                Code::E1006,
                "invalid UTF-8 in source file",
                crate::source::FileId(0),
                crate::source::Span::new(offset, offset + 1),
            )])
        }
    }
}

/// Renders diagnostics as text with source excerpts.
pub fn render_diagnostics(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    diagnostic::render::render(diagnostics, sources, color)
}

/// A long-lived evaluation context: options plus the host's file system.
pub struct Session {
    options: Options,
    fs: Arc<dyn FileSystem>,
    par: Par,
    /// Schemes and values kept across calls (`None` when `Options::cache_capacity` is 0).
    caches: Option<Arc<engine::Caches>>,
    /// What stopped requests built, freed by [`Session::free_leftovers`] (at the next
    /// request, or when the host is idle) instead of before their R3008 returns. Shared with
    /// the sessions [`Session::with_file_system`] makes (a host's session per call).
    leftovers: Arc<Leftovers>,
    /// Where modules' cache entries persist across runs ([`Session::with_module_store`]).
    store: Option<Arc<dyn engine::persist::ModuleStore>>,
}

/// What stopped requests left to free (see [`Session::free_leftovers`]).
#[derive(Default)]
struct Leftovers(std::sync::Mutex<Vec<Box<dyn Send>>>);

impl Leftovers {
    fn keep(&self, what: Box<dyn Send>) {
        if let Ok(mut kept) = self.0.lock() {
            kept.push(what);
        }
    }

    fn take(&self) -> Vec<Box<dyn Send>> {
        self.0
            .lock()
            .map(|mut it| std::mem::take(&mut *it))
            .unwrap_or_default()
    }
}

impl Session {
    pub fn new(options: Options, fs: Arc<dyn FileSystem>) -> Session {
        let par = match options.workers {
            Some(n) => Par::with_workers(options.threads, n),
            None => Par::new(options.threads),
        };
        let caches = (options.cache_capacity > 0)
            .then(|| Arc::new(engine::Caches::new(options.cache_capacity)));
        Session {
            options,
            fs,
            par,
            caches,
            leftovers: Arc::default(),
            store: None,
        }
    }

    /// The same session with its modules' cache entries kept in `store` across runs (the
    /// CLI's `--cache`; `engine::persist`): a run first takes every unchanged module's
    /// schemes and values from there, and stores those of the others after it succeeds.
    /// Only with caches (`Options::cache_capacity > 0`); the output is the uncached run's.
    pub fn with_module_store(mut self, store: Arc<dyn engine::persist::ModuleStore>) -> Session {
        self.store = Some(store);
        self
    }

    /// Frees what stopped requests built. A request stopped by its timeout or its host
    /// (R3008) returns without freeing the trees, programs and values it had made (for a
    /// 5 MB program, tens of milliseconds of work after the stop); the next request of the
    /// session frees them before it starts, or a host calls this when it is idle.
    pub fn free_leftovers(&self) {
        drop(self.leftovers.take());
    }

    /// Counters of the session's caches since it was made (`None` without caches).
    pub fn cache_stats(&self) -> Option<engine::CachesStats> {
        self.caches.as_deref().map(engine::Caches::stats)
    }

    /// Empties the caches (the counters stay).
    pub fn clear_caches(&self) {
        if let Some(caches) = &self.caches {
            caches.clear();
        }
    }

    /// The same session (options, worker pool, caches) over another file system: how a
    /// host that edits files (the playground, an editor) keeps its caches across edits.
    pub fn with_file_system(&self, fs: Arc<dyn FileSystem>) -> Session {
        Session {
            options: self.options.clone(),
            fs,
            par: self.par.clone(),
            caches: self.caches.clone(),
            leftovers: Arc::clone(&self.leftovers),
            store: self.store.clone(),
        }
    }

    /// The engine's view of this session: its pool and caches.
    fn engine(&self) -> modules::Engine<'_> {
        modules::Engine {
            par: &self.par,
            caches: self.caches.as_deref(),
            interrupt: None,
        }
    }

    /// [`Session::engine`] for a run that `interrupt` may stop.
    fn engine_for<'a>(&'a self, interrupt: Option<&'a eval::Interrupt>) -> modules::Engine<'a> {
        modules::Engine {
            interrupt,
            ..self.engine()
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// What stops a request: its cancel flag, and its deadline on the session's clock
    /// (when it has a timeout and the session a clock).
    pub fn interrupt(&self, cancellation: &Cancellation) -> eval::Interrupt {
        cancellation.interrupt(self.options.clock.as_ref())
    }

    /// Parses, checks and evaluates `request.entry`, rendering the document in
    /// `request.format`.
    pub fn evaluate(&self, request: &EvalRequest) -> EvalOutput {
        self.free_leftovers();
        self.evaluate_until(request, &self.interrupt(&request.cancellation()))
    }

    /// [`Session::evaluate`] with the timeout counted from `started_ms` on the session's
    /// clock, when the host received the request, instead of from this call.
    pub fn evaluate_from(&self, request: &EvalRequest, started_ms: f64) -> EvalOutput {
        self.free_leftovers();
        let cancellation = Cancellation {
            started_ms: Some(started_ms),
            ..request.cancellation()
        };
        self.evaluate_until(request, &self.interrupt(&cancellation))
    }

    fn evaluate_until(&self, request: &EvalRequest, interrupt: &eval::Interrupt) -> EvalOutput {
        let mut sources = SourceMap::default();
        let mut timer = PhaseTimer::new(self.options.clock.as_ref());
        timer.stats.workers = self.par.workers();
        let (text, diagnostics) = crate::par::on_pipeline_stack(|| {
            pipeline::evaluate(self, request, interrupt, &mut sources, &mut timer)
        });
        timer.stats.cache = self.cache_stats();
        let text = if diagnostic::has_errors(&diagnostics) {
            None
        } else {
            text
        };
        EvalOutput {
            text,
            diagnostics,
            sources: Arc::new(sources),
            stats: timer.stats,
        }
    }

    /// Parses and checks `entry`, returning every top-level binding's type scheme.
    pub fn typecheck(&self, entry: &str) -> CheckOutput {
        self.typecheck_with(&EntryRequest {
            entry: entry.to_string(),
            cancellation: Cancellation::default(),
        })
    }

    /// [`Session::typecheck`] that the request's cancellation may stop (R3008 alone).
    pub fn typecheck_with(&self, request: &EntryRequest) -> CheckOutput {
        self.free_leftovers();
        let interrupt = self.interrupt(&request.cancellation);
        let mut sources = SourceMap::default();
        let mut timer = PhaseTimer::new(self.options.clock.as_ref());
        timer.stats.workers = self.par.workers();
        let (types, diagnostics) = crate::par::on_pipeline_stack(|| {
            pipeline::typecheck(self, &request.entry, &interrupt, &mut sources, &mut timer)
        });
        timer.stats.cache = self.cache_stats();
        CheckOutput {
            types,
            diagnostics,
            sources: Arc::new(sources),
            stats: timer.stats,
        }
    }

    /// The types of the local binders of `entry` (lambda parameters, `let ... in` bindings,
    /// pattern variables) by the span of each binder's name, for an editor's hover: the
    /// entry is checked again with its binders recorded, against its imports' interfaces
    /// (their checks come from the caches when unchanged). Empty when the entry does not
    /// load or parse, or the request was stopped; a module with type errors still has the
    /// types inference found. With `at`, only the binders of the declaration (or trailing
    /// expression) holding that span: the lets before it whose schemes the session's cache
    /// holds are not inferred again, which makes a hover after an edit of a big file cheap.
    pub fn binder_types(
        &self,
        request: &EntryRequest,
        at: Option<crate::source::Span>,
    ) -> Vec<types::BinderType> {
        self.free_leftovers();
        let interrupt = self.interrupt(&request.cancellation);
        let mut sources = SourceMap::default();
        crate::par::on_pipeline_stack(|| {
            pipeline::binder_types(self, (&request.entry, at), &interrupt, &mut sources)
        })
    }

    /// Compiles a validation schema: the type `type_name` of the module `schema` (checked,
    /// lowered and evaluated once). Reuse the result for many documents.
    pub fn compile_schema(&self, schema: &str, type_name: &str) -> Result<Schema, SchemaError> {
        self.compile_schema_with(&SchemaRequest {
            schema: schema.to_string(),
            type_name: type_name.to_string(),
            cancellation: Cancellation::default(),
        })
    }

    /// [`Session::compile_schema`] that the request's cancellation may stop (an error of
    /// R3008 alone).
    pub fn compile_schema_with(&self, request: &SchemaRequest) -> Result<Schema, SchemaError> {
        self.free_leftovers();
        self.compile_schema_until(request, &self.interrupt(&request.cancellation))
    }

    fn compile_schema_until(
        &self,
        request: &SchemaRequest,
        interrupt: &eval::Interrupt,
    ) -> Result<Schema, SchemaError> {
        let (schema, type_name) = (&request.schema, &request.type_name);
        let mut sources = SourceMap::default();
        let mut timer = PhaseTimer::new(None);
        let res = crate::par::on_pipeline_stack(|| {
            let args = (schema.as_str(), type_name.as_str());
            pipeline::compile_schema(self, args, interrupt, &mut sources, &mut timer)
        });
        res.map_err(|mut diagnostics| {
            pipeline::only_cancelled(&mut diagnostics);
            diagnostic::sort_and_dedup(&mut diagnostics, |file| file.0);
            SchemaError {
                diagnostics,
                sources: Arc::new(sources),
            }
        })
    }

    /// Exports types of a file as JSON Schema or TypeScript (`crate::export_types`): the
    /// file is checked and lowered (for its refinement plans), not evaluated.
    pub fn export_types(&self, request: &TypesRequest) -> TypesOutput {
        self.free_leftovers();
        let interrupt = self.interrupt(&request.cancellation);
        let mut sources = SourceMap::default();
        let mut timer = PhaseTimer::new(None);
        let res = crate::par::on_pipeline_stack(|| {
            pipeline::export_types(self, request, &interrupt, &mut sources, &mut timer)
        });
        let (exported, mut diagnostics) = match res {
            Ok(it) => it,
            Err(diagnostics) => (None, diagnostics),
        };
        pipeline::only_cancelled(&mut diagnostics);
        diagnostic::sort_and_dedup(&mut diagnostics, |file| file.0);
        let failed = diagnostic::has_errors(&diagnostics);
        let (schema, typescript, unexpressed) = match exported {
            Some(it) if !failed => it,
            _ => (None, None, Vec::new()),
        };
        TypesOutput {
            schema,
            typescript,
            unexpressed,
            diagnostics,
            sources: Arc::new(sources),
        }
    }

    /// Validates one document against a type of a schema file (compiling the schema; use
    /// [`Session::compile_schema`] and [`Schema::check_value`] to check many documents).
    pub fn validate(&self, request: &ValidateRequest) -> ValidateOutput {
        self.free_leftovers();
        let interrupt = self.interrupt(&request.cancellation);
        let schema_request = SchemaRequest {
            schema: request.schema.clone(),
            type_name: request.type_name.clone(),
            cancellation: Cancellation::default(),
        };
        match self.compile_schema_until(&schema_request, &interrupt) {
            Err(err) => ValidateOutput {
                ok: false,
                errors: Vec::new(),
                diagnostics: err.diagnostics,
                sources: err.sources,
            },
            Ok(schema) => {
                let errors = crate::par::on_pipeline_stack(|| match &request.data {
                    DataInput::Json(text) => {
                        schema.check_text_until(text, DataFormat::Json, &interrupt)
                    }
                    DataInput::Yaml(text) => {
                        schema.check_text_until(text, DataFormat::Yaml, &interrupt)
                    }
                    DataInput::Value(value) => schema.check_value_until(value, &interrupt),
                });
                ValidateOutput {
                    ok: errors.is_empty(),
                    errors,
                    diagnostics: Vec::new(),
                    sources: Arc::new(SourceMap::default()),
                }
            }
        }
    }

    /// Reads and parses the entry and its imports without checking them; returns that
    /// phase's diagnostics. A host that fetches modules asynchronously (the JS
    /// `loadModule`) runs it over a file system that records what was missing, fetches
    /// that, and repeats until nothing is.
    pub fn load_only(&self, entry: &str) -> Vec<Diagnostic> {
        self.load_only_with(&EntryRequest {
            entry: entry.to_string(),
            cancellation: Cancellation::default(),
        })
    }

    /// [`Session::load_only`] that the request's cancellation may stop (R3008 alone).
    pub fn load_only_with(&self, request: &EntryRequest) -> Vec<Diagnostic> {
        self.free_leftovers();
        let interrupt = self.interrupt(&request.cancellation);
        let mut sources = SourceMap::default();
        crate::par::on_pipeline_stack(|| {
            self.load(&request.entry, &mut sources, &interrupt)
                .diagnostics
        })
    }

    /// [`Session::load_only_with`] with the sources its diagnostics point into (the CLI's
    /// `ligature fetch`, which loads to fetch and pin remote modules, and renders what failed).
    pub fn load_only_with_sources(&self, request: &EntryRequest) -> (Vec<Diagnostic>, SourceMap) {
        self.free_leftovers();
        let interrupt = self.interrupt(&request.cancellation);
        let mut sources = SourceMap::default();
        let mut diagnostics = crate::par::on_pipeline_stack(|| {
            self.load(&request.entry, &mut sources, &interrupt)
                .diagnostics
        });
        pipeline::only_cancelled(&mut diagnostics);
        (diagnostics, sources)
    }

    /// How this session loads: its register roots and project root, and the run's interrupt.
    fn load_options(&self, interrupt: &eval::Interrupt) -> loader::LoadOptions {
        loader::LoadOptions {
            register_roots: self.options.register_roots.clone(),
            project_root: self.options.project_root.clone(),
            interrupt: interrupt.clone(),
        }
    }

    /// Loads the entry and its imports (read, parse, resolve) into `sources`.
    fn load(
        &self,
        entry: &str,
        sources: &mut SourceMap,
        interrupt: &eval::Interrupt,
    ) -> ModuleGraph {
        let options = self.load_options(interrupt);
        // A one-shot host (the CLI with `--cache`) has no previous trees: the chunk cache
        // would only cost its inserts.
        match self.caches.as_deref().filter(|_| !self.options.one_shot) {
            Some(caches) => {
                let parse = |key: &str, file, text: &Arc<str>| {
                    syntax::chunks::parse_module_reusing_until(key, file, text, caches, interrupt)
                };
                loader::load_with(&*self.fs, sources, entry, &options, &parse)
            }
            None => {
                let parse = |_: &str, file, text: &Arc<str>| {
                    let parsed = self.parse(file, text, interrupt);
                    (Arc::new(parsed.module), parsed.diagnostics)
                };
                loader::load_with(&*self.fs, sources, entry, &options, &parse)
            }
        }
    }

    /// Loads the entry and its imports with only each module's header parsed (its `module`
    /// and `import` statements, `persist::header_len`): the graph a document entry is
    /// looked up by, at a fraction of a full load.
    fn load_headers(
        &self,
        entry: &str,
        sources: &mut SourceMap,
        interrupt: &eval::Interrupt,
    ) -> ModuleGraph {
        let options = self.load_options(interrupt);
        let parse = |_: &str, file, text: &Arc<str>| {
            let header = text
                .get(..engine::persist::header_len(text))
                .unwrap_or_default();
            let parsed = syntax::parse_until(file, header, interrupt);
            (Arc::new(parsed.module), parsed.diagnostics)
        };
        loader::load_with(&*self.fs, sources, entry, &options, &parse)
    }

    /// Parses one module, in pieces on the pool when it is big (`engine::parse_pieces`).
    fn parse(
        &self,
        file: source::FileId,
        text: &str,
        interrupt: &eval::Interrupt,
    ) -> syntax::Parsed {
        let pieces = engine::parse_pieces(&self.par, text.len());
        if pieces < 2 {
            return syntax::parse_until(file, text, interrupt);
        }
        let for_each = |n, job: &(dyn Fn(usize) + Sync)| self.par.for_each(n, job);
        syntax::chunks::parse_in_pieces_until(file, text, pieces, &for_each, interrupt)
    }
}

mod pipeline {
    //! The phases in order; each stops the run when it reports an error.

    use super::*;

    /// A loaded and checked module graph.
    pub(super) struct Loaded {
        pub(super) graph: ModuleGraph,
        /// The checked modules by graph index; `Err` when a phase reported an error.
        pub(super) checked: Result<Vec<Option<modules::CheckedModule>>, ()>,
        /// Every diagnostic so far (only warnings when `checked` is `Ok`).
        pub(super) diagnostics: Vec<Diagnostic>,
        /// The content keys of the lets, when the session caches.
        pub(super) keys: LetKeys,
        /// The content keys of the trailing expressions (by graph index).
        pub(super) body_keys: Vec<Option<engine::keys::Key>>,
        /// What the persistent module cache gave this run.
        pub(super) persisted: Option<Persisted>,
        /// The name of the run's document entry (an `eval` with a module store), and the
        /// document when the store had it.
        pub(super) document: Option<(String, Option<(u64, String)>)>,
    }

    impl Loaded {
        /// A graph that stops before checking (a loading error, or a stored document):
        /// nothing checked, no keys.
        fn unchecked(
            graph: ModuleGraph,
            diagnostics: Vec<Diagnostic>,
            document: Option<(String, Option<(u64, String)>)>,
        ) -> Loaded {
            Loaded {
                graph,
                checked: Err(()),
                diagnostics,
                keys: Vec::new(),
                body_keys: Vec::new(),
                persisted: None,
                document,
            }
        }
    }

    /// A stored document and the sources it was read with.
    struct StoredDocument {
        text: String,
        sources: SourceMap,
    }

    /// The stored output of `request`, when the module store has the document entry of
    /// its graph: found by loading only the modules' headers, so that an unchanged project
    /// is read but not parsed. A graph that loads with any diagnostic is left to the full
    /// run.
    fn stored_document(
        session: &Session,
        request: &EvalRequest,
        interrupt: &eval::Interrupt,
        timer: &mut PhaseTimer<'_>,
    ) -> Option<StoredDocument> {
        session.store.as_deref()?;
        let mut sources = SourceMap::default();
        let graph = session.load_headers(&request.entry, &mut sources, interrupt);
        if !graph.diagnostics.is_empty() || interrupt.fired() {
            return None;
        }
        let module_keys = modules::module_keys(&graph, &sources);
        let (_, (steps, text)) = match read_document(session, &graph, &module_keys, request)? {
            (name, Some(found)) => (name, found),
            (_, None) => return None,
        };
        timer.stats.source_bytes += graph.source_bytes;
        timer.stats.steps = steps;
        timer.stats.persist = Some(PersistStats {
            modules: graph.modules.len() as u64,
            document: true,
            ..PersistStats::default()
        });
        timer.done("parse");
        release(session, graph);
        Some(StoredDocument { text, sources })
    }

    /// The fingerprint of what, besides the modules, decides an `eval`'s output.
    fn request_key(session: &Session, request: &EvalRequest) -> engine::keys::Key {
        use std::hash::{Hash, Hasher};
        let limits = &session.options.limits;
        let mut h = engine::keys::key_hasher();
        (
            format!("{:?}", request.format),
            &request.field,
            limits.max_steps,
            limits.max_depth,
            limits.max_output_bytes,
        )
            .hash(&mut h);
        h.finish()
    }

    /// The document entry's name for `request`, and what the store holds under it.
    fn read_document(
        session: &Session,
        graph: &ModuleGraph,
        module_keys: &[engine::keys::Key],
        request: &EvalRequest,
    ) -> Option<(String, Option<(u64, String)>)> {
        let store = session.store.as_deref()?;
        session.caches.as_deref()?;
        let key = module_keys.get(graph.entry?).copied()?;
        let name = engine::persist::document_name(key, request_key(session, request));
        let found = store
            .read(&name)
            .and_then(|bytes| engine::persist::decode_document(&name, &bytes));
        Some((name, found))
    }

    /// The persistent module cache's entries for a run (by graph index): each module's
    /// entry name, and what its entry held (`None`: no valid entry; `Some(evaluated)`).
    pub(super) struct Persisted {
        names: Vec<Option<(engine::keys::Key, String)>>,
        found: Vec<Option<bool>>,
        /// Each module's stored check: read from its entry, or made after checking it
        /// (when its check was clean), for the entry written after the run.
        checks: Vec<std::sync::Mutex<Option<engine::persist::checked::StoredCheck>>>,
        /// Whether the entry read held a stored check.
        had_check: Vec<bool>,
        /// The checks decoded from the entries, for `modules::check_graph`.
        pub(super) stored: modules::Stored,
    }

    /// Puts the schemes and values of every module whose entry the store holds in the
    /// session's caches, before checking (`engine::persist`).
    fn read_persisted(
        session: &Session,
        graph: &ModuleGraph,
        module_keys: &[engine::keys::Key],
        stats: &mut Stats,
    ) -> Option<Persisted> {
        let (store, caches) = (session.store.as_deref()?, session.caches.as_deref()?);
        let names: Vec<Option<(engine::keys::Key, String)>> = graph
            .modules
            .iter()
            .enumerate()
            .map(|(idx, module)| {
                // The standard library is embedded: nothing to gain from storing it.
                let key = module_keys
                    .get(idx)
                    .copied()
                    .filter(|_| crate::loader::stdlib::source_of_key(&module.key).is_none())?;
                Some((key, engine::persist::entry_name(key)))
            })
            .collect();
        // Read, decoded and put in the caches on the pool (a warm run reads one per module).
        let outcomes: Vec<std::sync::OnceLock<Read>> =
            names.iter().map(|_| std::sync::OnceLock::new()).collect();
        let checks: Vec<std::sync::Mutex<Option<engine::persist::checked::StoredCheck>>> =
            names.iter().map(|_| std::sync::Mutex::new(None)).collect();
        let stored: modules::Stored = names.iter().map(|_| std::sync::Mutex::new(None)).collect();
        session.par.for_each(names.len(), &|idx| {
            let (Some(Some((key, name))), Some(slot)) = (names.get(idx), outcomes.get(idx)) else {
                return;
            };
            let outcome = match store.read(name) {
                Some(bytes) => match engine::persist::decode(*key, &bytes) {
                    Some(mut entry) => {
                        let evaluated = entry.evaluated;
                        // A stored check that does not decode is only not used.
                        if let Some(check) = entry.check.take() {
                            let loaded = engine::persist::checked::load(&check);
                            if let (Some(loaded), Some(Ok(mut slot))) =
                                (loaded, stored.get(idx).map(|it| it.lock()))
                            {
                                *slot = Some(loaded);
                            }
                            if let Some(Ok(mut slot)) = checks.get(idx).map(|it| it.lock()) {
                                *slot = Some(check);
                            }
                        }
                        engine::persist::fill(caches, entry);
                        Read::Found { evaluated }
                    }
                    None => Read::Rejected,
                },
                None => Read::Missing,
            };
            let _ = slot.set(outcome);
        });
        let mut counts = PersistStats::default();
        let mut found = Vec::with_capacity(names.len());
        for outcome in outcomes {
            found.push(match outcome.into_inner() {
                Some(Read::Found { evaluated }) => {
                    counts.read += 1;
                    Some(evaluated)
                }
                Some(Read::Rejected) => {
                    counts.rejected += 1;
                    None
                }
                Some(Read::Missing) | None => None,
            });
        }
        counts.modules = names.iter().flatten().count() as u64;
        counts.missed = counts.modules - counts.read;
        let had_check = checks
            .iter()
            .map(|it| it.lock().is_ok_and(|it| it.is_some()))
            .collect();
        let persisted = Persisted {
            names,
            found,
            checks,
            had_check,
            stored,
        };
        stats.persist = Some(counts);
        Some(persisted)
    }

    /// After a check without errors: the stored form of every module checked cleanly that
    /// has no stored check yet (for its entry), and the counts of checked modules.
    fn note_checks(
        persisted: Option<&Persisted>,
        graph: &ModuleGraph,
        checked: &[Option<modules::CheckedModule>],
        stats: &mut Stats,
    ) {
        let Some(persisted) = persisted else {
            return;
        };
        let (mut fresh, mut read) = (0, 0);
        for (idx, name) in persisted.names.iter().enumerate() {
            let (Some(_), Some(Some(module))) = (name, checked.get(idx)) else {
                continue;
            };
            if module.stored {
                read += 1;
                continue;
            }
            fresh += 1;
            // The entry module has no interface: nothing imports it.
            if !module.clean || graph.entry == Some(idx) {
                continue;
            }
            if let Some(Ok(mut slot)) = persisted.checks.get(idx).map(|it| it.lock()) {
                if slot.is_none() {
                    *slot = engine::persist::checked::store(&module.checked, &module.interface);
                }
            }
        }
        if let Some(counts) = &mut stats.persist {
            counts.checked = fresh;
            counts.check_read = read;
        }
    }

    /// What reading one module's entry gave.
    enum Read {
        Found { evaluated: bool },
        Rejected,
        Missing,
    }

    /// Stores the entry of every module that had none (or had one without values and was
    /// evaluated now), after a run without errors.
    fn write_persisted(
        session: &Session,
        keys: &LetKeys,
        persisted: Option<&Persisted>,
        evaluated: bool,
        stats: &mut Stats,
    ) {
        let (Some(store), Some(caches), Some(persisted)) = (
            session.store.as_deref(),
            session.caches.as_deref(),
            persisted,
        ) else {
            return;
        };
        let due: Vec<(usize, engine::keys::Key, &str)> = persisted
            .names
            .iter()
            .enumerate()
            .filter_map(|(idx, name)| {
                let (key, name) = name.as_ref()?;
                let had = persisted.found.get(idx).copied().flatten();
                let fresh = had == Some(true) || (had == Some(false) && !evaluated);
                // An entry without a check, for a module now checked cleanly (it was the
                // entry of the run that wrote it): written again with it.
                let check_now = !persisted.had_check.get(idx).copied().unwrap_or(false)
                    && persisted
                        .checks
                        .get(idx)
                        .is_some_and(|it| it.lock().is_ok_and(|it| it.is_some()));
                (!fresh || check_now).then_some((idx, *key, name.as_str()))
            })
            .collect();
        // Encoded and written on the pool: a cold run writes an entry per module.
        let count = std::sync::atomic::AtomicU64::new(0);
        session.par.for_each(due.len(), &|i| {
            let Some((idx, key, name)) = due.get(i) else {
                return;
            };
            let Some(Some(lets)) = keys.get(*idx) else {
                return;
            };
            let check = persisted
                .checks
                .get(*idx)
                .and_then(|it| it.lock().ok()?.take());
            let entry = engine::persist::collect(caches, lets, evaluated, check);
            store.write(name, &engine::persist::encode(*key, &entry));
            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        let written = count.into_inner();
        if let Some(counts) = &mut stats.persist {
            counts.written = written;
        }
    }

    /// Loads and checks the whole module graph.
    pub(super) fn load_and_check(
        session: &Session,
        entry: &str,
        request: Option<&EvalRequest>,
        keep_entry_env: bool,
        interrupt: &eval::Interrupt,
        sources: &mut SourceMap,
        timer: &mut PhaseTimer<'_>,
    ) -> Loaded {
        let mut graph = session.load(entry, sources, interrupt);
        timer.stats.source_bytes += graph.source_bytes;
        timer.done("parse");
        let mut diagnostics = std::mem::take(&mut graph.diagnostics);
        if diagnostic::has_errors(&diagnostics) || graph.entry.is_none() {
            return Loaded::unchecked(graph, diagnostics, None);
        }
        let module_keys = match session.store {
            Some(_) => modules::module_keys(&graph, sources),
            None => Vec::new(),
        };
        let document =
            request.and_then(|request| read_document(session, &graph, &module_keys, request));
        if let Some((_, Some((steps, _)))) = &document {
            // The output of this graph for this request is known: nothing else to do.
            timer.stats.steps = *steps;
            timer.stats.persist = Some(PersistStats {
                modules: graph.modules.len() as u64,
                document: true,
                ..PersistStats::default()
            });
            return Loaded::unchecked(graph, diagnostics, document);
        }
        let keys = let_keys(session, &graph, sources);
        let body_keys = body_keys(session, &graph, sources);
        let persisted = read_persisted(session, &graph, &module_keys, &mut timer.stats);
        let (checked, mut check_diagnostics) = modules::check_graph(
            session.engine_for(Some(interrupt)),
            &graph,
            keep_entry_env,
            &keys,
            &body_keys,
            persisted.as_ref().map_or(&Vec::new(), |it| &it.stored),
        );
        diagnostics.append(&mut check_diagnostics);
        if !diagnostic::has_errors(&diagnostics) {
            note_checks(persisted.as_ref(), &graph, &checked, &mut timer.stats);
        }
        timer.done("check");
        if diagnostic::has_errors(&diagnostics) {
            release_stopped(session, interrupt, checked);
            return Loaded {
                graph,
                checked: Err(()),
                diagnostics,
                keys,
                body_keys,
                persisted,
                document,
            };
        }
        Loaded {
            graph,
            checked: Ok(checked),
            diagnostics,
            keys,
            body_keys,
            persisted,
            document,
        }
    }

    /// The content keys of every module's lets (by graph index), when the session caches.
    type LetKeys = Vec<Option<Vec<Option<engine::keys::Key>>>>;

    fn let_keys(session: &Session, graph: &ModuleGraph, sources: &SourceMap) -> LetKeys {
        if session.caches.is_none() {
            return Vec::new();
        }
        let module_keys = modules::module_keys(graph, sources);
        (0..graph.modules.len())
            .map(|idx| modules::let_keys(session.engine(), graph, idx, sources, &module_keys))
            .collect()
    }

    /// The content keys of every module's trailing expression (by graph index).
    fn body_keys(
        session: &Session,
        graph: &ModuleGraph,
        sources: &SourceMap,
    ) -> Vec<Option<engine::keys::Key>> {
        (0..graph.modules.len())
            .map(|idx| modules::body_key(session.engine(), graph, idx, sources))
            .collect()
    }

    /// The cached values of every module's lets (by graph index).
    fn prefetch(
        session: &Session,
        graph: &ModuleGraph,
        keys: &LetKeys,
    ) -> Vec<Vec<Option<engine::eval::CachedValue>>> {
        match &session.caches {
            Some(caches) => keys
                .iter()
                .zip(&graph.modules)
                .map(|(k, module)| {
                    k.as_deref()
                        .map(|k| {
                            let kept = caches.kept_values.take(&module.key);
                            engine::eval::ValueCache::prefetch(k, &caches.values, kept)
                        })
                        .unwrap_or_default()
                })
                .collect(),
            None => Vec::new(),
        }
    }

    /// Keeps each module's program for its next lowering (`engine::lowered`).
    fn keep_programs(session: &Session, graph: &ModuleGraph, lowered: modules::Lowered) {
        match &session.caches {
            Some(caches) => modules::keep_programs(caches, graph, lowered),
            None => release(session, lowered),
        }
    }

    /// Keeps, by declaration, the values each module's run took from the cache or put in
    /// it, for the next run (`engine::kept`).
    fn keep_values(
        session: &Session,
        graph: &ModuleGraph,
        keys: &LetKeys,
        found: Vec<Vec<Option<engine::eval::CachedValue>>>,
    ) {
        let Some(caches) = &session.caches else {
            return;
        };
        for ((k, module), found) in keys.iter().zip(&graph.modules).zip(found) {
            if let Some(k) = k.as_deref() {
                let kept = engine::eval::ValueCache::kept(k, &caches.values, found);
                caches.kept_values.keep(&module.key, kept);
            }
        }
    }

    pub(super) fn compile_schema(
        session: &Session,
        (schema, type_name): (&str, &str),
        interrupt: &eval::Interrupt,
        sources: &mut SourceMap,
        timer: &mut PhaseTimer<'_>,
    ) -> Result<crate::validate::Schema, Vec<Diagnostic>> {
        let Loaded {
            graph,
            checked,
            mut diagnostics,
            ..
        } = load_and_check(session, schema, None, true, interrupt, sources, timer);
        let Ok(checked) = checked else {
            finish(&graph, &mut diagnostics);
            release_stopped(session, interrupt, graph);
            return Err(diagnostics);
        };
        let entry = graph.entry.ok_or_else(Vec::new)?;
        let file = graph
            .modules
            .get(entry)
            .map(|it| it.file)
            .unwrap_or_default();
        let no_type =
            |message: String| vec![Diagnostic::new(Code::T2004, message, file, Span::default())];
        let env = checked
            .get(entry)
            .and_then(Option::as_ref)
            .and_then(|it| it.final_env.as_ref())
            .ok_or_else(|| no_type("internal: the schema has no environment".into()))?;
        let Some(def) = env.types.get(type_name) else {
            return Err(no_type(format!(
                "the schema declares or imports no type `{type_name}`"
            )));
        };
        if def.arity() != 0 {
            return Err(no_type(format!(
                "the type `{type_name}` takes {} argument(s); validation needs a type without parameters",
                def.arity()
            )));
        }
        let declared = env
            .origins
            .get(&(
                types::env::Namespace::Type,
                syntax::ast::Name::new(type_name),
            ))
            .map_or_else(|| syntax::ast::Name::new(type_name), |it| it.name.clone());
        // A union's types carry its identity (name and declaring file), as they do in a
        // field or an alias: the declared name alone found none of its constructors'
        // payloads, so `{"A": 1}` was refused at the top level.
        let ty = match &**def {
            types::env::TypeDef::Alias { body, .. } => body.clone(),
            types::env::TypeDef::Union { identity, .. } => {
                types::ty::SType::Con(identity.clone(), Vec::new())
            }
            _ => types::ty::SType::Con(declared, Vec::new()),
        };
        let mut builder = crate::validate::ShapeBuilder::new(env);
        let shape = builder.shape(&ty, &[], 0);
        let unions = builder.unions;
        let programs =
            match modules::lower_graph(&graph, &checked, sources, true, &[], None, None, interrupt)
            {
                Ok(it) => it.0,
                Err(it) => {
                    release_stopped(session, interrupt, (graph, checked));
                    return Err(vec![*it]);
                }
            };
        let limits = &session.options.limits;
        let eval_limits = limits.for_eval();
        let mut done = eval::link::Evaluations::default();
        let mut steps = 0u64;
        for &idx in &graph.order {
            let Some(Some(program)) = programs.get(idx) else {
                continue;
            };
            let budget = limits.max_steps.saturating_sub(steps);
            let evaluated = modules::eval_module(
                session.engine(),
                program,
                &mut done,
                &eval_limits,
                budget,
                interrupt.clone(),
                None,
            );
            let evaluated = match evaluated {
                Ok(it) => it,
                Err(failed) => {
                    let diagnostic = failed.error.to_diagnostic();
                    let built = (graph, checked, programs, done, failed.leftovers);
                    release_stopped(session, interrupt, built);
                    return Err(vec![diagnostic]);
                }
            };
            steps += evaluated.steps;
        }
        let entry_program = programs.get(entry).and_then(Option::as_ref);
        let plan = match entry_program.and_then(|it| it.types.get(type_name)) {
            Some(template) => template.plan.clone(),
            None => {
                let program = |file| programs.iter().flatten().find(|it| it.file == file);
                let linked = eval::link::imports(env, &program);
                linked.types.get(type_name).and_then(|it| it.plan.clone())
            }
        };
        Ok(crate::validate::Schema {
            type_name: type_name.to_string(),
            shape,
            unions,
            plan,
            file,
            evaluations: done,
            limits: eval_limits,
        })
    }

    /// What [`super::Session::export_types`] exports: JSON Schema, TypeScript and the
    /// refinements left as text.
    pub(super) type Exported = (
        Option<crate::export_types::JsonText>,
        Option<String>,
        Vec<crate::export_types::Unexpressed>,
    );

    pub(super) fn export_types(
        session: &Session,
        request: &super::TypesRequest,
        interrupt: &eval::Interrupt,
        sources: &mut SourceMap,
        timer: &mut PhaseTimer<'_>,
    ) -> Result<(Option<Exported>, Vec<Diagnostic>), Vec<Diagnostic>> {
        use crate::export_types as ex;
        let Loaded {
            graph,
            checked,
            mut diagnostics,
            ..
        } = load_and_check(
            session,
            &request.entry,
            None,
            true,
            interrupt,
            sources,
            timer,
        );
        let Ok(checked) = checked else {
            finish(&graph, &mut diagnostics);
            release_stopped(session, interrupt, graph);
            return Err(diagnostics);
        };
        let entry = graph.entry.ok_or_else(Vec::new)?;
        let module = graph.modules.get(entry);
        let file = module.map(|it| it.file).unwrap_or_default();
        let no_type =
            |message: String| vec![Diagnostic::new(Code::T2004, message, file, Span::default())];
        let entry_checked = checked.get(entry).and_then(Option::as_ref);
        let env = entry_checked
            .and_then(|it| it.final_env.as_ref())
            .ok_or_else(|| no_type("internal: the file has no environment".into()))?;
        let ast = module.map(|it| Arc::clone(&it.ast)).unwrap_or_default();
        let exports = types::imports::export_list(&ast);
        // The types the file declares, in source order, with their parameters' names.
        let mut declared: Vec<(String, Vec<String>)> = Vec::new();
        for decl in &ast.decls {
            if let syntax::ast::DeclKind::Type(t) = &decl.kind {
                let params = t.params.iter().map(|p| p.name.to_string()).collect();
                declared.push((t.name.name.to_string(), params));
            }
        }
        let names: Vec<(String, Vec<String>)> = if request.type_names.is_empty() {
            match &exports {
                None => declared,
                Some(list) => {
                    let exported: std::collections::HashSet<&str> =
                        list.iter().map(|(n, _)| n.as_str()).collect();
                    declared
                        .into_iter()
                        .filter(|(name, _)| exported.contains(name.as_str()))
                        .collect()
                }
            }
        } else {
            let params: std::collections::HashMap<&str, &Vec<String>> =
                declared.iter().map(|(n, p)| (n.as_str(), p)).collect();
            let mut seen = std::collections::HashSet::new();
            let mut out = Vec::new();
            for name in &request.type_names {
                if seen.insert(name.as_str()) {
                    let params = params.get(name.as_str()).map(|p| (*p).clone());
                    out.push((name.clone(), params.unwrap_or_default()));
                }
            }
            out
        };
        let mut unknown = Vec::new();
        for (name, _) in &names {
            let known = env
                .types
                .get(name.as_str())
                .is_some_and(|def| !matches!(**def, types::env::TypeDef::Builtin { .. }));
            if !known {
                unknown.push(Diagnostic::new(
                    Code::T2004,
                    format!("the file declares or imports no type `{name}`"),
                    file,
                    Span::default(),
                ));
            }
        }
        if !unknown.is_empty() {
            release_stopped(session, interrupt, (graph, checked));
            return Err(unknown);
        }
        let mut exported = Vec::new();
        for (name, params) in names {
            let Some(def) = env.types.get(name.as_str()) else {
                continue;
            };
            exported.push(ex::ExportedType {
                name,
                def: Arc::clone(def),
                params,
                plan: None,
            });
        }
        // Plans only: the exporters read a plan's shape and its items' text, never run it.
        // The JSON Schema's shapes need no plan (one builder for every type, all held at
        // once anyway): built meanwhile, on another thread when it pays. TypeScript builds a
        // type's shapes as it writes the type, holding one type's at a time.
        let json = request.emit == super::TypesEmit::JsonSchema;
        let (programs, shapes) = beside(
            json && session.par.worth_it(exported.len()),
            || modules::lower_type_plans(&graph, &checked, sources, interrupt),
            || json.then(|| ex::shapes(env, &exported, false)),
        );
        let shapes = shapes.flatten();
        let programs = match programs {
            Ok(it) => it,
            Err(it) => {
                release_stopped(session, interrupt, (graph, checked));
                return Err(vec![*it]);
            }
        };
        if interrupt.fired() {
            release_stopped(session, interrupt, (graph, checked, programs));
            return Err(vec![cancelled(file)]);
        }
        let entry_program = programs.get(entry).and_then(Option::as_ref);
        let program = |f| programs.iter().flatten().find(|it| it.file == f);
        let linked = eval::link::imports(env, &program);
        for t in &mut exported {
            t.plan = match entry_program.and_then(|it| it.types.get(t.name.as_str())) {
                Some(template) => template.plan.clone(),
                None => linked
                    .types
                    .get(t.name.as_str())
                    .and_then(|it| it.plan.clone()),
            };
        }
        let input = ex::Input {
            env,
            entry: file,
            types: exported,
            shapes: std::cell::Cell::new(shapes),
        };
        let out = match request.emit {
            super::TypesEmit::JsonSchema => {
                let it = ex::to_json_schema(&input);
                (Some(it.schema), None, it.unexpressed)
            }
            super::TypesEmit::TypeScript => {
                let document = request.type_names.is_empty().then(|| {
                    let bindings = entry_checked
                        .map(|it| &it.checked.bindings[..])
                        .unwrap_or_default();
                    let exports = exports.as_ref();
                    let bindings = bindings
                        .iter()
                        .filter(|b| b.in_document)
                        .filter_map(|b| {
                            let name = match exports {
                                None => b.name.to_string(),
                                Some(list) => list
                                    .iter()
                                    .find(|(n, _)| *n == b.name)
                                    .map(|(_, alias)| alias.to_string())?,
                            };
                            let ty = env.values.get(b.name.as_str())?.scheme.ty.clone();
                            Some(ex::DocumentBinding { name, ty })
                        })
                        .collect();
                    ex::Document {
                        bindings,
                        has_body: ast.body.is_some(),
                    }
                });
                let it = ex::to_typescript(&input, document.as_ref());
                (None, Some(it.text), it.unexpressed)
            }
        };
        release_stopped(session, interrupt, (graph, checked, programs));
        Ok((Some(out), diagnostics))
    }

    /// `first()` and `second()`, the second on a thread of its own when `parallel` (and the
    /// build has threads). `None` for the second when its thread could not start or failed:
    /// the caller then does without.
    fn beside<A, B: Send>(
        parallel: bool,
        first: impl FnOnce() -> A,
        second: impl FnOnce() -> B + Send,
    ) -> (A, Option<B>) {
        #[cfg(not(target_arch = "wasm32"))]
        if parallel {
            return std::thread::scope(|scope| {
                let spawned = std::thread::Builder::new()
                    .name("ligature-export".into())
                    .stack_size(crate::par::WORKER_STACK)
                    .spawn_scoped(scope, second);
                let a = first();
                (a, spawned.ok().and_then(|handle| handle.join().ok()))
            });
        }
        let _ = parallel;
        (first(), Some(second()))
    }

    /// Sorts diagnostics in canonical module order and labels import sites; a stopped run
    /// reports its R3008 alone (what the stopped phase had found is not its answer).
    pub(super) fn finish(graph: &ModuleGraph, diagnostics: &mut Vec<Diagnostic>) {
        only_cancelled(diagnostics);
        graph.add_import_labels(diagnostics);
        let ranks = graph.file_ranks();
        diagnostic::sort_and_dedup(diagnostics, |file| {
            ranks
                .get(&file)
                .copied()
                .unwrap_or(u32::MAX - 1_000_000 + file.0)
        });
    }

    pub(super) fn evaluate(
        session: &Session,
        request: &EvalRequest,
        interrupt: &eval::Interrupt,
        sources: &mut SourceMap,
        timer: &mut PhaseTimer<'_>,
    ) -> (Option<String>, Vec<Diagnostic>) {
        if let Some(found) = stored_document(session, request, interrupt, timer) {
            *sources = found.sources;
            return (Some(found.text), Vec::new());
        }
        let mut loaded = load_and_check(
            session,
            &request.entry,
            Some(request),
            false,
            interrupt,
            sources,
            timer,
        );
        let mut diagnostics = std::mem::take(&mut loaded.diagnostics);
        if let Some((_, found @ Some(_))) = &mut loaded.document {
            let text = found.take().map(|(_, text)| text);
            finish(&loaded.graph, &mut diagnostics);
            release(session, loaded);
            return (text, diagnostics);
        }
        let text = evaluate_checked(
            session,
            request,
            interrupt,
            &mut loaded,
            sources,
            timer,
            &mut diagnostics,
        );
        finish(&loaded.graph, &mut diagnostics);
        // Only a clean run's output is kept: warnings would have to be replayed.
        if let (Some(store), Some((name, None)), Some(text)) =
            (session.store.as_deref(), &loaded.document, &text)
        {
            if diagnostics.is_empty() && !interrupt.fired() {
                let steps = timer.stats.steps;
                store.write(name, &engine::persist::encode_document(name, steps, text));
            }
        }
        release_stopped(session, interrupt, loaded);
        (text, diagnostics)
    }

    /// R3008 between two phases (evaluation reports its own, where it stopped).
    fn cancelled(file: source::FileId) -> Diagnostic {
        crate::interrupt::cancelled("between phases", file, Span::default())
    }

    /// When `diagnostics` hold an R3008, only the first of them: a stopped run's answer
    /// is R3008 alone, whichever phase and thread stopped it (LANGUAGE.md 12.3).
    pub(super) fn only_cancelled(diagnostics: &mut Vec<Diagnostic>) {
        if let Some(at) = diagnostics.iter().position(|it| it.code == Code::R3008) {
            let first = diagnostics.swap_remove(at);
            *diagnostics = vec![first];
        }
    }

    /// Drops what a run no longer needs, or leaves it to the operating system when the
    /// host exits after this request ([`Options::one_shot`]).
    fn release<T>(session: &Session, what: T) {
        if session.options.one_shot {
            std::mem::forget(what);
        } else {
            drop(what);
        }
    }

    /// [`release`], or, when `interrupt` stopped the request, kept for
    /// [`Session::free_leftovers`]: its R3008 returns without freeing what it built.
    fn release_stopped<T: Send + 'static>(session: &Session, interrupt: &eval::Interrupt, what: T) {
        if interrupt.flag_set() && !session.options.one_shot {
            session.leftovers.keep(Box::new(what));
        } else {
            release(session, what);
        }
    }

    fn evaluate_checked(
        session: &Session,
        request: &EvalRequest,
        interrupt: &eval::Interrupt,
        loaded: &mut Loaded,
        sources: &SourceMap,
        timer: &mut PhaseTimer<'_>,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Option<String> {
        let checked = loaded.checked.as_deref().ok()?;
        let graph = &loaded.graph;
        let entry = graph.entry?;
        let file = graph.modules.get(entry)?.file;
        let bindings = &checked.get(entry)?.as_ref()?.checked.bindings;
        // `--field NAME` must name a top-level value binding (LANGUAGE.md 11.2).
        if let Some(field) = &request.field {
            if !bindings.iter().any(|it| it.name.as_str() == field) {
                diagnostics.push(Diagnostic::new(
                    Code::T2003,
                    format!("no top-level value binding named `{field}`"),
                    file,
                    Span::default(),
                ));
                return None;
            }
        }
        if interrupt.fired() {
            diagnostics.push(cancelled(file));
            return None;
        }
        let found = prefetch(session, &loaded.graph, &loaded.keys);
        timer.stats.reused = found.iter().flatten().filter(|it| it.is_some()).count() as u64;
        let body_keys = &loaded.body_keys;
        let kept = session
            .caches
            .as_deref()
            .map(|caches| (caches, loaded.keys.as_slice(), body_keys.as_slice()));
        let for_each = |n: usize, job: &(dyn Fn(usize) + Sync)| session.par.for_each(n, job);
        let spread = engine::lowered::spread(&session.par, &for_each);
        let lowered = modules::lower_graph(
            graph, checked, sources, false, &found, kept, spread, interrupt,
        );
        let (programs, lowerings) = match lowered {
            Ok(it) => it,
            Err(diagnostic) => {
                diagnostics.push(*diagnostic);
                timer.done("lower");
                return None;
            }
        };
        // What the document rule needs from the tree and the checker; then both go, so that
        // evaluation and rendering (the peak of memory) do not carry them.
        let exports = graph
            .modules
            .get(entry)
            .and_then(|it| types::imports::export_list(&it.ast));
        let body_span = graph
            .modules
            .get(entry)
            .and_then(|it| it.ast.body.as_ref())
            .map_or(Span::default(), |it| it.span);
        let bindings: Vec<(syntax::ast::Name, bool)> = bindings
            .iter()
            .map(|it| (it.name.clone(), it.in_document))
            .collect();
        loaded.checked = Err(());
        for module in &mut loaded.graph.modules {
            module.ast = Arc::default();
        }
        let (graph, keys) = (&loaded.graph, &loaded.keys);
        timer.done("lower");
        if interrupt.fired() {
            diagnostics.push(cancelled(file));
            return None;
        }
        let limits = &session.options.limits;
        let eval_limits = limits.for_eval();
        let mut done = eval::link::Evaluations::default();
        let mut steps = 0u64;
        let mut entry_result = None;
        for &idx in &graph.order {
            let Some(Some(program)) = programs.get(idx) else {
                continue;
            };
            let budget = limits.max_steps.saturating_sub(steps);
            let cache = match (&session.caches, keys.get(idx).and_then(Option::as_deref)) {
                (Some(caches), Some(keys)) => Some(engine::eval::ValueCache {
                    keys,
                    values: &caches.values,
                    found: found.get(idx).map_or(&[], Vec::as_slice),
                }),
                _ => None,
            };
            match modules::eval_module(
                session.engine(),
                program,
                &mut done,
                &eval_limits,
                budget,
                interrupt.clone(),
                cache,
            ) {
                Ok(evaluated) => {
                    steps += evaluated.steps;
                    if idx == entry {
                        entry_result = Some(evaluated);
                    }
                }
                Err(failed) => {
                    diagnostics.push(failed.error.to_diagnostic());
                    release_stopped(session, interrupt, failed.leftovers);
                    // The stats of a failed run too: the steps spent until it stopped (all
                    // of the budget for R3007), and the evaluation's time.
                    timer.stats.steps = steps + failed.steps;
                    timer.done("eval");
                    // What the run found or made stays in place for the next one (after a
                    // fix, the module is usually run again at once).
                    match &session.caches {
                        Some(_) => keep_programs(session, graph, (programs, lowerings)),
                        None => release_stopped(session, interrupt, (programs, lowerings)),
                    }
                    keep_values(session, graph, keys, found);
                    release_stopped(session, interrupt, done);
                    return None;
                }
            }
        }
        keep_values(session, graph, keys, found);
        let evaluated = entry_result?;
        timer.stats.steps = steps;
        if !interrupt.fired() {
            write_persisted(
                session,
                keys,
                loaded.persisted.as_ref(),
                true,
                &mut timer.stats,
            );
        }
        timer.done("eval");
        keep_programs(session, graph, (programs, lowerings));
        let document = select_document(exports, &bindings, evaluated, request.field.as_deref());
        let export_limits = eval::export::ExportLimits {
            max_depth: limits.max_depth,
            max_output_bytes: limits.max_output_bytes,
            interrupt: interrupt.clone(),
            ticks: eval::export::Ticks::default(),
        };
        let module_key = graph.modules.get(entry).map_or("", |it| it.key.as_str());
        let fragments = match (&session.caches, keys.get(entry).and_then(Option::as_deref)) {
            (Some(caches), Some(keys)) if request.format == Format::Json => {
                done.modules.get(&file).map(|values| {
                    engine::render::RenderCache::new(
                        values,
                        keys,
                        &caches.rendered,
                        limits.max_depth,
                        caches
                            .kept_renders
                            .take(&engine::render::kept_key(module_key, limits.max_depth)),
                    )
                })
            }
            _ => None,
        };
        // Big lists render in chunks on the pool, each chunk's text allocated once at its
        // estimate. Measured on 2 cores (services-100000, medians of 10, 2026-12-03): 26.7
        // ms against 40.6 ms on one thread after a parallel evaluation (when the chunks grew
        // by doubling, it was 79 ms against 38). Not with a session's rendered records
        // (`fragments`): their text is copied, not written, and the chunks' estimates would
        // walk the values again (after a one-let edit of 10,000, 2.6 ms instead of 0.7).
        // Not in the threaded wasm build: measured there, compute 10,000 in Chromium gained
        // nothing (1.72-1.73x over one thread either way).
        let render_splitter = match session.par.threads() {
            Threads::Parallel => engine::eval::ListSplitter::new(&session.par),
            Threads::Auto if cfg!(not(target_arch = "wasm32")) && fragments.is_none() => {
                engine::eval::ListSplitter::new(&session.par)
            }
            _ => None,
        };
        let rendered = match request.format {
            Format::Json => eval::export::json::render_split(
                &document,
                &export_limits,
                fragments
                    .as_ref()
                    .map(|it| it as &dyn eval::export::json::Fragments),
                render_splitter
                    .as_ref()
                    .map(|it| it as &dyn eval::machine::Splitter),
            ),
            Format::Yaml => eval::export::yaml::render(&document, &export_limits),
            Format::Toml => eval::export::toml::render(&document, &export_limits),
            Format::Text => {
                eval::export::text::render_limited(&document, &export_limits).map(|mut it| {
                    it.push('\n');
                    it
                })
            }
        };
        if let (Some(caches), Some(fragments)) = (&session.caches, fragments) {
            caches.kept_renders.keep(
                &engine::render::kept_key(module_key, limits.max_depth),
                fragments.into_kept(),
            );
        }
        timer.done("render");
        release_stopped(session, interrupt, (done, document));
        match rendered {
            Ok(text) => Some(text),
            Err(kind) => {
                diagnostics.push(eval::EvalError::new(kind, file, body_span).to_diagnostic());
                None
            }
        }
    }

    /// The document (LANGUAGE.md 11.1): the trailing expression, else the record of the
    /// exported value bindings that are neither functions nor overloaded, in declaration
    /// order; or the selected binding (11.2).
    /// The document (LANGUAGE.md 11.2) from the entry's values, its exports (`None`: no
    /// export list) and its top-level bindings with whether each belongs in the document.
    fn select_document(
        exports: Option<Vec<(syntax::ast::Name, syntax::ast::Name)>>,
        bindings: &[(syntax::ast::Name, bool)],
        evaluated: eval::Evaluated,
        field: Option<&str>,
    ) -> eval::Value {
        let globals = evaluated.globals;
        if let Some(field) = field {
            return globals
                .into_iter()
                .find(|(name, _)| name.as_str() == field)
                .map_or(eval::Value::Unit, |(_, value)| value);
        }
        if let Some(body) = evaluated.body {
            return body;
        }
        // The first alias of each exported name.
        let exports = exports.map(|list| {
            let mut map: crate::hash::HashMap<syntax::ast::Name, syntax::ast::Name> =
                crate::hash::HashMap::default();
            for (name, alias) in list {
                map.entry(name).or_insert(alias);
            }
            map
        });
        // By name, the first binding of each name (a map: documents have 100,000s of fields).
        let mut by_name: crate::hash::HashMap<String, eval::Value> =
            crate::hash::HashMap::default();
        for (name, value) in globals {
            by_name.entry(name.to_string()).or_insert(value);
        }
        let mut fields: Vec<(String, eval::Value)> = Vec::new();
        for (name, _) in bindings.iter().filter(|(_, in_document)| *in_document) {
            let exported_as = match &exports {
                None => Some(name.to_string()),
                Some(map) => map.get(name).map(|alias| alias.to_string()),
            };
            let Some(exported_as) = exported_as else {
                continue;
            };
            if let Some(value) = by_name.remove(name.as_str()) {
                fields.push((exported_as, value));
            }
        }
        eval::Value::record(
            fields
                .iter()
                .map(|(name, value)| (name.as_str(), value.clone()))
                .collect(),
        )
    }

    pub(super) fn binder_types(
        session: &Session,
        (entry, at): (&str, Option<crate::source::Span>),
        interrupt: &eval::Interrupt,
        sources: &mut SourceMap,
    ) -> Vec<types::BinderType> {
        let graph = session.load(entry, sources, interrupt);
        let Some(idx) = graph
            .entry
            .filter(|_| !diagnostic::has_errors(&graph.diagnostics))
        else {
            release_stopped(session, interrupt, graph);
            return Vec::new();
        };
        let keys = let_keys(session, &graph, sources);
        let body_keys = body_keys(session, &graph, sources);
        let engine = session.engine_for(Some(interrupt));
        let (checked, diagnostics) =
            modules::check_graph(engine, &graph, false, &keys, &body_keys, &Vec::new());
        let types = if crate::interrupt::is_cancelled(&diagnostics) {
            Vec::new()
        } else {
            // The lets' schemes as the check just cached them (pure lets only), by index.
            let known = |decl: u32| {
                let key = keys
                    .get(idx)?
                    .as_ref()?
                    .get(decl as usize)
                    .copied()
                    .flatten()?;
                session.caches.as_ref()?.schemes.get(&key)
            };
            let focus = at.map(|at| types::decl::BinderFocus { at, known: &known });
            modules::binder_types(&graph, idx, &checked, focus.as_ref())
        };
        release_stopped(session, interrupt, checked);
        release_stopped(session, interrupt, graph);
        types
    }

    pub(super) fn typecheck(
        session: &Session,
        entry: &str,
        interrupt: &eval::Interrupt,
        sources: &mut SourceMap,
        timer: &mut PhaseTimer<'_>,
    ) -> (Vec<BindingType>, Vec<Diagnostic>) {
        let mut graph = session.load(entry, sources, interrupt);
        timer.stats.source_bytes += graph.source_bytes;
        timer.done("parse");
        let mut diagnostics = std::mem::take(&mut graph.diagnostics);
        let mut types = Vec::new();
        if !diagnostic::has_errors(&diagnostics) {
            let keys = let_keys(session, &graph, sources);
            let body_keys = body_keys(session, &graph, sources);
            let module_keys = match session.store {
                Some(_) => modules::module_keys(&graph, sources),
                None => Vec::new(),
            };
            let persisted = read_persisted(session, &graph, &module_keys, &mut timer.stats);
            let engine = session.engine_for(Some(interrupt));
            let (checked, mut check_diagnostics) = modules::check_graph(
                engine,
                &graph,
                false,
                &keys,
                &body_keys,
                persisted.as_ref().map_or(&Vec::new(), |it| &it.stored),
            );
            diagnostics.append(&mut check_diagnostics);
            if !diagnostic::has_errors(&diagnostics) && !interrupt.fired() {
                note_checks(persisted.as_ref(), &graph, &checked, &mut timer.stats);
                write_persisted(session, &keys, persisted.as_ref(), false, &mut timer.stats);
            }
            timer.done("check");
            let entry = graph
                .entry
                .and_then(|idx| checked.get(idx))
                .and_then(Option::as_ref)
                // Stopped: no types (printing the schemes so far took longer than the stop).
                .filter(|_| !crate::interrupt::is_cancelled(&diagnostics));
            if let Some(entry) = entry {
                types = entry
                    .checked
                    .bindings
                    .iter()
                    .map(|it| BindingType {
                        name: it.name.to_string(),
                        ty: it.scheme.to_string(),
                    })
                    .collect();
            }
            release_stopped(session, interrupt, checked);
        }
        finish(&graph, &mut diagnostics);
        if crate::interrupt::is_cancelled(&diagnostics) {
            // No partial answer: the types of a stopped check are not all there.
            types.clear();
        }
        release_stopped(session, interrupt, graph);
        (types, diagnostics)
    }
}
