// `.lig` files as ES modules (issue 20): the Vite plugin (`ligature/vite`), the esbuild plugin
// (`ligature/esbuild`) and the Node hooks (`node --import ligature/register`), each on the
// small apps of testapps/lig/: config/app.lig imports config/net/ports.lig and std.collections;
// config/summary.lig has a trailing expression; config/broken.lig has a type error.
//
// The apps are copied into a temporary directory whose node_modules links `ligature` to this
// package (resolved through its `exports`, as an installed copy would be) and `vite` and
// `esbuild` to pkg's own dev dependencies. One Vite build, one esbuild build, one Vite dev
// server, and a failing build of each.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { PKG } from './helpers.js';

const APPS = join(PKG, 'testapps', 'lig');

/** What app.lig and summary.lig evaluate to. */
const APP = { name: 'api', ports: [444, 8444], replicas: 3, tier: { Some: 'gold' }, limits: { cpu: 0.5, memory: 512 } };
const SUMMARY = { total: 84, label: 'sum' };
const REPORT = {
  config: APP,
  ...APP,
  summary: SUMMARY,
  // A trailing expression: its bindings are the named exports (`class` is reserved in JS).
  summaryNames: ['default', 'total'],
  // A package's file, by a bare specifier.
  defaults: { retries: 3, regions: ['eu', 'us'] },
};

let work;

