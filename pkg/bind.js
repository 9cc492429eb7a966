// The promise-based API over one wasm-bindgen module, shared by every entry point
// (index.js, web.js, web-threads.js, node.js, edge.js). Program errors are result values
// ({ ok: false, diagnostics }), so are malformed options and non-JSON data ({ ok: false,
// diagnostics: [], error }); misuse (an argument of the wrong type, a freed object) is a
// TypeError, and a module that cannot load rejects `init`.

/**
 * The module `init(input)` or `initSync(input)` was given, as wasm-bindgen's glue takes it
 * (`module_or_path` / `module`), or a TypeError. Accepted, as in esbuild-wasm and
 * wasm-bindgen: `{ wasmURL }` (a URL or string), `{ module }` (a compiled
 * `WebAssembly.Module`, bytes or a Response), wasm-bindgen's own `{ module_or_path }`, or
 * any of those values alone.
 */
export function initInput(call, input) {
  if (input === undefined) return undefined;
  if (input === null || (typeof input !== 'object' && typeof input !== 'string')) {
    throw new TypeError(`${call}: input must be { wasmURL } or { module }, a URL, a Response, bytes or a WebAssembly.Module, got ${describe(input)}`);
  }
  if (!plainObject(input)) return input;
  const keys = Object.keys(input).filter((key) => input[key] !== undefined);
  const known = ['wasmURL', 'module', 'module_or_path'];
  const unknown = keys.find((key) => !known.includes(key));
  if (unknown !== undefined) throw new TypeError(`${call}: unknown option \`${unknown}\` (its options: wasmURL, module)`);
  if (keys.length !== 1) throw new TypeError(`${call}: give one of wasmURL or module, got ${keys.length === 0 ? 'neither' : keys.join(' and ')}`);
  const value = input[keys[0]];
  if (keys[0] === 'wasmURL' && typeof value !== 'string' && typeof value?.href !== 'string') {
    throw new TypeError(`${call}: wasmURL must be a URL or a string, got ${describe(value)}`);
  }
  if (value === null || (typeof value !== 'object' && typeof value !== 'string')) {
    throw new TypeError(`${call}: ${keys[0]} must be a URL, a Response, bytes or a WebAssembly.Module, got ${describe(value)}`);
  }
  return value;
}

/** `init(input)` of a `--target web` module. */
export function webLoader(wasm) {
  return (input) => wasm.default(input === undefined ? undefined : { module_or_path: input });
}

/** `initSync(input)` of a `--target web` module: bytes or a compiled module only. */
export function webSyncLoader(wasm) {
  return (input) => {
    const bytes = input instanceof ArrayBuffer || ArrayBuffer.isView(input);
    if (!bytes && !(typeof WebAssembly === 'object' && input instanceof WebAssembly.Module)) {
      throw new TypeError(`initSync: needs the module's bytes or a compiled WebAssembly.Module (a URL needs the async init), got ${describe(input)}`);
    }
    return wasm.initSync({ module: input });
  };
}

/** Files `loadModule` may add to one call (a guard against a loader that never ends). */
const MAX_LOADED = 10_000;

/** A pin of `lock` (LANGUAGE.md 9.10). */
const PIN = /^sha256-[0-9a-f]{64}$/;
/** The largest body that is a module (LANGUAGE.md 9.10; the core checks it again). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** The hosts whose `http:` URLs are remote paths, and may redirect to their own origin. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Compiled schemas kept by the one-shot `validate`. */
const SCHEMA_CACHE = 16;

/** The entry file a call names (for a diagnostic the glue makes). */
export function entryOf(options) {
  return typeof options?.entry === 'string' ? options.entry : 'main.lig';
}

/** A usage error as a value. */
export function usage(error) {
  return { ok: false, diagnostics: [], error };
}

// ---------------------------------------------------------------------------------------
// Arguments, options and data are checked here, in JS, before anything reaches the wasm:
// a wrong-typed argument handed to wasm-bindgen's glue traps inside the module (a string
// argument that is a number reads memory out of bounds) or comes back in serde's words.
//
// - A positional argument of the wrong type (source, typeName, path, text…) is a
//   programming error: a `TypeError` (a rejected promise from the async functions).
// - Malformed options are a usage error as a value, `{ ok: false, diagnostics: [], error }`,
//   except for `new Session(options)`, which has no result value and throws a `TypeError`.
// - Data that JSON cannot represent (a cycle, a function, a BigInt, undefined…) given to
//   `schema.validate` is a usage error as a value too, naming its JSON path.

/** A document path: an array of strings and non-negative integers (a TypeError otherwise). */
export function needPath(call, path) {
  const step = (key) => typeof key === 'string' || (Number.isInteger(key) && key >= 0 && key <= 0xffff_ffff);
  if (!Array.isArray(path) || !path.every(step)) {
    throw new TypeError(`${call}: \`path\` must be an array of strings and non-negative integers, got ${describe(path)}`);
  }
}

/** A value in a few plain words, for messages ("got 42", "got an array"). */
export function describe(value) {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return value.length > 40 ? `${JSON.stringify(value.slice(0, 37))}…` : JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default: {
      if (value === null) return 'null';
      if (Array.isArray(value)) return 'an array';
      const name = plainObject(value) ? undefined : value.constructor?.name;
      return name ? `a ${name}` : 'an object';
    }
  }
}

