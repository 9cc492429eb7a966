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
export function bind(wasm, variant, load, exports) {
  let ready;
  let pool;
  let raw = exports;

  // The core reports every input error as a diagnostic. Should the host still abort a call
  // (a JS stack overflow raised inside deep wasm recursion unwinds without running any Rust
  // code), the error becomes a value too, and the wasm stack pointer, left where the call
  // was aborted, is put back so that later calls have the whole stack.
  function guard(call) {
    const sp = raw?.__stack_pointer;
    const saved = sp?.value;
    try {
      return call();
    } catch (error) {
      if (sp !== undefined) sp.value = saved;
      return { ok: false, diagnostics: [], error: `internal error: ${error?.message ?? error}` };
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
  async function evaluate(source, options) {
    await init();
    return guard(() => wasm.evaluate(source ?? null, options));
  }
  async function typecheck(source, options) {
    await init();
    return guard(() => wasm.typecheck(source ?? null, options));
  }
  class Session extends wasm.Session {
    evaluate(source, options) {
      return guard(() => super.evaluate(source ?? null, options));
    }
    typecheck(source, options) {
      return guard(() => super.typecheck(source ?? null, options));
    }
  }
  return { variant, init, initThreadPool, evaluate, typecheck, Session };
}
