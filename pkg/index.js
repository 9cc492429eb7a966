// Browsers and bundlers: the threaded build only where SharedArrayBuffer can be shared
// (a cross-origin-isolated page or worker), the single-threaded build everywhere else.
// Call `await init()` first, then `initThreadPool(n)` to start the threads (a no-op
// returning 1 on the single-threaded build). The calls block the thread they run on: on a
// page, use `ligature/worker` (createWorker), which runs them in a Worker.
//
// Both glues are imported statically (no top-level await, which some bundler targets
// reject); neither does any work until `init`.
import { bind, webLoader, webSyncLoader } from './bind.js';
import * as single from './dist/web/ligature.js';
import * as threads from './dist/web-threads/ligature.js';

const threaded = globalThis.crossOriginIsolated === true;
const wasm = threaded ? threads : single;

export const { variant, init, initSync, initThreadPool, evaluate, typecheck, validate, compileSchema, toJsonSchema, toTypeScript, format, locate, Session } = bind(
  wasm,
  threaded ? 'web-threads' : 'web',
  webLoader(wasm),
  undefined,
  webSyncLoader(wasm),
);