/** An object literal's kind of object (not an array, a class instance, a Map…). */
function plainObject(value) {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Throws the TypeError of a positional argument that is not a string (or null, when allowed). */
export function needString(call, name, value, nullable = false) {
  if (typeof value === 'string' || (nullable && (value === null || value === undefined))) return;
  const wanted = nullable ? 'a string or null' : 'a string';
  throw new TypeError(`${call}: ${name} must be ${wanted}, got ${describe(value)}`);
}

const U32_MAX = 2 ** 32 - 1;
const U64_MAX = 2n ** 64n - 1n;
const LIMIT_MAX = { maxSteps: U64_MAX, maxDepth: U32_MAX, maxOutputBytes: U64_MAX };

/** A non-negative integer (a number or a BigInt) up to `max`, else an error message. */
export function integerProblem(name, value, max, min = 0) {
  const isInteger = (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint';
  const wanted = min === 0 ? 'a non-negative integer' : `an integer of at least ${min}`;
  if (!isInteger || value < min) return `${name} must be ${wanted}, got ${describe(value)}`;
  if (BigInt(value) > BigInt(max)) return `${name} must be at most ${max}, got ${describe(value)}`;
  return undefined;
}

/** Checks of each option: an error message, or `[normalized]` for a valid value. */
const OPTION_CHECKS = {
  files(value) {
    if (!plainObject(value)) return `files must be an object of path → text, got ${describe(value)}`;
    const files = {};
    for (const [path, text] of Object.entries(value)) {
      if (typeof text !== 'string') return `files[${JSON.stringify(path)}] must be a string, got ${describe(text)}`;
      files[path] = text;
    }
    return [files];
  },
  entry(value) {
    if (typeof value !== 'string' || value === '') return `entry must be a file path (a non-empty string), got ${describe(value)}`;
    return [value];
  },
  field(value) {
    if (typeof value !== 'string') return `field must be a string (a top-level binding's name), got ${describe(value)}`;
    return [value];
  },
  format: oneOf('format', ['json', 'yaml', 'toml', 'text']),
  dataFormat: oneOf('dataFormat', ['value', 'json', 'yaml']),
  limits(value) {
    if (!plainObject(value)) return `limits must be an object { maxSteps?, maxDepth?, maxOutputBytes? }, got ${describe(value)}`;
    const limits = {};
    for (const [key, limit] of Object.entries(value)) {
      if (limit === undefined) continue;
      if (!Object.hasOwn(LIMIT_MAX, key)) {
        return `unknown limit \`${key}\` (valid limits: ${Object.keys(LIMIT_MAX).join(', ')})`;
      }
      const problem = integerProblem(`limits.${key}`, limit, LIMIT_MAX[key]);
      if (problem) return problem;
      // The core reads u64 limits from a BigInt or a safe integer, u32 ones from a number.
      limits[key] = key === 'maxDepth' ? Number(limit) : Number.isSafeInteger(limit) ? limit : BigInt(limit);
    }
    return [limits];
  },
  threads(value) {
    const problem = integerProblem('threads', value, U32_MAX, 1);
    return problem ?? [Number(value)];
  },
  timeoutMs(value) {
    if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
      return `timeoutMs must be a non-negative number of milliseconds, got ${describe(value)}`;
    }
    return [value];
  },
  loadModule(value) {
    if (typeof value !== 'function') return `loadModule must be a function (path) => string | null, got ${describe(value)}`;
    return [value];
  },
  lock(value) {
    if (!plainObject(value)) return `lock must be an object { url: 'sha256-<64 hex digits>' }, got ${describe(value)}`;
    for (const [url, pin] of Object.entries(value)) {
      if (typeof pin !== 'string' || !PIN.test(pin)) return `lock[${JSON.stringify(url)}] must be 'sha256-' and 64 lower-case hex digits, got ${describe(pin)}`;
    }
    return [{ ...value }];
  },
  remote(value) {
    if (!plainObject(value)) return `remote must be an object { url: { body } | { failed } | { integrity } }, got ${describe(value)}`;
    for (const [url, answer] of Object.entries(value)) {
      const keys = plainObject(answer) ? Object.keys(answer) : [];
      const ok = keys.length === 1 && (
        (keys[0] === 'body' && answer.body instanceof Uint8Array)
        || ((keys[0] === 'failed' || keys[0] === 'integrity') && typeof answer[keys[0]] === 'string'));
      if (!ok) return `remote[${JSON.stringify(url)}] must be { body: Uint8Array }, { failed: string } or { integrity: string }, got ${describe(answer)}`;
    }
    return [{ ...value }];
  },
  registerRoots(value) {
    if (!Array.isArray(value) || !value.every((it) => typeof it === 'string' && it.length > 0)) {
      return `registerRoots must be an array of directory paths (strings), got ${describe(value)}`;
    }
    return [[...value]];
  },
  width(value) {
    const problem = integerProblem('width', value, 65_536, 1);
    return problem ?? [Number(value)];
  },
  frozen(value) {
    if (typeof value !== 'boolean') return `frozen must be a boolean, got ${describe(value)}`;
    return [value];
  },
  signal(value) {
    if (typeof value?.aborted !== 'boolean' || typeof value.addEventListener !== 'function') {
      return `signal must be an AbortSignal, got ${describe(value)}`;
    }
    return [value];
  },
};

function oneOf(name, values) {
  return (value) =>
    values.includes(value) ? [value] : `${name} must be one of ${values.map((it) => `'${it}'`).join(', ')}, got ${describe(value)}`;
}

/** The options each call uses, and no more: any other is rejected. */
const EVALUATE_OPTIONS = ['files', 'entry', 'loadModule', 'field', 'format', 'limits', 'threads', 'timeoutMs', 'signal'];
const TYPECHECK_OPTIONS = ['files', 'entry', 'loadModule', 'threads', 'timeoutMs', 'signal'];
/**
 * The one-shot calls also fetch remote modules themselves (pinned by `lock`), and take
 * register roots (a Session takes them when it is made).
 */
const REMOTE_OPTIONS = ['lock', 'frozen', 'remote', 'registerRoots'];
const CALL_OPTIONS = {
  evaluate: [...EVALUATE_OPTIONS, ...REMOTE_OPTIONS],
  typecheck: [...TYPECHECK_OPTIONS, ...REMOTE_OPTIONS],
  compileSchema: ['files', 'entry', 'limits', 'loadModule', 'timeoutMs', 'signal', ...REMOTE_OPTIONS],
  validate: ['files', 'entry', 'limits', 'loadModule', 'dataFormat', 'timeoutMs', 'signal', ...REMOTE_OPTIONS],
  'new Session': ['files', 'limits', 'threads', 'registerRoots'],
  'Session.evaluate': [...EVALUATE_OPTIONS, 'remote'],
  'Session.typecheck': [...TYPECHECK_OPTIONS, 'remote'],
  'Session.compileSchema': ['files', 'entry', 'limits', 'timeoutMs', 'signal', 'remote'],
  'Session.missingFiles': ['files', 'entry', 'loadModule', 'remote'],
  'Session.toJsonSchema': ['files', 'entry', 'timeoutMs', 'signal'],
  'Session.toTypeScript': ['files', 'entry', 'timeoutMs', 'signal'],
  'schema.validate': ['dataFormat', 'timeoutMs', 'signal'],
  format: ['width'],
  toJsonSchema: [...TYPECHECK_OPTIONS, 'registerRoots'],
  toTypeScript: [...TYPECHECK_OPTIONS, 'registerRoots'],
};

/**
 * The type names of `toJsonSchema` as an array (`null`/`undefined`: every type the file
 * declares); throws the TypeError of anything but a string, an array of strings or null.
 */
export function typeNamesOf(call, typeNames) {
  if (typeNames === null || typeNames === undefined) return [];
  if (typeof typeNames === 'string') return [typeNames];
  if (Array.isArray(typeNames) && typeNames.every((it) => typeof it === 'string')) return [...typeNames];
  throw new TypeError(`${call}: typeNames must be a string, an array of strings or null, got ${describe(typeNames)}`);
}

/**
 * The options of `call` as `{ options }` (a fresh object of the given, valid, defined keys,
 * or undefined), or `{ error }`, a message in plain words naming the option.
 */
export function checkOptions(call, options) {
  if (options === undefined || options === null) return { options: undefined };
  const valid = CALL_OPTIONS[call];
  const list = valid.join(', ');
  if (!plainObject(options)) {
    return { error: `invalid options: ${call}'s options must be an object { ${list} }, got ${describe(options)}` };
  }
  const checked = {};
  for (const [key, value] of Object.entries(options)) {
    if (!valid.includes(key)) {
      return { error: `invalid options: ${call} has no option \`${key}\` (its options: ${list})` };
    }
    if (value === undefined) continue;
    const result = OPTION_CHECKS[key](value);
    if (typeof result === 'string') return { error: `invalid options: ${result}` };
    checked[key] = result[0];
  }
  return { options: checked };
}

/** Where `key` of the value at JSON path `path` is, in the validator's path syntax. */
function childPath(path, key) {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Why `data` is not a JSON value (a message naming its path), or undefined. Iterative (deep
 * data cannot overflow the stack); an object met again inside itself is a cycle, while the
 * same object under two keys is fine, as for `JSON.stringify`.
 */
export function dataProblem(data) {
  const inside = new Set();
  const todo = [[data, '$']];
  while (todo.length > 0) {
    const [value, path, leaving] = todo.pop();
    if (leaving) {
      inside.delete(value);
      continue;
    }
    switch (typeof value) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (Number.isFinite(value)) continue;
        return `${path} is ${value}, which JSON cannot represent`;
      case 'undefined':
        return `${path} is undefined, which is not a JSON value (leave the property out, or use null)`;
      case 'bigint':
        return `${path} is a BigInt (${value}n), which is not a JSON value (give a number, or JSON text with dataFormat 'json')`;
      case 'object':
        break;
      default:
        return `${path} is ${describe(value)}, which is not a JSON value`;
    }
    if (value === null) continue;
    if (inside.has(value)) return `${path} is a circular reference (the value contains itself)`;
    if (Array.isArray(value)) {
      inside.add(value);
      todo.push([value, path, true]);
      for (let i = value.length - 1; i >= 0; i -= 1) todo.push([value[i], childPath(path, i)]);
    } else if (plainObject(value)) {
      inside.add(value);
      todo.push([value, path, true]);
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i -= 1) todo.push([value[keys[i]], childPath(path, keys[i])]);
    } else {
      return `${path} is ${describe(value)}, not a JSON value (a plain object, array, string, number, boolean or null)`;
    }
  }
  return undefined;
}

