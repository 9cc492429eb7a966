// `ligature/worker` (createWorker) on the main thread of a page in headless Chromium: a
// cross-origin-isolated page (the threaded build, stopped through its shared flag) and a
// plain one (the single-threaded build, stopped by replacing the worker). Results are
// compared with the in-thread API in Node (../node.js) and the native CLI.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';

import {
  CHROMIUM, PKG, compareFixture, deployment, launchChromium, loadFixtures, serveStatic,
} from './helpers.js';

const node = await import('../node.js');
let server;
let browser;
/** `{ isolated, plain }`: a page of each kind with `window.client` loaded. */
const pages = {};
const consoleProblems = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: make chromium`);
  server = await serveStatic(PKG);
  browser = await launchChromium();
  for (const [name, query] of [['isolated', ''], ['plain', '?plain']]) {
    const page = await browser.newPage();
    page.on('pageerror', (error) => consoleProblems.push(`${name}: ${error}`));
    const note = (message) => {
      const url = message.location()?.url ?? '';
      if ((message.type() === 'error' || message.type() === 'warning') && !url.endsWith('/favicon.ico')) {
        consoleProblems.push(`${name}: ${message.type()} ${message.text()}`);
      }
    };
    page.on('console', note);
    page.on('worker', (worker) => worker.on('console', note));
    await page.goto(`${server.url}/testpage/client.html${query}`);
    await page.waitForFunction(() => window.client !== undefined, null, { timeout: 20_000 });
    pages[name] = page;
  }
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Runs `body(engine, arg)` in the page with `window.engine` (made once per page). */
function inPage(name, body, arg) {
  return pages[name].evaluate(
    async ([source, arg]) => {
      window.engine ??= await window.client.createWorker();
      // eslint-disable-next-line no-new-func
      return new Function('engine', 'arg', `return (${source})(engine, arg);`)(window.engine, arg);
    },
    [body.toString(), arg],
  );
}

test('createWorker picks the threaded build on an isolated page, the single-threaded one elsewhere', async () => {
  const isolated = await inPage('isolated', (engine) => ({ variant: engine.variant, threads: engine.threads, n: navigator.hardwareConcurrency, iso: crossOriginIsolated }));
  assert.equal(isolated.iso, true);
  assert.equal(isolated.variant, 'web-threads');
  assert.equal(isolated.threads, isolated.n);
  const plain = await inPage('plain', (engine) => ({ variant: engine.variant, threads: engine.threads, iso: crossOriginIsolated }));
  assert.deepEqual(plain, { variant: 'web', threads: 1, iso: false });
  // Threads need isolation: asked for on a plain page, createWorker says so.
  const refused = await pages.plain.evaluate(() => window.client.createWorker({ threads: 2 }).then(() => 'started', (error) => error.message));
  assert.match(refused, /threads: 2 needs SharedArrayBuffer: serve the page cross-origin isolated/);
  const bad = await pages.plain.evaluate(() => Promise.all([
    window.client.createWorker({ thread: 2 }).catch((error) => `${error.name}: ${error.message}`),
    window.client.createWorker({ threads: 0 }).catch((error) => `${error.name}: ${error.message}`),
    window.client.createWorker({ wasmURL: 5 }).catch((error) => `${error.name}: ${error.message}`),
  ]));
  assert.match(bad[0], /^TypeError: createWorker: unknown option `thread`/);
  assert.match(bad[1], /^TypeError: createWorker: threads must be an integer of at least 1, got 0/);
  assert.match(bad[2], /^TypeError: createWorker: wasmURL must be a URL or a string, got 5/);
});

test('every eval fixture through the worker client gives its expected output (the native CLI\'s)', async () => {
  const { cases } = loadFixtures();
  assert.ok(cases.length > 50, `only ${cases.length} fixtures`);
  const inputs = cases.map(({ name, source, options }) => ({ name, source, options }));
  for (const page of ['isolated', 'plain']) {
    const results = await inPage(page, async (engine, inputs) => {
      const out = [];
      for (const { source, options } of inputs) {
        const r = await engine.evaluate(source, options);
        out.push({ ok: r.ok, text: r.text ?? null, codes: r.diagnostics.map((d) => d.code), error: r.error });
      }
      return out;
    }, inputs);
    for (const [i, fixture] of cases.entries()) {
      const result = results[i];
      assert.equal(result.error, undefined, `${page} ${fixture.name}: ${result.error}`);
      const diagnostics = result.codes.map((code) => ({ code }));
      assert.deepEqual(compareFixture(fixture, { ...result, diagnostics }), [], `${page} ${fixture.name}`);
    }
  }
});

test('sessions, schemas, typecheck and validate answer as the in-thread API does', async () => {
  const data = deployment(50);
  data.services[7].port = 99999;
  const schema = 'type Service = { name: String, image: String, port: Integer where x > 0 && x < 65536, replicas: Integer, owner: String, healthCheck: String };\n'
    + 'type Deployment = { environment: String, region: String, services: List Service };\n';
  const lib = 'export let base = 40;\nexport let twice = \\x -> x * 2;\n';
  const main = 'import "./lib" as lib;\nlet answer = lib.base + 2;\nlet doubled = lib.twice answer;\n';
  const expected = {
    evaluate: await node.evaluate(main, { files: { 'lib.lig': lib } }),
    typecheck: await node.typecheck(main, { files: { 'lib.lig': lib } }),
    validate: await node.validate(data, schema, 'Deployment'),
    broken: await node.evaluate('let x = 1 +;', {}),
    located: await node.locate(main, ['doubled']),
    jsonSchema: await node.toJsonSchema(schema, 'Deployment'),
    typescript: await node.toTypeScript(schema),
  };
  for (const page of ['isolated', 'plain']) {
    const got = await inPage(page, async (engine, { data, schema, lib, main }) => {
      const session = new engine.Session({ files: { 'lib.lig': lib } });
      const first = await session.evaluate(main, {});
      await session.setFile('lib.lig', lib.replace('40', '50'));
      const second = await session.evaluate(main, {});
      const removed = await session.removeFile('lib.lig');
      const missing = await session.evaluate(main, {});
      const stats = await session.stats;
      const compiled = await engine.compileSchema(schema, 'Deployment');
      const viaSchema = await compiled.schema.validate(data);
      const viaText = await compiled.schema.validate(JSON.stringify(data), { dataFormat: 'json' });
      compiled.schema.free();
      const afterFree = await compiled.schema.validate(data).then(() => 'resolved', (error) => `${error.name}: ${error.message}`);
      session.free();
      const freed = await session.evaluate(main, {}).then(() => 'resolved', (error) => `${error.name}: ${error.message}`);
      const usage = await engine.evaluate(main, { format: 'xml' });
      const typeError = await engine.evaluate(42).then(() => 'resolved', (error) => `${error.name}: ${error.message}`);
      return {
        evaluate: await engine.evaluate(main, { files: { 'lib.lig': lib } }).then((r) => ({ ok: r.ok, text: r.text, value: r.value })),
        typecheck: await engine.typecheck(main, { files: { 'lib.lig': lib } }),
        validate: await engine.validate(data, schema, 'Deployment'),
        broken: await engine.evaluate('let x = 1 +;', {}),
        located: await engine.locate(main, ['doubled']),
        jsonSchema: await engine.toJsonSchema(schema, 'Deployment'),
        typescript: await engine.toTypeScript(schema),
        // A remote import through the worker client: the page loads it (here from
        // loadModule), hashes it and hands it to the worker with the call.
        remote: await engine.evaluate('import "https://m.example/a.lig" as a;\nlet v = a.v;\n', {
          loadModule: (path) => (path === 'https://m.example/a.lig' ? 'export let v = 3;\n' : null),
        }).then((r) => ({ ok: r.ok, value: r.value, pinned: Object.keys(r.lock ?? {}) })),
        locateError: await engine.locate(main, [{}]).then(() => 'resolved', (error) => error.name),
        first: first.text, second: second.text, removed, missing: missing.diagnostics.map((d) => d.code),
        statsOk: stats !== null && Array.isArray(stats.phases),
        viaSchema, viaText, afterFree, freed, usage, typeError,
      };
    }, { data, schema, lib, main });
    assert.deepEqual(got.evaluate, { ok: true, text: expected.evaluate.text, value: expected.evaluate.value }, page);
    assert.deepEqual(got.typecheck.types, expected.typecheck.types, page);
    assert.equal(got.typecheck.ok, true);
    assert.deepEqual(got.validate, expected.validate, page);
    assert.equal(got.validate.ok, false);
    assert.deepEqual(got.broken.diagnostics.map((d) => d.rendered), expected.broken.diagnostics.map((d) => d.rendered), page);
    assert.deepEqual(got.located, expected.located, page);
    assert.deepEqual(got.jsonSchema, expected.jsonSchema, page);
    assert.equal(got.jsonSchema.ok, true, page);
    assert.deepEqual(got.typescript, expected.typescript, page);
    assert.match(got.typescript.typescript, /export interface Deployment/, page);
    assert.deepEqual(got.remote, { ok: true, value: { v: 3 }, pinned: ['https://m.example/a.lig'] }, page);
    assert.equal(got.locateError, 'TypeError', page);
    assert.match(got.first, /"answer": 42/);
    assert.match(got.second, /"answer": 52/);
    assert.equal(got.removed, true);
    assert.deepEqual(got.missing, ['M4001']);
    assert.equal(got.statsOk, true);
    assert.deepEqual(got.viaSchema, expected.validate);
    assert.deepEqual(got.viaText, expected.validate);
    assert.equal(got.afterFree, 'TypeError: this Schema was freed (free() releases it for good; make a new one)');
    assert.equal(got.freed, 'TypeError: this Session was freed (free() releases it for good; make a new one)');
    assert.match(got.usage.error, /^invalid options: format must be one of/);
    assert.equal(got.typeError, 'TypeError: evaluate: source must be a string or null, got 42');
  }
});

/** A program of about `seconds` of evaluation on this machine's wasm (nested folds). */
const slowProgram = (outer) => `let n = fold (\\s i -> s + fold (\\t j -> t + j) 0 (range 0 1000)) 0 (range 0 ${outer});\n`;

test('the page keeps painting while the worker runs a long program', async () => {
  const { ms, frames, ok } = await inPage('plain', async (engine, source) => {
    const startFrames = window.frames;
    const started = performance.now();
    const r = await engine.evaluate(source, {});
    return { ms: performance.now() - started, frames: window.frames - startFrames, ok: r.ok };
  }, slowProgram(20_000));
  assert.equal(ok, true);
  assert.ok(ms > 1_000, `the program took only ${ms} ms: too short to say anything (make it longer)`);
  const fps = (frames / ms) * 1000;
  assert.ok(fps >= 20, `${frames} frames in ${Math.round(ms)} ms (${fps.toFixed(1)} fps): the page froze`);
});

test('abort and timeoutMs stop a running call at once; the worker is free again and keeps its sessions', async () => {
  for (const page of ['isolated', 'plain']) {
    const got = await inPage(page, async (engine, source) => {
      const session = new engine.Session({ files: { 'lib.lig': 'export let base = 40;' } });
      const before = await session.evaluate('import "./lib" as l; let a = l.base + 2;', {});
      const restarts = engine.restarts;
      const controller = new AbortController();
      const started = performance.now();
      const running = engine.evaluate(source, { signal: controller.signal });
      const queued = engine.evaluate('let q = 1;', { signal: controller.signal });
      await new Promise((ok) => setTimeout(ok, 300));
      let abortedAt = performance.now();
      controller.abort();
      const stopped = await running;
      const latency = performance.now() - abortedAt;
      const queuedResult = await queued;
      const timed = await engine.evaluate(source, { timeoutMs: 300 });
      const timedMs = performance.now() - started;
      // The worker is free: the next call answers (with the session made again if the worker was replaced).
      const next = await session.evaluate('import "./lib" as l; let a = l.base + 3;', {});
      const aborted = await engine.evaluate('let x = 1;', { signal: AbortSignal.abort() });
      return {
        before: before.text, next: next.text, latency, restarts: engine.restarts - restarts,
        stopped: stopped.diagnostics.map((d) => `${d.code} ${d.message}`),
        queued: queuedResult.diagnostics.map((d) => d.code),
        timed: timed.diagnostics.map((d) => `${d.code} ${d.message}`),
        aborted: aborted.diagnostics.map((d) => d.code),
        timedMs,
      };
    }, slowProgram(100_000));
    assert.deepEqual(got.stopped, ['R3008 the run was cancelled (its AbortSignal was aborted)'], page);
    assert.deepEqual(got.queued, ['R3008'], `${page}: a queued call of an aborted signal never starts`);
    assert.deepEqual(got.timed, ['R3008 the run took longer than its timeoutMs (300 ms)'], page);
    assert.deepEqual(got.aborted, ['R3008']);
    assert.match(got.before, /"a": 42/);
    assert.match(got.next, /"a": 43/, `${page}: the session after the stops`);
    // A generous bound (the benchmark measures the real latency): the program runs for tens of seconds.
    assert.ok(got.latency < 250, `${page}: R3008 came ${got.latency} ms after the abort`);
    if (page === 'isolated') {
      assert.equal(got.restarts, 0, 'the threaded build stops through its flag, without replacing the worker');
    } else {
      // The abort ends the worker; the timeout does not: the wasm polls its own deadline
      // (given what remained when the call was sent) and answers R3008 by itself.
      assert.equal(got.restarts, 1, 'the single-threaded worker is replaced after an abort, not after a timeout');
    }
  }
});

test('timeoutMs covers loading: a loadModule that never settles ends with R3008', async () => {
  for (const page of ['isolated', 'plain']) {
    const got = await inPage(page, async (engine) => {
      const never = () => new Promise(() => {});
      const started = performance.now();
      const timed = await engine.evaluate('import "./far" as f; let x = f.y;', { loadModule: never, timeoutMs: 200 });
      const ms = performance.now() - started;
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const aborted = await engine.typecheck('import "./far" as f; let x = f.y;', { loadModule: never, signal: controller.signal });
      const loaded = await engine.evaluate('import "./far" as f; let x = f.y;', { loadModule: async () => 'export let y = 7;' });
      return { timed: timed.diagnostics.map((d) => d.message), aborted: aborted.diagnostics.map((d) => d.message), ms, loaded: loaded.value };
    });
    assert.deepEqual(got.timed, ['the run took longer than its timeoutMs (200 ms) while loading modules'], page);
    assert.deepEqual(got.aborted, ['the run was cancelled (its AbortSignal was aborted) while loading modules'], page);
    assert.ok(got.ms < 2_000, `${page}: ${got.ms} ms`);
    assert.deepEqual(got.loaded, { x: 7 });
  }
});

test('terminate() rejects pending and later calls', async () => {
  const got = await pages.plain.evaluate(async (source) => {
    const engine = await window.client.createWorker();
    const pending = engine.evaluate(source, {});
    engine.terminate();
    const a = await pending.then(() => 'resolved', (error) => error.message);
    const b = await engine.evaluate('let x = 1;').then(() => 'resolved', (error) => error.message);
    return [a, b];
  }, slowProgram(100_000));
  assert.deepEqual(got, [
    'ligature: this worker was terminated (engine.terminate())',
    'ligature: this worker was terminated (engine.terminate())',
  ]);
});

test('initThreadPool of the threaded build rejects, saying why, on a page that is not cross-origin isolated', async () => {
  const got = await pages.plain.evaluate(async () => {
    const threads = await import('../web-threads.js');
    let init;
    try {
      await threads.init();
      init = 'ok';
    } catch (error) {
      init = `init: ${error.message}`;
    }
    const pool = await Promise.race([
      threads.initThreadPool(2).then(() => 'started', (error) => error.message),
      new Promise((ok) => setTimeout(() => ok('did not settle in 10 s'), 10_000)),
    ]);
    return { init, pool };
  });
  // The module may refuse to instantiate (no shared memory here) or the pool may refuse to
  // start: either way a message that says why, never a hang.
  const said = got.init === 'ok' ? got.pool : got.init;
  assert.match(said, /SharedArrayBuffer|cross-origin isolated|shared/i, JSON.stringify(got));
  assert.notEqual(got.pool, 'did not settle in 10 s');
  assert.notEqual(got.pool, 'started');
});

test('deeply nested source with loadModule answers R3006 (never a RangeError), every time; the worker is replaced and answers', async () => {
  for (const page of ['isolated', 'plain']) {
    const got = await inPage(page, async (engine) => {
      const deep = `${'['.repeat(5000)}\nimport "./m" as m;\n`;
      const loadModule = async () => 'export let y = 1;';
      const restarts = engine.restarts;
      const out = [];
      for (let i = 0; i < 12; i += 1) {
        out.push(await engine.evaluate(deep, { loadModule }).then((r) => r.diagnostics.map((d) => d.code).join(), (error) => `${error.name}: ${error.message}`));
      }
      const session = new engine.Session({});
      out.push(await session.evaluate(deep, { loadModule }).then((r) => r.diagnostics.map((d) => d.code).join(), (error) => `${error.name}: ${error.message}`));
      const after = await engine.evaluate('import "./m" as m; let x = m.y + 1;', { loadModule });
      const inSession = await session.evaluate('import "./m" as m; let x = m.y + 2;', { loadModule });
      return { out, after: after.value, inSession: inSession.value, replaced: engine.restarts - restarts };
    });
    assert.deepEqual(got.out, Array(13).fill('R3006'), page);
    assert.deepEqual(got.after, { x: 2 }, page);
    assert.deepEqual(got.inSession, { x: 3 }, page);
    assert.equal(got.replaced, 13, `${page}: the worker is replaced after each host-stack R3006`);
  }
});

test('a Session call with loadModule takes the other options too (timeoutMs, format, field, limits)', async () => {
  for (const page of ['isolated', 'plain']) {
    const got = await inPage(page, async (engine) => {
      const session = new engine.Session({});
      const loadModule = async () => 'export let y = 7;';
      const source = 'import "./far" as f; let x = { y = f.y };';
      const yaml = await session.evaluate(source, { loadModule, timeoutMs: 60_000, format: 'yaml' });
      const field = await session.evaluate(source, { loadModule, timeoutMs: 60_000, field: 'x', limits: { maxSteps: 1_000_000 } });
      const checked = await session.typecheck(source, { loadModule, timeoutMs: 60_000, threads: 1 });
      session.free();
      return { yaml: [yaml.ok, yaml.text, yaml.error], field: [field.ok, field.value, field.error], checked: [checked.ok, checked.error] };
    });
    assert.deepEqual(got.yaml, [true, 'x:\n  "y": 7\n', undefined], page);
    assert.deepEqual(got.field, [true, { y: 7 }, undefined], page);
    assert.deepEqual(got.checked, [true, undefined], page);
  }
});

test('timeoutMs longer than setTimeout keeps (2^31 - 1 ms) does not stop the call at once', async () => {
  for (const page of ['isolated', 'plain']) {
    const got = await inPage(page, async (engine) => {
      const session = new engine.Session({});
      const timeoutMs = Number.MAX_SAFE_INTEGER;
      const a = await engine.evaluate('let x = 1;', { timeoutMs });
      const b = await session.evaluate('let x = 2;', { timeoutMs });
      const c = await engine.evaluate('import "./m" as m; let x = m.y;', { timeoutMs: 2 ** 31, loadModule: async () => 'export let y = 3;' });
      session.free();
      return [a, b, c].map((r) => [r.ok, r.value ?? null, r.diagnostics.map((d) => d.code)]);
    });
    assert.deepEqual(got, [[true, { x: 1 }, []], [true, { x: 2 }, []], [true, { x: 3 }, []]], page);
  }
});

/**
 * Makes later workers of `page` observable: `window.spied` holds, per worker, the requests
 * sent and the answers; `window.crashOn(message)` true makes the worker fail (an `error`
 * event, as an uncaught exception in it would) once, right after that request is sent.
 */
function spyWorkers(page) {
  return pages[page].evaluate(() => {
    if (window.spied !== undefined) return;
    window.spied = [];
    const Base = window.Worker;
    window.Worker = class SpiedWorker extends Base {
      constructor(...args) {
        super(...args);
        this.log = { sent: [], got: [] };
        window.spied.push(this.log);
        this.addEventListener('message', ({ data }) => this.log.got.push(data));
      }

      postMessage(message, ...rest) {
        this.log?.sent.push(message);
        super.postMessage(message, ...rest);
        if (window.crashOn?.(message)) {
          window.crashOn = undefined;
          queueMicrotask(() => this.dispatchEvent(new ErrorEvent('error', { message: 'simulated crash' })));
        }
      }
    };
  });
}

test('a Session freed while it is being made is released in the worker; a freed session is never made again', async () => {
  await spyWorkers('plain');
  const got = await inPage('plain', async (engine, source) => {
    const spy = await window.client.createWorker();
    const log = window.spied.at(-1);
    // Freed before its first call is answered (the session is still being made).
    const s = new spy.Session({});
    const setting = s.setFile('a.lig', 'export let b = 1;');
    s.free();
    const set = await setting.then(() => 'ok', (error) => `${error.name}: ${error.message}`);
    // A schema of a session freed afterwards, used after the worker was replaced (an abort).
    const t = new spy.Session({ files: { 'lib.lig': 'export type Port = Integer;' } });
    const compiled = await t.compileSchema('import "./lib" as lib;\ntype D = { port: lib.Port };', 'D');
    t.free();
    const controller = new AbortController();
    const running = spy.evaluate(source, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await running;
    const valid = await compiled.schema.validate({ port: 80 });
    const invalid = await compiled.schema.validate({ port: 'x' });
    compiled.schema.free();
    const stats = await t.stats.then(() => 'resolved', (error) => `${error.name}: ${error.message}`);
    await spy.evaluate('let settle = 1;');
    // Every session made in a worker was freed in it.
    const live = window.spied.slice(window.spied.indexOf(log)).map(({ sent, got }) => {
      const made = sent.filter((m) => m.op === 'sessionNew').map((m) => got.find((a) => a.id === m.id)?.result);
      const freedHandles = new Set(sent.filter((m) => m.op === 'free').map((m) => m.args[0]));
      return made.filter((handle) => handle !== undefined && !freedHandles.has(handle));
    });
    spy.terminate();
    return { set, valid: valid.ok, invalid: invalid.ok, stats, live, restarts: spy.restarts };
  }, slowProgram(100_000));
  assert.equal(got.set, 'ok');
  assert.equal(got.valid, true);
  assert.equal(got.invalid, false);
  assert.equal(got.stats, 'TypeError: this Session was freed (free() releases it for good; make a new one)');
  assert.equal(got.restarts, 1);
  assert.deepEqual(got.live.flat(), [], 'sessions left in the workers');
});

test('after a worker crash, session calls are made again and answer in their declared types', async () => {
  await spyWorkers('plain');
  const got = await inPage('plain', async () => {
    const spy = await window.client.createWorker();
    const crashOn = (method) => {
      window.crashOn = (m) => m.op === 'session' && m.args[1] === method;
    };
    const session = new spy.Session({ files: { 'a.lig': 'export let a = 1;' } });
    await session.evaluate('let x = 1;');
    crashOn('removeFile');
    const removed = await session.removeFile('./a.lig');
    crashOn('stats');
    const stats = await session.stats;
    crashOn('setFile');
    const set = await session.setFile('b.lig', 'export let b = 5;');
    const evaluated = await session.evaluate('import "./b" as b; let z = b.b;');
    const gone = await session.evaluate('import "./a" as a; let z = a.a;');
    crashOn('evaluate');
    const crashed = await session.evaluate('let y = 2;');
    window.crashOn = (m) => m.op === 'evaluate';
    const plainCall = await spy.evaluate('let y = 3;');
    const restarts = spy.restarts;
    spy.terminate();
    return {
      removed, stats: stats === null ? null : typeof stats, set: set === undefined ? 'undefined' : set,
      evaluated: evaluated.value, gone: gone.diagnostics.map((d) => d.code), crashed: crashed.value,
      plainCall: [plainCall.ok, plainCall.error], restarts,
    };
  });
  assert.equal(got.removed, true);
  assert.equal(got.stats, null, 'stats of a session made again: null');
  assert.equal(got.set, 'undefined');
  assert.deepEqual(got.evaluated, { z: 5 });
  assert.deepEqual(got.gone, ['M4001']);
  assert.deepEqual(got.crashed, { y: 2 });
  assert.equal(got.plainCall[0], false);
  assert.match(got.plainCall[1], /^internal error: the worker failed \(simulated crash\); it was restarted/);
  assert.equal(got.restarts, 5);
});

test('createWorker rejects, saying why, when its signal aborts while the wasm is fetched (a fetch that stalls)', async () => {
  const page = pages.plain;
  await page.route('**/stalled.wasm', () => {});
  try {
    const got = await page.evaluate(async () => {
      const controller = new AbortController();
      const stalled = window.client.createWorker({ wasmURL: '/stalled.wasm', signal: controller.signal })
        .then(() => 'started', (error) => `${error.name}: ${error.message}`);
      setTimeout(() => controller.abort(), 200);
      const already = await window.client.createWorker({ signal: AbortSignal.abort() }).then(() => 'started', (error) => error.message);
      const bad = await window.client.createWorker({ signal: 5 }).then(() => 'started', (error) => `${error.name}: ${error.message}`);
      return { stalled: await stalled, already, bad };
    });
    assert.equal(got.stalled, 'Error: ligature: createWorker was aborted (its signal) while loading the wasm');
    assert.match(got.already, /createWorker was aborted/);
    assert.equal(got.bad, 'TypeError: createWorker: signal must be an AbortSignal, got 5');
  } finally {
    await page.unroute('**/stalled.wasm');
  }
});

test('createWorker given the other build\'s wasm or worker script rejects, saying which build the page gets', async () => {
  const got = await pages.isolated.evaluate(async () => {
    const out = [];
    for (const options of [{ wasmURL: '/dist/web/ligature_bg.wasm' }, { workerURL: '/dist/web/engine-worker.js' }, { threads: 1, workerURL: '/dist/web-threads/engine-worker.js' }]) {
      try {
        const engine = await window.client.createWorker(options);
        out.push(`started ${engine.variant}`);
        engine.terminate();
      } catch (error) {
        out.push(error.message);
      }
    }
    return out;
  });
  assert.equal(got.length, 3);
  assert.match(got[0], /this page gets the web-threads build \(cross-origin isolated, threads: \d+\); the wasm given must be of that build/);
  assert.match(got[1], /this page gets the web-threads build .*workerURL/);
  assert.match(got[2], /this page gets the web build \(threads: 1\)/);
});

test('no console errors or warnings from the pages and their workers', () => {
  assert.deepEqual(consoleProblems, []);
});
