// The published package (issue 17): what `npm pack` would ship must hold every file the
// README and package.json point to, the license, both builds' .wasm reachable through
// `exports`, and types that compile without the DOM lib or @types/node.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { PKG, ROOT } from './helpers.js';

const manifest = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));

/** The paths `npm pack` would put in the tarball. */
function packed() {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: PKG,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [report] = JSON.parse(out);
  return new Set(report.files.map((it) => it.path));
}

/** Every string leaf of an `exports` map (conditions nest). */
function targets(value) {
  if (typeof value === 'string') return [value];
  if (value === null) return [];
  return Object.values(value).flatMap(targets);
}

/** `./a/b.js` → `a/b.js`. */
const clean = (path) => path.replace(/^\.\//, '');

test('npm pack ships every file the manifest and the README point to', () => {
  const files = packed();
  assert.ok(files.size > 0);
  for (const must of ['package.json', 'README.md', 'LICENSE', 'index.d.ts', 'dist/web/ligature_bg.wasm', 'dist/web-threads/ligature_bg.wasm']) {
    assert.ok(files.has(must), `${must} is not in the tarball: ${[...files].join(', ')}`);
  }
  // main, types and every exports target.
  const pointed = [manifest.main, manifest.types, ...targets(manifest.exports)];
  for (const path of pointed) {
    assert.ok(files.has(clean(path)), `package.json points to ${path}, which does not ship`);
  }
  // Both builds' wasm through exports (bundlers and edge configs import it by name).
  for (const [name, file] of [
    ['./ligature_bg.wasm', 'dist/web/ligature_bg.wasm'],
    ['./web/ligature_bg.wasm', 'dist/web/ligature_bg.wasm'],
    ['./web-threads/ligature_bg.wasm', 'dist/web-threads/ligature_bg.wasm'],
  ]) {
    assert.deepEqual(targets(manifest.exports[name]).map(clean), [file], name);
  }
  // The README's relative links, the package files it names in code spans (outside code
  // blocks and link texts) and the `ligature/…` specifiers it shows.
  const readme = readFileSync(join(PKG, 'README.md'), 'utf8').replace(/```[^]*?```/g, '');
  const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((it) => !/^[a-z]+:/.test(it));
  const prose = readme.replace(/\[[^\]]*\]\([^)]*\)/g, '');
  const spans = [...prose.matchAll(/`([^`\s]+)`/g)].map((m) => m[1]);
  const specifiers = spans.filter((it) => it === 'ligature' || it.startsWith('ligature/'));
  const paths = spans.filter((it) => !specifiers.includes(it) && !it.startsWith('@') && (/\//.test(it) || /[\w-]\.(js|ts|json|md|wasm|capnp)$/.test(it)));
  assert.ok(links.length > 0 && paths.length > 0 && specifiers.length > 0, 'the README was read');
  for (const reference of [...links, ...paths]) {
    assert.ok(!reference.startsWith('../'), `the README points outside the package: ${reference}`);
    const path = clean(reference);
    const ships = files.has(path) || [...files].some((it) => it.startsWith(path.endsWith('/') ? path : `${path}/`));
    assert.ok(ships, `the README points to ${reference}, which does not ship`);
  }
  for (const specifier of specifiers) {
    const key = specifier === 'ligature' ? '.' : `./${specifier.slice('ligature/'.length)}`;
    assert.ok(Object.hasOwn(manifest.exports, key), `the README imports ${specifier}, which exports does not offer`);
  }
  // The license matches the manifest's (and Cargo.toml's) SPDX expression.
  const cargo = readFileSync(join(ROOT, 'Cargo.toml'), 'utf8').match(/^license = "(.*)"$/m)[1];
  assert.equal(manifest.license, cargo);
  const license = readFileSync(join(PKG, 'LICENSE'), 'utf8');
  assert.match(license, /Permission is hereby granted, free of charge/);
  assert.match(license, /Apache License\s+Version 2\.0, January 2004/);
  // Nothing of the tests or the dev tools ships.
  for (const path of files) assert.ok(!/^(test|testpage|node_modules)\//.test(path), `${path} ships`);
});

test('index.d.ts and worker.d.ts compile with lib es2022 and no @types (tsc --strict)', () => {
  const tsc = join(PKG, 'node_modules', '.bin', 'tsc');
  // A consumer inside the package resolves `ligature` to itself through `exports` (Node's
  // self-reference), as a dependent project would.
  const dir = mkdtempSync(join(PKG, 'test', '.tsc-'));
  try {
    writeFileSync(join(dir, 'consumer.ts'), `
import { evaluate, validate, compileSchema, Session, init, initThreadPool, variant } from 'ligature';
import * as web from 'ligature/web';
import * as threads from 'ligature/web-threads';
import type { EvalResult, Diagnostic, Stats, EvaluateOptions, SessionOptions, AbortSignalLike } from 'ligature/node';
import { createWorker, type Engine, type WorkerOptions } from 'ligature/worker';

export async function offThread(signal: AbortSignalLike): Promise<boolean> {
  const options: WorkerOptions = { threads: 2, wasmURL: 'https://example.com/ligature_bg.wasm' };
  const engine: Engine = await createWorker(options);
  const result: EvalResult = await engine.evaluate('let a = 1;', { signal, timeoutMs: 100 });
  const session = new engine.Session({ files: {} });
  await session.setFile('a.lig', 'let a = 1;');
  const stats: Stats | null = await session.stats;
  const compiled = await engine.compileSchema('type T = Integer;', 'T', { signal });
  const valid = compiled.ok ? (await compiled.schema.validate(1, { timeoutMs: 5 })).ok : false;
  engine.terminate();
  return result.ok && valid && stats !== undefined && engine.restarts >= 0;
}

export async function main(bytes: ArrayBuffer): Promise<string> {
  await init(bytes);
  await init({ wasmURL: 'https://example.com/ligature_bg.wasm' });
  await web.init({ module: new Uint8Array(bytes) });
  web.initSync({ module: bytes });
  await threads.initThreadPool(2);
  const n: number = await initThreadPool();
  const options: EvaluateOptions = { format: 'yaml', limits: { maxSteps: 10n ** 6n, maxDepth: 1000 } };
  const result: EvalResult = await evaluate('let a = 1;', options);
  const firstError: Diagnostic | undefined = result.diagnostics[0];
  const sessionOptions: SessionOptions = { files: { 'main.lig': 'let a = 1;' }, threads: 1 };
  const session = new Session(sessionOptions);
  const stats: Stats | null = session.stats;
  const checked = await validate({ a: 1 }, 'type T = { a: Integer };', 'T', { dataFormat: 'value' });
  const compiled = await compileSchema('type T = Integer;', 'T');
  if (compiled.ok) compiled.schema.free();
  session.free();
  return variant + String(n) + String(result.ok) + String(firstError?.code) + String(stats?.steps) + String(checked.ok);
}
`);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        lib: ['es2022'],
        types: [],
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        skipLibCheck: false,
      },
      files: ['consumer.ts'],
    }));
    try {
      execFileSync(tsc, ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      assert.fail(`tsc found errors:\n${error.stdout}${error.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** The threaded build's rayon worker helper, as build.mjs generates it. */
function poolHelper() {
  const snippets = join(PKG, 'dist', 'web-threads', 'snippets');
  const [dir] = readdirSync(snippets).filter((it) => it.startsWith('wasm-bindgen-rayon-'));
  assert.ok(dir, `no wasm-bindgen-rayon snippet in ${snippets}`);
  return join(snippets, dir, 'src', 'workerHelpers.no-bundler.js');
}

/**
 * Runs the helper's `startWorkers` against fake Workers (a Node test cannot start the pool:
 * the Chromium and bundler tests do). `reply(worker, message)` answers each start message.
 */
async function startPool({ threads = 2, reply, shared = true, noWorker = false }) {
  const created = [];
  const sources = [];
  let built = 0;
  class FakeWorker extends EventTarget {
    constructor(url, options) {
      super();
      this.url = url;
      this.options = options;
      this.posted = [];
      this.terminated = false;
      created.push(this);
    }
    postMessage(message) {
      this.posted.push(message);
      queueMicrotask(() => {
        const answer = reply(this, message);
        if (answer === undefined) return;
        const event = new Event('message');
        event.data = answer;
        this.dispatchEvent(event);
      });
    }
    terminate() {
      this.terminated = true;
    }
  }
  const saved = { Worker: globalThis.Worker, createObjectURL: URL.createObjectURL };
  globalThis.Worker = noWorker ? undefined : FakeWorker;
  URL.createObjectURL = (blob) => {
    sources.push(blob);
    return `blob:test/${sources.length}`;
  };
  const memory = shared
    ? new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true })
    : new WebAssembly.Memory({ initial: 1 });
  const module = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  const builder = { numThreads: () => threads, receiver: () => 42, build: () => { built += 1; } };
  try {
    const { startWorkers } = await import(`${new URL(`file://${poolHelper()}`).href}?${Math.random()}`);
    const outcome = await startWorkers(module, memory, builder).then(() => 'started', (error) => error);
    return { outcome, created, sources, built, module, memory };
  } finally {
    globalThis.Worker = saved.Worker;
    URL.createObjectURL = saved.createObjectURL;
  }
}

test("the threaded build's pool threads start from a self-contained Blob, with the object form of init", async () => {
  const ready = (_, message) => (message.type === 'ligature_pool_start' ? { type: 'ligature_pool_ready' } : undefined);
  const { outcome, created, sources, built, module, memory } = await startPool({ threads: 3, reply: ready });
  assert.equal(outcome, 'started');
  assert.equal(built, 1, 'the pool is built once, after every thread is ready');
  assert.equal(created.length, 3);
  for (const worker of created) {
    assert.match(worker.url, /^blob:/, 'no worker URL for a bundler to rewrite');
    assert.equal(worker.options.type, 'module');
    assert.equal(worker.posted.length, 1);
    const [message] = worker.posted;
    assert.equal(message.module, module);
    assert.equal(message.memory, memory);
    assert.equal(message.receiver, 42);
    assert.equal(message.stackSize, 8 << 20, "the pool threads' shadow stack is the main thread's");
  }
  // The threads' source: the glue and the pool worker, with nothing to import.
  const source = await sources[0].text();
  assert.doesNotMatch(source, /^\s*import\s/m, 'a static import in the pool source');
  assert.doesNotMatch(source, /\bimport\s*\(/, 'a dynamic import in the pool source');
  assert.match(source, /wbg_rayon_start_worker/);
  assert.match(source, /module_or_path:\s*\w+\.module,\s*memory:\s*\w+\.memory,\s*thread_stack_size:\s*\w+\.stackSize/, 'init in the object form');
  // The old helper's way of starting threads is gone.
  const helper = readFileSync(poolHelper(), 'utf8');
  assert.doesNotMatch(helper, /fetch\(import\.meta\.url\)|import\(data\.mainJS\)/);
});

test('initThreadPool rejects, naming the reason, when a pool thread cannot start (never hangs)', async () => {
  const failing = await startPool({ reply: () => ({ type: 'ligature_pool_failed', message: 'CompileError: bad module' }) });
  assert.ok(failing.outcome instanceof Error);
  assert.match(failing.outcome.message, /could not instantiate the module: CompileError: bad module/);
  assert.ok(failing.created.every((it) => it.terminated), 'the started threads are ended');
  assert.equal(failing.built, 0);
  let first = true;
  const dying = await startPool({
    reply(worker) {
      if (!first) return { type: 'ligature_pool_ready' };
      first = false;
      const event = new Event('error');
      event.message = 'Uncaught SyntaxError';
      queueMicrotask(() => worker.dispatchEvent(event));
      return undefined;
    },
  });
  assert.match(dying.outcome.message, /a pool thread failed: Uncaught SyntaxError/);
  const unshared = await startPool({ shared: false, reply: () => undefined });
  assert.match(unshared.outcome.message, /needs SharedArrayBuffer: serve the page cross-origin isolated/);
  const noWorker = await startPool({ noWorker: true, reply: () => undefined });
  assert.match(noWorker.outcome.message, /needs Web Workers/);
});
