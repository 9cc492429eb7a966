//! The WebAssembly binding layer: a thin client of [`crate::api`] (STYLE.md section 8).
//!
//! - [`Session`] is a `#[wasm_bindgen]` class owned by JS: options plus a [`MemoryFs`] built
//!   from a JS object of files, edited with `setFile`/`removeFile`.
//! - Options and results cross the boundary as serde DTOs (serde-wasm-bindgen); the
//!   diagnostics are `api`'s [`DiagnosticDto`]s, the same JSON as the CLI's
//!   `--error-format json`.
//! - Errors are values: every call returns `{ ok: false, diagnostics, error? }` rather than
//!   throwing; `error` carries a usage error (malformed options), `diagnostics` the program's.
//! - The host clock is `performance.now`, so `timeoutMs` works without timer threads.
//! - `missingFiles` reports the files the loader looked for and did not find, so that the
//!   JS glue can fetch them (`loadModule`, concurrently) before the pure phases run.
//! - [`Schema`] is a compiled validation schema (`compileSchema`), reused per document.
//! - `toJsonSchema`/`toTypeScript` return `api::Session::export_types`'s output.
//! - With the `threads` feature, `initThreadPool` (wasm-bindgen-rayon) is exported too.
//!
//! This layer never sequences phases: it only converts and calls `api`. The TypeScript types
//! are hand-written in `pkg/index.d.ts`.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::api::{
    self, Cancellation, DataFormat, DiagnosticDto, EntryRequest, EvalRequest, Format, Limits,
    MemoryFs, Options, SchemaRequest, Stats, Threads, Violation,
};
use crate::loader::remote::{Answered, WithFetcher};
use crate::loader::{FetchError, Fetcher, FileSystem, FsError};

#[cfg(feature = "threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Entry file name when the caller gives a source but no `entry`.
const DEFAULT_ENTRY: &str = "main.lig";

/// The default `maxDepth` of the wasm builds (the language's is 10,000). Wasm frames live on
/// the host's stack, not in linear memory (the 8 MiB shadow stack of wasm.mk is not what runs
/// out): V8 gives about 1 MB (Node's main thread, Web Workers, workerd), which holds about
/// 1,900 nested Ligature calls (measured 2026-12-07, Node 20; 2,800 in tail position). At
/// 1,000 the evaluator reports R3006 itself, with its call chain, well before the host would
/// abort the call. A caller may raise it where the host's stack is bigger (docs/wasm.md).
/// pkg/index.d.ts and pkg/README.md state this default (pkg/test/limits.test.js).
const WASM_MAX_DEPTH: u32 = 1_000;

/// The flag that stops the call running in this instance, for `ligature/worker`: the page
/// that owns the worker sets it (`Atomics.store` into the threaded build's shared memory,
/// at [`cancel_flag`]'s address) to end the call with R3008, and clears it before it sends
/// the next call, one at a time (pkg/worker.js). Every call polls it, like a host's cancel
/// flag natively; nothing in this instance ever sets it.
static CANCEL: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// The address of [`CANCEL`] in linear memory (a byte: 0 runs, 1 stops). It lives as long
/// as the instance.
#[wasm_bindgen(js_name = cancelFlag)]
pub fn cancel_flag() -> u32 {
    Arc::as_ptr(&CANCEL) as usize as u32
}

#[wasm_bindgen]
extern "C" {
    /// The host's monotonic clock in milliseconds (browsers, workers, Node, workerd).
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Runs when the module is instantiated (on every thread of the threaded build): a Rust
/// panic, which the core never means to raise, is logged with its message instead of an
/// anonymous `unreachable`.
#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

/// `limits` as JS passes it; absent fields keep the defaults.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LimitsDto {
    max_steps: Option<u64>,
    max_depth: Option<u32>,
    max_output_bytes: Option<u64>,
}

impl LimitsDto {
    fn apply(self, limits: Limits) -> Limits {
        Limits {
            max_steps: self.max_steps.unwrap_or(limits.max_steps),
            max_depth: self.max_depth.unwrap_or(limits.max_depth),
            max_output_bytes: self.max_output_bytes.or(limits.max_output_bytes),
        }
    }
}

