// `make bench-playground`: the playground's speed (www/, issue 18) in headless Chromium on
// this machine, against the issue's goals. Not a test (nothing fails on a slow machine): it
// prints a Markdown table for the README and saves it to target/bench/playground.json.
//
// The built page (www/dist) is served by Vite's preview server with the isolation headers,
// as `make playground` does; Chromium is Debian's, through playwright-core.
//
// - first result: a fresh browser context (empty HTTP cache, no service worker yet) opens
//   the page; the time from navigation start to the first result on screen (`data-first-ms`,
//   set by the page when the first run has rendered), median of RUNS;
// - transferred for the first view: every file the page and its workers fetched, gzip -9;
// - the 10,000-binding example, one binding edited: from the edit (run at once, as
//   Ctrl-Enter does: the 150 ms debounce excluded) to the new text in the output pane and
//   the next frame rendered (the first task after its requestAnimationFrame callbacks: the
//   callbacks alone run before the frame's layout, which for one 2 MB <pre> was 550-900 ms);
// - the compute example at 2 threads and at 1 (the thread-count control: the same threaded
//   build with a pool of 2, or evaluating on its one thread), each run after an edit of the
//   shared function so that nothing comes from the session's cache: the eval phase from
//   `stats` and the page's round trip.
//
// RUNS=n sets the repetitions (default 5).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

import { freePort, launchChromium } from '../pkg/test/helpers.js';
import { OUT } from './workloads.mjs';

const WWW = fileURLToPath(new URL('../www/', import.meta.url));
const DIST = join(WWW, 'dist');
const RUNS = Number(process.env.RUNS ?? 5);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => x.toFixed(x < 100 ? 1 : 0);

// Vite is the playground's dependency (www/node_modules), not the package's.
const { preview: startPreview } = await import(pathToFileURL(createRequire(join(WWW, 'package.json')).resolve('vite')).href);
const port = await freePort();
const server = await startPreview({ root: WWW, logLevel: 'warn', preview: { host: '127.0.0.1', port, strictPort: true } });
const base = `http://127.0.0.1:${port}/`;
const browser = await launchChromium();
const rows = [];
const results = { date: new Date().toISOString(), runs: RUNS };

const dataset = (page, selector, key) => page.evaluate(([s, k]) => document.querySelector(s).dataset[k], [selector, key]);
const finished = async (page) => Number(await dataset(page, '[data-testid=status]', 'finished'));

async function settle(page, seen) {
  await page.waitForFunction((seen) => Number(document.querySelector('[data-testid=status]').dataset.finished) > seen, seen, { timeout: 120_000 });
}

/** A fresh context on the page, once its first result is on screen. */
async function fresh({ offline = false } = {}) {
  // Without `offline`, no service worker: it registers after the first result and would add
  // its precache (both builds) to what the first view fetched.
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: offline ? 'allow' : 'block' });
  const page = await context.newPage();
  const fetched = new Set();
  // Requests of the page and of its dedicated workers (the engine worker fetches the wasm).
  const note = (request) => {
    if (request.url().startsWith(base)) fetched.add(new URL(request.url()).pathname);
  };
  context.on('request', note);
  await page.goto(base);
  await page.waitForFunction(() => document.querySelector('[data-testid=status]').dataset.firstMs !== undefined, null, { timeout: 60_000 });
  const firstMs = Number(await dataset(page, '[data-testid=status]', 'firstMs'));
  const firstView = new Set(fetched);
  // The later measures run with the page settled: its service worker installed.
  if (offline) await page.waitForFunction(() => document.documentElement.dataset.offline !== undefined, null, { timeout: 60_000 });
  return { page, context, firstMs, firstView };
}

