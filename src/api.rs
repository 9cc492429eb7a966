//! The facade: the one surface the CLI, the wasm bindings and the tests use.
//!
//! A [`Session`] owns the options and a [`FileSystem`]; [`Session::evaluate`] and
//! [`Session::typecheck`] run the pipeline (read, parse, check, lower, evaluate, render) on
//! an entry file and return plain outputs: the rendered document and/or diagnostics,
//! together with the [`SourceMap`] needed to render those diagnostics. Only this module's
//! DTOs are serialisable ([`DiagnosticDto`]); the same JSON is the CLI's
//! `--error-format json` and the JS API's shape.
//!
//! The library reads no clock: a host that wants a timeout sets the `cancel` flag of the
//! request from its own timer, and evaluation stops with R3008.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::Serialize;

use crate::diagnostic::{self, Code, Diagnostic};
use crate::engine;
use crate::eval;
use crate::loader::{FileSystem, FsError};
use crate::par::Par;
pub use crate::par::Threads;
use crate::source::{FileId, SourceMap, Span};
use crate::syntax;
use crate::types;
use crate::types::env::Env;

pub use crate::loader::MemoryFs;

/// Evaluation limits (LANGUAGE.md section 12). Defaults never bother a normal config.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_steps: u64,
    pub max_depth: u32,
    pub max_output_bytes: Option<u64>,
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
    /// Sequential, parallel, or parallel when the work is big enough (the default).
    pub threads: Threads,
    /// Size of a dedicated worker pool (`--workers N`); `None`: one worker per core.
    pub workers: Option<usize>,
    /// Entries per session cache (parsed modules, schemes, values); 0 disables caching,
    /// which suits a one-shot run (the CLI).
    pub cache_capacity: usize,
}

/// Default entries per session cache: room for the lets of a large configuration.
pub const DEFAULT_CACHE_CAPACITY: usize = 200_000;

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
    /// The session's cache counters after the call.
    pub cache: Option<engine::CachesStats>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            limits: Limits::default(),
            clock: None,
            threads: Threads::Auto,
            workers: None,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
        }
    }
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
        if let Some(clock) = self.clock {
            let now = clock.now_ms();
            self.stats.phases.push((phase, now - self.last));
            self.last = now;
        }
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
    /// clock). For hosts that cannot run a timer beside evaluation (single-threaded wasm);
    /// evaluation polls the clock and stops with R3008.
    pub timeout_ms: Option<f64>,
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

/// Renders diagnostics as text with source excerpts.
pub fn render_diagnostics(diagnostics: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    diagnostic::render::render(diagnostics, sources, color)
}

/// A long-lived evaluation context: options plus the host's file system.
pub struct Session {
    options: Options,
    fs: Arc<dyn FileSystem>,
    par: Par,
    /// Parsed modules, schemes and values kept across calls (`None` when
    /// `Options::cache_capacity` is 0).
    caches: Option<Arc<engine::Caches>>,
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
        }
    }

    /// Counters of the session's caches since it was made (`None` without caches).
    pub fn cache_stats(&self) -> Option<engine::CachesStats> {
        self.caches.as_deref().map(engine::Caches::stats)
    }

    /// The same session (options, worker pool, caches) over another file system: how a
    /// host that edits files (the playground, an editor) keeps its caches across edits.
    pub fn with_file_system(&self, fs: Arc<dyn FileSystem>) -> Session {
        Session {
            options: self.options.clone(),
            fs,
            par: self.par.clone(),
            caches: self.caches.clone(),
        }
    }

    /// Empties the caches (the counters stay).
    pub fn clear_caches(&self) {
        if let Some(caches) = &self.caches {
            caches.clear();
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Parses, checks and evaluates `request.entry`, rendering the document in
    /// `request.format`.
    pub fn evaluate(&self, request: &EvalRequest) -> EvalOutput {
        let mut sources = SourceMap::default();
        let mut timer = PhaseTimer::new(self.options.clock.as_ref());
        timer.stats.workers = self.par.workers();
        let (text, mut diagnostics) = pipeline::evaluate(self, request, &mut sources, &mut timer);
        timer.stats.cache = self.cache_stats();
        diagnostic::sort_and_dedup(&mut diagnostics, |file| file.0);
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
        let mut sources = SourceMap::default();
        let mut timer = PhaseTimer::new(self.options.clock.as_ref());
        timer.stats.workers = self.par.workers();
        let (types, mut diagnostics) = pipeline::typecheck(self, entry, &mut sources, &mut timer);
        timer.stats.cache = self.cache_stats();
        diagnostic::sort_and_dedup(&mut diagnostics, |file| file.0);
        CheckOutput {
            types,
            diagnostics,
            sources: Arc::new(sources),
            stats: timer.stats,
        }
    }

    /// Reads and decodes one source file, registering it in `sources`. Invalid UTF-8 is
    /// E1006 at the first bad byte; a missing file is M4001.
    fn load_source(&self, path: &str, sources: &mut SourceMap) -> Result<FileId, Diagnostic> {
        match self.fs.read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Ok(sources.add(path, text)),
                Err(err) => {
                    let offset = err.utf8_error().valid_up_to() as u32;
                    let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
                    let file = sources.add(path, text);
                    Err(Diagnostic::new(
                        Code::E1006,
                        "invalid UTF-8 in source file",
                        file,
                        Span::new(offset, offset + 1),
                    ))
                }
            },
            Err(err) => {
                let file = sources.add(path, "");
                let message = match err {
                    FsError::NotFound => format!("cannot find file `{path}`"),
                    FsError::Other(reason) => format!("cannot read file `{path}`: {reason}"),
                };
                Err(Diagnostic::new(Code::M4001, message, file, Span::default()))
            }
        }
    }
}

