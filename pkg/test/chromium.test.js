// The threaded build in headless Chromium (Debian's, driven by playwright-core) on a page
// served with COOP/COEP from 127.0.0.1: the page is cross-origin isolated, index.js picks
// the threaded build, the pool has navigator.hardwareConcurrency threads, the engine uses
// them, and every eval fixture gives exactly what the native CLI gives.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';

import {
  CHROMIUM, CLI, WASM_DEPTH_DEVIATIONS, compareFixture, loadFixtures, openChromium, runCli,
} from './helpers.js';

const { cases } = loadFixtures();
let browser;
let threaded;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: make chromium`);
  browser = await openChromium();
  threaded = await browser.worker('../index.js');
});

after(async () => {
  await browser?.close();
});

test('the page and its worker are cross-origin isolated; index.js picks the threaded build', async () => {
  assert.equal(await browser.page.evaluate(() => window.pageIsolated), true);
  assert.equal(threaded.info.isolated, true);
  assert.equal(threaded.info.variant, 'web-threads');
});

test('the pool workers start without console warnings (wasm-bindgen init in the object form)', async () => {
  // Each pool worker used to log "using deprecated parameters for the initialization
  // function" (wasm-bindgen-rayon's positional init; wasm.mk rewrites it).
  assert.ok(threaded.info.threads >= 1);
  const started = await browser.worker('../web-threads.js');
  assert.ok(started.info.threads >= 1);
  await new Promise((ok) => setTimeout(ok, 200));
  // (The page's favicon is the static server's 404, not the package's.)
  const warnings = browser.messages.filter(([type, text, url]) =>
    !url.endsWith('/favicon.ico') && (type === 'warning' || type === 'error' || /deprecated/i.test(text)));
  assert.deepEqual(warnings, []);
  await started.terminate();
});

test('the pool has navigator.hardwareConcurrency threads and the engine runs on them', async () => {
  const n = threaded.info.hardwareConcurrency;
  assert.ok(n >= 1);
  assert.equal(threaded.info.threads, n);
  // Enough independent top-level work to go parallel (Threads::Auto): the run reports the
  // pool's size, and its result is the sequential one.
  const lets = Array.from({ length: 600 }, (_, i) => `let v${i} = fold (\\s n -> s + n) 0 (range 0 ${200 + i});`);
  const source = `${lets.join('\n')}\nlet total = ${Array.from({ length: 600 }, (_, i) => `v${i}`).join(' + ')};\n`;
  const { results } = await threaded.call({ type: 'run', cases: [{ source, options: { field: 'total' } }] });
  const expected = Array.from({ length: 600 }, (_, i) => ((200 + i) * (199 + i)) / 2).reduce((a, b) => a + b, 0);
  assert.equal(results[0].ok, true, JSON.stringify(results[0]));
  assert.equal(results[0].text, `${expected}\n`);
  assert.equal(results[0].workers, n);
  // `threads: 1` keeps the run on the calling thread; repeated runs alternate the
  // allocator's two regimes (thread caches in parallel sections, dlmalloc outside) over
  // memory the previous runs freed, and agree.
  const again = await threaded.call({
    type: 'run',
    cases: [{ field: 'total' }, { field: 'total', threads: 1 }, { field: 'total' }, { threads: 1 }, {}]
      .map((options) => ({ source, options })),
  });
  assert.deepEqual(again.results.map((r) => [r.ok, r.workers]), [[true, n], [true, 1], [true, n], [true, 1], [true, n]]);
  assert.deepEqual(again.results.slice(0, 3).map((r) => r.text), Array(3).fill(`${expected}\n`));
  assert.equal(again.results[3].text, again.results[4].text);
});

test(`eval fixtures (${cases.length}): threaded wasm in Chromium = native CLI = expected`, async () => {
  assert.ok(cases.length > 0, 'no fixtures');
  assert.ok(existsSync(CLI), `${CLI} is missing: cargo build --release`);
  // The deep ones each in a fresh worker: a host stack overflow inside the threaded build
  // leaves the instance unusable (docs/wasm.md), so it must not take the others with it.
  // The timer is unref'd: a pending one kept the test process alive for a minute after
  // the answer came.
  const within = (promise, what) =>
    Promise.race([promise, new Promise((_, fail) => setTimeout(() => fail(new Error(`${what}: no answer in 60 s`)), 60_000).unref())]);
  const plain = cases.filter((it) => !WASM_DEPTH_DEVIATIONS.has(it.name));
  const { results } = await within(threaded.call({
    type: 'run',
    cases: plain.map(({ source, options }) => ({ source, options })),
  }), 'fixtures');
  const byName = new Map(plain.map((it, i) => [it.name, results[i]]));
  for (const fixture of cases.filter((it) => WASM_DEPTH_DEVIATIONS.has(it.name))) {
    const alone = await browser.worker('../index.js');
    const reply = await within(alone.call({ type: 'run', cases: [{ source: fixture.source, options: fixture.options }] }), fixture.name);
    byName.set(fixture.name, reply.results[0]);
    await alone.terminate();
  }
  const problems = [];
  for (const fixture of cases) {
    const wasm = byName.get(fixture.name);
    const against = compareFixture(fixture, { ...wasm, diagnostics: wasm.codes.map((code) => ({ code })) });
    if (against.length > 0) problems.push(`${fixture.name}: ${against.join('; ')}`);
    if (fixture.cliArgs === null) continue;
    const native = runCli(fixture, spawnSync);
    if (WASM_DEPTH_DEVIATIONS.get(fixture.name) === 'must') {
      if (!native.ok) problems.push(`${fixture.name}: a depth deviation must succeed natively`);
    } else if (WASM_DEPTH_DEVIATIONS.has(fixture.name) && wasm.codes.join() === 'R3006') {
      if (native.codes.join() === 'R3006') problems.push(`${fixture.name}: natively R3006 too, not a deviation`);
    } else if (wasm.ok !== native.ok || wasm.text !== native.text || wasm.codes.join() !== native.codes.join()) {
      problems.push(
        `${fixture.name}: wasm ${JSON.stringify([wasm.ok, wasm.codes, wasm.text?.slice(0, 200)])} ` +
          `native ${JSON.stringify([native.ok, native.codes, native.text?.slice(0, 200)])}`,
      );
    }
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(browser.errors, []);
});
