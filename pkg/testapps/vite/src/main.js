// `?client`: ligature/worker from the page's thread (2 threads when cross-origin isolated).
// Else, cross-origin isolated: ligature in a module Worker with 2 threads; otherwise on the
// page's own thread, where ligature picks its single-threaded build. The report goes to
// `window.ligatureReport` (and the page's text).
import { done, fromWorker } from './report.js';

if (new URLSearchParams(location.search).has('client')) {
  const [{ createWorker }, { checkClient }] = await Promise.all([import('ligature/worker'), import('./check.js')]);
  done(await checkClient(createWorker, globalThis.crossOriginIsolated ? 2 : 1));
} else if (globalThis.crossOriginIsolated) {
  // `?web-threads`: the worker that imports `ligature/web-threads` rather than `ligature`.
  const worker = new URLSearchParams(location.search).has('web-threads')
    ? new Worker(new URL('./worker-web-threads.js', import.meta.url), { type: 'module' })
    : new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  fromWorker(worker);
} else {
  const [ligature, { check }] = await Promise.all([import('ligature'), import('./check.js')]);
  done(await check(ligature));
}
