// benches/worker_bench.mjs calls `window.bench(source, repeat)`: the program through
// ligature/worker with 2 threads of the threaded build, with `threads: 1` on the same build,
// and on the single-threaded build; best of `repeat` after a warm-up run each.
import { createWorker } from 'ligature/worker';

async function time(engine, source, options, repeat) {
  const warm = await engine.evaluate(source, options);
  if (!warm.ok) throw new Error(warm.diagnostics[0]?.message ?? warm.error);
  const times = [];
  let workers;
  for (let i = 0; i < repeat; i++) {
    const started = performance.now();
    const result = await engine.evaluate(source, options);
    times.push(performance.now() - started);
    workers = result.stats.workers;
  }
  return { ms: Math.min(...times), workers };
}

window.bench = async (source, repeat) => {
  const threaded = await createWorker({ threads: 2 });
  const two = await time(threaded, source, {}, repeat);
  const one = await time(threaded, source, { threads: 1 }, repeat);
  threaded.terminate();
  const single = await createWorker({ threads: 1 });
  const alone = await time(single, source, {}, repeat);
  single.terminate();
  return { two: two.ms, workers: two.workers, one: one.ms, single: alone.ms, variant: threaded.variant };
};
