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

export function bind(wasm, variant, load) {
  let ready;
  let pool;
  function init(input) {
    // An async function runs `load` synchronously up to its first await, so a synchronous
    // loader (initSync) has finished when `init()` returns.
    ready ??= (async () => {
      await load(input);
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
    return wasm.evaluate(source ?? null, options);
  }
  async function typecheck(source, options) {
    await init();
    return wasm.typecheck(source ?? null, options);
  }
  return { variant, init, initThreadPool, evaluate, typecheck, Session: wasm.Session };
}
