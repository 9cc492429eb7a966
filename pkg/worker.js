// `ligature/worker`: the API off the calling thread. `const engine = await createWorker()`
// starts a Worker running the package's in-thread API (the threaded build with a pool when
// the page is cross-origin isolated, else the single-threaded one) and returns the same API
// as promises: `engine.evaluate`, `typecheck`, `validate`, `compileSchema`, `new
// engine.Session(…)`, with the same checks and results. Pages keep painting while it runs.
//
// - The worker's script is bundled at build time into one string (dist/<build>/
//   engine-worker-source.js) and started from a Blob URL: nothing for a bundler to find.
//   `workerURL` starts dist/<build>/engine-worker.js from a URL instead (a CSP without
//   `worker-src blob:`).
// - Calls run one at a time, in order. `signal` and `timeoutMs` stop a call at once, in
//   every phase: its promise resolves to R3008 as soon as the signal aborts or the time is
//   up; a call still queued never starts. The running one stops by itself on a timeout
//   (the wasm polls the deadline it was given when the call was sent); on an abort, by the
//   flag the threaded build polls (its memory is shared with this thread), or by ending
//   the worker (the single-threaded build), which the next call replaces, sessions and
//   schemas included (they are rebuilt from what this side remembers: options and files).
//   A worker that does not answer within STOP_GRACE_MS of a stop is ended too.
// - `loadModule` runs on this thread (it is a function); the worker gets the files.

import {
  MAX_DELAY_MS,
  Run,
  STOPPED,
  checkOptions,
  checkValidation,
  describe,
  entryOf,
  freed,
  initInput,
  integerProblem,
  loadImports,
  needPath,
  needString,
  typeNamesOf,
  usage,
  withLock,
  withValue,
} from './bind.js';

/**
 * How long a stopped call may take to answer before its worker is ended: a call of the
 * threaded build stopped through its flag, or a timed-out call of either build (the wasm
 * polls its own deadline and answers R3008 within milliseconds).
 */
const STOP_GRACE_MS = 1_000;
/** How long fetching and compiling the wasm, and then the worker's start, may each take. */
const START_TIMEOUT_MS = 60_000;

/** The build's wasm, next to this file (bundlers emit both as assets). */
function defaultWasmURL(build) {
  return build === 'web-threads'
    ? new URL('./dist/web-threads/ligature_bg.wasm', import.meta.url)
    : new URL('./dist/web/ligature_bg.wasm', import.meta.url);
}

async function workerSource(build) {
  const module = build === 'web-threads'
    ? await import('./dist/web-threads/engine-worker-source.js')
    : await import('./dist/web/engine-worker-source.js');
  return module.default;
}

/** The compiled module from a URL (compiled once: every worker of the engine reuses it). */
async function compile(url, signal) {
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(`ligature: could not fetch ${url}: HTTP ${response.status}`);
  if (typeof WebAssembly.compileStreaming === 'function' && response.headers.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

const CREATE_OPTIONS = ['threads', 'wasmURL', 'module', 'workerURL', 'signal'];

function createOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`createWorker: options must be an object { ${CREATE_OPTIONS.join(', ')} }, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!CREATE_OPTIONS.includes(key)) {
      throw new TypeError(`createWorker: unknown option \`${key}\` (its options: ${CREATE_OPTIONS.join(', ')})`);
    }
  }
  if (options.threads !== undefined) {
    const problem = integerProblem('threads', options.threads, 65_536, 1);
    if (problem) throw new TypeError(`createWorker: ${problem}`);
  }
  if (options.workerURL !== undefined && typeof options.workerURL !== 'string' && typeof options.workerURL?.href !== 'string') {
    throw new TypeError(`createWorker: workerURL must be a URL or a string, got ${describe(options.workerURL)}`);
  }
  if (options.signal !== undefined && !isSignal(options.signal)) {
    throw new TypeError(`createWorker: signal must be an AbortSignal, got ${describe(options.signal)}`);
  }
  const { wasmURL, module } = options;
  const input = wasmURL === undefined && module === undefined
    ? undefined
    : initInput('createWorker', wasmURL !== undefined && module !== undefined ? { wasmURL, module } : wasmURL !== undefined ? { wasmURL } : { module });
  return { threads: options.threads, input, workerURL: options.workerURL, signal: options.signal };
}

