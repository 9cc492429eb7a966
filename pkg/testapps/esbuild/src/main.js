// `?client`: ligature/worker from the page's thread (2 threads when cross-origin isolated).
// Else, cross-origin isolated: ligature in a module Worker with 2 threads; otherwise on the
// page's own thread, where ligature picks its single-threaded build. The report goes to
// `window.ligatureReport` (and the page's text).
import { done, fromWorker } from './report.js';

// esbuild leaves the package's .wasm files behind: build.mjs copies both builds' next to
// the bundle, and init is told where the one of the build in use is.
const wasmURLOf = (variant) => ({
  wasmURL: new URL(variant === 'web-threads' ? './ligature-threads.wasm' : './ligature.wasm', import.meta.url),
});

if (new URLSearchParams(location.search).has('client')) {
  const [{ createWorker }, { checkClient }] = await Promise.all([import('ligature/worker'), import('./check.js')]);
  const threads = globalThis.crossOriginIsolated ? 2 : 1;
  done(await checkClient(createWorker, threads, wasmURLOf(threads > 1 ? 'web-threads' : 'web').wasmURL));
} else if (globalThis.crossOriginIsolated) {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  fromWorker(worker);
} else {
  const [ligature, { check }] = await Promise.all([import('ligature'), import('./check.js')]);
  done(await check(ligature, undefined, wasmURLOf));
}