/**
 * The options and data of a validation (`call`: 'validate' or 'schema.validate'), checked:
 * `{ checked }`, or `{ failed }`, the usage error as a validation result.
 */
export function checkValidation(call, data, options) {
  const { options: checked, error } = checkOptions(call, options);
  if (error !== undefined) return { failed: { ...usage(error), errors: [] } };
  const text = checked?.dataFormat === 'json' || checked?.dataFormat === 'yaml';
  const problem = text
    ? (typeof data === 'string' ? undefined : `dataFormat '${checked.dataFormat}' needs the text as a string, got ${describe(data)}`)
    : dataProblem(data);
  if (problem !== undefined) return { failed: { ...usage(`invalid data: ${problem}`), errors: [] } };
  return { checked };
}

/** The TypeError of a call on a freed Session or Schema. */
export function freed(what) {
  return new TypeError(`this ${what} was freed (free() releases it for good; make a new one)`);
}

/**
 * The host's stack ran out inside the wasm (V8 keeps wasm frames on its own stack of about
 * 1 MB): the core's own limits (maxDepth, the parser's nesting limit) were set above what
 * this host holds. Reported as R3006, the depth diagnostic, at the start of the entry.
 */
function hostStack(file) {
  const message = "the host's stack ran out: recursion or nesting too deep for WebAssembly on this host";
  return {
    code: 'R3006', name: 'eval/depth-exceeded', severity: 'error', message, file,
    start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1, utf16Column: 1, labels: [],
    notes: ['wasm runs on the host\'s stack (about 1 MB under V8); docs/wasm.md lists the depths that fit'],
    help: 'lower limits.maxDepth, or nest less deeply',
    rendered: `${file}:1:1: error[R3006]: ${message}\n`,
  };
}