/// The options of `new Session(…)`, `evaluate(…)` and `typecheck(…)` in one shape; the
/// constructor uses `files`, `limits` and `threads`, a call may give all of them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OptionsDto {
    files: Option<BTreeMap<String, String>>,
    entry: Option<String>,
    field: Option<String>,
    format: Option<String>,
    limits: Option<LimitsDto>,
    /// `1` runs on the calling thread; more use the pool of `initThreadPool`, whose size
    /// is fixed when it starts (absent: parallel when the work is big enough).
    threads: Option<u32>,
    timeout_ms: Option<f64>,
    /// Register roots (the CLI's `--register-path`): directories of the call's file map,
    /// whose files `loadModule` supplies like any other.
    register_roots: Option<Vec<String>>,
    /// `validate`: `"value"` (a JS value, the default), `"json"` or `"yaml"` (text).
    data_format: Option<String>,
    /// Remote modules the JS glue has fetched (or failed to), by URL: the answers of the
    /// loader's fetcher ([`Answered`]). Set by bind.js, not by users (`lock`, `frozen` and
    /// `fetch` are the user's options, handled in JS).
    remote: Option<BTreeMap<String, RemoteDto>>,
}

/// One remote module as the JS glue has it: its body, or why there is none.
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RemoteDto {
    body: Option<serde_bytes::ByteBuf>,
    /// M4008: the request failed (status, network, size), with the reason.
    failed: Option<String>,
    /// M4009: the body does not match its pin, or the URL is unpinned under `frozen`.
    integrity: Option<String>,
}

impl RemoteDto {
    fn answer(&self) -> Result<Vec<u8>, FetchError> {
        match (&self.body, &self.integrity, &self.failed) {
            (_, Some(why), _) => Err(FetchError::Integrity(why.clone())),
            (_, None, Some(why)) => Err(FetchError::Failed(why.clone())),
            (Some(body), None, None) => Ok(body.to_vec()),
            (None, None, None) => Err(FetchError::Failed("the host gave no body".to_string())),
        }
    }
}

/// The fetcher of one call: the glue's answers, and the URLs it has none for.
fn answered(options: &OptionsDto) -> Answered {
    Answered::new(
        options
            .remote
            .iter()
            .flatten()
            .map(|(url, it)| (url.clone(), it.answer()))
            .collect(),
    )
}

impl OptionsDto {
    fn from_js(value: JsValue) -> Result<OptionsDto, String> {
        if value.is_undefined() || value.is_null() {
            return Ok(OptionsDto::default());
        }
        check_keys(&value, OPTION_KEYS, "option")?;
        if let Ok(limits) = js_sys::Reflect::get(&value, &"limits".into()) {
            check_keys(&limits, LIMIT_KEYS, "limit")?;
        }
        let options: OptionsDto = serde_wasm_bindgen::from_value(value).map_err(|err| {
            // The error is a JS `Error`; its text starts with "Error: ".
            let text = err.to_string();
            format!(
                "invalid options: {}",
                text.strip_prefix("Error: ").unwrap_or(&text)
            )
        })?;
        options.format()?;
        options.data_format()?;
        if options.threads == Some(0) {
            return Err("invalid options: `threads` must be at least 1".to_string());
        }
        if options.timeout_ms.is_some_and(|it| it.is_nan() || it < 0.0) {
            return Err("invalid options: `timeoutMs` must be a non-negative number".to_string());
        }
        Ok(options)
    }

    /// `None` for a JS value, else the text format.
    fn data_format(&self) -> Result<Option<DataFormat>, String> {
        match self.data_format.as_deref() {
            None | Some("value") => Ok(None),
            Some("json") => Ok(Some(DataFormat::Json)),
            Some("yaml") => Ok(Some(DataFormat::Yaml)),
            Some(other) => Err(format!(
                "invalid options: unknown dataFormat `{other}` (value, json, yaml)"
            )),
        }
    }

    fn format(&self) -> Result<Format, String> {
        match &self.format {
            None => Ok(Format::Json),
            Some(text) => Format::parse(text).ok_or_else(|| {
                format!("invalid options: unknown format `{text}` (json, yaml, toml, text)")
            }),
        }
    }
}

const OPTION_KEYS: &[&str] = &[
    "files",
    "entry",
    "field",
    "format",
    "limits",
    "threads",
    "timeoutMs",
    "dataFormat",
    "remote",
    "registerRoots",
];
const LIMIT_KEYS: &[&str] = &["maxSteps", "maxDepth", "maxOutputBytes"];

