// Types of `ligature/worker`: the package's API in a Worker, as promises (see index.d.ts for
// the options and results, which are the same).
import type {
  AbortSignalLike,
  CheckResult,
  CompileOptions,
  DataOptions,
  Diagnostic,
  DocumentPath,
  EvalResult,
  EvaluateOptions,
  FormatResult,
  LoadModule,
  SessionOptions,
  JsonSchemaResult,
  SourceRange,
  Stats,
  TypeScriptResult,
  TypesOptions,
  TypecheckOptions,
  UrlLike,
  UsageError,
  ValidateOptions,
  ValidateResult,
  WasmModuleLike,
} from './index.js';

export type * from './index.js';

export interface WorkerOptions {
  /**
   * Threads of the worker's pool: more than 1 runs the threaded build, which needs a
   * cross-origin-isolated page (else `createWorker` rejects). Default:
   * `navigator.hardwareConcurrency` when isolated, else 1 (the single-threaded build).
   */
  threads?: number;
  /** Where that build's `ligature_bg.wasm` is served (default: next to the package's files). */
  wasmURL?: string | UrlLike;
  /** The module compiled, or its bytes, instead of `wasmURL`. */
  module?: WasmModuleLike | ArrayBuffer | ArrayBufferView;
  /**
   * The worker script, `dist/<build>/engine-worker.js`, served from a URL, for pages whose
   * Content-Security-Policy forbids `blob:` workers. Default: started from a Blob URL.
   */
  workerURL?: string | UrlLike;
  /**
   * Ends the start: `createWorker` rejects (with the signal's reason as `cause`) and the
   * worker, if started, is ended. Without it, loading the wasm is bounded by 60 s (a fetch
   * that stalls), and the worker's start by 60 s more.
   */
  signal?: AbortSignalLike;
}

/**
 * A compiled schema living in the worker. It outlives the Session that compiled it (as
 * in-thread): after a replaced worker it is compiled again from the files it was made of.
 */
export interface RemoteSchema {
  /** Rejects with a TypeError once the schema is freed. */
  validate(data: unknown, options?: DataOptions | null): Promise<ValidateResult>;
  /** Releases the schema in the worker; a second call does nothing. */
  free(): void;
}

export type RemoteCompileResult =
  | { ok: true; schema: RemoteSchema; diagnostics: [] }
  | { ok: false; schema?: undefined; diagnostics: Diagnostic[]; error?: undefined }
  | UsageError;

/**
 * A Session in the worker: the in-thread Session's methods, as promises. After `free()`
 * every method rejects (throws, for the synchronous checks) with a TypeError that says so.
 */
export interface RemoteSession {
  setFile(path: string, text: string): Promise<void>;
  /** Whether the file existed (its path normalized as the session's files are). */
  removeFile(path: string): Promise<boolean>;
  evaluate(source: string | null, options?: EvaluateOptions | null): Promise<EvalResult>;
  typecheck(source: string | null, options?: TypecheckOptions | null): Promise<CheckResult>;
  compileSchema(schemaSource: string, typeName: string, options?: Omit<CompileOptions, 'loadModule'> | null): Promise<RemoteCompileResult>;
  /** The stats of the last evaluate or typecheck (null before the first, and after the worker was replaced). */
  readonly stats: Promise<Stats | null>;
  /** Releases the session in the worker (once made, if it still is); a second call does nothing. */
  free(): void;
}

export interface Engine {
  /** The build the worker runs. */
  readonly variant: 'web' | 'web-threads';
  /** Threads of its pool (1 for the single-threaded build). */
  readonly threads: number;
  /**
   * Every call takes `signal` and `timeoutMs`: the promise resolves to R3008 as soon as the
   * signal aborts or the time is up, in any phase. The worker stops the run: on a timeout,
   * by itself (the wasm gets what remains of `timeoutMs` when the call is sent); on an
   * abort, the threaded build through a shared flag, the single-threaded worker by being
   * replaced (its sessions and schemas made again on the next call). A worker that does
   * not answer within a second of the stop is replaced too. Calls run one at a time, in
   * order. A worker whose wasm trapped or ran out of host stack (an `internal error:` or a
   * host-stack R3006) or that crashed is replaced; a Session call under way then is made
   * again and retried, any other call answers its usage error.
   */
  evaluate(source: string | null, options?: EvaluateOptions | null): Promise<EvalResult>;
  typecheck(source: string | null, options?: TypecheckOptions | null): Promise<CheckResult>;
  validate(data: unknown, schemaSource: string, typeName: string, options?: ValidateOptions | null): Promise<ValidateResult>;
  compileSchema(schemaSource: string, typeName: string, options?: CompileOptions | null): Promise<RemoteCompileResult>;
  /** The package's `toJsonSchema` and `toTypeScript`, in the worker. */
  toJsonSchema(source: string | null, typeNames: string | string[] | null, options?: TypesOptions | null): Promise<JsonSchemaResult>;
  toTypeScript(source: string | null, options?: TypesOptions | null): Promise<TypeScriptResult>;
  /** The package's `format`, in the worker. */
  format(source: string, options?: { width?: number } | null): Promise<FormatResult>;
  /** The package's `locate`, in the worker. */
  locate(source: string, path: DocumentPath): Promise<SourceRange | null>;
  /** `new engine.Session(options)`: throws a TypeError for malformed options. */
  readonly Session: new (options?: SessionOptions | null) => RemoteSession;
  /**
   * How many times the worker was replaced: after an aborted call of the single-threaded
   * build, a stopped call that did not answer within a second, a trap, a host-stack R3006,
   * or a crash.
   */
  readonly restarts: number;
  /** Ends the worker: pending and later calls reject. */
  terminate(): void;
}

/**
 * Starts the worker; rejects with the reason when it cannot (no Worker, threads without
 * isolation, a module that does not load, loading or starting for longer than 60 s, the
 * `signal` aborted).
 */
export function createWorker(options?: WorkerOptions | null): Promise<Engine>;

export type { LoadModule };
