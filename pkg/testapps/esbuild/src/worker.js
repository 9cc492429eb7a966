// The module Worker: the wasm blocks while it evaluates, and the pool waits with
// Atomics.wait, so ligature's threads run here rather than on the page.
import * as ligature from 'ligature';
import { check } from './check.js';

// esbuild leaves the package's .wasm files behind: build.mjs copies them next to the bundle.
const wasmURLOf = (variant) => ({
  wasmURL: new URL(variant === 'web-threads' ? './ligature-threads.wasm' : './ligature.wasm', import.meta.url),
});

self.postMessage(await check(ligature, 2, wasmURLOf));