/// Rejects unknown keys (serde-wasm-bindgen only looks up the known ones), so that a
/// misspelt `timeoutMs` or an unsupported option is an error rather than silently ignored.
fn check_keys(value: &JsValue, known: &[&str], what: &str) -> Result<(), String> {
    if !value.is_object() {
        return Ok(()); // not an object: deserialisation reports the type error
    }
    for key in js_sys::Object::keys(value.unchecked_ref::<js_sys::Object>()).iter() {
        let key = key.as_string().unwrap_or_default();
        if !known.contains(&key.as_str()) {
            return Err(format!(
                "invalid options: unknown {what} `{key}` (known: {})",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

/// The host's clock: `performance.now`, in the page, worker or edge runtime.
fn host_clock() -> api::Clock {
    api::Clock(Arc::new(performance_now))
}

/// What stops a call: the worker client's flag ([`CANCEL`]) and the call's `timeoutMs`
/// (what remains of it when the JS glue spent some loading modules).
fn cancellation(options: &OptionsDto) -> Cancellation {
    Cancellation {
        cancel: Some(Arc::clone(&CANCEL)),
        timeout_ms: options.timeout_ms,
        started_ms: None,
    }
}

/// The JS result of `evaluate` before `value` is attached.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EvalResult<'a> {
    ok: bool,
    text: Option<&'a str>,
    stats: &'a Stats,
    diagnostics: Vec<DiagnosticDto>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckResult<'a> {
    ok: bool,
    types: &'a [api::BindingType],
    stats: &'a Stats,
    diagnostics: Vec<DiagnosticDto>,
}

#[derive(Serialize)]
struct UsageError<'a> {
    ok: bool,
    diagnostics: [(); 0],
    error: &'a str,
}

/// `{ ok: false, diagnostics: [], error }` for a usage error (malformed options).
fn usage_error(message: &str) -> JsValue {
    to_js(&UsageError {
        ok: false,
        diagnostics: [],
        error: message,
    })
}

/// Serialises a result DTO as plain JS objects. Serialisation of these DTOs cannot fail
/// in practice; if it did, the caller still gets an error value, built by hand.
fn to_js<T: Serialize>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    match value.serialize(&serializer) {
        Ok(js) => js,
        Err(err) => {
            let object = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&object, &"ok".into(), &JsValue::FALSE);
            let _ = js_sys::Reflect::set(&object, &"diagnostics".into(), &js_sys::Array::new());
            let _ = js_sys::Reflect::set(&object, &"error".into(), &err.to_string().into());
            object.into()
        }
    }
}

/// A long-lived evaluation context owned by JS: a file map and default limits. The
/// playground keeps one and edits its files as the user types.
///
/// Every method takes `&self` (state behind mutexes that are never held while the core
/// runs): should a call ever be aborted by the host (a JS stack overflow unwinds through
/// wasm without running Rust code), wasm-bindgen's borrow flag of a `&mut self` method would
/// stay set and make the object unusable; a shared borrow left behind blocks nothing.
#[wasm_bindgen]
pub struct Session {
    files: Mutex<Arc<MemoryFs>>,
    /// The core session: options and the caches that make re-evaluation incremental.
    core: api::Session,
    last_stats: Mutex<Option<Stats>>,
}

/// Locks a mutex, ignoring poisoning: the guarded values stay valid whatever happened.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[wasm_bindgen]
impl Session {
    /// `new Session({ files?, limits?, threads? })`. Malformed options throw a `TypeError`
    /// (a constructor has no result value to carry them); program errors never throw.
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<Session, JsValue> {
        let options = OptionsDto::from_js(options).map_err(|it| js_sys::TypeError::new(&it))?;
        Ok(Session::from_options(&options, true))
    }

    /// Adds or replaces the file at `path`.
    #[wasm_bindgen(js_name = setFile)]
    pub fn set_file(&self, path: &str, text: &str) {
        Arc::make_mut(&mut lock(&self.files)).insert(path, text.as_bytes().to_vec());
    }

    /// Removes the file at `path`; returns whether it existed.
    #[wasm_bindgen(js_name = removeFile)]
    pub fn remove_file(&self, path: &str) -> bool {
        Arc::make_mut(&mut lock(&self.files)).remove(path)
    }

    /// Evaluates `source` (as the entry file, `options.entry` or `main.lig`) or, when
    /// `source` is null, the session's file `options.entry` (default `main.lig`).
    /// Returns `{ ok: true, value, text, stats, diagnostics } | { ok: false, diagnostics, … }`.
    pub fn evaluate(&self, source: Option<String>, options: JsValue) -> JsValue {
        let options = match OptionsDto::from_js(options) {
            Ok(it) => it,
            Err(message) => return usage_error(&message),
        };
        let format = match options.format() {
            Ok(it) => it,
            Err(message) => return usage_error(&message),
        };
        let (session, entry) = self.call_session(source, &options);
        let request = EvalRequest {
            entry,
            field: options.field.clone(),
            format,
            cancel: Some(Arc::clone(&CANCEL)),
            timeout_ms: options.timeout_ms,
        };
        let output = session.evaluate(&request);
        let ok = output.ok();
        let result = EvalResult {
            ok,
            text: output.text.as_deref().filter(|_| ok),
            stats: &output.stats,
            diagnostics: api::diagnostics_to_dtos(&output.diagnostics, &output.sources),
        };
        // `value` (the document as a JS value for JSON) is added by the JS glue, lazily:
        // `JSON.parse(text)` on first use (pkg/bind.js), which large documents that only
        // want `text` never pay.
        let js = to_js(&result);
        *lock(&self.last_stats) = Some(output.stats);
        js
    }

    /// Type-checks like `evaluate` selects its entry. Returns
    /// `{ ok, types: [{ name, type }], diagnostics, stats }`.
    pub fn typecheck(&self, source: Option<String>, options: JsValue) -> JsValue {
        let options = match OptionsDto::from_js(options) {
            Ok(it) => it,
            Err(message) => return usage_error(&message),
        };
        let (session, entry) = self.call_session(source, &options);
        let output = session.typecheck_with(&EntryRequest {
            entry,
            cancellation: cancellation(&options),
        });
        let result = CheckResult {
            ok: output.ok(),
            types: &output.types,
            stats: &output.stats,
            diagnostics: api::diagnostics_to_dtos(&output.diagnostics, &output.sources),
        };
        let js = to_js(&result);
        *lock(&self.last_stats) = Some(output.stats);
        js
    }

    /// The stats of the last `evaluate` or `typecheck` (null before the first).
    #[wasm_bindgen(getter)]
    pub fn stats(&self) -> JsValue {
        lock(&self.last_stats).as_ref().map_or(JsValue::NULL, to_js)
    }

    /// The paths the loader looked for and did not find while reading the entry and its
    /// imports (no checking), in the order asked: what `loadModule` should fetch. Returns
    /// `{ ok, missing, error? }`.
    #[wasm_bindgen(js_name = missingFiles)]
    pub fn missing_files(&self, source: Option<String>, options: JsValue) -> JsValue {
        let options = match OptionsDto::from_js(options) {
            Ok(it) => it,
            Err(message) => return usage_error(&message),
        };
        let entry = options.entry.as_deref().unwrap_or(DEFAULT_ENTRY);
        let recording = Arc::new(RecordingFs {
            inner: self.local_files(source.map(|it| (it, entry)), &options),
            misses: Mutex::new(Vec::new()),
            remote: answered(&options),
        });
        let _ = self
            .core
            .with_file_system(Arc::clone(&recording) as Arc<dyn FileSystem>)
            .load_only(entry);
        let missing = std::mem::take(&mut *lock(&recording.misses));
        let remote = recording.remote.misses();
        to_js(&Missing {
            ok: true,
            missing,
            remote,
        })
    }

    /// Compiles the type `typeName` of the schema `source` (with the session's files for
    /// its imports) once, for any number of documents: `{ ok: true, schema } |
    /// { ok: false, diagnostics }`.
    #[wasm_bindgen(js_name = compileSchema)]
    pub fn compile_schema(&self, source: String, type_name: &str, options: JsValue) -> JsValue {
        let options = match OptionsDto::from_js(options) {
            Ok(it) => it,
            Err(message) => return usage_error(&message),
        };
        let entry = options.entry.clone();
        let entry = entry.unwrap_or_else(|| SCHEMA_ENTRY.to_string());
        let options = OptionsDto {
            entry: Some(entry.clone()),
            ..options
        };
        let (session, entry) = self.call_session(Some(source), &options);
        let request = SchemaRequest {
            schema: entry,
            type_name: type_name.to_string(),
            cancellation: cancellation(&options),
        };
        match session.compile_schema_with(&request) {
            Ok(schema) => {
                let js = to_js(&Compiled {
                    ok: true,
                    diagnostics: Vec::new(),
                });
                let _ = js_sys::Reflect::set(&js, &"schema".into(), &Schema(schema).into());
                js
            }
            Err(err) => to_js(&Compiled {
                ok: false,
                diagnostics: api::diagnostics_to_dtos(&err.diagnostics, &err.sources),
            }),
        }
    }
}

#[wasm_bindgen]
impl Session {
    /// The JSON Schema of the types `typeNames` (an array of names; empty: every type the
    /// entry declares): `{ ok, schema, unexpressed, diagnostics }`.
    #[wasm_bindgen(js_name = toJsonSchema)]
    pub fn to_json_schema(
        &self,
        source: Option<String>,
        type_names: JsValue,
        options: JsValue,
    ) -> JsValue {
        self.export_types(source, type_names, options, api::TypesEmit::JsonSchema)
    }

    /// TypeScript declarations of the entry's types and document: `{ ok, typescript,
    /// unexpressed, diagnostics }`.
    #[wasm_bindgen(js_name = toTypeScript)]
    pub fn to_type_script(&self, source: Option<String>, options: JsValue) -> JsValue {
        self.export_types(source, JsValue::NULL, options, api::TypesEmit::TypeScript)
    }
}

/// The JS result of `toJsonSchema` and `toTypeScript`. The schema crosses as JSON text
/// (`schemaText`, parsed by pkg/bind.js): its 64-bit bounds are not JS numbers exactly.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TypesResult<'a> {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    typescript: Option<&'a str>,
    unexpressed: &'a [api::Unexpressed],
    diagnostics: Vec<DiagnosticDto>,
}

