// The worker of `ligature/worker` (createWorker): runs one build's in-thread API and answers
// the page's requests, one at a time. Bundled at build time (build.mjs) with that build's
// glue into one self-contained ES module (dist/<build>/engine-worker.js, and the same text
// as a string in engine-worker-source.js, which pkg/worker.js starts from a Blob URL).
//
// Requests are `{ id, op, args }`, answers `{ id, result }` or `{ id, error: { name, message } }`.
// The page checks arguments and options and runs `loadModule` itself: what arrives here is
// checked, with the files complete. Objects that live here (sessions, compiled schemas) are
// numbered handles.
import * as glue from 'ligature-glue';
import { bind, webLoader, webSyncLoader } from '../bind.js';

const api = bind(glue, ENGINE_VARIANT, webLoader(glue), undefined, webSyncLoader(glue));
const handles = new Map();
let nextHandle = 1;

function keep(object) {
  const handle = nextHandle++;
  handles.set(handle, object);
  return handle;
}

/** A request naming an object this worker does not hold: the page's mistake, not the wasm's. */
class NoObject extends Error {}

function object(handle) {
  const found = handles.get(handle);
  if (found === undefined) throw new NoObject(`no object ${handle} in this worker`);
  return found;
}

/**
 * A result without the lazy `value` (the page parses the text itself, if asked); a compiled
 * schema kept here as a handle (`toJsonSchema`'s schema is data, and crosses as it is).
 */
function plain(result, op) {
  if (result !== null && typeof result === 'object' && 'value' in result && typeof result.text === 'string') {
    delete result.value;
  }
  if (result?.schema !== undefined && op !== 'toJsonSchema') {
    const { schema, ...rest } = result;
    return { ...rest, schema: keep(schema) };
  }
  return result;
}

const ops = {
  async start({ module, threads }) {
    const exports = await glue.default(module === undefined ? undefined : { module_or_path: module });
    await api.init();
    const started = ENGINE_VARIANT === 'web-threads' ? await api.initThreadPool(threads) : 1;
    const threaded = ENGINE_VARIANT === 'web-threads';
    return {
      variant: ENGINE_VARIANT,
      threads: started,
      // The threaded build's memory is shared: the page stops a call by setting the flag.
      memory: threaded ? exports.memory : undefined,
      cancelFlag: threaded ? glue.cancelFlag() : undefined,
    };
  },
  evaluate: (source, options) => api.evaluate(source, options),
  typecheck: (source, options) => api.typecheck(source, options),
  compileSchema: (source, typeName, options) => api.compileSchema(source, typeName, options),
  validate: (data, source, typeName, options) => api.validate(data, source, typeName, options),
  locate: (source, path) => api.locate(source, path),
  format: (source, options) => api.format(source, options),
  toJsonSchema: (source, typeNames, options) => api.toJsonSchema(source, typeNames, options),
  toTypeScript: (source, options) => api.toTypeScript(source, options),
  // Guarded: a host stack that runs out is an R3006 value, the wasm's stack pointer restored.
  missingFiles: (source, options) => api.probe(source, options),
  schemaValidate: (handle, data, options) => object(handle).validate(data, options),
  sessionNew: (options) => keep(new api.Session(options)),
  /**
   * A session's schema made again in a new worker: compiled in a session of the same
   * options and files, which is freed at once (the schema does not need it).
   */
  sessionSchema(options, source, typeName, compileOptions) {
    const session = new api.Session(options);
    try {
      return session.compileSchema(source, typeName, compileOptions);
    } finally {
      session.free();
    }
  },
  session: (handle, method, args) => {
    const session = object(handle);
    return method === 'stats' ? session.stats : session[method](...args);
  },
  free(handle) {
    handles.get(handle)?.free();
    handles.delete(handle);
  },
};

/**
 * Whether the host's stack ran out inside the wasm during this call (bind.js turns it into
 * an R3006), or the wasm trapped (an `internal error:` value: `unreachable` on running out
 * of memory, an access out of bounds): the unwinding ran no Rust code, so locks the call
 * held may stay held (the threaded build's pool, its allocator) and its memory may be in
 * any state: the page replaces this worker after the answer.
 */
function poisoned(result) {
  if (typeof result?.error === 'string' && result.error.startsWith('internal error:')) return true;
  return result?.stats === null && result.diagnostics?.some((it) => it.code === 'R3006' && /host's stack ran out/.test(it.message));
}

addEventListener('message', async ({ data }) => {
  if (data == null || typeof data.id !== 'number' || !Object.hasOwn(ops, data.op)) return;
  try {
    const result = plain(await ops[data.op](...data.args), data.op);
    postMessage({ id: data.id, result, poisoned: poisoned(result) });
  } catch (error) {
    // A TypeError is a refused argument (the wasm was not entered); anything else thrown
    // (a RangeError of the host's stack, a wasm RuntimeError) left the instance in an
    // unknown state: the page replaces this worker.
    const harmless = error instanceof TypeError || error instanceof NoObject;
    postMessage({ id: data.id, error: { name: error?.name ?? 'Error', message: String(error?.message ?? error) }, poisoned: !harmless });
  }
});
postMessage({ type: 'ligature_engine_loaded' });
