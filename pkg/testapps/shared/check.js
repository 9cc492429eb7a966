// What each app does with ligature, shared by the apps (bundlers.test.js copies this file
// into each app's src/ before it builds): load it, start the thread pool, evaluate a
// program with enough independent declarations for the pool to share out, and report what
// happened; or the same through `ligature/worker` (checkClient).

const lets = Array.from({ length: 600 }, (_, i) => `let v${i} = fold (\\s n -> s + n) 0 (range 0 ${200 + i});`);
export const source = `${lets.join('\n')}\nlet total = ${lets.map((_, i) => `v${i}`).join(' + ')};\n`;

/** `promise`, or a rejection naming `step` once `seconds` have passed. */
function within(promise, seconds, step) {
  let timer;
  const late = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${step} did not settle within ${seconds} s`)), seconds * 1000);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** What an evaluation's result says, into the report. */
function outcome(report, result) {
  Object.assign(report, {
    ok: result.ok,
    workers: result.stats?.workers,
    text: result.text,
    diagnostics: result.diagnostics.map((d) => d.rendered ?? d.message),
    error: result.error,
  });
}

/** `{ variant, isolated, threads, ok, workers, text, source }`, or `{ …, error }` at the step that failed. */
export async function check({ init, initThreadPool, evaluate, variant }, threads, initInput) {
  const report = { variant, isolated: globalThis.crossOriginIsolated === true, source };
  let step = 'init()';
  try {
    await within(init(initInput?.(variant)), 20, step);
    step = `initThreadPool(${threads ?? ''})`;
    report.threads = await within(initThreadPool(threads), 20, step);
    step = 'evaluate()';
    const result = await within(evaluate(source), 30, step);
    outcome(report, result);
  } catch (error) {
    report.error = `${step}: ${error?.message ?? error}`;
  }
  return report;
}

/**
 * The same through the worker client, from the page's main thread: `createWorker({ threads })`
 * (the threaded build with 2, the single-threaded one with 1), then the program in the worker.
 */
export async function checkClient(createWorker, threads, wasmURL) {
  const report = { isolated: globalThis.crossOriginIsolated === true, source };
  let step = `createWorker({ threads: ${threads} })`;
  try {
    const engine = await within(createWorker({ threads, wasmURL }), 20, step);
    Object.assign(report, { variant: engine.variant, threads: engine.threads });
    step = 'engine.evaluate()';
    const result = await within(engine.evaluate(source), 30, step);
    outcome(report, result);
    engine.terminate();
  } catch (error) {
    report.error = `${step}: ${error?.message ?? error}`;
  }
  return report;
}
