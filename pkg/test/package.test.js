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

test('index.d.ts compiles with lib es2022 and no @types (tsc --strict)', () => {
  const tsc = join(PKG, 'node_modules', '.bin', 'tsc');
  // A consumer inside the package resolves `ligature` to itself through `exports` (Node's
  // self-reference), as a dependent project would.
  const dir = mkdtempSync(join(PKG, 'test', '.tsc-'));
  try {
    writeFileSync(join(dir, 'consumer.ts'), `
import { evaluate, validate, compileSchema, Session, init, initThreadPool, variant } from 'ligature';
import * as web from 'ligature/web';
import * as threads from 'ligature/web-threads';
import type { EvalResult, Diagnostic, Stats, EvaluateOptions, SessionOptions } from 'ligature/node';

export async function main(bytes: ArrayBuffer): Promise<string> {
  await init(bytes);
  await web.init(new Uint8Array(bytes));
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

test("the threaded build's pool workers start wasm-bindgen with the object form, no deprecated call", async () => {
  const snippets = join(PKG, 'dist', 'web-threads', 'snippets');
  const [dir] = readdirSync(snippets).filter((it) => it.startsWith('wasm-bindgen-rayon-'));
  assert.ok(dir, `no wasm-bindgen-rayon snippet in ${snippets}`);
  const helper = join(snippets, dir, 'src', 'workerHelpers.no-bundler.js');
  // The glue takes `{ module_or_path, memory, thread_stack_size }` and warns about anything else.
  const glue = readFileSync(join(PKG, 'dist', 'web-threads', 'ligature.js'), 'utf8');
  assert.match(glue, /\(\{module_or_path, memory, thread_stack_size\} = module_or_path\)/);
  // Run the helper as a pool worker would: the init message, then what it passes to init.
  const calls = [];
  globalThis.__ligatureInitCalls = calls;
  const fake = 'data:text/javascript,' + encodeURIComponent(
    'export default async (...args) => { globalThis.__ligatureInitCalls.push(args); };\nexport function wbg_rayon_start_worker() {}\n',
  );
  const target = new EventTarget();
  const saved = { self: globalThis.self, postMessage: globalThis.postMessage };
  const posted = [];
  globalThis.self = target;
  globalThis.postMessage = (message) => posted.push(message);
  try {
    await import(`${new URL(`file://${helper}`).href}?test`);
    const module = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    const memory = { shared: true };
    const event = new Event('message');
    event.data = { type: 'wasm_bindgen_worker_init', module, memory, receiver: 1, mainJS: fake };
    target.dispatchEvent(event);
    for (let i = 0; i < 100 && posted.length === 0; i += 1) await new Promise((ok) => setTimeout(ok, 10));
  } finally {
    globalThis.self = saved.self;
    globalThis.postMessage = saved.postMessage;
    delete globalThis.__ligatureInitCalls;
  }
  assert.deepEqual(posted, [{ type: 'wasm_bindgen_worker_ready' }]);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].length, 1, 'one argument: the object form');
  const [init] = calls[0];
  assert.equal(Object.getPrototypeOf(init), Object.prototype);
  assert.deepEqual(Object.keys(init).sort(), ['memory', 'module_or_path', 'thread_stack_size']);
  assert.ok(init.module_or_path instanceof WebAssembly.Module);
  assert.equal(init.thread_stack_size, 8 << 20, "the pool threads' shadow stack is the main thread's");
});