/** `promise`, or a failure naming `what` after 15 s (a watcher event that never comes). */
function within(promise, what) {
  let timer;
  const late = new Promise((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what}: nothing within 15 s`)), 15_000);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** `{ code, stdout, stderr }` of `node args` in `cwd` (killed after 60 s). */
function node(args, cwd) {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      ok({ code, stdout, stderr });
    });
  });
}

/** The broken file's diagnostic as each host must show it: place, code and excerpt. */
function assertBrokenReport(text, file) {
  assert.match(text, new RegExp(`${file.replaceAll('/', '[/\\\\]')}:2:21`), `no ${file}:2:21 in:\n${text}`);
  assert.match(text, /T2001|mismatch/i, text);
  // The rendered excerpt: the offending line, as the CLI prints it.
  assert.match(text, /let port : String = https;/, text);
  assert.match(text, /\^/, text);
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'ligature-plugins-'));
  const modules = join(work, 'node_modules');
  mkdirSync(modules);
  symlinkSync(PKG, join(modules, 'ligature'), 'dir');
  for (const name of ['vite', 'esbuild', '@types']) symlinkSync(join(PKG, 'node_modules', name), join(modules, name), 'dir');
  cpSync(join(APPS, 'packages'), modules, { recursive: true });
  for (const app of ['vite', 'esbuild', 'node']) {
    cpSync(join(APPS, app), join(work, app), { recursive: true });
    cpSync(join(APPS, 'config'), join(work, app, app === 'node' ? 'config' : 'src/config'), { recursive: true });
  }
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('vite build: the bundle holds the documents, named exports work, the imported module and std are evaluated', async () => {
  const { build } = await import('vite');
  const root = join(work, 'vite');
  await build({ root, configFile: join(root, 'vite.config.js'), logLevel: 'silent' });
  const bundle = readFileSync(join(root, 'dist', 'main.js'), 'utf8');
  // The values are in the bundle as data: no engine, no .lig text.
  assert.match(bundle, /8444/);
  assert.doesNotMatch(bundle, /import "\.\/net\/ports"/);
  assert.doesNotMatch(bundle, /ligature_bg\.wasm/);
  const { report } = await import(pathToFileURL(join(root, 'dist', 'main.js')).href);
  assert.deepEqual(report, REPORT);
});

test('rolldown watch (Rollup\'s plugin API, no Vite): editing an imported .lig rebuilds', async () => {
  const { watch } = await import('rolldown');
  const { default: ligature } = await import('ligature/vite');
  const root = join(work, 'rolldown');
  cpSync(join(work, 'vite'), root, { recursive: true, filter: (from) => !/[/\\]dist$/.test(from) });
  const output = join(root, 'dist', 'main.js');
  const ends = [];
  let wake;
  const watcher = watch({
    input: join(root, 'src', 'main.js'),
    cwd: root,
    plugins: [ligature({ root })],
    logLevel: 'silent',
    output: { file: output, format: 'es' },
  });
  watcher.on('event', async (event) => {
    if (event.code === 'BUNDLE_END') await event.result.close();
    if (event.code === 'BUNDLE_END' || event.code === 'ERROR') {
      ends.push(event.code === 'ERROR' ? event.error : null);
      wake?.();
    }
  });
  const built = async (n) => {
    for (let waited = 0; ends.length < n; waited += 1) {
      assert.ok(waited < 300, `no build ${n} within 15 s`);
      await new Promise((ok) => {
        wake = ok;
        setTimeout(ok, 50);
      });
    }
    assert.equal(ends[n - 1], null, `build ${n} failed: ${ends[n - 1]?.message}`);
    return (await import(`${pathToFileURL(output).href}?build=${n}`)).report;
  };
  try {
    assert.deepEqual(await built(1), REPORT);
    const ports = join(root, 'src', 'config', 'net', 'ports.lig');
    writeFileSync(ports, readFileSync(ports, 'utf8').replace('let https = 443;', 'let https = 8080;'));
    const report = await built(2);
    assert.deepEqual(report.ports, [8081, 8444]);
  } finally {
    await watcher.close();
  }
});

test('vite build: a type error fails the build with file:line:column and the rendered excerpt', async () => {
  const { build } = await import('vite');
  const root = join(work, 'vite');
  let failure;
  try {
    await build({
      root,
      configFile: join(root, 'vite.config.js'),
      logLevel: 'silent',
      build: { lib: { entry: 'src/broken.js', formats: ['es'], fileName: 'broken' } },
    });
  } catch (error) {
    failure = error;
  }
  assert.ok(failure, 'the build of broken.js succeeded');
  // Vite 8 (Rolldown) throws the build's errors together.
  failure = failure.errors?.[0] ?? failure;
  assertBrokenReport(`${failure.message}\n${failure.frame ?? ''}`, 'src/config/broken.lig');
  assert.equal(failure.id ?? failure.loc?.file, join(root, 'src', 'config', 'broken.lig'));
  assert.equal(failure.loc?.line, 2);
  assert.equal(failure.loc?.column, 21, 'the column the excerpt shows');
  assert.equal(failure.plugin, 'ligature');
  assert.match(failure.frame, /let port : String = https;/);
});

test('vite dev: editing an imported (not entry) .lig, or creating a missing one, updates its importer; its type error is placed for the overlay', async () => {
  const { createServer } = await import('vite');
  const root = join(work, 'vite');
  const server = await createServer({ root, configFile: join(root, 'vite.config.js'), logLevel: 'silent', server: { middlewareMode: true } });
  try {
    const sent = [];
    const hot = server.environments?.client?.hot ?? server.ws;
    const send = hot.send.bind(hot);
    hot.send = (...args) => {
      sent.push(args[0]);
      return send(...args);
    };
    await server.transformRequest('/src/main.js');
    const before = await server.transformRequest('/src/config/app.lig');
    assert.match(before.code, /\[\s*444,\s*8444\s*\]/, before.code);

    // Edit the imported module (app.lig is the entry the JS imports).
    const ports = join(root, 'src', 'config', 'net', 'ports.lig');
    const changed = new Promise((ok) => server.watcher.on('change', (file) => file === ports && ok()));
    writeFileSync(ports, readFileSync(ports, 'utf8').replace('let https = 443;', 'let https = 8080;'));
    await within(changed, 'the dev server\'s watcher: the change of ports.lig');
    // The update is sent after the watcher's event, once Vite has handled it.
    for (let i = 0; i < 100 && !sent.some((it) => it?.type === 'full-reload' || it?.type === 'update'); i += 1) {
      await new Promise((ok) => setTimeout(ok, 50));
    }
    assert.ok(
      sent.some((it) => it?.type === 'full-reload' || it?.type === 'update'),
      `no HMR update or full reload was sent: ${JSON.stringify(sent)}`,
    );
    const afterEdit = await server.transformRequest('/src/config/app.lig');
    assert.match(afterEdit.code, /\[\s*8081,\s*8444\s*\]/, `app.lig was not transformed again:\n${afterEdit.code}`);

    // A type error in the imported module: what Vite's error overlay shows (prepareError
    // sends message, id, loc, frame and plugin), placed in ports.lig.
    writeFileSync(ports, readFileSync(ports, 'utf8').replace('let https = 8080;', 'let https : String = 8080;'));
    let failure;
    for (let i = 0; i < 100 && failure === undefined; i += 1) {
      await new Promise((ok) => setTimeout(ok, 50));
      failure = await server.transformRequest('/src/config/app.lig').then(() => undefined, (error) => error);
    }
    assert.ok(failure, 'the broken import still transformed');
    assert.equal(failure.plugin, 'ligature');
    assert.equal(failure.id, ports);
    assert.deepEqual({ ...failure.loc }, { file: ports, line: 2, column: 22 });
    assert.match(failure.message, /ports\.lig:2:22: error\[T2001\]/);
    assert.match(failure.frame, /let https : String = 8080;/);

    // A file an import looked for and did not find: creating it updates the importer.
    const later = join(root, 'src', 'config', 'later.lig');
    writeFileSync(later, 'import "./not_yet" as n;\nlet v = n.v;\n');
    const missing = await server.transformRequest('/src/config/later.lig').then(() => undefined, (error) => error);
    assert.match(missing?.message ?? '', /M4001/);
    sent.length = 0;
    const notYet = join(root, 'src', 'config', 'not_yet.lig');
    const added = new Promise((ok) => server.watcher.on('add', (file) => file === notYet && ok()));
    writeFileSync(notYet, 'let v = 7;\n');
    await within(added, 'the dev server\'s watcher: the creation of not_yet.lig');
    for (let i = 0; i < 100 && !sent.some((it) => it?.type === 'full-reload' || it?.type === 'update'); i += 1) {
      await new Promise((ok) => setTimeout(ok, 50));
    }
    assert.ok(
      sent.some((it) => it?.type === 'full-reload' || it?.type === 'update'),
      `creating the missing import sent no HMR update or full reload: ${JSON.stringify(sent)}`,
    );
    assert.match((await server.transformRequest('/src/config/later.lig')).code, /"v":7/);
  } finally {
    await server.close();
  }
});

test('esbuild: the bundle holds the documents and named exports work', async () => {
  const root = join(work, 'esbuild');
  const { build } = await import(pathToFileURL(join(root, 'build.mjs')).href);
  const result = await build();
  assert.deepEqual(result.errors, []);
  const bundle = readFileSync(join(root, 'dist', 'main.js'), 'utf8');
  assert.match(bundle, /8444/);
  const { report } = await import(pathToFileURL(join(root, 'dist', 'main.js')).href);
  assert.deepEqual(report, REPORT);
});

test('esbuild: watchFiles lists every .lig of the import graph; a type error is placed with the excerpt', async () => {
  const root = join(work, 'esbuild');
  const { default: ligature } = await import(pathToFileURL(join(work, 'node_modules', 'ligature', 'esbuild.js')).href);
  // The plugin's answers, as esbuild gets them.
  const hooks = {};
  ligature().setup({
    initialOptions: { absWorkingDir: root },
    onResolve: (_, callback) => (hooks.resolve = callback),
    onLoad: (_, callback) => (hooks.load = callback),
  });
  const resolved = await hooks.resolve({ path: './config/app.lig', resolveDir: join(root, 'src'), namespace: 'file' });
  const loaded = await hooks.load(resolved);
  // The files read, and the one the loader also looked for (`./net/ports` may be
  // net/ports/mod.lig): creating it changes what the import means.
  assert.deepEqual(loaded.watchFiles.sort(), [
    join(root, 'src/config/app.lig'),
    join(root, 'src/config/net/ports.lig'),
    join(root, 'src/config/net/ports/mod.lig'),
  ]);

  // A warning: the module loads, and esbuild gets the warning placed.
  const partial = await hooks.load(await hooks.resolve({ path: './config/partial.lig', resolveDir: join(root, 'src'), namespace: 'file' }));
  assert.match(partial.contents, /export const scale = /);
  assert.equal(partial.warnings.length, 1);
  assert.deepEqual(partial.warnings[0].location, {
    file: join(root, 'src', 'config', 'partial.lig'), line: 3, column: 19, lineText: 'let factor = \\e -> match e { Dev => 1, Prod => 3 };',
  });
  assert.match(partial.warnings[0].text, /warning\[T2013\]/);

  const { build } = await import(pathToFileURL(join(root, 'build.mjs')).href);
  let failure;
  try {
    await build('src/broken.js', 'dist/broken.js');
  } catch (error) {
    failure = error;
  }
  assert.ok(failure?.errors?.length === 1, `the build of broken.js did not fail with one error: ${failure}`);
  const [error] = failure.errors;
  assert.equal(error.location.file, 'src/config/broken.lig', 'esbuild shows paths relative to its working directory');
  assert.equal(error.location.line, 2);
  assert.equal(error.location.column, 20, 'esbuild columns count from 0');
  assert.equal(error.location.lineText, 'let port : String = https;');
  assertBrokenReport(`${error.text}\n${error.notes.map((it) => it.text).join('\n')}`, 'src/config/broken.lig');
});

test('esbuild watch: editing an imported .lig rebuilds', async () => {
  const esbuild = await import('esbuild');
  const { default: ligature } = await import('ligature/esbuild');
  const root = join(work, 'esbuild-watch');
  cpSync(join(work, 'esbuild'), root, { recursive: true, filter: (from) => !/[/\\]dist$/.test(from) });
  let builds = 0;
  const context = await esbuild.context({
    entryPoints: ['src/main.js'],
    outfile: 'dist/main.js',
    bundle: true,
    format: 'esm',
    absWorkingDir: root,
    logLevel: 'silent',
    plugins: [ligature(), { name: 'count', setup: (build) => build.onEnd(() => void (builds += 1)) }],
  });
  try {
    await context.watch();
    for (let i = 0; i < 300 && builds < 1; i += 1) await new Promise((ok) => setTimeout(ok, 50));
    const ports = join(root, 'src', 'config', 'net', 'ports.lig');
    writeFileSync(ports, readFileSync(ports, 'utf8').replace('let https = 443;', 'let https = 8080;'));
    for (let i = 0; i < 300 && builds < 2; i += 1) await new Promise((ok) => setTimeout(ok, 50));
    assert.equal(builds, 2, 'no rebuild within 15 s of the edit');
    const { report } = await import(`${pathToFileURL(join(root, 'dist', 'main.js')).href}?rebuilt`);
    assert.deepEqual(report.ports, [8081, 8444]);
  } finally {
    await context.dispose();
  }
});

test('node --import ligature/register: .lig files import with default and named exports', async () => {
  const root = join(work, 'node');
  const { code, stdout, stderr } = await node(['--import', 'ligature/register', 'main.mjs'], root);
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout), {
    config: APP, name: 'api', ports: [444, 8444], summary: SUMMARY, total: 42, regions: ['eu', 'us'],
    // ports.lig's export list hides `internal` from JS importers too.
    portsNames: ['admin', 'default', 'https'],
    // A binding named like the module's variable, a `__proto__` field (an own property, not
    // the prototype), JS reserved words left out of the named exports.
    special: {
      keys: ['document', '__proto__', 'default', 'yield', 'plain'],
      ownProto: true,
      exports: ['__proto__', 'default', 'document', 'plain'],
      document: "the generated module's own variable was called this",
    },
    scale: 3,
  });
  // A warning is a process warning, placed, with its excerpt; the import goes on.
  assert.match(stderr, /LigatureWarning: \S*config[/\\]partial\.lig:3:20: warning\[T2013\]/, stderr);
  assert.match(stderr, /let factor = \\e -> match e/, stderr);
});

test('node --import ligature/register: a type error fails the import with the rendered diagnostic', async () => {
  const root = join(work, 'node');
  const { code, stdout, stderr } = await node(['--import', 'ligature/register', 'broken.mjs'], root);
  assert.notEqual(code, 0);
  assert.equal(stdout, '');
  assertBrokenReport(stderr, 'config/broken.lig');
});

test('options: include/exclude and Vite\'s queries, registerPath, dts; unknown or malformed ones throw saying why', async () => {
  const { default: vite } = await import('ligature/vite');
  const { default: esbuild } = await import('ligature/esbuild');
  assert.throws(() => vite({ maxStep: 1 }), /unknown option `maxStep`/);
  assert.throws(() => esbuild({ registerPath: [42] }), /registerPath must be a directory or a list of directories/);
  assert.throws(() => vite({ include: 42 }), /include must be a RegExp, a string or an array/);
  // include/exclude, and Vite's own queries: the plugin leaves those files alone.
  const config = join(work, 'vite', 'src', 'config');
  const context = { addWatchFile() {}, error: (error) => assert.fail(error.message) };
  const transform = (plugin, id) => plugin.transform.call(context, readFileSync(id.split('?')[0], 'utf8'), id);
  assert.equal(await transform(vite({ exclude: '/summary.lig' }), join(config, 'summary.lig')), null);
  assert.equal(await transform(vite({ include: [/app\.lig$/] }), join(config, 'summary.lig')), null);
  assert.equal(await transform(vite(), `${join(config, 'summary.lig')}?raw`), null);
  assert.equal(await transform(vite(), `${join(config, 'summary.lig')}?url`), null);
  assert.match((await transform(vite({ include: [/app\.lig$/, 'summary.lig'] }), join(config, 'summary.lig'))).code, /export const total = 42;/);
  assert.match((await transform(vite(), `${join(config, 'summary.lig')}?import`)).code, /export default/);
  // A warning goes to Rollup's `this.warn`, placed, with its excerpt.
  const warned = [];
  const partial = await vite().transform.call(
    { ...context, warn: (warning) => warned.push(warning) },
    readFileSync(join(config, 'partial.lig'), 'utf8'),
    join(config, 'partial.lig'),
  );
  assert.match(partial.code, /export const scale = /);
  assert.equal(warned.length, 1);
  assert.deepEqual(warned[0].loc, { file: join(config, 'partial.lig'), line: 3, column: 20 });
  assert.match(warned[0].message, /warning\[T2013\]/);
  assert.match(warned[0].frame, /match e \{ Dev => 1, Prod => 3 \}/);
  // `dts` writes FILE.lig.d.ts beside the imported file, from the TypeScript export.
  const root = join(work, 'esbuild');
  const load = async (options, path) => {
    const hooks = {};
    esbuild(options).setup({
      initialOptions: { absWorkingDir: root },
      onResolve: (_, callback) => (hooks.resolve = callback),
      onLoad: (_, callback) => (hooks.load = callback),
    });
    return hooks.load(await hooks.resolve({ path, resolveDir: join(root, 'src'), namespace: 'file' }));
  };
  const loaded = await load({ dts: true }, './config/app.lig');
  assert.equal(loaded.errors, undefined);
  assert.match(readFileSync(join(root, 'src', 'config', 'app.lig.d.ts'), 'utf8'), /export default/);
  // registerPath: `import corp.net` finds the register `corp` under it (the CLI's --register-path).
  mkdirSync(join(root, 'registers', 'corp'), { recursive: true });
  writeFileSync(join(root, 'registers', 'corp', 'net.lig'), 'export let port = 8443;\n');
  writeFileSync(join(root, 'src', 'config', 'uses-register.lig'), 'import corp.net as net;\nlet port = net.port;\n');
  const registered = await load({ registerPath: 'registers' }, './config/uses-register.lig');
  assert.equal(registered.errors, undefined, JSON.stringify(registered.errors));
  assert.match(registered.contents, /"port":8443/);
  assert.ok(registered.watchFiles.includes(join(root, 'registers', 'corp', 'net.lig')), registered.watchFiles.join('\n'));
  const unregistered = await load({}, './config/uses-register.lig');
  assert.equal(unregistered.errors?.[0]?.text.includes('M4001') || /register/.test(unregistered.errors?.[0]?.text ?? ''), true, JSON.stringify(unregistered.errors));
});

test('the plugins\' types: tsc --strict on a consumer without vite or esbuild types, and one with them', () => {
  const tsc = join(PKG, 'node_modules', '.bin', 'tsc');
  const dir = join(work, 'tsc');
  mkdirSync(dir);
  writeFileSync(join(dir, 'structural.ts'), `
import ligature, { type LigatureOptions } from 'ligature/vite';
import ligatureEsbuild from 'ligature/esbuild';
import 'ligature/register';

const options: LigatureOptions = { include: [/\\.lig$/, '.config.lig'], exclude: 'skip.lig', maxSteps: 1e6, timeoutMs: 500, root: '/app' };
export const vite = ligature(options);
export const esbuild = ligatureEsbuild({ dts: false });
export const name: string = vite.name + esbuild.name;
// @ts-expect-error: not an option
ligature({ maxStep: 1 });
`);
  writeFileSync(join(dir, 'hosts.ts'), `
import { defineConfig, type Plugin } from 'vite';
import type { Plugin as EsbuildPlugin } from 'esbuild';
import ligature from 'ligature/vite';
import ligatureEsbuild from 'ligature/esbuild';

export const config = defineConfig({ plugins: [ligature()] });
export const vitePlugin: Plugin = ligature({ timeoutMs: 100 });
export const esbuildPlugin: EsbuildPlugin = ligatureEsbuild();
`);
  const compile = (files, types) => {
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, lib: ['es2022'], types, target: 'es2022',
        module: 'nodenext', moduleResolution: 'nodenext', skipLibCheck: types.length > 0,
      },
      files,
    }));
    const run = spawnSync(tsc, ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
    assert.equal(run.status, 0, `tsc found errors in ${files}:\n${run.stdout}${run.stderr}`);
  };
  // No DOM, no @types/node, no vite or esbuild types needed by the plugins' declarations.
  compile(['structural.ts'], []);
  // Assignable to the hosts' own plugin types.
  compile(['hosts.ts'], ['node']);
});
