// Edge workers (workerd, Cloudflare-style): the single-threaded build. Such runtimes refuse
// to compile wasm from bytes, so the module is imported (declared as a wasm module in the
// worker's config, or by the bundler) and instantiated synchronously on import.
import { bind } from './bind.js';
import * as wasm from './dist/web/ligature.js';
import module from './dist/web/ligature_bg.wasm';

const exports = wasm.initSync({ module });

export const { variant, init, initSync, initThreadPool, evaluate, typecheck, validate, compileSchema, toJsonSchema, toTypeScript, format, locate, Session } = bind(
  wasm,
  'edge',
  () => exports,
  exports,
);
