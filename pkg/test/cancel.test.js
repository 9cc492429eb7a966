// `signal` and `timeoutMs` of the in-thread API (Node), and the ways to load the module
// (`init({ wasmURL } | { module })`, `initSync`). The worker client's cancellation in every
// phase is worker.test.js's (Chromium).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { PKG } from './helpers.js';

const { evaluate, typecheck, validate, compileSchema, Session, initSync } = await import('../node.js');

const codes = (result) => result.diagnostics.map((d) => d.code);
const messages = (result) => result.diagnostics.map((d) => d.message);
const never = () => new Promise(() => {});
const IMPORTS = 'import "./far" as f;\nlet x = f.y;\n';

test('an AbortSignal aborted before the call answers R3008 without running it, on every call', async () => {
  const signal = AbortSignal.abort();
  const results = [
    await evaluate('let x = 1;', { signal }),
    await typecheck('let x = 1;', { signal }),
    await compileSchema('type T = Integer;', 'T', { signal }),
    await validate(1, 'type T = Integer;', 'T', { signal }),
    new Session({}).evaluate('let x = 1;', { signal }),
    new Session({}).typecheck('let x = 1;', { signal }),
  ];
  for (const result of results) {
    assert.equal(result.ok, false);
    assert.deepEqual(codes(result), ['R3008']);
    assert.deepEqual(messages(result), ['the run was cancelled (its AbortSignal was aborted)']);
    assert.equal(result.diagnostics[0].name, 'eval/timeout');
  }
  const compiled = await compileSchema('type T = Integer;', 'T');
  assert.deepEqual(codes(compiled.schema.validate(1, { signal })), ['R3008']);
  assert.deepEqual(compiled.schema.validate(1, {}).ok, true);
  // A signal not aborted changes nothing.
  const live = new AbortController().signal;
  assert.equal((await evaluate('let x = 1;', { signal: live })).text, '{\n  "x": 1\n}\n');
});

test('timeoutMs covers loading: a loadModule that never settles ends with R3008 at the deadline', async () => {
  const started = performance.now();
  const timed = await evaluate(IMPORTS, { loadModule: never, timeoutMs: 100 });
  const elapsed = performance.now() - started;
  assert.deepEqual(messages(timed), ['the run took longer than its timeoutMs (100 ms) while loading modules']);
  assert.ok(elapsed >= 95, `stopped after ${elapsed} ms, before its deadline`);
  // Every call with a loader, one-shot and session, with the timeout or a signal.
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const aborted = await Promise.all([
    typecheck(IMPORTS, { loadModule: never, signal: controller.signal }),
    compileSchema('import "./far" as f;\ntype T = f.T;', 'T', { loadModule: never, signal: controller.signal }),
    validate(1, 'import "./far" as f;\ntype T = f.T;', 'T', { loadModule: never, signal: controller.signal }),
    new Session({}).evaluate(IMPORTS, { loadModule: never, signal: controller.signal }),
  ]);
  for (const result of aborted) {
    assert.deepEqual(messages(result), ['the run was cancelled (its AbortSignal was aborted) while loading modules']);
  }
  // A module that arrives after the deadline is not used.
  const late = await evaluate(IMPORTS, {
    loadModule: () => new Promise((ok) => setTimeout(() => ok('export let y = 1;'), 200)),
    timeoutMs: 50,
  });
  assert.deepEqual(codes(late), ['R3008']);
  // In time, it is.
  const inTime = await evaluate(IMPORTS, { loadModule: async () => 'export let y = 1;', timeoutMs: 10_000 });
  assert.deepEqual(inTime.value, { x: 1 });
});

test('timeoutMs covers the phases in the wasm: a large program stops with R3008', async () => {
  const lets = Array.from({ length: 20_000 }, (_, i) => `let v${i} = fold (\\s n -> s + n) ${i} (range 0 200);`).join('\n');
  const result = await evaluate(lets, { timeoutMs: 5 });
  assert.deepEqual(codes(result), ['R3008']);
  const checked = await typecheck(lets, { timeoutMs: 0 });
  assert.deepEqual(codes(checked), ['R3008']);
});

test('timeoutMs stops typecheck, compileSchema and schema.validate inside the wasm too', async () => {
  // Each takes hundreds of milliseconds; 5 ms of timeout reaches the wasm (not stopped
  // before the call) and must stop it there.
  const lets = Array.from({ length: 20_000 }, (_, i) => `let v${i} = fold (\\s n -> s + n) ${i} (range 0 200);`).join('\n');
  for (const call of [
    () => typecheck(lets, { timeoutMs: 5 }),
    () => compileSchema(`${lets}\ntype T = Integer;`, 'T', { timeoutMs: 5 }),
  ]) {
    const stopped = await call();
    assert.deepEqual(codes(stopped), ['R3008']);
  }
  const compiled = await compileSchema('type Port = Integer where x > 0;\ntype T = { ports: List Port };', 'T');
  assert.ok(compiled.ok);
  const document = JSON.stringify({ ports: Array.from({ length: 400_000 }, (_, i) => i + 1) });
  const stopped = compiled.schema.validate(document, { dataFormat: 'json', timeoutMs: 1 });
  assert.deepEqual(codes(stopped), ['R3008']);
  assert.deepEqual(stopped.errors, []);
  assert.equal(compiled.schema.validate(document, { dataFormat: 'json' }).ok, true);
  compiled.schema.free();
});