/**
 * `value` of a successful evaluation: for JSON, the document as a JS value, which is
 * `JSON.parse(text)` (so numbers and key order are exactly what any consumer of the text
 * sees), made on first read and kept; `null` for the other formats.
 */
export function withValue(result, options) {
  if (result?.ok !== true || 'value' in result) return result;
  const format = options?.format ?? 'json';
  if (format !== 'json' || typeof result.text !== 'string') {
    result.value = null;
    return result;
  }
  const define = (value) =>
    Object.defineProperty(result, 'value', { value, writable: true, enumerable: true, configurable: true });
  Object.defineProperty(result, 'value', {
    enumerable: true,
    configurable: true,
    get() {
      const value = JSON.parse(result.text);
      define(value);
      return value;
    },
    set: define,
  });
  return result;
}

const now = () => globalThis.performance?.now() ?? Date.now();

/** The longest delay `setTimeout` keeps (2^31 - 1 ms, about 24.8 days). */
export const MAX_DELAY_MS = 2 ** 31 - 1;

/** What `race` resolves to when the run stopped first. */
export const STOPPED = Symbol('stopped');

/**
 * One call's run (LANGUAGE.md §12.3): its `signal` and its deadline, `timeoutMs` from the
 * moment the call was made, so that the timeout covers loading (`loadModule`) as well as
 * the phases in the wasm, which get what remains of it.
 */
export class Run {
  constructor(options) {
    this.signal = options?.signal;
    this.timeoutMs = options?.timeoutMs;
    this.deadline = this.timeoutMs === undefined ? Infinity : now() + this.timeoutMs;
    this.loading = false;
  }

  /** 'aborted' or 'timeout' once the run must stop, else undefined. */
  get stopped() {
    if (this.signal?.aborted) return 'aborted';
    if (this.deadline !== Infinity && now() >= this.deadline) return 'timeout';
    return undefined;
  }

  /** The options of the wasm call: the time that remains, and no signal or loader. */
  wasmOptions(options) {
    if (options === undefined) return undefined;
    const { signal: _signal, loadModule: _loadModule, lock: _lock, frozen: _frozen, ...rest } = options;
    if (this.deadline !== Infinity) rest.timeoutMs = Math.max(0, this.deadline - now());
    return rest;
  }

  /**
   * Calls `onStop('aborted' | 'timeout')` once the signal aborts or the deadline passes;
   * returns the function that stops watching.
   */
  watch(onStop) {
    const onAbort = () => onStop('aborted');
    let timer;
    // setTimeout keeps at most 2^31 - 1 ms (a longer delay fires at once): a longer
    // timeout waits in steps until its deadline.
    const arm = () => {
      const left = this.deadline - now();
      timer = left > MAX_DELAY_MS ? setTimeout(arm, MAX_DELAY_MS) : setTimeout(() => onStop('timeout'), Math.max(0, left));
    };
    if (this.deadline !== Infinity) arm();
    this.signal?.addEventListener('abort', onAbort);
    return () => {
      clearTimeout(timer);
      this.signal?.removeEventListener('abort', onAbort);
    };
  }

  /** `promise`'s value, or STOPPED as soon as the signal aborts or the deadline passes. */
  race(promise) {
    if (this.signal === undefined && this.deadline === Infinity) return promise;
    if (this.stopped) {
      promise.catch(() => {});
      return Promise.resolve(STOPPED);
    }
    return new Promise((resolve, reject) => {
      const finish = this.watch(() => {
        finish();
        resolve(STOPPED);
      });
      promise.then(
        (value) => {
          finish();
          resolve(value);
        },
        (error) => {
          finish();
          reject(error);
        },
      );
    });
  }

  /** The result of a run that stopped: R3008 at the start of the entry file. */
  result(file) {
    const why = this.stopped === 'timeout' || (this.stopped === undefined && this.deadline !== Infinity)
      ? `the run took longer than its timeoutMs (${this.timeoutMs} ms)`
      : 'the run was cancelled (its AbortSignal was aborted)';
    const message = `${why}${this.loading ? ' while loading modules' : ''}`;
    return {
      ok: false, text: null, types: [], errors: [], stats: null,
      diagnostics: [{
        code: 'R3008', name: 'eval/timeout', severity: 'error', message, file,
        start: 0, end: 0, line: 1, column: 1, endLine: 1, endColumn: 1, utf16Column: 1, labels: [], notes: [],
        rendered: `${file}:1:1: error[R3008]: ${message}\n`,
      }],
    };
  }
}

/**
 * `loadModule` and remote modules: fetch the imports the loader cannot find, all of one
 * round concurrently, until none is missing; then the pure phases run on the completed file
 * map and the fetched remote modules. `probe(options)` answers `{ ok, missing, remote }` (a
 * Promise or not); `options` are checked options; `texts` the call's source texts (a call
 * that names no remote path and has no `loadModule` is not probed). Local files come from
 * `loadModule`; remote modules (LANGUAGE.md 9.10) from `loadModule` too when it is given,
 * else from the host's `fetch`, checked against `lock` (and pinned there when new, unless
 * `frozen`). Resolves to `{ options, lock? }` (the files and remote modules completed, no
 * loader; `lock` the pins after the call when remote modules were met) or `{ failed }`, a
 * result value.
 */
