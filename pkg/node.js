// Node: the single-threaded build, instantiated synchronously on import (the threaded
// build does not load in Node as generated; the native CLI is the parallel tool there).
import { readFileSync } from 'node:fs';
import { bind } from './bind.js';
import * as wasm from './dist/web/ligature.js';

const exports = wasm.initSync({
  module: readFileSync(new URL('./dist/web/ligature_bg.wasm', import.meta.url)),
});

export const { variant, init, initSync, initThreadPool, evaluate, typecheck, validate, compileSchema, toJsonSchema, toTypeScript, format, locate, Session } = bind(
  wasm,
  'node',
  () => exports,
  exports,
);
