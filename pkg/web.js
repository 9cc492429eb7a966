// The single-threaded browser build, whatever the page's isolation.
import { bind, webLoader, webSyncLoader } from './bind.js';
import * as wasm from './dist/web/ligature.js';

export const { variant, init, initSync, initThreadPool, evaluate, typecheck, validate, compileSchema, toJsonSchema, toTypeScript, format, locate, Session } = bind(
  wasm,
  'web',
  webLoader(wasm),
  undefined,
  webSyncLoader(wasm),
);