impl Session {
    fn export_types(
        &self,
        source: Option<String>,
        type_names: JsValue,
        options: JsValue,
        emit: api::TypesEmit,
    ) -> JsValue {
        let options = match OptionsDto::from_js(options) {
            Ok(it) => it,
            Err(message) => return usage_error(&message),
        };
        let type_names: Vec<String> = if type_names.is_null() || type_names.is_undefined() {
            Vec::new()
        } else {
            match serde_wasm_bindgen::from_value(type_names) {
                Ok(it) => it,
                Err(_) => return usage_error("invalid type names: expected an array of strings"),
            }
        };
        let (session, entry) = self.call_session(source, &options);
        let output = session.export_types(&api::TypesRequest {
            entry,
            type_names,
            emit,
            cancellation: cancellation(&options),
        });
        to_js(&TypesResult {
            ok: output.ok(),
            schema_text: output.schema.as_ref().map(|it| it.as_str().to_string()),
            typescript: output.typescript.as_deref(),
            unexpressed: &output.unexpressed,
            diagnostics: api::diagnostics_to_dtos(&output.diagnostics, &output.sources),
        })
    }
}

/// One-shot `toJsonSchema(source, typeNames, options)`.
#[wasm_bindgen(js_name = toJsonSchema)]
pub fn to_json_schema(source: Option<String>, type_names: JsValue, options: JsValue) -> JsValue {
    match OptionsDto::from_js(options.clone()) {
        Ok(parsed) => {
            Session::from_options(&parsed, false).to_json_schema(source, type_names, options)
        }
        Err(message) => usage_error(&message),
    }
}

