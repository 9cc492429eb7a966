// Hand-written types of the `ligature` npm package: every entry point (`ligature`,
// `ligature/web`, `ligature/web-threads`, `ligature/node`, `ligature/edge`) exports this API.
//
// Program errors are values (`{ ok: false, diagnostics }`); malformed options, and data that
// is not JSON (`schema.validate`), are values too (`{ ok: false, diagnostics: [], error }`),
// except in `new Session(badOptions)`, which throws a TypeError. An argument of the wrong
// type (a source, type name or path that is not a string) is a TypeError, thrown by the
// synchronous methods and a rejected promise from the async functions; so is any call on a
// freed Session or Schema.
//
// Self-contained: no DOM lib and no @types/node needed (`lib: ["es2022"]` is enough); the
// host types below are structural stand-ins for URL, Response and WebAssembly.Module.

/** Anything with an `href`, such as a `URL`. */
export interface UrlLike {
  readonly href: string;
}

/** A fetch `Response` (or a promise of one). */
export interface ResponseLike {
  readonly url: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A compiled `WebAssembly.Module` (typed structurally: the DOM lib is not required). */
export type WasmModuleLike = object;

/** Where the module is: `{ wasmURL }` (esbuild-wasm's name) or `{ module }`, or the value alone. */
export type InitInput =
  | { wasmURL: string | UrlLike }
  | { module: WasmModuleLike | ArrayBuffer | ArrayBufferView | ResponseLike | PromiseLike<ResponseLike> }
  | string
  | UrlLike
  | ResponseLike
  | PromiseLike<ResponseLike>
  | ArrayBuffer
  | ArrayBufferView
  | WasmModuleLike
  | { module_or_path: string | UrlLike | ResponseLike | PromiseLike<ResponseLike> | ArrayBuffer | ArrayBufferView | WasmModuleLike };

/** Which build this entry runs. */
export const variant: 'web' | 'web-threads' | 'node' | 'edge';

/**
 * Instantiates the module (idempotent). Web entries fetch `ligature_bg.wasm` next to the
 * glue by default (bundlers that follow `new URL(…, import.meta.url)`, such as Vite and
 * webpack, emit it); `{ wasmURL }` says where it is served (esbuild: copy the file),
 * `{ module }` gives it compiled or as bytes. Node and edge entries are instantiated on
 * import and ignore the argument. An invalid argument rejects with a TypeError.
 */
export function init(input?: InitInput): Promise<void>;

/**
 * Instantiates the module synchronously from its bytes or a compiled module (`{ module }`);
 * does nothing once instantiated (always on Node and edge). Throws a TypeError for a URL
 * (that needs the async `init`). Browsers refuse to compile large modules synchronously on a
 * page's main thread: pass a compiled `WebAssembly.Module` there, or call it in a worker.
 */
export function initSync(input?: { module: WasmModuleLike | ArrayBuffer | ArrayBufferView } | WasmModuleLike | ArrayBuffer | ArrayBufferView): void;

/**
 * Starts the threaded build's pool of `threads` Web Workers (an integer from 1 to 65,536;
 * default `navigator.hardwareConcurrency`) and resolves to its size; resolves to 1 on the
 * other builds. Works unbundled and under any bundler (the pool's workers start from a Blob
 * URL). Rejects with a message saying why when the pool cannot start: no Web Workers, no
 * SharedArrayBuffer (the context is not cross-origin isolated), a worker that fails or does
 * not start within 30 s; never hangs.
 */
export function initThreadPool(threads?: number): Promise<number>;

/** Non-negative integers; a limit given as `undefined` keeps its default. */
export interface Limits {
  /** Evaluation steps (default 1e9), up to 2^64 - 1. */
  maxSteps?: number | bigint;
  /**
   * Nested function applications, up to 2^32 - 1. Default **1,000** in these wasm builds
   * (the language's default, and the CLI's, is 10,000): wasm frames run on the host's JS
   * stack (about 1 MB under V8: Node, Web Workers, workerd), not on the module's 8 MiB
   * shadow stack, and it holds about 1,900 nested calls (2,800 in tail position). Raised
   * past what the host holds, a call still ends as R3006 ("the host's stack ran out").
   */
  maxDepth?: number | bigint;
  /** Size of the rendered document in bytes (default unlimited), up to 2^64 - 1. */
  maxOutputBytes?: number | bigint;
}

/** Where a missing module comes from: its text, or null/undefined when there is none. */
export type LoadModule = (path: string) => string | null | undefined | Promise<string | null | undefined>;

/**
 * The options of `evaluate` (one-shot or a Session's). Each call accepts exactly the options it
 * uses (see TypecheckOptions, CompileOptions, ValidateOptions, SessionOptions); any other key
 * is a usage error naming it. A key whose value is `undefined` counts as absent.
 */
export interface EvaluateOptions {
  /** Extra files by path (imports resolve against them), overlaying a session's files. */
  files?: Record<string, string>;
  /** Path of the entry (default `main.lig`); the source argument is stored there. */
  entry?: string;
  /**
   * Called for every file the loader looks for and cannot find; all missing files of one
   * round are requested concurrently, rounds repeat until nothing new is missing, then the
   * pure phases run. A rejected promise is `{ ok: false, error }`.
   */
  loadModule?: LoadModule;
  /** Render this top-level binding instead of the document. */
  field?: string;
  /** Output format of `text` (default json; `value` is only set for json). */
  format?: 'json' | 'yaml' | 'toml' | 'text';
  limits?: Limits;
  /** `1`: run on the calling thread. More: the pool of `initThreadPool` (its size is fixed when it starts); absent: parallel when the work is big enough. */
  threads?: number;
  /**
   * Wall-clock limit of the whole call in milliseconds, from the moment it is made: loading
   * (`loadModule` included), parsing, checking, evaluation and rendering. Past it: R3008.
   */
  timeoutMs?: number;
  /**
   * Register roots (the CLI's `--register-path`): directories of the file map in which
   * `import corp.net` finds the register `corp` (its files come from `files` or `loadModule`
   * like any other). One-shot calls and `new Session`; `std` needs none.
   */
  registerRoots?: string[];
  /**
   * Remote modules (LANGUAGE.md 9.10) the caller has already fetched, by URL: a host that
   * fetches by itself gives them here (the one-shot calls fetch what is missing, a Session
   * call without `loadModule` fetches nothing: an import with no answer is M4008).
   */
  remote?: Record<string, RemoteAnswer>;
  /**
   * Stops the call with R3008 when aborted. In-thread, the signal is seen before the call
   * starts and while `loadModule` runs (the wasm itself blocks the thread, so an abort
   * raised on it waits): to stop a call at any point, use `ligature/worker`.
   */
  signal?: AbortSignalLike;
}

/** One remote module for `remote`: its body, or why there is none (M4008, M4009). */
export type RemoteAnswer = { body: Uint8Array } | { failed: string } | { integrity: string };

/** Pins of remote modules: URL → `'sha256-<64 lower-case hex digits>'` (a `ligature.lock`'s `[remote]` table). */
export type Lock = Record<string, string>;

/**
 * The options of the one-shot calls for remote modules: each remote import is fetched with
 * the host's `fetch` (or `loadModule`, when given), its body checked against its pin in
 * `lock` (M4009 on a mismatch); a URL without a pin is pinned in the result's `lock`, or is
 * M4009 when `frozen`.
 */
export interface RemoteOptions {
  lock?: Lock;
  frozen?: boolean;
}

/** An `AbortSignal` (typed structurally: the DOM lib is not required). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** @deprecated The name of `EvaluateOptions` before each call had its own options. */
export type Options = EvaluateOptions;

/** The options of `typecheck`: checking renders nothing and evaluates nothing. */
export type TypecheckOptions = Pick<EvaluateOptions, 'files' | 'entry' | 'loadModule' | 'threads' | 'timeoutMs' | 'signal' | 'remote' | 'registerRoots'>;

/** The options of `new Session(…)`: the session's files and defaults. */
export type SessionOptions = Pick<EvaluateOptions, 'files' | 'limits' | 'threads' | 'registerRoots'>;

export interface Label {
  file: string;
  start: number;
  end: number;
  line: number;
  column: number;
  message: string;
  primary: boolean;
}

/** The same JSON as the CLI's `--error-format json`. */
export interface Diagnostic {
  /** `E1001`, `T2004`, `R3008`, `M4001`, `C5004`… */
  code: string;
  /** `parse/unexpected-token`, `eval/timeout`… */
  name: string;
  severity: 'error' | 'warning' | 'note' | 'bug';
  message: string;
  file: string;
  /** Byte offsets in the file. */
  start: number;
  end: number;
  /** 1-based line and column (columns count Unicode scalar values). */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  /** 1-based column in UTF-16 code units (what JS strings and editors index). */
  utf16Column: number;
  labels: Label[];
  notes: string[];
  help: string | null;
  /** The diagnostic rendered as the CLI prints it. */
  rendered: string;
}

export interface CacheStats {
  entries: number;
  hits: number;
  misses: number;
  evictions: number;
}

/** Measurements of a run, filled when it fails too (the CLI's `--stats` prints the same). */
export interface Stats {
  /** `[phase, milliseconds]` in pipeline order, up to the phase that stopped a failed run. */
  phases: [string, number][];
  source_bytes: number;
  /** Evaluation steps spent, in the canonical order; after R3007, the whole budget. */
  steps: number;
  workers: number;
  /** Top-level values taken from the session's cache. */
  reused: number;
  /** The session's caches: parsed chunks, let schemes, let values, rendered records. */
  cache: { chunks: CacheStats; schemes: CacheStats; values: CacheStats; rendered: CacheStats } | null;
}

/** A usage error: malformed options, data that is not JSON, or a failing `loadModule`. */
export interface UsageError {
  ok: false;
  diagnostics: [];
  error: string;
}

export type EvalResult =
  // `value`: for json, the document as a JS value, `JSON.parse(text)` made on first read
  // (a caller that only wants `text` never pays for it); null for the other formats.
  // `lock`: the pins after a one-shot call that met remote modules or was given a `lock`.
  | { ok: true; value: unknown; text: string; stats: Stats; diagnostics: Diagnostic[]; lock?: Lock }
  // `stats` is null when the host's stack ran out inside the wasm (an R3006 made by the glue).
  | { ok: false; value?: undefined; text: null; stats: Stats | null; diagnostics: Diagnostic[]; error?: undefined; lock?: Lock }
  | UsageError;

export type CheckResult =
  | { ok: boolean; types: { name: string; type: string }[]; stats: Stats | null; diagnostics: Diagnostic[]; error?: undefined; lock?: Lock }
  | UsageError;

/** One violation of a validated document; `path` is a JSON path like `$.services[3].port`. */
export interface Violation {
  path: string;
  /** C5004 (shape), C5005 or C5003 (refinement). */
  code: string;
  message: string;
}

export type ValidateResult =
  | { ok: boolean; errors: Violation[]; diagnostics: Diagnostic[]; error?: undefined; lock?: Lock }
  | (UsageError & { errors?: [] });

export interface DataOptions {
  /**
   * `value` (default): `data` is a JS value in JSON's data model (plain objects, arrays,
   * strings, finite numbers, booleans, null; a cycle, a function, a symbol, a BigInt,
   * `undefined`, a Map or a Date is a usage error naming its path); `json`/`yaml`: `data` is
   * text the core parses.
   */
  dataFormat?: 'value' | 'json' | 'yaml';
  /** As in `EvaluateOptions`. */
  timeoutMs?: number;
  signal?: AbortSignalLike;
}

/** A compiled validation schema: check any number of documents without recompiling. */
export interface Schema {
  /** Throws a TypeError once the schema is freed. */
  validate(data: unknown, options?: DataOptions | null): ValidateResult;
  /** Releases the wasm memory of the schema; a second call does nothing. */
  free(): void;
}

export type CompileResult =
  | { ok: true; schema: Schema; diagnostics: []; lock?: Lock }
  | { ok: false; schema?: undefined; diagnostics: Diagnostic[]; error?: undefined; lock?: Lock }
  | UsageError;

/** The options of `compileSchema`; `entry` is where the schema source is stored (default `schema.lig`). */
export type CompileOptions = Pick<EvaluateOptions, 'files' | 'entry' | 'limits' | 'loadModule' | 'timeoutMs' | 'signal' | 'remote' | 'registerRoots'>;

/** The options of the one-shot `validate`. */
export type ValidateOptions = CompileOptions & DataOptions;

/**
 * Evaluates `source` (stored at `options.entry`, default `main.lig`), or the entry file when null.
 * A one-shot call keeps no caches (`stats.cache` is null); re-evaluating edits incrementally is
 * what a `Session` is for.
 */
export function evaluate(source: string | null, options?: (EvaluateOptions & RemoteOptions) | null): Promise<EvalResult>;

/** Type-checks like `evaluate` selects its entry. */
export function typecheck(source: string | null, options?: (TypecheckOptions & RemoteOptions) | null): Promise<CheckResult>;

/**
 * Checks `data` against the type `typeName` declared in (or imported by) the Ligature
 * `schemaSource`, refinements included. Plain calls keep the last 16 compiled schemas.
 */
export function validate(
  data: unknown,
  schemaSource: string,
  typeName: string,
  options?: (ValidateOptions & RemoteOptions) | null,
): Promise<ValidateResult>;

/** Compiles a schema once for many `schema.validate(data)` calls. */
export function compileSchema(schemaSource: string, typeName: string, options?: (CompileOptions & RemoteOptions) | null): Promise<CompileResult>;

/** The result of `format`: the laid-out text, or the syntax errors that prevent it. */
export type FormatResult =
  | { ok: true; text: string; diagnostics: [] }
  | { ok: false; text: null; diagnostics: Diagnostic[]; error?: undefined }
  | (UsageError & { text: null });

/**
 * `source` in the canonical layout of `ligature fmt` (comments and blank-line groups kept;
 * lines of at most `width`, default 100). A source with syntax errors is never laid out:
 * `ok: false` with its diagnostics. The layout is checked to parse to the same tree.
 */
export function format(source: string, options?: { width?: number } | null): Promise<FormatResult>;

/** A place in a document: field names, list indexes and constructor names, as in the JSON output. */
export type DocumentPath = ReadonlyArray<string | number>;

/** Where a value of the document comes from in the source (byte offsets; 1-based lines; UTF-16 columns). */
export interface SourceRange {
  start: number;
  end: number;
  line: number;
  utf16Column: number;
  endLine: number;
  endUtf16Column: number;
  /** How many steps of the path were followed (fewer when the rest depends on evaluation). */
  matched: number;
}

/**
 * Where the value at `path` of `source`'s document comes from: a record field's expression,
 * a list element, a constructor's payload, through names, `let ... in` and calls of helpers
 * defined in the file; `null` when the first step names nothing of the file (or the source
 * is nested too deeply for the host's stack). The file is parsed, never evaluated (an
 * editor's "output to source").
 */
export function locate(source: string, path: DocumentPath): Promise<SourceRange | null>;

/** A refinement that an export could not express exactly (kept as text in the output). */
export interface Unexpressed {
  /** The exported type (a requested type, or a union's `$defs` entry) it belongs to. */
  type: string;
  /** Where inside that type: `$`, `$.port`, `$.items[]`, `$.Some`. */
  path: string;
  /** The refinement as written: `where x % 2 == 0`, `with startsWith("https://")`. */
  refinement: string;
}

/** The options of `toJsonSchema` and `toTypeScript`: `entry` is where `source` is stored (default `main.lig`). */
export type TypesOptions = TypecheckOptions;

export type JsonSchemaResult =
  | { ok: true; schema: Record<string, unknown>; unexpressed: Unexpressed[]; diagnostics: Diagnostic[] }
  | { ok: false; schema?: undefined; unexpressed: []; diagnostics: Diagnostic[]; error?: undefined }
  | (UsageError & { unexpressed: [] });

export type TypeScriptResult =
  | { ok: true; typescript: string; unexpressed: Unexpressed[]; diagnostics: Diagnostic[] }
  | { ok: false; typescript?: undefined; unexpressed: []; diagnostics: Diagnostic[]; error?: undefined }
  | (UsageError & { unexpressed: [] });

/**
 * The JSON Schema (draft 2020-12) of types of `source`: one name, several (all in `$defs`),
 * or null for every type the file declares (and exports). It accepts exactly the JSON that
 * `validate` accepts, except for the refinements listed in `unexpressed` (kept as
 * `x-ligature-refinement`), where it accepts more.
 */
export function toJsonSchema(
  source: string | null,
  typeNames: string | string[] | null,
  options?: TypesOptions | null,
): Promise<JsonSchemaResult>;

/**
 * TypeScript declarations of the types of `source` (generic over their parameters,
 * refinements as JSDoc) and of its document (`export default`, a named export per binding).
 */
export function toTypeScript(source: string | null, options?: TypesOptions | null): Promise<TypeScriptResult>;

/**
 * A long-lived context (the playground's): files, limits and caches kept across calls.
 * After `free()`, every method and `stats` throw a TypeError ("this Session was freed");
 * a second `free()` does nothing.
 */
export class Session {
  /** Throws a TypeError for malformed options. */
  constructor(options?: SessionOptions | null);
  setFile(path: string, text: string): void;
  /** Whether the file existed. */
  removeFile(path: string): boolean;
  evaluate(source: string | null, options: Omit<EvaluateOptions, 'registerRoots'> & { loadModule: LoadModule }): Promise<EvalResult>;
  evaluate(source: string | null, options?: Omit<EvaluateOptions, 'loadModule' | 'registerRoots'> | null): EvalResult;
  typecheck(source: string | null, options: Omit<TypecheckOptions, 'registerRoots'> & { loadModule: LoadModule }): Promise<CheckResult>;
  typecheck(source: string | null, options?: Omit<TypecheckOptions, 'loadModule' | 'registerRoots'> | null): CheckResult;
  /** Compiles a schema against the session's files (no `loadModule`: synchronous). */
  compileSchema(schemaSource: string, typeName: string, options?: Omit<CompileOptions, 'loadModule' | 'registerRoots'> | null): CompileResult;
  /** `toJsonSchema` against the session's files (no `loadModule`: synchronous). */
  toJsonSchema(source: string | null, typeNames: string | string[] | null, options?: Omit<TypesOptions, 'loadModule' | 'threads' | 'registerRoots'> | null): JsonSchemaResult;
  /** `toTypeScript` against the session's files (no `loadModule`: synchronous). */
  toTypeScript(source: string | null, options?: Omit<TypesOptions, 'loadModule' | 'threads' | 'registerRoots'> | null): TypeScriptResult;
  /** The stats of the last `evaluate` or `typecheck` (null before the first). */
  readonly stats: Stats | null;
  /** Releases the session's wasm memory; a second call does nothing. */
  free(): void;
}