export async function loadImports(probe, options, run, file, texts = []) {
  const { loadModule, lock, frozen, ...rest } = options ?? {};
  if (loadModule === undefined && lock === undefined && !texts.some(namesRemote) && !Object.values(rest.files ?? {}).some(namesRemote)) {
    return { options };
  }
  const files = { ...(rest.files ?? {}) };
  const remote = { ...(rest.remote ?? {}) };
  const pins = { ...(lock ?? {}) };
  const asked = new Set();
  run.loading = true;
  for (;;) {
    if (run.stopped) return { failed: run.result(file) };
    const found = await run.race(Promise.resolve(probe({ ...run.wasmOptions(rest), files, remote })));
    if (found === STOPPED) return { failed: run.result(file) };
    if (!found.ok) return { failed: found };
    const paths = loadModule === undefined ? [] : found.missing.filter((path) => !asked.has(path));
    const urls = (found.remote ?? []).filter((url) => !asked.has(url));
    if (paths.length === 0 && urls.length === 0) {
      run.loading = false;
      const met = Object.keys(remote).length > 0;
      return { options: { ...rest, files, ...(met ? { remote } : {}) }, lock: met || lock !== undefined ? pins : undefined };
    }
    if (asked.size + paths.length + urls.length > MAX_LOADED) {
      return { failed: usage(`loadModule: more than ${MAX_LOADED} files asked for`) };
    }
    [...paths, ...urls].forEach((path) => asked.add(path));
    let got;
    try {
      got = await run.race(Promise.all([
        Promise.all(paths.map(async (path) => loadModule(path))),
        Promise.all(urls.map((url) => remoteModule(url, loadModule, pins, frozen === true))),
      ]));
    } catch (error) {
      return { failed: usage(`loadModule failed: ${error?.message ?? error}`) };
    }
    if (got === STOPPED) return { failed: run.result(file) };
    const [texts, bodies] = got;
    for (const [i, text] of texts.entries()) {
      if (typeof text === 'string') files[paths[i]] = text;
      else if (text !== null && text !== undefined) {
        return { failed: usage(`loadModule(${JSON.stringify(paths[i])}) must give a string, null or undefined, got ${describe(text)}`) };
      }
    }
    for (const [i, answer] of bodies.entries()) {
      if (answer.usage !== undefined) return { failed: usage(answer.usage) };
      remote[urls[i]] = answer;
    }
  }
}

/** `result` with the call's pins (`lock`), when it met remote modules or was given pins. */
export function withLock(result, lock) {
  if (lock === undefined || result === null || typeof result !== 'object') return result;
  return { ...result, lock };
}

/** Whether a source text may import a remote module (then the call is probed for them). */
function namesRemote(text) {
  return typeof text === 'string' && (text.includes('https://') || text.includes('http://'));
}

/**
 * One remote module for the core's fetcher: `{ body }` (a Uint8Array), `{ failed }` (M4008:
 * the request, its status, redirect or size), `{ integrity }` (M4009: not its pin, or
 * unpinned under `frozen`), or `{ usage }` (loadModule gave something else than text). The
 * reasons are the CLI's words. A new pin is added to `pins`.
 */
async function remoteModule(url, loadModule, pins, frozen) {
  if (frozen && pins[url] === undefined) return { integrity: 'it is not pinned, and the lock is frozen (`frozen: true`)' };
  let body;
  if (loadModule !== undefined) {
    const text = await loadModule(url);
    if (text === null || text === undefined) return { failed: 'loadModule has no module at this URL' };
    if (typeof text !== 'string') return { usage: `loadModule(${JSON.stringify(url)}) must give a string, null or undefined, got ${describe(text)}` };
    body = new TextEncoder().encode(text);
  } else {
    const fetched = await fetchBody(url);
    if (fetched.failed !== undefined) return fetched;
    body = fetched.body;
  }
  const pin = `sha256-${hex(await globalThis.crypto.subtle.digest('SHA-256', body))}`;
  const want = pins[url];
  if (want !== undefined && want !== pin) return { integrity: `its body has ${pin}, the lock pins ${want}` };
  pins[url] = pin;
  return { body };
}

/** The most redirects one fetch follows (LANGUAGE.md 9.10). */
const MAX_REDIRECTS = 5;

/**
 * The body of `url` by the host's `fetch`, with the rules of LANGUAGE.md 9.10: redirects are
 * followed here, one at a time, each checked (Node, workerd); where `fetch` hides them
 * (a browser answers an opaque redirect), it follows them itself and the final URL is checked.
 */
