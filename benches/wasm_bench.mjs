// The WebAssembly benchmarks (`make bench-wasm`), printed as Markdown and saved to
// target/bench/wasm.json:
//
// 1. services and compute workloads (benches/gen.py): the native CLI (`eval --sequential`
//    and with its default pool, process wall time, best of N) vs the single-threaded build
//    in Node (in-process, best of N; the module is compiled once beforehand, as a server
//    would): the one-shot `evaluate`, which like the CLI keeps no caches, and a fresh
//    `Session`'s first call, which also fills its caches;
// 2. the same workloads in headless Chromium, in a Worker of a cross-origin-isolated page:
//    the threaded build (pool of navigator.hardwareConcurrency) vs the single-threaded one;
// 3. the first evaluation in a fresh Node process against the second with the same module
//    instance (services 140,000, 5.7 MB; median of N processes): the first grows the
//    linear memory, and V8 compiles the module's hot functions with its optimising tier;
// 4. the gzipped size of the single-threaded .wasm (gzip -9);
// 5. workerd: the edge example validating a ~100 KB JSON document per request, after
//    warm-up, timed by the client over loopback (workerd freezes its own clocks during a
//    request, so this is an upper bound including HTTP).
//
// LIGATURE_BENCH_QUICK=1 runs smaller workloads with fewer repetitions.

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

import { CLI, PKG, deployment, freePort, openChromium } from '../pkg/test/helpers.js';
import { OUT, generate } from './workloads.mjs';

const QUICK = process.env.LIGATURE_BENCH_QUICK === '1';
const REPEAT = QUICK ? 2 : 5;
const WORKLOADS = [
  ['services', QUICK ? 10_000 : 100_000],
  ['compute', QUICK ? 1_000 : 10_000],
];
const FIRST_RUN = ['services', QUICK ? 20_000 : 140_000];

const best = (times) => Math.min(...times);
const median = (times) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
const ms = (x) => `${x.toFixed(x < 10 ? 2 : 0)} ms`;


function native(path, args) {
  const times = [];
  for (let i = 0; i < REPEAT; i++) {
    const started = performance.now();
    const run = spawnSync(CLI, ['eval', path, ...args], { maxBuffer: 1 << 30 });
    times.push(performance.now() - started);
    if (run.status !== 0) throw new Error(`${CLI} eval ${path}: ${run.stderr}`);
  }
  return best(times);
}

// The one-shot `evaluate` (a fresh session without caches, as the CLI runs), and a fresh
// `Session`'s first call (which also fills the caches its next calls reuse).
async function node(source) {
  const { evaluate, Session } = await import('../pkg/node.js');
  const times = [];
  const sessionTimes = [];
  let result;
  let fromSession;
  for (let i = 0; i < REPEAT; i++) {
    let started = performance.now();
    result = await evaluate(source, {});
    times.push(performance.now() - started);
    const session = new Session({});
    started = performance.now();
    fromSession = session.evaluate(source, {});
    sessionTimes.push(performance.now() - started);
    session.free();
  }
  for (const r of [result, fromSession]) {
    if (!r.ok) throw new Error(`node: ${JSON.stringify(r.diagnostics.map((d) => d.rendered))}`);
  }
  if (result.text !== fromSession.text) throw new Error('node: evaluate and Session.evaluate differ');
  return { ms: best(times), session: best(sessionTimes), text: result.text };
}

// The first two evaluations in each of REPEAT fresh Node processes (the module compiled at
// import, as node.js does). The first used to pay a full garbage collection for nearly every
// page the memory grew by (issue 17, src/wasm_heap.rs); what remains is mostly V8 moving
// hot functions to its optimising compiler in the background.
function firstAndSecond(path) {
  const script = `
    const { evaluate } = await import(${JSON.stringify(pathToFileURL(join(PKG, 'node.js')).href)});
    const source = (await import('node:fs')).readFileSync(${JSON.stringify(path)}, 'utf8');
    const times = [];
    for (let i = 0; i < 2; i++) {
      const started = performance.now();
      const result = await evaluate(source, {});
      times.push(performance.now() - started);
      if (!result.ok) throw new Error(JSON.stringify(result.diagnostics.map((d) => d.rendered)));
    }
    console.log(JSON.stringify(times));`;
  const runs = [];
  for (let i = 0; i < REPEAT; i++) {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`first and second evaluation: ${run.stderr}`);
    runs.push(JSON.parse(run.stdout));
  }
  return {
    first: median(runs.map(([first]) => first)),
    second: median(runs.map(([, second]) => second)),
    ratio: median(runs.map(([first, second]) => first / second)),
  };
}