mod pipeline {
    //! The phases in order; each stops the run when it reports an error.

    use super::*;

    pub(super) fn parse_entry(
        session: &Session,
        entry: &str,
        sources: &mut SourceMap,
        timer: &mut PhaseTimer<'_>,
    ) -> Result<(FileId, Arc<syntax::ast::Module>), Vec<Diagnostic>> {
        let file = session.load_source(entry, sources).map_err(|it| vec![it])?;
        let text = sources
            .get(file)
            .map(|it| it.text.clone())
            .unwrap_or_else(|| Arc::from(""));
        timer.stats.source_bytes += text.len() as u64;
        timer.done("read");
        let key = session.caches.as_ref().map(|caches| {
            let mut h = std::hash::DefaultHasher::new();
            std::hash::Hash::hash(&(entry, &*text), &mut h);
            (caches, std::hash::Hasher::finish(&h))
        });
        if let Some((caches, key)) = key {
            if let Some(module) = caches.modules.get(&key) {
                timer.done("parse");
                return Ok((file, module));
            }
        }
        let parsed = syntax::parse(file, &text);
        timer.done("parse");
        if diagnostic::has_errors(&parsed.diagnostics) {
            return Err(parsed.diagnostics);
        }
        let module = Arc::new(parsed.module);
        if let Some((caches, key)) = key {
            caches.modules.insert(key, module.clone());
        }
        Ok((file, module))
    }

    /// The content keys of the module's lets, when the session caches.
    fn let_keys(
        session: &Session,
        module: &syntax::ast::Module,
        text: &str,
    ) -> Option<Vec<Option<engine::keys::Key>>> {
        session
            .caches
            .as_ref()
            .map(|_| engine::keys::let_keys(module, text, 0))
    }

    pub(super) fn evaluate(
        session: &Session,
        request: &EvalRequest,
        sources: &mut SourceMap,
        timer: &mut PhaseTimer<'_>,
    ) -> (Option<String>, Vec<Diagnostic>) {
        let (file, module) = match parse_entry(session, &request.entry, sources, timer) {
            Err(diagnostics) => return (None, diagnostics),
            Ok(it) => it,
        };
        let text = sources
            .get(file)
            .map(|it| it.text.clone())
            .unwrap_or_else(|| Arc::from(""));
        let keys = let_keys(session, &module, &text);
        let scheme_cache = match (&session.caches, &keys) {
            (Some(caches), Some(keys)) => Some(engine::check::SchemeCache {
                keys,
                schemes: &caches.schemes,
            }),
            _ => None,
        };
        let (checked, _) =
            engine::check::check_module(&session.par, file, &module, Env::prelude(), scheme_cache);
        timer.done("check");
        let mut diagnostics = checked.diagnostics;
        if diagnostic::has_errors(&diagnostics) {
            return (None, diagnostics);
        }
        // `--field NAME` must name a top-level value binding (LANGUAGE.md 11.2).
        if let Some(field) = &request.field {
            if !checked.bindings.iter().any(|it| it.name.as_str() == field) {
                let span = Span::default();
                diagnostics.push(Diagnostic::new(
                    Code::T2003,
                    format!("no top-level value binding named `{field}`"),
                    file,
                    span,
                ));
                return (None, diagnostics);
            }
        }
        let found = match (&session.caches, &keys) {
            (Some(caches), Some(keys)) => engine::eval::ValueCache::prefetch(keys, &caches.values),
            _ => Vec::new(),
        };
        let skip = |i: u32| found.get(i as usize).is_some_and(Option::is_some);
        let program =
            match eval::lower::lower_with(&module, &checked.elaboration, file, &text, &skip) {
                Ok(program) => program,
                Err(diagnostic) => {
                    diagnostics.push(*diagnostic);
                    return (None, diagnostics);
                }
            };
        timer.done("lower");
        let limits = &session.options.limits;
        let eval_limits = eval::Limits {
            max_steps: limits.max_steps,
            max_depth: limits.max_depth,
            max_output_bytes: limits.max_output_bytes,
        };
        let value_cache = match (&session.caches, &keys) {
            (Some(caches), Some(keys)) => Some(engine::eval::ValueCache {
                keys,
                values: &caches.values,
                found: &found,
            }),
            _ => None,
        };
        timer.stats.reused = found.iter().filter(|it| it.is_some()).count() as u64;
        let evaluated = match engine::eval::run(
            &session.par,
            &program,
            &eval_limits,
            request.cancel.clone(),
            value_cache,
        ) {
            Ok(it) => it,
            Err(err) => {
                diagnostics.push(err.to_diagnostic());
                return (None, diagnostics);
            }
        };
        timer.stats.steps = evaluated.steps;
        timer.done("eval");
        let document = select_document(
            &module,
            &checked.bindings,
            evaluated,
            request.field.as_deref(),
        );
        let export_limits = eval::export::ExportLimits {
            max_depth: limits.max_depth,
            max_output_bytes: limits.max_output_bytes,
        };
        let rendered = match request.format {
            Format::Json => eval::export::json::render(&document, &export_limits),
            Format::Yaml => eval::export::yaml::render(&document, &export_limits),
            Format::Toml => eval::export::toml::render(&document, &export_limits),
            Format::Text => {
                eval::export::text::render_limited(&document, &export_limits).map(|mut it| {
                    it.push('\n');
                    it
                })
            }
        };
        timer.done("render");
        match rendered {
            Ok(text) => (Some(text), diagnostics),
            Err(kind) => {
                let span = module.body.as_ref().map_or(Span::default(), |it| it.span);
                diagnostics.push(eval::EvalError::new(kind, file, span).to_diagnostic());
                (None, diagnostics)
            }
        }
    }

