// The threaded browser build: needs a cross-origin-isolated context (COOP/COEP headers)
// and a Worker. `await init(); await initThreadPool(navigator.hardwareConcurrency)`.
import { bind, webLoader, webSyncLoader } from './bind.js';
import * as wasm from './dist/web-threads/ligature.js';

export const { variant, init, initSync, initThreadPool, evaluate, typecheck, validate, compileSchema, toJsonSchema, toTypeScript, format, locate, Session } = bind(
  wasm,
  'web-threads',
  webLoader(wasm),
  undefined,
  webSyncLoader(wasm),
);