/// One-shot `toTypeScript(source, options)`.
#[wasm_bindgen(js_name = toTypeScript)]
pub fn to_type_script(source: Option<String>, options: JsValue) -> JsValue {
    match OptionsDto::from_js(options.clone()) {
        Ok(parsed) => Session::from_options(&parsed, false).to_type_script(source, options),
        Err(message) => usage_error(&message),
    }
}

/// Entry file name of a schema given as source.
const SCHEMA_ENTRY: &str = "schema.lig";

#[derive(Serialize)]
struct Missing {
    ok: bool,
    missing: Vec<String>,
    /// Remote modules (URLs) asked for that the call's `remote` has no answer for.
    remote: Vec<String>,
}

#[derive(Serialize)]
struct Compiled {
    ok: bool,
    diagnostics: Vec<DiagnosticDto>,
}

#[derive(Serialize)]
struct Validated<'a> {
    ok: bool,
    errors: &'a [Violation],
    diagnostics: [(); 0],
}

/// A compiled validation schema (`compileSchema`): checks documents against one type,
/// refinements included, without re-checking the schema.
#[wasm_bindgen]
pub struct Schema(api::Schema);

#[wasm_bindgen]
impl Schema {
    /// Validates `data`: a JS value, or JSON/YAML text with `{ dataFormat: 'json' | 'yaml' }`.
    /// Returns `{ ok, errors: [{ path, code, message }], diagnostics: [] }`, the paths
    /// like `$.services[3].port`.
    pub fn validate(&self, data: JsValue, options: JsValue) -> JsValue {
        let options = match OptionsDto::from_js(options) {
            Ok(it) => it,
            Err(message) => return usage_error(&message),
        };
        // A schema has no session: the deadline is on the host's clock directly.
        let interrupt = cancellation(&options).interrupt(Some(&host_clock()));
        let errors = match (options.data_format(), data.as_string()) {
            (Err(message), _) => return usage_error(&message),
            (Ok(Some(format)), Some(text)) => self.0.check_text_until(&text, format, &interrupt),
            (Ok(Some(_)), None) => {
                return usage_error("invalid data: `dataFormat` json or yaml needs a string")
            }
            (Ok(None), _) => match serde_wasm_bindgen::from_value::<api::Data>(data) {
                Ok(value) => self.0.check_value_until(&value.to_json(), &interrupt),
                Err(err) => return usage_error(&format!("invalid data: {err}")),
            },
        };
        to_js(&Validated {
            ok: errors.is_empty(),
            errors: &errors,
            diagnostics: [],
        })
    }
}