async function edge() {
  const port = await freePort();
  const child = spawn(join(PKG, 'node_modules', '.bin', 'workerd'),
    ['serve', 'config.capnp', '--socket-addr', `http=127.0.0.1:${port}`],
    { cwd: join(PKG, 'examples', 'edge'), stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}/`;
  try {
    for (let tries = 0; ; tries++) {
      try {
        await fetch(base);
        break;
      } catch (error) {
        if (tries > 300) throw error;
        await new Promise((ok) => setTimeout(ok, 100));
      }
    }
    let n = 1;
    while (JSON.stringify(deployment(n)).length < 100_000) n += 1;
    const body = JSON.stringify(deployment(n));
    const post = async () => {
      const started = performance.now();
      const response = await fetch(base, { method: 'POST', body });
      const result = await response.json();
      const took = performance.now() - started;
      if (!result.ok) throw new Error(`edge: ${JSON.stringify(result).slice(0, 500)}`);
      return took;
    };
    // Warm-up: V8 compiles a wasm module with its baseline compiler and moves hot
    // functions to the optimising one in the background; on 2 cores that takes tens of
    // requests of this size (measured: the first 20 had a median of 7.1 ms, the next 200
    // of 3.3 ms).
    for (let i = 0; i < 100; i++) await post();
    const times = [];
    for (let i = 0; i < (QUICK ? 50 : 200); i++) times.push(await post());
    // The same round trip with an empty-bodied 405: the HTTP and runtime overhead alone.
    const overhead = [];
    for (let i = 0; i < 50; i++) {
      const started = performance.now();
      await (await fetch(base)).arrayBuffer();
      overhead.push(performance.now() - started);
    }
    return { bytes: body.length, services: n, median: median(times), p95: [...times].sort((a, b) => a - b)[Math.floor(times.length * 0.95)], best: best(times), overhead: median(overhead) };
  } finally {
    child.kill('SIGTERM');
  }
}

async function main() {
  const rows = [];
  const results = { date: new Date().toISOString(), quick: QUICK, workloads: [] };
  const browser = await openChromium();
  try {
    const threaded = await browser.worker('../web-threads.js');
    const single = await browser.worker('../web.js');
    results.chromium = { threads: threaded.info.threads, hardwareConcurrency: threaded.info.hardwareConcurrency };
    for (const [workload, n] of WORKLOADS) {
      const path = generate(workload, n);
      const source = readFileSync(path, 'utf8');
      const nativeSeq = native(path, ['--sequential']);
      const nativePar = native(path, []);
      const inNode = await node(source);
      const cli = spawnSync(CLI, ['eval', path], { maxBuffer: 1 << 30, encoding: 'utf8' });
      if (cli.stdout !== inNode.text) throw new Error(`${workload}: Node's document differs from the CLI's`);
      const time = async (worker) => {
        const r = await worker.call({ type: 'time', source, repeat: REPEAT });
        if (!r.ok) throw new Error(`${workload} in Chromium: ${r.codes}`);
        return { ms: best(r.times), workers: r.workers };
      };
      const chromeSingle = await time(single);
      const chromeThreads = await time(threaded);
      const row = {
        workload, n, bytes: statSync(path).size, nativeSeq, nativePar, node: inNode.ms, nodeSession: inNode.session,
        chromeSingle: chromeSingle.ms, chromeThreads: chromeThreads.ms, chromeWorkers: chromeThreads.workers,
      };
      results.workloads.push(row);
      rows.push(row);
    }
  } finally {
    await browser.close();
  }
  const [firstWorkload, firstN] = FIRST_RUN;
  const firstPath = generate(firstWorkload, firstN);
  results.firstRun = { workload: firstWorkload, n: firstN, bytes: statSync(firstPath).size, ...firstAndSecond(firstPath) };
  const wasm = readFileSync(join(PKG, 'dist', 'web', 'ligature_bg.wasm'));
  const wasmThreads = readFileSync(join(PKG, 'dist', 'web-threads', 'ligature_bg.wasm'));
  results.size = {
    single: wasm.length, singleGzip: gzipSync(wasm, { level: 9 }).length,
    threads: wasmThreads.length, threadsGzip: gzipSync(wasmThreads, { level: 9 }).length,
  };
  results.edge = await edge();
  writeFileSync(join(OUT, 'wasm.json'), `${JSON.stringify(results, null, 2)}\n`);

  console.log(`\n${new Date().toISOString()}, ${QUICK ? 'quick, ' : ''}best of ${REPEAT}\n`);
  console.log('| workload | source | native 1 thread | native pool | wasm Node `evaluate` | Node / native 1 | wasm Node `Session` (first call) | wasm Chromium 1 thread | wasm Chromium threads | threads speed-up |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.workload} ${r.n.toLocaleString('en')} | ${(r.bytes / 1e6).toFixed(2)} MB | ${ms(r.nativeSeq)} | ${ms(r.nativePar)} | ${ms(r.node)} | ${(r.node / r.nativeSeq).toFixed(2)}x | ${ms(r.nodeSession)} | ${ms(r.chromeSingle)} | ${ms(r.chromeThreads)} (${r.chromeWorkers} workers) | ${(r.chromeSingle / r.chromeThreads).toFixed(2)}x |`);
  }
  const { size, edge: e, firstRun: f } = results;
  console.log(`\nNode, a fresh process, median of ${REPEAT}: the first \`evaluate\` of ${f.workload} ${f.n.toLocaleString('en')} (${(f.bytes / 1e6).toFixed(2)} MB) ${ms(f.first)}, the second ${ms(f.second)} (first / second: ${f.ratio.toFixed(2)}x)`);
  console.log(`\nsingle-threaded .wasm: ${size.single.toLocaleString('en')} bytes, ${size.singleGzip.toLocaleString('en')} gzipped; threaded: ${size.threads.toLocaleString('en')} bytes, ${size.threadsGzip.toLocaleString('en')} gzipped`);
  console.log(`workerd: validating a ${e.bytes.toLocaleString('en')}-byte document (${e.services} services): median ${ms(e.median)}, p95 ${ms(e.p95)}, best ${ms(e.best)} per request (client round trip; a bare 405 round trip: ${ms(e.overhead)})`);
}

await main();
