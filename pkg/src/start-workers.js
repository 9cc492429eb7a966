// Replaces wasm-bindgen-rayon's worker helper in the threaded build (build.mjs writes the
// bundle of this file over `snippets/wasm-bindgen-rayon-*/src/workerHelpers.no-bundler.js`).
//
// The helper it replaces spawned each pool thread from `import.meta.url` and imported the
// glue by its URL in the thread: bundlers rename, split or inline both, so under Vite,
// esbuild and webpack the threads failed (`pkg.default is not a function`, `/@vite/client`
// injected into the worker) and `initThreadPool` never settled. Here each thread runs
// POOL_WORKER_SOURCE (the glue and pool-worker.js, bundled into one string at build time)
// from a Blob URL, and every failure rejects: no Worker, no shared memory, a thread that
// reports an error, dies, or does not start in time.

/** How long one thread may take to instantiate the module before the pool gives up. */
const START_TIMEOUT_MS = 30_000;

// Kept so that no browser collects a worker that shares the memory but is otherwise
// unreferenced (Firefox bug 1702191, as in wasm-bindgen-rayon).
let workers = [];

function startOne(url, message) {
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = new Worker(url, { type: 'module', name: 'ligature-pool' });
    } catch (error) {
      reject(new Error(`ligature: initThreadPool could not create a worker: ${error?.message ?? error}`));
      return;
    }
    const fail = (why) => {
      clearTimeout(timer);
      worker.terminate();
      reject(new Error(`ligature: initThreadPool: a pool thread ${why}`));
    };
    const timer = setTimeout(() => fail(`did not start within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    worker.addEventListener('error', (event) => {
      event.preventDefault?.();
      fail(`failed: ${event.message || 'the worker script did not load (a Content-Security-Policy without worker-src blob:?)'}`);
    });
    worker.addEventListener('messageerror', () => fail('could not receive the module or the shared memory'));
    worker.addEventListener('message', ({ data }) => {
      if (data?.type === 'ligature_pool_ready') {
        clearTimeout(timer);
        resolve(worker);
      } else if (data?.type === 'ligature_pool_failed') {
        fail(`could not instantiate the module: ${data.message}`);
      }
    });
    try {
      worker.postMessage(message);
    } catch (error) {
      // DataCloneError: the memory is not shareable here (not cross-origin isolated).
      fail(`could not receive the shared memory (${error?.message ?? error}); threads need a cross-origin-isolated context`);
    }
  });
}

export async function startWorkers(module, memory, builder) {
  const n = builder.numThreads();
  if (n === 0) throw new Error('ligature: initThreadPool needs at least one thread');
  if (typeof Worker !== 'function') {
    throw new Error('ligature: initThreadPool needs Web Workers, which this environment does not have');
  }
  if (typeof SharedArrayBuffer !== 'function' || !(memory.buffer instanceof SharedArrayBuffer)) {
    throw new Error('ligature: initThreadPool needs SharedArrayBuffer: serve the page cross-origin isolated (COOP: same-origin, COEP: require-corp)');
  }
  const url = URL.createObjectURL(new Blob([POOL_WORKER_SOURCE], { type: 'text/javascript' }));
  const message = { type: 'ligature_pool_start', module, memory, receiver: builder.receiver(), stackSize: POOL_STACK_SIZE };
  const started = await Promise.allSettled(Array.from({ length: n }, () => startOne(url, message)));
  URL.revokeObjectURL(url);
  const failed = started.find((it) => it.status === 'rejected');
  if (failed !== undefined) {
    for (const it of started) if (it.status === 'fulfilled') it.value.terminate();
    throw failed.reason;
  }
  workers = started.map((it) => it.value);
  builder.build();
}