// First result, cold; what the first view transferred.
{
  const firsts = [];
  let files;
  for (let i = 0; i < RUNS; i += 1) {
    const { context, firstMs, firstView } = await fresh();
    firsts.push(firstMs);
    files ??= firstView;
    await context.close();
  }
  const sizes = [...files].filter((path) => path !== '/sw.js').map((path) => {
    const bytes = readFileSync(join(DIST, path === '/' ? 'index.html' : path));
    return { path, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const gzip = sizes.reduce((sum, it) => sum + it.gzip, 0);
  const raw = sizes.reduce((sum, it) => sum + it.bytes, 0);
  results.firstResultMs = firsts;
  results.firstView = sizes;
  rows.push(['first result after opening the page (cold cache)', `${median(firsts)} ms (median of ${RUNS}: ${firsts.join(', ')})`, 'under 1,500 ms']);
  rows.push(['first view transferred (gzip -9)', `${(gzip / 1e6).toFixed(2)} MB (${(raw / 1e6).toFixed(2)} MB raw, ${sizes.length} files: ${sizes.map((it) => `${it.path.replace('/assets/', '')} ${(it.gzip / 1e3).toFixed(0)} KB`).join(', ')})`, 'under 1.5 MB']);
}

// One binding of the 10,000-binding example.
{
  const { page, context } = await fresh({ offline: true });
  const seen = await finished(page);
  await page.getByTestId('examples').selectOption('large');
  await settle(page, seen);
  const latencies = [];
  const parts = [];
  for (let i = 0; i < RUNS * 4; i += 1) {
    const { ms, split } = await page.evaluate(async (i) => {
      const { editor, runNow } = window.playground;
      const text = editor.state.doc.toString();
      const at = text.indexOf('let s5000 = mk 5000 "') + 'let s5000 = mk 5000 "'.length;
      const end = text.indexOf('"', at);
      const label = `edit-${i}`;
      const output = document.querySelector('[data-testid=output]');
      const started = performance.now();
      editor.dispatch({ changes: { from: at, to: end, insert: label } });
      runNow();
      await new Promise((resolve) => {
        const check = () => (output.textContent.includes(label) ? resolve() : setTimeout(check, 0));
        check();
      });
      // The next frame's callbacks run before its layout and paint; the task after them, after.
      await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
      return { ms: performance.now() - started, split: { ...output.dataset, stats: document.querySelector('#stats').textContent } };
    }, i);
    latencies.push(ms);
    parts.push(split);
  }
  const stats = await page.locator('#stats').textContent();
  const part = (key) => median(parts.map((it) => Number(it[key])));
  results.largeEditMs = latencies;
  results.largeEditParts = parts;
  results.largeEditStats = stats;
  rows.push(['10,000 bindings, one edited: new output painted', `${fmt(median(latencies))} ms (median of ${latencies.length}, best ${fmt(Math.min(...latencies))}; sync ${fmt(part('syncMs'))}, engine round trip ${fmt(part('engineMs'))}, page ${fmt(part('pageMs'))}; last run: ${stats})`, 'under 50 ms']);
  await context.close();
}

// The compute example at 2 threads and at 1.
{
  const { page, context } = await fresh({ offline: true });
  const byThreads = {};
  for (const threads of [2, 1]) {
    let seen = await finished(page);
    await page.locator('#thread-count').selectOption(String(threads));
    await settle(page, seen);
    seen = await finished(page);
    await page.getByTestId('examples').selectOption('compute');
    await settle(page, seen);
    const evals = [];
    const trips = [];
    let indicator;
    for (let i = 0; i < RUNS + 1; i += 1) {
      seen = await finished(page);
      // A modulus not used before in the shared function: every binding is computed again.
      await page.evaluate((modulus) => {
        const { editor, runNow } = window.playground;
        const line = editor.state.doc.line(3);
        editor.dispatch({ changes: { from: line.from, to: line.to, insert: line.text.replace(/% \d+/, `% ${modulus}`) } });
        runNow();
      }, 1000003 + 2 * (i + 1) + 1000 * threads);
      await settle(page, seen);
      const info = await page.evaluate(() => ({
        stats: document.querySelector('#stats').textContent,
        trip: Number(document.querySelector('[data-testid=output]').dataset.ms),
        indicator: document.querySelector('[data-testid=threads]').textContent,
        status: document.querySelector('[data-testid=status]').textContent,
      }));
      if (info.status !== 'ok') throw new Error(`compute at ${threads} threads: ${info.status}: ${info.stats}`);
      indicator = info.indicator;
      if (i === 0) continue; // a warm-up
      evals.push(Number(/eval ([\d.]+)/.exec(info.stats)[1]));
      trips.push(info.trip);
    }
    byThreads[threads] = { evals, trips, eval: median(evals), trip: median(trips), indicator };
  }
  results.compute = byThreads;
  const [one, two] = [byThreads[1], byThreads[2]];
  rows.push(['compute example, eval phase: 1 thread / 2 threads', `${fmt(one.eval)} / ${fmt(two.eval)} ms: ${(one.eval / two.eval).toFixed(2)}x (medians of ${RUNS}; "${one.indicator}" / "${two.indicator}")`, 'at least 1.6x']);
  rows.push(['compute example, round trip in the page: 1 / 2 threads', `${fmt(one.trip)} / ${fmt(two.trip)} ms: ${(one.trip / two.trip).toFixed(2)}x`, '']);
  await context.close();
}

await browser.close();
await server.close();
results.rows = rows;
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'playground.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log('| measure | this machine | goal |\n|---|---|---|');
for (const [what, value, goal] of rows) console.log(`| ${what} | ${value} | ${goal} |`);