/// The session's files seen by the loader, remembering every path it asked for and did
/// not find (`missingFiles`), and every remote module its fetcher has no answer for.
/// Forwards every method of [`FileSystem`].
struct RecordingFs {
    inner: Arc<dyn FileSystem>,
    misses: Mutex<Vec<String>>,
    remote: Answered,
}

impl RecordingFs {
    fn miss(&self, path: &str) {
        let mut misses = lock(&self.misses);
        if !misses.iter().any(|it| it == path) {
            misses.push(path.to_string());
        }
    }
}

impl FileSystem for RecordingFs {
    fn read(&self, path: &str) -> Result<Vec<u8>, FsError> {
        let res = self.inner.read(path);
        if res.is_err() {
            self.miss(path);
        }
        res
    }

    fn exists(&self, path: &str) -> bool {
        let found = self.inner.exists(path);
        if !found {
            self.miss(path);
        }
        found
    }

    fn is_dir(&self, path: &str) -> bool {
        self.inner.is_dir(path)
    }

    fn resolve_links(&self, path: &str) -> Option<String> {
        self.inner.resolve_links(path)
    }

    fn fetcher(&self) -> Option<&dyn Fetcher> {
        Some(&self.remote)
    }
}

impl Session {
    /// A session from JS options; `caches` for a long-lived `Session`, not for the one-shot
    /// functions, whose session answers one call and could reuse nothing (as the CLI's).
    fn from_options(options: &OptionsDto, caches: bool) -> Session {
        let mut files = MemoryFs::new();
        for (path, text) in options.files.iter().flatten() {
            files.insert(path, text.as_bytes().to_vec());
        }
        let defaults = Limits {
            max_depth: WASM_MAX_DEPTH,
            ..Limits::default()
        };
        let limits = options.limits.unwrap_or_default().apply(defaults);
        let capacity = if caches {
            api::DEFAULT_CACHE_CAPACITY
        } else {
            0
        };
        let core = Options {
            register_roots: options.register_roots.clone().unwrap_or_default(),
            ..core_options(limits, options.threads, capacity)
        };
        Session {
            files: Mutex::new(Arc::new(files)),
            core: api::Session::new(core, Arc::new(MemoryFs::new())),
            last_stats: Mutex::new(None),
        }
    }

    /// The session's files overlaid with the call's `files` and `source` (at `entry`), and
    /// the remote modules of its `remote`. The file map is shared, not copied, unless the
    /// call adds files.
    fn call_files(
        &self,
        source: Option<(String, &str)>,
        options: &OptionsDto,
    ) -> Arc<dyn FileSystem> {
        let files = self.local_files(source, options);
        if options.remote.is_none() {
            return files;
        }
        Arc::new(WithFetcher {
            base: files,
            fetcher: answered(options),
        })
    }