    /// The document (LANGUAGE.md 11.1): the trailing expression, else the record of the
    /// exported value bindings that are neither functions nor overloaded, in declaration
    /// order; or the selected binding (11.2).
    fn select_document(
        module: &syntax::ast::Module,
        bindings: &[types::BindingInfo],
        evaluated: eval::Evaluated,
        field: Option<&str>,
    ) -> eval::Value {
        let mut globals = evaluated.globals;
        if let Some(field) = field {
            return globals
                .into_iter()
                .find(|(name, _)| name.as_str() == field)
                .map_or(eval::Value::Unit, |(_, value)| value);
        }
        if let Some(body) = evaluated.body {
            return body;
        }
        let exports = export_names(module);
        let mut fields: Vec<(String, eval::Value)> = Vec::new();
        for binding in bindings.iter().filter(|it| it.in_document) {
            let exported_as = match &exports {
                None => Some(binding.name.to_string()),
                Some(list) => list
                    .iter()
                    .find(|(name, _)| *name == binding.name.as_str())
                    .map(|(_, alias)| alias.clone()),
            };
            let Some(exported_as) = exported_as else {
                continue;
            };
            if let Some(idx) = globals.iter().position(|(name, _)| *name == binding.name) {
                let (_, value) = globals.swap_remove(idx);
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

    /// `None` when the module has no export declaration (everything is exported); else the
    /// exported value names with the name they are exported as.
    fn export_names(module: &syntax::ast::Module) -> Option<Vec<(String, String)>> {
        use syntax::ast::DeclKind;
        let mut any = false;
        let mut names = Vec::new();
        for decl in &module.decls {
            match &decl.kind {
                DeclKind::Export(items) => {
                    any = true;
                    for item in items {
                        names.push((item.name.name.to_string(), item.local().name.to_string()));
                    }
                }
                DeclKind::Let(let_decl) if decl.exported => {
                    any = true;
                    names.push((
                        let_decl.name.name.to_string(),
                        let_decl.name.name.to_string(),
                    ));
                }
                DeclKind::Type(_) | DeclKind::Class(_) if decl.exported => any = true,
                _ => {}
            }
        }
        any.then_some(names)
    }

    pub(super) fn typecheck(
        session: &Session,
        entry: &str,
        sources: &mut SourceMap,
        timer: &mut PhaseTimer<'_>,
    ) -> (Vec<BindingType>, Vec<Diagnostic>) {
        match parse_entry(session, entry, sources, timer) {
            Err(diagnostics) => (Vec::new(), diagnostics),
            Ok((file, module)) => {
                let text = sources
                    .get(file)
                    .map(|it| it.text.clone())
                    .unwrap_or_else(|| Arc::from(""));
                let keys = let_keys(session, &module, &text);
                let scheme_cache = match (&session.caches, &keys) {
                    (Some(caches), Some(keys)) => Some(engine::check::SchemeCache {
                        keys,
                        schemes: &caches.schemes,
                    }),
                    _ => None,
                };
                let (checked, _) = engine::check::check_module(
                    &session.par,
                    file,
                    &module,
                    Env::prelude(),
                    scheme_cache,
                );
                timer.done("check");
                let bindings = checked
                    .bindings
                    .iter()
                    .map(|it| BindingType {
                        name: it.name.to_string(),
                        ty: it.scheme.clone(),
                    })
                    .collect();
                (bindings, checked.diagnostics)
            }
        }
    }
}
