// One thread of the threaded build's rayon pool. Bundled at build time (build.mjs) with the
// wasm-bindgen glue into one self-contained ES module, which `startWorkers` runs from a
// Blob URL: no worker file for a bundler to find, move or rename (Vite, esbuild, webpack),
// and nothing fetched (the module and the shared memory come in the start message).
import init, { wbg_rayon_start_worker } from 'ligature-glue';

addEventListener('message', async function start({ data }) {
  if (data == null || data.type !== 'ligature_pool_start') return;
  removeEventListener('message', start);
  try {
    await init({ module_or_path: data.module, memory: data.memory, thread_stack_size: data.stackSize });
  } catch (error) {
    postMessage({ type: 'ligature_pool_failed', message: String(error?.message ?? error) });
    return;
  }
  postMessage({ type: 'ligature_pool_ready' });
  // Runs rayon's worker loop: never returns while the pool lives.
  wbg_rayon_start_worker(data.receiver);
});