    /// [`Session::call_files`] without the remote modules.
    fn local_files(&self, source: Option<(String, &str)>, options: &OptionsDto) -> Arc<MemoryFs> {
        let mut files = Arc::clone(&lock(&self.files));
        if options.files.is_some() || source.is_some() {
            let overlay = Arc::make_mut(&mut files);
            for (path, text) in options.files.iter().flatten() {
                overlay.insert(path, text.as_bytes().to_vec());
            }
            if let Some((source, entry)) = source {
                overlay.insert(entry, source.into_bytes());
            }
        }
        files
    }

    /// The `api::Session` for one call over [`Session::call_files`]: the session's own
    /// (keeping its caches) unless the call overrides the limits.
    fn call_session(&self, source: Option<String>, options: &OptionsDto) -> (api::Session, String) {
        let entry = options
            .entry
            .clone()
            .unwrap_or_else(|| DEFAULT_ENTRY.to_string());
        let files = self.call_files(source.map(|it| (it, entry.as_str())), options);
        let session = match (options.limits, options.threads) {
            (None, None) => self.core.with_file_system(files),
            (limits, threads) => {
                let core = self.core.options();
                let limits = limits.unwrap_or_default().apply(core.limits);
                let mut options = core_options(limits, threads, core.cache_capacity);
                if threads.is_none() {
                    options.threads = core.threads;
                }
                options.register_roots = core.register_roots.clone();
                api::Session::new(options, files)
            }
        };
        (session, entry)
    }
}

/// The core options of a JS session: the host's clock (`timeoutMs`, phase times); `threads:
/// 1` keeps every phase on the calling thread.
fn core_options(limits: Limits, threads: Option<u32>, cache_capacity: usize) -> Options {
    Options {
        limits,
        cache_capacity,
        clock: Some(host_clock()),
        threads: match threads {
            Some(1) => Threads::Sequential,
            _ => Threads::Auto,
        },
        ..Options::default()
    }
}

/// One-shot `evaluate(source, options)`: a fresh session from `options`.
#[wasm_bindgen]
pub fn evaluate(source: Option<String>, options: JsValue) -> JsValue {
    match OptionsDto::from_js(options.clone()) {
        Ok(parsed) => Session::from_options(&parsed, false).evaluate(source, options),
        Err(message) => usage_error(&message),
    }
}

/// One-shot `typecheck(source, options)`.
#[wasm_bindgen]
pub fn typecheck(source: Option<String>, options: JsValue) -> JsValue {
    match OptionsDto::from_js(options.clone()) {
        Ok(parsed) => Session::from_options(&parsed, false).typecheck(source, options),
        Err(message) => usage_error(&message),
    }
}

/// One-shot `compileSchema(source, typeName, options)`.
#[wasm_bindgen(js_name = compileSchema)]
pub fn compile_schema(source: String, type_name: &str, options: JsValue) -> JsValue {
    match OptionsDto::from_js(options.clone()) {
        Ok(parsed) => {
            Session::from_options(&parsed, false).compile_schema(source, type_name, options)
        }
        Err(message) => usage_error(&message),
    }
}

/// One-shot `missingFiles(source, options)`.
#[wasm_bindgen(js_name = missingFiles)]
pub fn missing_files(source: Option<String>, options: JsValue) -> JsValue {
    match OptionsDto::from_js(options.clone()) {
        Ok(parsed) => Session::from_options(&parsed, false).missing_files(source, options),
        Err(message) => usage_error(&message),
    }
}

/// `locate(source, path)`: where the value at `path` (field names, list indexes and
/// constructor names, as in the JSON rendering) of `source`'s document comes from, or
/// `null` ([`api::locate`]).
#[wasm_bindgen]
pub fn locate(source: &str, path: JsValue) -> JsValue {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Step {
        Index(u32),
        Key(String),
    }
    let Ok(steps) = serde_wasm_bindgen::from_value::<Vec<Step>>(path) else {
        return usage_error("locate: `path` must be an array of strings and non-negative integers");
    };
    let path: Vec<api::PathKey> = steps
        .into_iter()
        .map(|step| match step {
            Step::Index(idx) => api::PathKey::Index(idx as usize),
            Step::Key(key) => api::PathKey::Key(key),
        })
        .collect();
    to_js(&api::locate(source, &path))
}

/// `format(source, width)`: the canonical layout of `source` (`ligature fmt`), `{ ok, text,
/// diagnostics }` ([`api::format_to_dto`]); the diagnostics name the file `main.lig`.
#[wasm_bindgen]
pub fn format(source: &str, width: u32) -> JsValue {
    to_js(&api::format_to_dto(source, width as usize, DEFAULT_ENTRY))
}