async function fetchBody(url) {
  if (typeof globalThis.fetch !== 'function') return { failed: 'this host has no `fetch` (give `loadModule`)' };
  let response;
  let at = url;
  try {
    for (let redirects = 0; ; redirects += 1) {
      response = await globalThis.fetch(at, { redirect: 'manual', credentials: 'omit' });
      if (response.type === 'opaqueredirect') {
        response = await globalThis.fetch(at, { redirect: 'follow', credentials: 'omit' });
        const refused = refusedRedirect(at, response.url);
        if (refused !== undefined) return { failed: refused };
        break;
      }
      const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
      if (location === null) break;
      if (redirects >= MAX_REDIRECTS) return { failed: `more than ${MAX_REDIRECTS} redirects` };
      const next = new URL(location, at).href;
      const refused = refusedRedirect(at, next);
      if (refused !== undefined) return { failed: refused };
      await response.body?.cancel();
      at = next;
    }
  } catch (error) {
    return { failed: `the request failed: ${error?.cause?.message ?? error?.message ?? error}` };
  }
  if (response.status !== 200) return { failed: `the server answered with status ${response.status}` };
  const tooBig = { failed: `the body is larger than ${MAX_BODY_BYTES} bytes` };
  if (Number(response.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return tooBig;
  const chunks = [];
  let size = 0;
  try {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        return tooBig;
      }
      chunks.push(value);
    }
  } catch (error) {
    return { failed: `reading the body failed: ${error?.message ?? error}` };
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { body };
}

/** Why a redirect from `from` to `to` is not followed, or undefined when it is allowed. */
function refusedRedirect(from, to) {
  if (to === from || to === '') return undefined;
  const target = new URL(to);
  const sameLoopback = target.origin === new URL(from).origin && LOOPBACK.has(target.hostname.toLowerCase());
  if (target.protocol === 'https:' || sameLoopback) return undefined;
  return `a redirect to \`${to}\`, which is neither \`https:\` nor the same loopback origin`;
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The API over one wasm-bindgen module. `load(input)` instantiates it (async), `loadSync`
 * (optional) does so synchronously; `exports`, when given, is an instance already made (Node,
 * edge: instantiated on import).
 */
export function bind(wasm, variant, load, exports, loadSync) {
  let ready = exports === undefined ? undefined : Promise.resolve();
  let pool;
  let raw = exports;
  /** Whether the module is instantiated (`ready` is set as soon as loading starts). */
  let loaded = exports !== undefined;

  // The core reports every input error as a diagnostic. Should the host still abort a call
  // (a JS stack overflow raised inside deep wasm recursion unwinds without running any Rust
  // code), the error becomes a value too, and the wasm stack pointer, left where the call
  // was aborted, is put back so that later calls have the whole stack.
  function guard(call, file = 'main.lig') {
    const sp = raw?.__stack_pointer;
    const saved = sp?.value;
    try {
      return call();
    } catch (error) {
      if (sp !== undefined) sp.value = saved;
      if (error instanceof RangeError && /call stack/i.test(error.message)) {
        return { ok: false, text: null, types: [], errors: [], stats: null, diagnostics: [hostStack(file)] };
      }
      return usage(`internal error: ${error?.message ?? error}`);
    }
  }

  function init(input) {
    let module;
    try {
      module = initInput('init', input);
    } catch (error) {
      return Promise.reject(error);
    }
    // An async function runs `load` synchronously up to its first await, so a synchronous
    // loader (initSync) has finished when `init()` returns.
    ready ??= (async () => {
      raw = (await load(module)) ?? raw;
      loaded = true;
    })();
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  }
  /** Instantiates the module synchronously from its bytes or a compiled module (idempotent). */
  function initSync(input) {
    // The input is checked even when the module is already there: the same call is
    // accepted or refused on every entry.
    const module = initInput('initSync', input);
    if (loaded) return;
    if (ready !== undefined) {
      // Instantiating again under a pending `init` would leave two instances, the second
      // replacing the first under calls already made.
      throw new TypeError('initSync: an init() is still loading the module; await it instead');
    }
    if (module === undefined || loadSync === undefined) {
      throw new TypeError(
        loadSync === undefined
          ? `initSync: the ${variant} build loads asynchronously; use await init()`
          : 'initSync: needs { module } (the bytes of ligature_bg.wasm or a compiled WebAssembly.Module)',
      );
    }
    raw = loadSync(module) ?? raw;
    loaded = true;
    ready = Promise.resolve();
  }
  async function initThreadPool(threads) {
    if (threads !== undefined) {
      const problem = integerProblem('threads', threads, 65_536, 1);
      if (problem) throw new TypeError(`initThreadPool: ${problem}`);
    }
    await init();
    if (typeof wasm.initThreadPool !== 'function') return 1;
    const n = threads === undefined ? globalThis.navigator?.hardwareConcurrency ?? 1 : Number(threads);
    pool ??= wasm.initThreadPool(n).then(() => n);
    pool.catch(() => {
      pool = undefined;
    });
    return pool;
  }
  // One call: stopped before it starts (an aborted signal, `timeoutMs: 0`), then its imports
  // (`loadModule`), then the wasm with what remains of the timeout.
  async function run(call, missingFiles, source, options) {
    const file = entryOf(options);
    const stop = new Run(options);
    if (stop.stopped) return stop.result(file);
    await stop.race(init());
    if (stop.stopped) return stop.result(file);
    const probe = (opts) => guard(() => missingFiles(source ?? null, opts));
    const { options: full, failed, lock } = await loadImports(probe, options, stop, file, [source]);
    if (failed !== undefined) return withLock(failed, lock);
    if (stop.stopped) return stop.result(file);
    return withLock(guard(() => call(source ?? null, stop.wasmOptions(full)), file), lock);
  }
  /**
   * A validation the wasm stopped reports R3008 as its one violation at `$` (as the CLI
   * prints it); here it answers like every stopped call, a diagnostic and no errors.
   */
  function stoppedAsDiagnostic(result, options) {
    const [first] = result.errors ?? [];
    if (result.errors?.length !== 1 || first.code !== 'R3008') return result;
    return new Run(options).result('data');
  }
  /** A synchronous call (no loader): only a signal aborted or a timeout passed before it stops it here. */
  function runSync(call, source, options, file = entryOf(options)) {
    const stop = new Run(options);
    if (stop.stopped) return stop.result(file);
    return guard(() => call(source ?? null, stop.wasmOptions(options)), file);
  }

  async function evaluate(source, options) {
    needString('evaluate', 'source', source, true);
    const { options: checked, error } = checkOptions('evaluate', options);
    if (error !== undefined) return usage(error);
    return withValue(await run(wasm.evaluate, wasm.missingFiles, source, checked), checked);
  }
  async function typecheck(source, options) {
    needString('typecheck', 'source', source, true);
    const { options: checked, error } = checkOptions('typecheck', options);
    if (error !== undefined) return usage(error);
    return run(wasm.typecheck, wasm.missingFiles, source, checked);
  }

  // Types as JSON Schema or TypeScript: `{ ok, schema | typescript, unexpressed, diagnostics }`.
  async function toJsonSchema(source, typeNames, options) {
    needString('toJsonSchema', 'source', source, true);
    const names = typeNamesOf('toJsonSchema', typeNames);
    const { options: checked, error } = checkOptions('toJsonSchema', options);
    if (error !== undefined) return { ...usage(error), unexpressed: [] };
    return withSchema(await run((s, o) => wasm.toJsonSchema(s, names, o), wasm.missingFiles, source, checked));
  }
  /** The schema crosses as text (its 64-bit integer bounds are no exact JS numbers). */
  function withSchema(result) {
    if (typeof result.schemaText !== 'string') return result;
    const { schemaText, ...rest } = result;
    return { ...rest, schema: JSON.parse(schemaText) };
  }
  async function toTypeScript(source, options) {
    needString('toTypeScript', 'source', source, true);
    const { options: checked, error } = checkOptions('toTypeScript', options);
    if (error !== undefined) return { ...usage(error), unexpressed: [] };
    return run(wasm.toTypeScript, wasm.missingFiles, source, checked);
  }

  // A compiled schema: `validate(data, { dataFormat?, timeoutMs?, signal? })`, synchronous,
  // many documents.
  function wrapSchema(result) {
    if (!result.ok || result.schema === undefined) return result;
    let compiled = result.schema;
    const schema = {
      validate(data, options) {
        if (compiled === undefined) throw freed('Schema');
        const { checked, failed } = checkValidation('schema.validate', data, options);
        if (failed !== undefined) return failed;
        const target = compiled;
        return runSync((_, opts) => stoppedAsDiagnostic(target.validate(data, opts), checked), null, checked, 'data');
      },
      /** Releases the schema's wasm memory; a second call does nothing. */
      free() {
        compiled?.free();
        compiled = undefined;
      },
    };
    if (typeof Symbol.dispose === 'symbol') schema[Symbol.dispose] = schema.free;
    return { ...result, schema };
  }
  async function compileSchema(schemaSource, typeName, options) {
    needString('compileSchema', 'schemaSource', schemaSource);
    needString('compileSchema', 'typeName', typeName);
    const { options: checked, error } = checkOptions('compileSchema', options);
    if (error !== undefined) return usage(error);
    return compileChecked(schemaSource, typeName, checked);
  }
  async function compileChecked(schemaSource, typeName, checked) {
    const result = await run(
      (_, opts) => wasm.compileSchema(schemaSource, typeName, opts),
      (_, opts) => wasm.missingFiles(schemaSource, { entry: 'schema.lig', ...opts }),
      schemaSource,
      { entry: 'schema.lig', ...checked },
    );
    return wrapSchema(result);
  }
  // One-shot validation; the compiled schemas of plain calls (no files, entry, limits or
  // loadModule) are kept, the last few, so that a request handler compiles once.
  const schemas = new Map();
  async function validate(data, schemaSource, typeName, options) {
    needString('validate', 'schemaSource', schemaSource);
    needString('validate', 'typeName', typeName);
    const { options: checked, error } = checkOptions('validate', options);
    if (error !== undefined) return { ...usage(error), errors: [] };
    const { dataFormat, timeoutMs, signal, ...compileOptions } = checked ?? {};
    const stop = new Run(checked);
    const plain = Object.keys(compileOptions).length === 0;
    const key = plain ? `${typeName}\u0000${schemaSource}` : undefined;
    // A cached schema is looked up and used with no await in between: a concurrent call
    // that compiles another may evict (and free) it at any await.
    await stop.race(init());
    let compiled = key === undefined ? undefined : schemas.get(key);
    if (compiled === undefined) {
      compiled = await compileChecked(schemaSource, typeName, { ...compileOptions, timeoutMs, signal });
      if (!compiled.ok) return { ok: false, errors: [], diagnostics: compiled.diagnostics ?? [], error: compiled.error };
      const kept = key === undefined ? undefined : schemas.get(key);
      if (kept !== undefined) {
        // Compiled meanwhile by a concurrent call: one copy is kept.
        compiled.schema.free();
        compiled = kept;
      } else if (key !== undefined) {
        schemas.set(key, compiled);
        if (schemas.size > SCHEMA_CACHE) {
          const [oldest, evicted] = schemas.entries().next().value;
          schemas.delete(oldest);
          evicted.schema.free();
        }
      }
    }
    // What remains of the call's timeout is the validation's.
    const rest = stop.deadline === Infinity ? undefined : Math.max(0, stop.deadline - now());
    const result = compiled.schema.validate(data, { dataFormat, timeoutMs: rest, signal });
    if (key === undefined) compiled.schema.free();
    return withLock(result, compiled.lock);
  }

  // The wasm class with every argument checked, and a freed session that says so (a second
  // `free()` does nothing) instead of wasm-bindgen's "null pointer passed to rust".
  const live = new WeakSet();
  function alive(session) {
    if (!live.has(session)) throw freed('Session');
  }
  class Session extends wasm.Session {
    constructor(options) {
      if (!loaded) {
        throw new TypeError(`new Session: the ${variant} build's module is not loaded yet; await init() (or call initSync) first`);
      }
      const { options: checked, error } = checkOptions('new Session', options);
      if (error !== undefined) throw new TypeError(error);
      super(checked);
      live.add(this);
    }
    setFile(path, text) {
      alive(this);
      needString('Session.setFile', 'path', path);
      needString('Session.setFile', 'text', text);
      super.setFile(path, text);
    }
    removeFile(path) {
      alive(this);
      needString('Session.removeFile', 'path', path);
      return super.removeFile(path);
    }
    missingFiles(source, options) {
      alive(this);
      needString('Session.missingFiles', 'source', source, true);
      const { options: checked, error } = checkOptions('Session.missingFiles', options);
      if (error !== undefined) return usage(error);
      const { loadModule: _, ...rest } = checked ?? {};
      return guard(() => super.missingFiles(source ?? null, rest));
    }
    evaluate(source, options) {
      alive(this);
      needString('Session.evaluate', 'source', source, true);
      const { options: checked, error } = checkOptions('Session.evaluate', options);
      const promised = options?.loadModule !== undefined;
      if (error !== undefined) return promised ? Promise.resolve(usage(error)) : usage(error);
      if (promised) {
        return run((s, o) => this.#call(() => super.evaluate(s, o)), (s, o) => this.#call(() => super.missingFiles(s, o)), source, checked)
          .then((result) => withValue(result, checked));
      }
      return withValue(runSync((s, o) => super.evaluate(s, o), source, checked), checked);
    }
    typecheck(source, options) {
      alive(this);
      needString('Session.typecheck', 'source', source, true);
      const { options: checked, error } = checkOptions('Session.typecheck', options);
      const promised = options?.loadModule !== undefined;
      if (error !== undefined) return promised ? Promise.resolve(usage(error)) : usage(error);
      if (promised) {
        return run((s, o) => this.#call(() => super.typecheck(s, o)), (s, o) => this.#call(() => super.missingFiles(s, o)), source, checked);
      }
      return runSync((s, o) => super.typecheck(s, o), source, checked);
    }
    compileSchema(schemaSource, typeName, options) {
      alive(this);
      needString('Session.compileSchema', 'schemaSource', schemaSource);
      needString('Session.compileSchema', 'typeName', typeName);
      const { options: checked, error } = checkOptions('Session.compileSchema', options);
      if (error !== undefined) return usage(error);
      return wrapSchema(runSync((_, o) => super.compileSchema(schemaSource, typeName, o), null, checked, checked?.entry ?? 'schema.lig'));
    }
    /** The session's files are the imports; synchronous (no `loadModule`). */
    toJsonSchema(source, typeNames, options) {
      alive(this);
      needString('Session.toJsonSchema', 'source', source, true);
      const names = typeNamesOf('Session.toJsonSchema', typeNames);
      const { options: checked, error } = checkOptions('Session.toJsonSchema', options);
      if (error !== undefined) return { ...usage(error), unexpressed: [] };
      return withSchema(runSync((s, o) => super.toJsonSchema(s, names, o), source, checked));
    }
    toTypeScript(source, options) {
      alive(this);
      needString('Session.toTypeScript', 'source', source, true);
      const { options: checked, error } = checkOptions('Session.toTypeScript', options);
      if (error !== undefined) return { ...usage(error), unexpressed: [] };
      return runSync((s, o) => super.toTypeScript(s, o), source, checked);
    }
    get stats() {
      alive(this);
      return super.stats;
    }
    /** Releases the session's wasm memory; a second call does nothing. */
    free() {
      if (!live.delete(this)) return;
      super.free();
    }
    // A session freed while a `loadModule` call awaited its files: the rest of the call
    // answers that, as a value.
    #call(call) {
      return live.has(this) ? call() : usage(freed('Session').message);
    }
  }
  if (typeof Symbol.dispose === 'symbol') {
    Session.prototype[Symbol.dispose] = function dispose() {
      this.free();
    };
  }
  /**
   * The loader's probe for hosts that run `loadModule` elsewhere (the worker client runs it
   * on the page): `missingFiles` with options already checked, guarded like every call (a
   * host stack that runs out is an R3006 value, the wasm's stack pointer restored).
   */
  function probe(source, options) {
    return guard(() => wasm.missingFiles(source ?? null, options), entryOf(options));
  }
  /**
   * `source` in the canonical layout of `ligature fmt` (lines of at most `width`, default
   * 100): `{ ok: true, text, diagnostics: [] }`, or `{ ok: false, text: null, diagnostics }`
   * for a source with syntax errors (never laid out).
   */
  async function format(source, options) {
    needString('format', 'source', source);
    const { options: checked, error } = checkOptions('format', options);
    if (error !== undefined) return { ...usage(error), text: null };
    await init();
    return guard(() => wasm.format(source, checked?.width ?? 100));
  }
  /**
   * Where the value at `path` (keys, indexes, constructor names, as in the JSON output) of
   * `source`'s document comes from: `{ start, end, line, utf16Column, endLine,
   * endUtf16Column, matched }` or `null` (also for a source nested too deeply for the host's
   * stack). The file is parsed, never evaluated.
   */
  async function locate(source, path) {
    needString('locate', 'source', source);
    needPath('locate', path);
    await init();
    // A source nested too deeply for the host's stack (an R3006 value from the guard) has no
    // location to offer either.
    const found = guard(() => wasm.locate(source, path));
    return typeof found?.matched === 'number' ? found : null;
  }
  return {
    variant,
    init,
    initSync,
    initThreadPool,
    evaluate,
    typecheck,
    validate,
    compileSchema,
    toJsonSchema,
    toTypeScript,
    format,
    locate,
    Session,
    probe,
  };
}
