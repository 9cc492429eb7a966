// Hand-written types of the `ligature` npm package: every entry point (`ligature`,
// `ligature/web`, `ligature/web-threads`, `ligature/node`, `ligature/edge`) exports this API.
// Program errors are values (`{ ok: false, diagnostics }`), malformed options are values too
// (`{ ok: false, diagnostics: [], error }`); only `new Session(badOptions)` throws (a TypeError).

/** Which build this entry runs. */
export const variant: 'web' | 'web-threads' | 'node' | 'edge';

/**
 * Instantiates the module (idempotent). Web entries accept what wasm-bindgen's `init`
 * accepts: a URL, a Response, bytes or a compiled `WebAssembly.Module`; Node and edge
 * entries are instantiated on import and ignore the argument.
 */
export function init(input?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module): Promise<void>;

/**
 * Starts the threaded build's pool of `threads` Web Workers (default
 * `navigator.hardwareConcurrency`) and resolves to its size; resolves to 1 on the other builds.
 */
export function initThreadPool(threads?: number): Promise<number>;

export interface Limits {
  /** Evaluation steps (default 1e9). */
  maxSteps?: number | bigint;
  /** Nested function applications (default 10,000; see docs/wasm.md for the hosts' stacks). */
  maxDepth?: number;
  /** Size of the rendered document in bytes (default unlimited). */
  maxOutputBytes?: number | bigint;
}

/** Where a missing module comes from: its text, or null/undefined when there is none. */
export type LoadModule = (path: string) => string | null | undefined | Promise<string | null | undefined>;

export interface Options {
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
  /** Wall-clock limit of the evaluation in milliseconds (the host's `performance.now`): R3008. */
  timeoutMs?: number;
}

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

export interface Stats {
  /** `[phase, milliseconds]` in pipeline order. */
  phases: [string, number][];
  source_bytes: number;
  steps: number;
  workers: number;
  /** Top-level values taken from the session's cache. */
  reused: number;
  /** The session's caches: parsed chunks, let schemes, let values, rendered records. */
  cache: { chunks: CacheStats; schemes: CacheStats; values: CacheStats; rendered: CacheStats } | null;
}

/** A usage error: malformed options or a failing `loadModule`. */
export interface UsageError {
  ok: false;
  diagnostics: [];
  error: string;
}

export type EvalResult =
  // `value`: for json, the document as a JS value, `JSON.parse(text)` made on first read
  // (a caller that only wants `text` never pays for it); null for the other formats.
  | { ok: true; value: unknown; text: string; stats: Stats; diagnostics: Diagnostic[] }
  // `stats` is null when the host's stack ran out inside the wasm (an R3006 made by the glue).
  | { ok: false; value?: undefined; text: null; stats: Stats | null; diagnostics: Diagnostic[]; error?: undefined }
  | UsageError;

export type CheckResult =
  | { ok: boolean; types: { name: string; type: string }[]; stats: Stats | null; diagnostics: Diagnostic[]; error?: undefined }
  | UsageError;

/** One violation of a validated document; `path` is a JSON path like `$.services[3].port`. */
export interface Violation {
  path: string;
  /** C5004 (shape), C5005 or C5003 (refinement). */
  code: string;
  message: string;
}

export type ValidateResult =
  | { ok: boolean; errors: Violation[]; diagnostics: Diagnostic[]; error?: undefined }
  | (UsageError & { errors?: [] });

export interface ValidateOptions {
  /** `value` (default): `data` is a JS value; `json`/`yaml`: `data` is text the core parses. */
  dataFormat?: 'value' | 'json' | 'yaml';
}

/** A compiled validation schema: check any number of documents without recompiling. */
export interface Schema {
  validate(data: unknown, options?: ValidateOptions): ValidateResult;
  /** Releases the wasm memory of the schema. */
  free(): void;
}

export type CompileResult =
  | { ok: true; schema: Schema; diagnostics: [] }
  | { ok: false; schema?: undefined; diagnostics: Diagnostic[]; error?: undefined }
  | UsageError;

export type CompileOptions = Pick<Options, 'files' | 'entry' | 'limits' | 'loadModule'>;

/**
 * Evaluates `source` (stored at `options.entry`, default `main.lig`), or the entry file when null.
 * A one-shot call keeps no caches (`stats.cache` is null); re-evaluating edits incrementally is
 * what a `Session` is for.
 */
export function evaluate(source: string | null, options?: Options): Promise<EvalResult>;

/** Type-checks like `evaluate` selects its entry. */
export function typecheck(source: string | null, options?: Options): Promise<CheckResult>;

/**
 * Checks `data` against the type `typeName` declared in (or imported by) the Ligature
 * `schemaSource`, refinements included. Plain calls keep the last 16 compiled schemas.
 */
export function validate(
  data: unknown,
  schemaSource: string,
  typeName: string,
  options?: CompileOptions & ValidateOptions,
): Promise<ValidateResult>;

/** Compiles a schema once for many `schema.validate(data)` calls. */
export function compileSchema(schemaSource: string, typeName: string, options?: CompileOptions): Promise<CompileResult>;

/** A long-lived context (the playground's): files, limits and caches kept across calls. */
export class Session {
  /** Throws a TypeError for malformed options. */
  constructor(options?: Pick<Options, 'files' | 'limits' | 'threads'> | null);
  setFile(path: string, text: string): void;
  /** Whether the file existed. */
  removeFile(path: string): boolean;
  evaluate(source: string | null, options: Options & { loadModule: LoadModule }): Promise<EvalResult>;
  evaluate(source: string | null, options?: Omit<Options, 'loadModule'>): EvalResult;
  typecheck(source: string | null, options: Options & { loadModule: LoadModule }): Promise<CheckResult>;
  typecheck(source: string | null, options?: Omit<Options, 'loadModule'>): CheckResult;
  /** Compiles a schema against the session's files (no `loadModule`: synchronous). */
  compileSchema(schemaSource: string, typeName: string, options?: Omit<CompileOptions, 'loadModule'>): CompileResult;
  /** The stats of the last `evaluate` or `typecheck` (null before the first). */
  readonly stats: Stats | null;
  /** Releases the session's wasm memory. */
  free(): void;
}
