// Browsers and bundlers: the threaded build only where SharedArrayBuffer can be shared
// (a cross-origin-isolated page or worker), the single-threaded build everywhere else.
// Call `await init()` first, then `initThreadPool(n)` to start the threads (a no-op
// returning 1 on the single-threaded build). Run it in a Worker: the wasm blocks.
import { bind, webLoader } from './bind.js';

const threaded = globalThis.crossOriginIsolated === true;
const wasm = threaded
  ? await import('./dist/web-threads/ligature.js')
  : await import('./dist/web/ligature.js');

export const { variant, init, initThreadPool, evaluate, typecheck, validate, compileSchema, Session } = bind(
  wasm,
  threaded ? 'web-threads' : 'web',
  webLoader(wasm),
);
