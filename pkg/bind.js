// The promise-based API over one wasm-bindgen module, shared by every entry point
// (index.js, web.js, web-threads.js, node.js, edge.js). Program errors are result values
// ({ ok: false, diagnostics }); only a module that cannot load rejects `init`.

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

/**
 * `load(input)` instantiates the module and returns its raw exports (what wasm-bindgen's
 * `init`/`initSync` return); `exports` may be given up front when it already ran.
 */
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
    await init();
    if (typeof wasm.initThreadPool !== 'function') return 1;
    const n = threads ?? globalThis.navigator?.hardwareConcurrency ?? 1;
    pool ??= wasm.initThreadPool(n).then(() => n);
    return pool;
  }
  // `loadModule`: fetch the imports the loader cannot find, all of one round concurrently,
  // until none is missing; then the pure phases run on the completed file map.
  async function withImports(missingFiles, source, options) {
    if (options === null || typeof options !== 'object' || !('loadModule' in options)) {
      return { options };
    }
    const { loadModule, ...rest } = options;
    if (typeof loadModule !== 'function') {
      return { failed: usage('invalid options: `loadModule` must be a function (path) => string | null') };
    }
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
          return { failed: usage(`loadModule(${JSON.stringify(paths[i])}) must give a string, null or undefined`) };
        }
      }
    }
  }
  async function run(call, missingFiles, source, options) {
    await init();
    const { options: full, failed } = await withImports(missingFiles, source, options);
    return failed ?? guard(() => call(source ?? null, full), entryOf(options));
  }

  const evaluate = async (source, options) =>
    withValue(await run(wasm.evaluate, wasm.missingFiles, source, options), options);
  const typecheck = (source, options) => run(wasm.typecheck, wasm.missingFiles, source, options);

  // A compiled schema: `validate(data, { dataFormat? })`, synchronous, many documents.
  function wrapSchema(result) {
    if (!result.ok || result.schema === undefined) return result;
    const raw = result.schema;
    const schema = {
      validate: (data, options) => guard(() => raw.validate(data, options)),
      free: () => raw.free(),
    };
    return { ...result, schema };
  }
  async function compileSchema(schemaSource, typeName, options) {
    await init();
    const { options: full, failed } = await withImports(
      (_, opts) => wasm.missingFiles(schemaSource, { entry: 'schema.lig', ...opts }),
      schemaSource,
      options,
    );
    return failed ?? wrapSchema(guard(() => wasm.compileSchema(schemaSource, typeName, full)));
  }
  // One-shot validation; the compiled schemas of plain calls (no files, entry, limits or
  // loadModule) are kept, the last few, so that a request handler compiles once.
  const schemas = new Map();
  async function validate(data, schemaSource, typeName, options) {
    const { dataFormat, ...compileOptions } = options !== null && typeof options === 'object' ? options : {};
    const plain = Object.keys(compileOptions).length === 0 && (options == null || typeof options === 'object');
    const key = plain ? `${typeName}\u0000${schemaSource}` : undefined;
    let compiled = key === undefined ? undefined : schemas.get(key);
    if (compiled === undefined) {
      compiled = await compileSchema(schemaSource, typeName, plain ? undefined : options === undefined ? undefined : compileOptions);
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

  class Session extends wasm.Session {
    evaluate(source, options) {
      if (options?.loadModule !== undefined) {
        return run((s, o) => super.evaluate(s, o), (s, o) => super.missingFiles(s, o), source, options)
          .then((result) => withValue(result, options));
      }
      return withValue(guard(() => super.evaluate(source ?? null, options), entryOf(options)), options);
    }
    typecheck(source, options) {
      if (options?.loadModule !== undefined) {
        return run((s, o) => super.typecheck(s, o), (s, o) => super.missingFiles(s, o), source, options);
      }
      return guard(() => super.typecheck(source ?? null, options), entryOf(options));
    }
    compileSchema(schemaSource, typeName, options) {
      return wrapSchema(guard(() => super.compileSchema(schemaSource, typeName, options)));
    }
  }
  return { variant, init, initThreadPool, evaluate, typecheck, validate, compileSchema, Session };
}
