// Benchmarks of `ligature/worker` and the bundled threaded build (issue 17), part of
// `make bench-wasm`; printed as Markdown and saved to target/bench/worker.json.
//
// 1. Stopping a call, in every phase, on a 5.7 MB program (benches/gen.py services 140000),
//    in headless Chromium, on both builds (a cross-origin-isolated page: the threaded build
//    with 2 threads, stopped by its shared flag; a plain page: the single-threaded build,
//    stopped by replacing its worker). A first, unstopped run gives the phases' times; then
//    for each phase, a run is aborted halfway through it (the offset counted from the call,
//    plus the time the worker took to receive the source), and we measure
//    - "answer": abort → the call's promise resolves with R3008;
//    - "free": abort → a one-line program sent right after the abort has been answered
//      (the worker stopped the run and is free; for the single-threaded build, a new worker
//      started and the session made again);
//    and the same with `timeoutMs` set to that offset (deadline → R3008).
// 2. The compute workload (gen.py compute 10000) through the Vite build of pkg/testapps/vite
//    (installed as bundlers.test.js does), via `createWorker`: 2 threads of the threaded
//    build vs `threads: 1` (the same build on its calling thread) and vs the single-threaded
//    build, best of N after a warm-up.
//
// LIGATURE_BENCH_QUICK=1 runs fewer repetitions.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PKG, launchChromium, serveStatic } from '../pkg/test/helpers.js';
import { OUT, generate } from './workloads.mjs';

const QUICK = process.env.LIGATURE_BENCH_QUICK === '1';
const REPEAT = QUICK ? 2 : 5;
const ms = (x) => (x === undefined ? '-' : `${x.toFixed(x < 10 ? 1 : 0)} ms`);
const best = (xs) => Math.min(...xs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];


/** In the page: stop runs of `source` in each phase; returns the measurements. */
async function stopInEveryPhase(page, source, repeat) {
  return page.evaluate(async ([source, repeat]) => {
    const engine = window.engine ??= await window.client.createWorker();
    // One-shot calls: a session would reuse its caches from the second run on.
    const session = { evaluate: (text, options) => engine.evaluate(text, options) };
    const full = await session.evaluate(source, {});
    if (!full.ok) throw new Error(`the program failed: ${full.diagnostics[0]?.message}`);
    // When the worker got the source: a tiny call's round trip vs the big one's delivery
    // cannot be separated from here, so each phase's offset is its start in the run plus
    // the measured gap between the call and the run's own clock (total minus phases).
    const started = performance.now();
    const again = await session.evaluate(source, {});
    const wall = performance.now() - started;
    const inside = again.stats.phases.reduce((sum, [, t]) => sum + t, 0);
    const lead = Math.max(0, wall - inside);
    const phases = [];
    let at = lead;
    for (const [phase, t] of again.stats.phases) {
      phases.push({ phase, start: at, duration: t });
      at += t;
    }
    const rows = [];
    for (const { phase, start, duration } of phases) {
      const offset = start + duration / 2;
      const answer = [];
      const free = [];
      const timeout = [];
      const timeoutFree = [];
      for (let i = 0; i < repeat; i++) {
        const controller = new AbortController();
        const running = session.evaluate(source, { signal: controller.signal });
        await new Promise((ok) => setTimeout(ok, offset));
        const abortedAt = performance.now();
        controller.abort();
        const next = engine.evaluate('let x = 1;', {});
        const r = await running;
        answer.push(performance.now() - abortedAt);
        if (r.diagnostics[0]?.code !== 'R3008') throw new Error(`${phase}: ${JSON.stringify(r.diagnostics[0])}`);
        await next;
        free.push(performance.now() - abortedAt);
        const t0 = performance.now();
        const timed = session.evaluate(source, { timeoutMs: offset });
        const nextTimed = new Promise((ok) => setTimeout(ok, offset)).then(() => engine.evaluate('let x = 1;', {}));
        const rt = await timed;
        timeout.push(performance.now() - t0 - offset);
        if (rt.diagnostics[0]?.code !== 'R3008') throw new Error(`${phase} (timeout): ${JSON.stringify(rt.diagnostics[0])}`);
        await nextTimed;
        timeoutFree.push(performance.now() - t0 - offset);
      }
      rows.push({ phase, offset, answer, free, timeout, timeoutFree });
    }
    return { variant: engine.variant, threads: engine.threads, restarts: engine.restarts, phases: again.stats.phases, rows };
  }, [source, repeat]);
}