test('signal must be an AbortSignal', async () => {
  for (const signal of [{}, 'abort', { aborted: true }]) {
    const result = await evaluate('let x = 1;', { signal });
    assert.match(result.error, /^invalid options: signal must be an AbortSignal, got /);
  }
});

/** Runs `source` (an ES module) in a fresh Node process: web.js's module state is global. */
function fresh(source) {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', source], { cwd: PKG, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout);
}

test('init({ module }), init(bytes) and initSync({ module }) load the web build; bad inputs are TypeErrors', () => {
  const wasm = join(PKG, 'dist', 'web', 'ligature_bg.wasm');
  assert.ok(readFileSync(wasm).length > 0);
  const viaInit = fresh(`
    import { readFileSync } from 'node:fs';
    const web = await import('./web.js');
    const bytes = readFileSync(${JSON.stringify(wasm)});
    const errors = [];
    for (const input of [42, { wasmURL: 5 }, { module: bytes, wasmURL: 'x' }, { bytes }, {}]) {
      await web.init(input).then(() => errors.push('resolved'), (error) => errors.push(error.name + ': ' + error.message));
    }
    await web.init({ module: bytes });
    const result = await web.evaluate('let x = 41 + 1;');
    console.log(JSON.stringify({ errors, text: result.text }));
  `);
  assert.deepEqual(viaInit.errors, [
    'TypeError: init: input must be { wasmURL } or { module }, a URL, a Response, bytes or a WebAssembly.Module, got 42',
    'TypeError: init: wasmURL must be a URL or a string, got 5',
    'TypeError: init: give one of wasmURL or module, got module and wasmURL',
    'TypeError: init: unknown option `bytes` (its options: wasmURL, module)',
    'TypeError: init: give one of wasmURL or module, got neither',
  ]);
  assert.equal(viaInit.text, '{\n  "x": 42\n}\n');
  const viaSync = fresh(`
    import { readFileSync } from 'node:fs';
    const web = await import('./web.js');
    const bytes = readFileSync(${JSON.stringify(wasm)});
    const errors = [];
    try { web.initSync({ wasmURL: 'https://example.com/x.wasm' }); } catch (error) { errors.push(error.name + ': ' + error.message); }
    web.initSync({ module: new WebAssembly.Module(bytes) });
    web.initSync({ module: bytes }); // once instantiated: nothing
    const result = await web.evaluate('let x = 1;');
    console.log(JSON.stringify({ errors, text: result.text, variant: web.variant }));
  `);
  assert.deepEqual(viaSync.errors, [
    'TypeError: initSync: needs the module\'s bytes or a compiled WebAssembly.Module (a URL needs the async init), got "https://example.com/x.wasm"',
  ]);
  assert.equal(viaSync.text, '{\n  "x": 1\n}\n');
  assert.equal(viaSync.variant, 'web');
});

test('a timeoutMs beyond setTimeout\'s 2^31 - 1 ms is a long timeout, not an immediate one', async () => {
  const files = { 'far.lig': 'export let y = 2;' };
  // Slower than the 1 ms such a timer fires after when not kept.
  const loadModule = (path) => new Promise((resolve) => setTimeout(() => resolve(files[path] ?? null), 20));
  for (const timeoutMs of [3e9, Number.MAX_SAFE_INTEGER, Infinity]) {
    const result = await evaluate(IMPORTS, { loadModule, timeoutMs });
    assert.deepEqual(result.value, { x: 2 }, `timeoutMs ${timeoutMs}: ${JSON.stringify(result.diagnostics)}`);
  }
});

test('one-shot validate: a cached schema evicted by a concurrent call is not used freed', async () => {
  const types = Array.from({ length: 20 }, (_, i) => `type T = Integer where x > ${-i};`);
  for (const schema of types.slice(0, 16)) assert.equal((await validate(1, schema, 'T')).ok, true);
  // A new schema compiles (and evicts the oldest) while the oldest is asked for again.
  const results = await Promise.all([
    validate(1, types[16], 'T'),
    (async () => {
      for (let i = 0; i < 3; i++) await null;
      return validate(1, types[0], 'T');
    })(),
    ...types.slice(1, 20).map((schema) => validate(1, schema, 'T')),
  ]);
  for (const result of results) assert.equal(result.ok, true, JSON.stringify(result));
});

test('init checks: initSync(42) is a TypeError on every entry; no Session before the module is loaded', () => {
  assert.throws(() => initSync(42), { name: 'TypeError', message: /^initSync: input must be/ });
  const web = fresh(`
    const web = await import('./web.js');
    const errors = [];
    try { new web.Session(); } catch (error) { errors.push(error.name + ': ' + error.message); }
    const pending = web.init({ module: (await import('node:fs')).readFileSync('./dist/web/ligature_bg.wasm') });
    try { web.initSync({ module: new Uint8Array(8) }); } catch (error) { errors.push(error.name + ': ' + error.message); }
    await pending;
    const session = new web.Session();
    console.log(JSON.stringify({ errors, ok: session.evaluate('let a = 1;').ok }));
  `);
  assert.deepEqual(web.errors, [
    "TypeError: new Session: the web build's module is not loaded yet; await init() (or call initSync) first",
    'TypeError: initSync: an init() is still loading the module; await it instead',
  ]);
  assert.equal(web.ok, true);
});
