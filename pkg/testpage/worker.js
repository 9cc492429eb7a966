// Runs the package in a Web Worker for the Chromium tests and benchmarks: `init` loads an
// entry (../index.js, ../web.js or ../web-threads.js) and starts the pool; `run` evaluates cases on one
// Session; `time` evaluates one source `repeat` times and reports the fastest run.
let ligature;

async function handle(message) {
  switch (message.type) {
    case 'init': {
      ligature = await import(message.entry);
      await ligature.init();
      const threads = await ligature.initThreadPool(navigator.hardwareConcurrency);
      return {
        variant: ligature.variant,
        threads,
        isolated: self.crossOriginIsolated,
        hardwareConcurrency: navigator.hardwareConcurrency,
      };
    }
    case 'run': {
      const session = new ligature.Session({});
      const results = message.cases.map(({ source, options }) => {
        const r = session.evaluate(source, options);
        return { ok: r.ok, text: r.text ?? null, codes: r.diagnostics.map((d) => d.code), workers: r.stats?.workers, error: r.error };
      });
      // Not freed: a call the host aborted (a stack overflow) leaves wasm-bindgen's borrow
      // count up, and free() would throw; the results say so.
      return { results };
    }
    case 'time': {
      const times = [];
      let last;
      for (let i = 0; i < message.repeat; i++) {
        // A fresh session each time: nothing cached from the previous run.
        const session = new ligature.Session({});
        const started = performance.now();
        last = session.evaluate(message.source, message.options ?? {});
        times.push(performance.now() - started);
        session.free();
      }
      return { times, ok: last.ok, workers: last.stats?.workers, phases: last.stats?.phases, codes: last.diagnostics.map((d) => d.code), bytes: last.text?.length };
    }
    default:
      throw new Error(`unknown message ${message.type}`);
  }
}

self.onmessage = async ({ data }) => {
  try {
    self.postMessage({ id: data.id, ...(await handle(data)) });
  } catch (error) {
    self.postMessage({ id: data.id, error: String(error?.stack ?? error) });
  }
};
