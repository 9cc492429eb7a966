// The promise-based API over one wasm-bindgen module, shared by every entry point
// (index.js, web.js, web-threads.js, node.js, edge.js). Program errors are result values
// ({ ok: false, diagnostics }), so are malformed options and non-JSON data ({ ok: false,
// diagnostics: [], error }); misuse (an argument of the wrong type, a freed object) is a
// TypeError, and a module that cannot load rejects `init`.

/** `init(input)` of a `--target web` module: a URL, Response, bytes, a compiled
 * `WebAssembly.Module`, or wasm-bindgen's own `{ module_or_path, … }` object. */
export function webLoader(wasm) {
  return (input) =>
    wasm.default(
      input === undefined || Object.getPrototypeOf(input) === Object.prototype
        ? input
        : { module_or_path: input },
    );
}

/** Files `loadModule` may add to one call (a guard against a loader that never ends). */
const MAX_LOADED = 10_000;
/** Compiled schemas kept by the one-shot `validate`. */
const SCHEMA_CACHE = 16;

/** The entry file a call names (for a diagnostic the glue makes). */
function entryOf(options) {
  return typeof options?.entry === 'string' ? options.entry : 'main.lig';
}

/** A usage error as a value. */
function usage(error) {
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

/** A value in a few plain words, for messages ("got 42", "got an array"). */
function describe(value) {
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
function needString(call, name, value, nullable = false) {
  if (typeof value === 'string' || (nullable && (value === null || value === undefined))) return;
  const wanted = nullable ? 'a string or null' : 'a string';
  throw new TypeError(`${call}: ${name} must be ${wanted}, got ${describe(value)}`);
}

const U32_MAX = 2 ** 32 - 1;
const U64_MAX = 2n ** 64n - 1n;
const LIMIT_MAX = { maxSteps: U64_MAX, maxDepth: U32_MAX, maxOutputBytes: U64_MAX };

/** A non-negative integer (a number or a BigInt) up to `max`, else an error message. */
function integerProblem(name, value, max, min = 0) {
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
};

function oneOf(name, values) {
  return (value) =>
    values.includes(value) ? [value] : `${name} must be one of ${values.map((it) => `'${it}'`).join(', ')}, got ${describe(value)}`;
}

/** The options each call uses, and no more: any other is rejected. */
const EVALUATE_OPTIONS = ['files', 'entry', 'loadModule', 'field', 'format', 'limits', 'threads', 'timeoutMs'];
const TYPECHECK_OPTIONS = ['files', 'entry', 'loadModule', 'threads'];
const CALL_OPTIONS = {
  evaluate: EVALUATE_OPTIONS,
  typecheck: TYPECHECK_OPTIONS,
  compileSchema: ['files', 'entry', 'limits', 'loadModule'],
  validate: ['files', 'entry', 'limits', 'loadModule', 'dataFormat'],
  'new Session': ['files', 'limits', 'threads'],
  'Session.evaluate': EVALUATE_OPTIONS,
  'Session.typecheck': TYPECHECK_OPTIONS,
  'Session.compileSchema': ['files', 'entry', 'limits'],
  'Session.missingFiles': ['files', 'entry', 'loadModule'],
  'schema.validate': ['dataFormat'],
};

/**
 * The options of `call` as `{ options }` (a fresh object of the given, valid, defined keys,
 * or undefined), or `{ error }`, a message in plain words naming the option.
 */
function checkOptions(call, options) {
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
function dataProblem(data) {
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

/** The TypeError of a call on a freed Session or Schema. */
function freed(what) {
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
function withValue(result, options) {
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

export function bind(wasm, variant, load, exports) {
  let ready;
  let pool;
  let raw = exports;

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
    if (input !== undefined && (input === null || (typeof input !== 'object' && typeof input !== 'string'))) {
      return Promise.reject(new TypeError(
        `init: input must be a URL, a Response, bytes or a WebAssembly.Module, got ${describe(input)}`,
      ));
    }
    // An async function runs `load` synchronously up to its first await, so a synchronous
    // loader (initSync) has finished when `init()` returns.
    ready ??= (async () => {
      raw = (await load(input)) ?? raw;
    })();
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
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
    return pool;
  }
  // `loadModule`: fetch the imports the loader cannot find, all of one round concurrently,
  // until none is missing; then the pure phases run on the completed file map. `options`
  // are checked options (checkOptions).
  async function withImports(missingFiles, source, options) {
    if (options?.loadModule === undefined) return { options };
    const { loadModule, ...rest } = options;
    const files = { ...(rest.files ?? {}) };
    const asked = new Set();
    for (;;) {
      const probe = guard(() => missingFiles(source ?? null, { ...rest, files }));
      if (!probe.ok) return { failed: probe };
      const paths = probe.missing.filter((path) => !asked.has(path));
      if (paths.length === 0) return { options: { ...rest, files } };
      if (asked.size + paths.length > MAX_LOADED) {
        return { failed: usage(`loadModule: more than ${MAX_LOADED} files asked for`) };
      }
      paths.forEach((path) => asked.add(path));
      let texts;
      try {
        texts = await Promise.all(paths.map(async (path) => loadModule(path)));
      } catch (error) {
        return { failed: usage(`loadModule failed: ${error?.message ?? error}`) };
      }
      for (const [i, text] of texts.entries()) {
        if (typeof text === 'string') files[paths[i]] = text;
        else if (text !== null && text !== undefined) {
          return { failed: usage(`loadModule(${JSON.stringify(paths[i])}) must give a string, null or undefined, got ${describe(text)}`) };
        }
      }
    }
  }
  async function run(call, missingFiles, source, options) {
    await init();
    const { options: full, failed } = await withImports(missingFiles, source, options);
    return failed ?? guard(() => call(source ?? null, full), entryOf(options));
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

  // A compiled schema: `validate(data, { dataFormat? })`, synchronous, many documents.
  function wrapSchema(result) {
    if (!result.ok || result.schema === undefined) return result;
    let compiled = result.schema;
    const schema = {
      validate(data, options) {
        if (compiled === undefined) throw freed('Schema');
        const { options: checked, error } = checkOptions('schema.validate', options);
        if (error !== undefined) return { ...usage(error), errors: [] };
        const text = checked?.dataFormat === 'json' || checked?.dataFormat === 'yaml';
        if (text && typeof data !== 'string') {
          return { ...usage(`invalid data: dataFormat '${checked.dataFormat}' needs the text as a string, got ${describe(data)}`), errors: [] };
        }
        const problem = text ? undefined : dataProblem(data);
        if (problem !== undefined) return { ...usage(`invalid data: ${problem}`), errors: [] };
        const target = compiled;
        return guard(() => target.validate(data, checked));
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
    await init();
    const { options: full, failed } = await withImports(
      (_, opts) => wasm.missingFiles(schemaSource, { entry: 'schema.lig', ...opts }),
      schemaSource,
      checked,
    );
    return failed ?? wrapSchema(guard(() => wasm.compileSchema(schemaSource, typeName, full)));
  }
  // One-shot validation; the compiled schemas of plain calls (no files, entry, limits or
  // loadModule) are kept, the last few, so that a request handler compiles once.
  const schemas = new Map();
  async function validate(data, schemaSource, typeName, options) {
    needString('validate', 'schemaSource', schemaSource);
    needString('validate', 'typeName', typeName);
    const { options: checked, error } = checkOptions('validate', options);
    if (error !== undefined) return { ...usage(error), errors: [] };
    const { dataFormat, ...compileOptions } = checked ?? {};
    const plain = Object.keys(compileOptions).length === 0;
    const key = plain ? `${typeName}\u0000${schemaSource}` : undefined;
    let compiled = key === undefined ? undefined : schemas.get(key);
    if (compiled === undefined) {
      compiled = await compileChecked(schemaSource, typeName, plain ? undefined : compileOptions);
      if (!compiled.ok) return { ok: false, errors: [], diagnostics: compiled.diagnostics ?? [], error: compiled.error };
      if (key !== undefined) {
        schemas.set(key, compiled);
        if (schemas.size > SCHEMA_CACHE) {
          const [oldest, evicted] = schemas.entries().next().value;
          schemas.delete(oldest);
          evicted.schema.free();
        }
      }
    } else {
      await init();
    }
    const result = compiled.schema.validate(data, dataFormat === undefined ? undefined : { dataFormat });
    if (key === undefined) compiled.schema.free();
    return result;
  }

  // The wasm class with every argument checked, and a freed session that says so (a second
  // `free()` does nothing) instead of wasm-bindgen's "null pointer passed to rust".
  const live = new WeakSet();
  function alive(session) {
    if (!live.has(session)) throw freed('Session');
  }
  class Session extends wasm.Session {
    constructor(options) {
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
      return withValue(guard(() => super.evaluate(source ?? null, checked), entryOf(checked)), checked);
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
      return guard(() => super.typecheck(source ?? null, checked), entryOf(checked));
    }
    compileSchema(schemaSource, typeName, options) {
      alive(this);
      needString('Session.compileSchema', 'schemaSource', schemaSource);
      needString('Session.compileSchema', 'typeName', typeName);
      const { options: checked, error } = checkOptions('Session.compileSchema', options);
      if (error !== undefined) return usage(error);
      return wrapSchema(guard(() => super.compileSchema(schemaSource, typeName, checked)));
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
  return { variant, init, initThreadPool, evaluate, typecheck, validate, compileSchema, Session };
}