/** Installs pkg/testapps/vite against this package (no registry) and builds it; returns its dist. */
function viteBuild(work) {
  const app = join(work, 'vite');
  cpSync(join(PKG, 'testapps', 'vite'), app, { recursive: true, filter: (from) => !/[/\\](node_modules|dist)$/.test(from) });
  cpSync(join(PKG, 'testapps', 'shared'), join(app, 'src'), { recursive: true });
  const modules = join(app, 'node_modules');
  mkdirSync(modules);
  symlinkSync(PKG, join(modules, 'ligature'), 'dir');
  symlinkSync(join(PKG, 'node_modules', 'vite'), join(modules, 'vite'), 'dir');
  const build = spawnSync(join(PKG, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], { cwd: app, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`vite build: ${build.stdout}${build.stderr}`);
  return join(app, 'dist');
}

async function computeThroughVite(browser, dist, source) {
  const server = await serveStatic(dist);
  const page = await browser.newPage();
  try {
    await page.goto(`${server.url}/bench.html`);
    await page.waitForFunction(() => window.bench !== undefined, null, { timeout: 30_000 });
    return await page.evaluate(([source, repeat]) => window.bench(source, repeat), [source, REPEAT]);
  } finally {
    await page.close();
    await server.close();
  }
}

async function main() {
  const services = readFileSync(generate('services', 140_000), 'utf8');
  const compute = readFileSync(generate('compute', 10_000), 'utf8');
  const server = await serveStatic(PKG);
  const browser = await launchChromium();
  const work = mkdtempSync(join(tmpdir(), 'ligature-bench-'));
  const results = { date: new Date().toISOString(), quick: QUICK, source: services.length, stop: {}, vite: undefined };
  try {
    for (const [name, query] of [['threaded', ''], ['single', '?plain']]) {
      const page = await browser.newPage();
      await page.goto(`${server.url}/testpage/client.html${query}`);
      await page.waitForFunction(() => window.client !== undefined);
      results.stop[name] = await stopInEveryPhase(page, services, QUICK ? 1 : 3);
      await page.close();
    }
    results.vite = await computeThroughVite(browser, viteBuild(work), compute);
  } finally {
    await browser.close();
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'worker.json'), `${JSON.stringify(results, null, 2)}\n`);

  console.log(`\n${results.date}: stopping a call of ligature/worker on a ${(results.source / 1e6).toFixed(1)} MB program (median of runs)\n`);
  console.log('| build | phase | phase time | abort → R3008 | abort → worker free | timeout → R3008 | timeout → worker free |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(results.stop)) {
    for (const row of r.rows) {
      const took = r.phases.find(([p]) => p === row.phase)?.[1];
      console.log(`| ${name} (${r.variant}, ${r.threads} thread${r.threads > 1 ? 's' : ''}) | ${row.phase} | ${ms(took)} | ${ms(median(row.answer))} | ${ms(median(row.free))} | ${ms(median(row.timeout))} | ${ms(median(row.timeoutFree))} |`);
    }
    console.log(`| ${name} | (worker replaced ${r.restarts} times) | | | | | |`);
  }
  const v = results.vite;
  console.log(`\ncompute 10,000 through the Vite build, ligature/worker in Chromium, best of ${REPEAT} after a warm-up:`);
  console.log(`threaded build, 2 threads: ${ms(v.two)} (${v.workers} workers); same build, threads: 1: ${ms(v.one)} (${(v.one / v.two).toFixed(2)}x); single-threaded build: ${ms(v.single)} (${(v.single / v.two).toFixed(2)}x)`);
}

await main();