/** Why the page gets `build`, in words. */
function mismatch(build, threads, isolated) {
  if (build === 'web-threads') return `this page gets the web-threads build (cross-origin isolated, threads: ${threads})`;
  return `this page gets the web build (${isolated ? 'threads: 1' : 'not cross-origin isolated'})`;
}

function isSignal(value) {
  return typeof value?.aborted === 'boolean' && typeof value.addEventListener === 'function';
}

/**
 * `promise`, or a rejection when `signal` aborts or `ms` pass first (`stop()` is then
 * called: it ends what the promise waited for).
 */
function bounded(promise, { signal, ms, what, stop }) {
  return new Promise((resolve, reject) => {
    const fail = (error) => {
      done();
      stop?.();
      reject(error);
    };
    const onAbort = () => fail(new Error(`ligature: createWorker was aborted (its signal) while ${what}`, { cause: signal.reason }));
    const timer = setTimeout(() => fail(new Error(`ligature: createWorker: ${what} took longer than ${ms / 1000} s`)), ms);
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort);
    promise.then(
      (value) => {
        done();
        resolve(value);
      },
      (error) => {
        done();
        reject(error);
      },
    );
  });
}

/**
 * Starts a worker and resolves to its engine once the module is instantiated (and the pool
 * started); rejects with a clear error when it cannot start.
 */
export async function createWorker(options) {
  const config = createOptions(options);
  if (typeof Worker !== 'function') {
    throw new Error('ligature/worker needs Web Workers; in Node, edge runtimes and workers, use the in-thread API (`ligature`)');
  }
  const isolated = globalThis.crossOriginIsolated === true;
  if (config.threads > 1 && !isolated) {
    throw new Error(`createWorker: threads: ${config.threads} needs SharedArrayBuffer: serve the page cross-origin isolated (COOP: same-origin, COEP: require-corp)`);
  }
  const threads = config.threads ?? (isolated ? globalThis.navigator?.hardwareConcurrency ?? 1 : 1);
  const build = isolated && threads > 1 ? 'web-threads' : 'web';
  const { signal } = config;
  // A fetch that stalls would hang createWorker: loading is bounded, and `signal` ends it.
  const fetching = new AbortController();
  const loading = (async () => {
    let module = await (config.input ?? defaultWasmURL(build));
    if (typeof module === 'string' || typeof module?.href === 'string') {
      module = await compile(new URL(typeof module === 'string' ? module : module.href, globalThis.location?.href).href, fetching.signal);
    } else if (module instanceof ArrayBuffer || ArrayBuffer.isView(module)) {
      module = await WebAssembly.compile(module);
    } else if (typeof module?.arrayBuffer === 'function') {
      module = await WebAssembly.compile(await module.arrayBuffer());
    }
    const source = config.workerURL === undefined ? await workerSource(build) : undefined;
    return { module, source };
  })();
  loading.catch(() => {});
  const { module, source } = await bounded(loading, {
    signal, ms: START_TIMEOUT_MS, what: 'loading the wasm', stop: () => fetching.abort(),
  });
  const channel = new Channel({ build, threads, module, source, workerURL: config.workerURL });
  // The start has its own bound (START_TIMEOUT_MS); `signal` ends it too.
  const started = bounded(channel.start(), { signal, ms: MAX_DELAY_MS, what: 'starting the worker', stop: () => channel.terminate() });
  const given = [config.input !== undefined && 'the wasm', config.workerURL !== undefined && 'workerURL'].filter(Boolean);
  const info = await started.catch((error) => {
    // The wasm and the worker script of the other build fail to link: say which it must be.
    throw given.length === 0 || signal?.aborted ? error : new Error(`${error.message} (${mismatch(build, threads, isolated)}; ${given.join(' and ')} given must be of that build)`, { cause: error });
  });
  if (info.variant !== build) {
    channel.terminate();
    throw new Error(`ligature: createWorker: the worker runs the ${info.variant} build, but ${mismatch(build, threads, isolated)}: workerURL must be ligature/${build}/engine-worker.js`);
  }
  return new Engine(channel, info);
}

/**
 * The worker and its queue: one request in flight, the rest in order. A request resolves
 * to the worker's answer, or to STOPPED when its run stops first.
 */
class Channel {
  constructor(config) {
    this.config = config;
    this.queue = [];
    this.current = undefined;
    this.worker = undefined;
    this.starting = undefined;
    this.info = undefined;
    this.generation = 0;
    this.nextId = 1;
    this.closed = undefined;
    this.restarts = 0;
  }

  start() {
    if (this.closed) return Promise.reject(this.closed);
    this.starting ??= new Promise((resolve, reject) => {
      const { source, workerURL } = this.config;
      const url = workerURL ?? URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      let worker;
      try {
        worker = new Worker(url, { type: 'module', name: 'ligature' });
      } catch (error) {
        reject(new Error(`ligature: could not start the worker: ${error?.message ?? error}`));
        return;
      }
      const fail = (why) => {
        clearTimeout(timer);
        worker.terminate();
        if (this.worker === worker) this.worker = undefined;
        this.starting = undefined;
        reject(new Error(`ligature: the worker did not start: ${why}`));
      };
      const timer = setTimeout(() => fail(`no answer within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
      const id = this.nextId++;
      const onStart = ({ data }) => {
        if (data?.id !== id) return;
        worker.removeEventListener('message', onStart);
        clearTimeout(timer);
        if (workerURL === undefined) URL.revokeObjectURL(url);
        if (data.error !== undefined) {
          fail(data.error.message);
          return;
        }
        this.info = data.result;
        this.flag = data.result.memory === undefined ? undefined : { memory: data.result.memory, at: data.result.cancelFlag };
        worker.addEventListener('message', ({ data: answer }) => this.answered(worker, answer));
        worker.addEventListener('error', (event) => {
          event.preventDefault?.();
          this.crashed(worker, event.message || 'the worker failed');
        });
        resolve(data.result);
      };
      worker.addEventListener('message', onStart);
      worker.addEventListener('error', (event) => {
        event.preventDefault?.();
        if (this.info === undefined || this.worker !== worker) fail(event.message || 'its script did not load (a Content-Security-Policy without worker-src blob:? give workerURL)');
      });
      this.worker = worker;
      this.info = undefined;
      const { module, threads } = this.config;
      worker.postMessage({ id, op: 'start', args: [{ module, threads }] });
    });
    return this.starting;
  }

  /** Sets the threaded build's stop flag (0 before each call, 1 to stop it). */
  setFlag(value) {
    if (this.flag === undefined) return false;
    Atomics.store(new Int8Array(this.flag.memory.buffer, this.flag.at, 1), 0, value);
    return true;
  }

  /**
   * Sends `op(...args)` when its turn comes. `args` may be a function, called just before
   * the request is sent (the time that remains of a timeout is counted then, not while the
   * request waited). `generation`, for a request on an object of this worker (a session,
   * a schema), is the worker it was made in: a request whose worker has since been
   * replaced (or crashed under it) resolves to STALE, and the caller makes the object again.
   */
  request(op, args, run, generation) {
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const entry = { id: this.nextId++, op, args, generation, resolve, reject, done: false };
      entry.finish = (value, error) => {
        if (entry.done) return;
        entry.done = true;
        entry.unwatch?.();
        if (error !== undefined) reject(error);
        else resolve(value);
      };
      if (run !== undefined) this.watch(entry, run);
      if (entry.done) return;
      this.queue.push(entry);
      this.pump();
    });
  }

  /** Stops `entry` when its run stops: at once for the caller, then in the worker. */
  watch(entry, run) {
    const stop = (why) => {
      if (entry.done) return;
      entry.finish(STOPPED);
      // Sent: stop it in the worker. Taken but not sent yet (the worker is starting):
      // `pump` drops it. Queued: it never starts.
      if (this.current === entry && entry.sent) this.stopCurrent(entry, why);
      else if (this.current !== entry) this.queue = this.queue.filter((it) => it !== entry);
    };
    if (run.stopped) {
      stop(run.stopped);
      return;
    }
    entry.unwatch = run.watch(stop);
  }

  stopCurrent(entry, why) {
    // The threaded build polls the flag and answers R3008 within milliseconds; either build
    // polls its own deadline (the wasm was given what remained of the timeout when the
    // request was sent), so a timed-out call answers by itself. Only a worker that does
    // not answer in time is ended, and an aborted call of the single-threaded build at once.
    if (this.setFlag(1) || why === 'timeout') {
      entry.grace = setTimeout(() => {
        if (this.current === entry) this.replace();
      }, STOP_GRACE_MS);
    } else {
      this.replace();
    }
  }

  async pump() {
    if (this.current !== undefined || this.queue.length === 0 || this.closed) return;
    const entry = this.queue.shift();
    this.current = entry;
    try {
      await this.start();
    } catch (error) {
      this.current = undefined;
      entry.finish(undefined, error);
      this.pump();
      return;
    }
    if (entry.done || this.current !== entry) {
      if (this.current === entry) this.current = undefined;
      this.pump();
      return;
    }
    if (entry.generation !== undefined && entry.generation !== this.generation) {
      this.current = undefined;
      entry.finish(STALE);
      this.pump();
      return;
    }
    this.setFlag(0);
    entry.sent = true;
    const args = typeof entry.args === 'function' ? entry.args() : entry.args;
    this.worker.postMessage({ id: entry.id, op: entry.op, args });
  }

  answered(worker, data) {
    const entry = this.current;
    if (worker !== this.worker || entry === undefined || data?.id !== entry.id) return;
    clearTimeout(entry.grace);
    this.current = undefined;
    if (data.error !== undefined) {
      const ErrorType = data.error.name === 'TypeError' ? TypeError : Error;
      entry.finish(undefined, new ErrorType(data.error.message));
    } else {
      if (data.result !== null && typeof data.result === 'object') {
        Object.defineProperty(data.result, MADE_IN, { value: this.generation });
      }
      entry.finish(data.result);
    }
    // The host's stack ran out in the wasm (an R3006 made by the glue), or the wasm trapped
    // (an `internal error:`, a thrown error): the instance may hold locks no code released,
    // or a stack pointer left mid-call; the next call gets a new worker.
    if (data.poisoned) this.replace();
    else this.pump();
  }

  crashed(worker, message) {
    if (worker !== this.worker) return;
    const entry = this.current;
    this.replace();
    // A request on an object of the crashed worker is STALE: its caller makes the object
    // again and retries (each answer keeps its declared type). The others answer results,
    // of which a usage error is one.
    entry?.finish(entry.generation !== undefined ? STALE : usage(`internal error: the worker failed (${message}); it was restarted`));
  }

  /** Ends the worker; the next request starts a new one (its objects are made again). */
  replace() {
    this.worker?.terminate();
    this.worker = undefined;
    this.starting = undefined;
    this.info = undefined;
    this.flag = undefined;
    this.generation += 1;
    this.restarts += 1;
    const entry = this.current;
    this.current = undefined;
    if (entry !== undefined) clearTimeout(entry.grace);
    this.pump();
  }

  terminate() {
    this.closed = new Error('ligature: this worker was terminated (engine.terminate())');
    const pending = [this.current, ...this.queue].filter(Boolean);
    this.queue = [];
    this.current = undefined;
    this.worker?.terminate();
    this.worker = undefined;
    for (const entry of pending) entry.finish(undefined, this.closed);
  }
}

/** A request whose object lived in a worker that has since been replaced. */
const STALE = Symbol('stale');
/** On an answer (an object): the generation of the worker that made it. */
const MADE_IN = Symbol('made in');
/** How often an object is made again for one call before the call gives up. */
const REMAKE_TRIES = 3;

/** The API of one worker, as promises. */
class Engine {
  #channel;

  constructor(channel, info) {
    this.#channel = channel;
    /** The build the worker runs: 'web' or 'web-threads'. */
    this.variant = info.variant;
    /** The threads of its pool (1 for the single-threaded build). */
    this.threads = info.threads;
    const engine = this;
    this.Session = class Session extends RemoteSession {
      constructor(options) {
        super(engine.#channel, options);
      }
    };
  }

  async evaluate(source, options) {
    needString('evaluate', 'source', source, true);
    const { options: checked, error } = checkOptions('evaluate', options);
    if (error !== undefined) return usage(error);
    const result = await call(this.#channel, checked, entryOf(checked), {
      op: 'evaluate',
      texts: [source],
      probe: (opts) => [source ?? null, opts],
      run: (opts) => [source ?? null, opts],
    });
    return withValue(result, checked);
  }

  async typecheck(source, options) {
    needString('typecheck', 'source', source, true);
    const { options: checked, error } = checkOptions('typecheck', options);
    if (error !== undefined) return usage(error);
    return call(this.#channel, checked, entryOf(checked), {
      op: 'typecheck',
      texts: [source],
      probe: (opts) => [source ?? null, opts],
      run: (opts) => [source ?? null, opts],
    });
  }

  async compileSchema(schemaSource, typeName, options) {
    needString('compileSchema', 'schemaSource', schemaSource);
    needString('compileSchema', 'typeName', typeName);
    const { options: checked, error } = checkOptions('compileSchema', options);
    if (error !== undefined) return usage(error);
    const file = checked?.entry ?? 'schema.lig';
    // What makes the schema again in a new worker: the same compilation, files loaded.
    let recipe;
    const result = await call(this.#channel, checked, file, {
      op: 'compileSchema',
      texts: [schemaSource],
      probe: (opts) => [schemaSource, { entry: 'schema.lig', ...opts }],
      run: (opts) => {
        const { timeoutMs: _, ...kept } = opts ?? {};
        recipe = ['compileSchema', [schemaSource, typeName, kept]];
        return [schemaSource, typeName, opts];
      },
    });
    return remoteSchema(this.#channel, result, () => recipe);
  }

  async validate(data, schemaSource, typeName, options) {
    needString('validate', 'schemaSource', schemaSource);
    needString('validate', 'typeName', typeName);
    const { checked, failed } = checkValidation('validate', data, options);
    if (failed !== undefined) return failed;
    return call(this.#channel, checked, 'schema.lig', {
      op: 'validate',
      texts: [schemaSource],
      probe: (opts) => [schemaSource, { entry: 'schema.lig', ...withoutData(opts) }],
      run: (opts) => [data, schemaSource, typeName, opts],
    });
  }

  async toJsonSchema(source, typeNames, options) {
    needString('toJsonSchema', 'source', source, true);
    const names = typeNamesOf('toJsonSchema', typeNames);
    const { options: checked, error } = checkOptions('toJsonSchema', options);
    if (error !== undefined) return { ...usage(error), unexpressed: [] };
    return call(this.#channel, checked, entryOf(checked), {
      op: 'toJsonSchema',
      texts: [source],
      probe: (opts) => [source ?? null, opts],
      run: (opts) => [source ?? null, names, opts],
    });
  }

  async toTypeScript(source, options) {
    needString('toTypeScript', 'source', source, true);
    const { options: checked, error } = checkOptions('toTypeScript', options);
    if (error !== undefined) return { ...usage(error), unexpressed: [] };
    return call(this.#channel, checked, entryOf(checked), {
      op: 'toTypeScript',
      texts: [source],
      probe: (opts) => [source ?? null, opts],
      run: (opts) => [source ?? null, opts],
    });
  }

  /** `format(source, options)` of the package, in the worker (see index.d.ts). */
  async format(source, options) {
    needString('format', 'source', source);
    const { options: checked, error } = checkOptions('format', options);
    if (error !== undefined) return { ...usage(error), text: null };
    return this.#channel.request('format', [source, checked]);
  }

  /** `locate(source, path)` of the package, in the worker (see index.d.ts). */
  async locate(source, path) {
    needString('locate', 'source', source);
    needPath('locate', path);
    return this.#channel.request('locate', [source, path]);
  }

  /**
   * How many times the worker was replaced: after an aborted call of the single-threaded
   * build, a stopped call that did not answer within a second, a trap, a host-stack R3006,
   * or a crash.
   */
  get restarts() {
    return this.#channel.restarts;
  }

  /** Ends the worker: pending and later calls reject. */
  terminate() {
    this.#channel.terminate();
  }
}

function withoutData(options) {
  if (options === undefined) return undefined;
  const { dataFormat: _, ...rest } = options;
  return rest;
}

/**
 * One call: stopped before it starts, its imports loaded here (`probe` asks the worker
 * which files are missing), then the worker runs `op` with what remains of the timeout
 * when it is sent. `make(opts)` gives the args of `op`, `probe(opts)` those of
 * `missingFiles`; `target`, for a session's call, makes sure the session exists in the
 * current worker and gives its handle and generation.
 */
async function call(channel, checked, file, { op, probe, run: make, target, texts }) {
  const run = new Run(checked);
  if (run.stopped) return run.result(file);
  for (let tries = 0; ; tries += 1) {
    const where = target === undefined ? undefined : await run.race(target());
    if (where === STOPPED) return run.result(file);
    // `op` as a request: on the session `where`, if any; its args made when it is sent.
    const send = (op, argsOf) => channel.request(
      where === undefined ? op : 'session',
      () => (where === undefined ? argsOf() : [where.handle, op, argsOf()]),
      run,
      where?.generation,
    );
    const ask = (opts) => send('missingFiles', () => probe(fresh(run, opts)));
    const probed = target === undefined ? ask : (opts) => ask(opts).then((it) => (it === STALE ? { ok: true, missing: [], stale: true } : it));
    const { options: full, failed, lock } = await loadImports(probed, checked, run, file, texts);
    if (failed !== undefined) return withLock(failed, lock);
    if (run.stopped) return run.result(file);
    const result = await send(op, () => make(run.wasmOptions(full)));
    if (result === STOPPED || (run.stopped && stoppedResult(result))) return run.result(file);
    if (result !== STALE) return withLock(result, lock);
    if (tries + 1 >= REMAKE_TRIES) return usage('internal error: the worker was replaced while this call waited, repeatedly');
  }
}

/** `options` with what remains of the run's timeout now. */
function fresh(run, options) {
  if (run.deadline === Infinity || options === undefined) return options;
  return { ...options, timeoutMs: Math.max(0, run.deadline - performance.now()) };
}

/**
 * Whether the wasm answered R3008: its deadline (the same as this side's) passed first.
 * The call then answers as when this side's timer fires first: the same R3008 either way.
 */
function stoppedResult(result) {
  return result?.ok === false && (result.diagnostics?.some((it) => it.code === 'R3008') || result.errors?.some((it) => it.code === 'R3008'));
}

/** A Session's `missingFiles` takes only these options (the probe of a loadModule call). */
function probeOptions(options) {
  if (options === undefined) return undefined;
  const kept = {};
  if (options.files !== undefined) kept.files = options.files;
  if (options.entry !== undefined) kept.entry = options.entry;
  return kept;
}

/**
 * `{ ok, schema }` with a schema whose `validate` runs in the worker. `recipe()` gives the
 * request that makes it again in a new worker: the same compilation, its files as they
 * were (a session's schema is made in a session of the same options and files, freed at
 * once: the schema outlives it, as an in-thread schema outlives its session's `free()`).
 */
function remoteSchema(channel, result, recipe) {
  if (!result?.ok || result.schema === undefined) return result;
  let handle = result.schema;
  let generation = result[MADE_IN] ?? channel.generation;
  let freedAlready = false;
  let making;
  function current() {
    if (generation === channel.generation) return Promise.resolve({ handle, generation });
    making ??= (async () => {
      try {
        for (let tries = 0; tries < REMAKE_TRIES; tries += 1) {
          // Made in this generation's worker, or STALE (and made again) if it is replaced first.
          const made = await channel.request(...recipe(), undefined, channel.generation);
          if (made === STALE) continue;
          if (!made?.ok) break;
          handle = made.schema;
          generation = made[MADE_IN];
          if (freedAlready) release();
          return { handle, generation };
        }
        throw new Error('ligature: the schema could not be made again in the new worker');
      } finally {
        making = undefined;
      }
    })();
    return making;
  }
  function release() {
    if (generation === channel.generation && !channel.closed) channel.request('free', [handle], undefined, generation).catch(() => {});
  }
  const schema = {
    async validate(data, options) {
      if (freedAlready) throw freed('Schema');
      const { checked, failed } = checkValidation('schema.validate', data, options);
      if (failed !== undefined) return failed;
      const run = new Run(checked);
      for (let tries = 0; tries < REMAKE_TRIES; tries += 1) {
        if (run.stopped) return run.result('data');
        const where = await run.race(current());
        if (where === STOPPED) return run.result('data');
        if (freedAlready) throw freed('Schema');
        const answer = await channel.request('schemaValidate', () => [where.handle, data, run.wasmOptions(checked)], run, where.generation);
        if (answer === STOPPED || (run.stopped && stoppedResult(answer))) return run.result('data');
        if (answer !== STALE) return answer;
      }
      return usage('internal error: the worker was replaced while this call waited, repeatedly');
    },
    /** Releases the schema in the worker; a second call does nothing. */
    free() {
      if (freedAlready) return;
      freedAlready = true;
      // Being made again: released once made.
      if (making === undefined) release();
    },
  };
  if (typeof Symbol.dispose === 'symbol') schema[Symbol.dispose] = schema.free;
  return { ...result, schema };
}

/**
 * A Session in the worker. Its methods are those of the in-thread Session, as promises.
 * This side keeps its options and files, so that a worker replaced after a stopped call
 * gets the session back (its caches start empty).
 */
class RemoteSession {
  #channel;
  #options;
  /** Its files by normalized path (as the session's file system keys them). */
  #files;
  #handle;
  #generation = -1;
  #making;
  #freed = false;

  constructor(channel, options) {
    const { options: checked, error } = checkOptions('new Session', options);
    if (error !== undefined) throw new TypeError(error);
    this.#channel = channel;
    this.#options = checked ?? {};
    this.#files = new Map(Object.entries(this.#options.files ?? {}).map(([path, text]) => [normalize(path), text]));
  }

  #alive() {
    if (this.#freed) throw freed('Session');
  }

  /** Its options and files now: what makes it again. */
  #snapshot() {
    return { ...this.#options, files: Object.fromEntries(this.#files) };
  }

  /** The session in the current worker: `{ handle, generation }`, made (again) if needed. */
  #current() {
    // A freed session is never made again (in a new worker it would live for good).
    if (this.#freed) return Promise.reject(freed('Session'));
    const channel = this.#channel;
    if (this.#generation === channel.generation && this.#making === undefined) {
      return Promise.resolve({ handle: this.#handle, generation: this.#generation });
    }
    this.#making ??= (async () => {
      try {
        for (let tries = 0; tries < REMAKE_TRIES; tries += 1) {
          const generation = channel.generation;
          const handle = await channel.request('sessionNew', [this.#snapshot()], undefined, generation);
          if (handle === STALE) continue;
          this.#handle = handle;
          this.#generation = generation;
          return { handle, generation };
        }
        throw new Error('ligature: the session could not be made again in the new worker');
      } finally {
        this.#making = undefined;
      }
    })();
    return this.#making;
  }

  /** `method(...args)` on the session, made again if its worker was replaced under the call. */
  async #simple(method, args) {
    for (let tries = 0; tries < REMAKE_TRIES; tries += 1) {
      const { handle, generation } = await this.#current();
      const answer = await this.#channel.request('session', [handle, method, args], undefined, generation);
      if (answer !== STALE) return answer;
    }
    throw new Error('ligature: the worker was replaced while this call waited, repeatedly');
  }

  async setFile(path, text) {
    this.#alive();
    needString('Session.setFile', 'path', path);
    needString('Session.setFile', 'text', text);
    this.#files.set(normalize(path), text);
    await this.#simple('setFile', [path, text]);
  }

  async removeFile(path) {
    this.#alive();
    needString('Session.removeFile', 'path', path);
    // Whether it existed is known here, where the session's files are kept: the session
    // in the worker may have been made (again, after a replacement) without it.
    const had = this.#files.delete(normalize(path));
    await this.#simple('removeFile', [path]);
    return had;
  }

  async missingFiles(source, options) {
    this.#alive();
    needString('Session.missingFiles', 'source', source, true);
    const { options: checked, error } = checkOptions('Session.missingFiles', options);
    if (error !== undefined) return usage(error);
    const { loadModule: _, ...rest } = checked ?? {};
    return this.#simple('missingFiles', [source ?? null, rest]);
  }

  async evaluate(source, options) {
    this.#alive();
    needString('Session.evaluate', 'source', source, true);
    const { options: checked, error } = checkOptions('Session.evaluate', options);
    if (error !== undefined) return usage(error);
    const result = await call(this.#channel, checked, entryOf(checked), {
      op: 'evaluate',
      // The session's missingFiles takes only files and entry.
      probe: (opts) => [source ?? null, probeOptions(opts)],
      run: (opts) => [source ?? null, opts],
      target: () => this.#current(),
    });
    return withValue(result, checked);
  }

  async typecheck(source, options) {
    this.#alive();
    needString('Session.typecheck', 'source', source, true);
    const { options: checked, error } = checkOptions('Session.typecheck', options);
    if (error !== undefined) return usage(error);
    return call(this.#channel, checked, entryOf(checked), {
      op: 'typecheck',
      probe: (opts) => [source ?? null, probeOptions(opts)],
      run: (opts) => [source ?? null, opts],
      target: () => this.#current(),
    });
  }

  async compileSchema(schemaSource, typeName, options) {
    this.#alive();
    needString('Session.compileSchema', 'schemaSource', schemaSource);
    needString('Session.compileSchema', 'typeName', typeName);
    const { options: checked, error } = checkOptions('Session.compileSchema', options);
    if (error !== undefined) return usage(error);
    const { timeoutMs: _t, signal: _s, ...kept } = checked ?? {};
    const snapshot = this.#snapshot();
    const result = await call(this.#channel, checked, checked?.entry ?? 'schema.lig', {
      op: 'compileSchema',
      probe: (opts) => [schemaSource, { entry: 'schema.lig', ...probeOptions(opts) }],
      run: (opts) => [schemaSource, typeName, opts],
      target: () => this.#current(),
    });
    return remoteSchema(this.#channel, result, () => ['sessionSchema', [snapshot, schemaSource, typeName, kept]]);
  }

  /** The stats of the last evaluate or typecheck (null before the first, and after the worker was replaced). */
  get stats() {
    if (this.#freed) return Promise.reject(freed('Session'));
    return this.#simple('stats', []);
  }

  /** Releases the session in the worker; a second call does nothing. */
  free() {
    if (this.#freed) return;
    this.#freed = true;
    // Being made: released once made (its calls already waiting are sent first).
    if (this.#making !== undefined) this.#making.then(() => this.#release(), () => {});
    else this.#release();
  }

  #release() {
    const channel = this.#channel;
    if (this.#generation === channel.generation && !channel.closed) {
      channel.request('free', [this.#handle], undefined, this.#generation).catch(() => {});
    }
  }
}

/** A session path as its file system keys it (loader::normalize in the Rust core). */
function normalize(path) {
  const absolute = path.startsWith('/');
  const parts = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
      else if (!absolute) parts.push('..');
    } else {
      parts.push(segment);
    }
  }
  const joined = parts.join('/');
  return absolute ? `/${joined}` : joined === '' ? '.' : joined;
}
if (typeof Symbol.dispose === 'symbol') {
  RemoteSession.prototype[Symbol.dispose] = function dispose() {
    this.free();
  };
}
