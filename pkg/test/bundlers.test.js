// The package as bundled apps use it (issue 17): `npm pack`, installed from the tarball into
// the small apps of testapps/ (Vite, esbuild, webpack 5), built by each bundler as a user
// builds it, and opened in one headless Chromium. In a cross-origin-isolated page each app
// starts a module Worker that imports `ligature`, calls `init()` and `initThreadPool(2)`, and
// evaluates a program with enough independent work for the pool: the threaded build, two
// threads, both used, the native CLI's text and a quiet console. In a page that is not
// cross-origin isolated, the same app runs ligature on the page's own thread: the
// single-threaded build, `initThreadPool()` resolving to 1, the same text.
//
// The bundlers are pkg's own dev dependencies (exact versions, installed by the one
// `npm ci` of `make pkg-deps`, then offline): the apps are copied into a temporary
// directory whose node_modules links to pkg/node_modules, as a monorepo hoists its tools,
// and each app gets only `ligature`, installed from the tarball (no registry needed).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';

import { CHROMIUM, CHROMIUM_ARGS, CLI, PKG, freePort, serveStatic } from './helpers.js';

// Outside test/: `node --test test/` would run every .js file under it as a test file
// (as pkg/testpage/ for the Chromium test).
const APPS = join(PKG, 'testapps');

/**
 * `promise`, or a rejection with `message` (a string, or a function giving one then) once
 * `seconds` have passed. The timer never keeps Node alive.
 */
function within(promise, seconds, message) {
  let timer;
  const late = new Promise((_, fail) => {
    const say = () => (typeof message === 'function' ? message() : message);
    timer = setTimeout(() => fail(new Error(`${say()} (no answer within ${seconds} s)`)), seconds * 1000);
    timer.unref();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Runs `command args` in `cwd` in a process group of its own, killed after `seconds`:
 * resolves to its output (stdout and stderr), rejects with `what`, the exit status and output.
 */
function run(what, command, args, cwd, seconds) {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, {
      cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', npm_config_update_notifier: 'false' },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      fail(new Error(`${what}: still running after ${seconds} s\n${output}`));
    }, seconds * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(new Error(`${what}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) ok(output);
      else fail(new Error(`${what}: exit ${code ?? signal}\n${output}`));
    });
  });
}

/** Lines of a build's output that warn (webpack's `WARNING in`, esbuild's `▲ [WARNING]`, Vite's), not npm's own. */
const warnings = (output) => output.split('\n').filter((line) => /warn/i.test(line) && !/^npm warn/i.test(line));

let work;
let browser;
/** app → promise of the output of its `npm run build` (started in `before`, awaited by the tests). */
const builds = new Map();
const servers = [];
const expected = new Map();

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: make chromium`);
  assert.ok(existsSync(CLI), `${CLI} is missing: cargo build --release`);
  work = mkdtempSync(join(tmpdir(), 'ligature-bundlers-'));
  symlinkSync(join(PKG, 'node_modules'), join(work, 'node_modules'), 'dir');
  const packed = await run('npm pack of pkg/', 'npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', work], PKG, 120);
  const tarball = join(work, basename(packed.trim().split('\n').pop()));
  assert.ok(existsSync(tarball), `npm pack made no ${tarball}: ${packed}`);
  await Promise.all(
    ['vite', 'esbuild', 'webpack'].map(async (app) => {
      cpSync(join(APPS, app), join(work, app), {
        recursive: true,
        filter: (from) => !/[/\\](node_modules|dist)$/.test(from),
      });
      cpSync(join(APPS, 'shared'), join(work, app, 'src'), { recursive: true });
      await run(`${app} app: npm install of the tarball`, 'npm',
        ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', tarball], join(work, app), 120);
      const build = run(`${app} app: npm run build`, 'npm', ['run', 'build'], join(work, app), 180);
      build.catch(() => {}); // reported by the app's tests
      builds.set(app, build);
    }),
  );
  const { chromium } = await import('playwright-core');
  browser = await within(
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true }),
    60,
    'launching Chromium',
  );
}, { timeout: 300_000 });

after(async () => {
  await within(browser?.close() ?? Promise.resolve(), 30, 'closing Chromium');
  await within(Promise.all(servers.map((it) => it.close())), 30, 'closing the servers');
  await Promise.allSettled(builds.values());
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The Vite dev server on the app, with its config's COOP/COEP headers, or with them off. */
async function viteDev(isolated) {
  const { createLogger, createServer } = await import('vite');
  const root = join(work, 'vite');
  const log = [];
  const logger = createLogger('warn');
  logger.warn = (message) => log.push(`vite dev server warning: ${message}`);
  logger.warnOnce = logger.warn;
  logger.error = (message) => log.push(`vite dev server error: ${message}`);
  const port = await freePort();
  const off = { 'Cross-Origin-Opener-Policy': 'unsafe-none', 'Cross-Origin-Embedder-Policy': 'unsafe-none' };
  const server = await within(createServer({
    root,
    configFile: join(root, 'vite.config.js'),
    customLogger: logger,
    clearScreen: false,
    server: { host: '127.0.0.1', port, strictPort: true, ...(isolated ? {} : { headers: off }) },
  }), 60, 'vite dev server: createServer with the app\'s vite.config.js');
  try {
    await within(server.listen(), 60, `vite dev server: listening on ${port}`);
  } catch (error) {
    await server.close();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}/`, log, close: () => server.close() };
}

/** The targets: how to serve each app, cross-origin isolated or not. */
const TARGETS = [
  { name: 'Vite dev server', app: 'vite', serve: viteDev },
  { name: 'vite build', app: 'vite', dir: 'dist' },
  { name: 'esbuild', app: 'esbuild', dir: '.' },
  { name: 'webpack 5 (production)', app: 'webpack', dir: '.' },
  { name: 'webpack 5 (development)', app: 'webpack', dir: '.', page: 'dev.html', quietBuild: true },
];
/**
 * The Vite app's second worker imports `ligature/web-threads` by name: Vite bundles that
 * glue into the worker's own chunk (with `ligature`, index.js's dynamic import keeps it
 * in a chunk of its own), which is where a pool that starts its workers from the glue's
 * URL broke.
 */
const WEB_THREADS = [
  { name: 'Vite dev server, ligature/web-threads', app: 'vite', serve: viteDev, query: '?web-threads' },
  { name: 'vite build, ligature/web-threads', app: 'vite', dir: 'dist', query: '?web-threads', quietBuild: true },
];

async function serve(target, isolated, again = false) {
  if (target.serve) return target.serve(isolated);
  const output = await within(builds.get(target.app), 180, `${target.name}: npm run build`);
  const server = await serveStatic(join(work, target.app, target.dir), { isolated });
  // The build's warnings count once, against its first threaded test.
  const log = isolated && !target.quietBuild && !again ? warnings(output).map((it) => `${target.app} build warning: ${it.trim()}`) : [];
  return { url: `${server.url}/${target.page ?? ''}`, log, close: server.close };
}

/**
 * Opens the app in a fresh context of the shared browser and waits for its `window.ligatureReport`.
 * Resolves to `{ report, pageIsolated, console, workers }`: the console lines (page, workers,
 * the pool's workers), uncaught errors and failed requests, each as `[type] text (script)`,
 * and the URLs of the workers started.
 */
async function visit(target, url) {
  const context = await within(browser.newContext(), 30, `${target.name}: a new browser context`);
  const page = await within(context.newPage(), 30, `${target.name}: a new page`);
  const logged = [];
  const workers = [];
  // Playwright hands the page every worker's console too (nested ones: the pool's), and
  // their uncaught errors as page errors; `where` is the script that logged.
  page.on('console', (message) => {
    const where = message.location()?.url || 'page';
    logged.push(`[${message.type()}] ${message.text()} (${where})`);
  });
  page.on('pageerror', (error) => logged.push(`[uncaught] ${error.message}`));
  page.on('worker', (worker) => workers.push(worker.url()));
  page.on('requestfailed', (request) => logged.push(`[request failed] ${request.url()}: ${request.failure()?.errorText}`));
  page.on('response', (response) => {
    if (response.status() >= 400) logged.push(`[response ${response.status()}] ${response.url()}`);
  });
  try {
    await within(page.goto(url), 30, `${target.name}: loading ${url}`);
    // The page gives up on its own first (within 60 s: a worker that never answers, a pool
    // that never starts); this wait is only a backstop.
    await within(
      page.waitForFunction(() => window.ligatureReport !== undefined, null, { timeout: 0, polling: 100 }),
      90,
      () => `${target.name}: the page's report (console: ${collapse(logged).join('\n') || 'quiet'})`,
    );
    const report = await page.evaluate(() => window.ligatureReport);
    const pageIsolated = await page.evaluate(() => globalThis.crossOriginIsolated);
    const blobs = workers.filter((it) => it.startsWith('blob:')).length;
    const started = [...workers.filter((it) => !it.startsWith('blob:')), ...(blobs > 0 ? [`${blobs} from blob: URLs`] : [])];
    logged.push(`(workers started: ${started.join(', ') || 'none'})`);
    return { report, pageIsolated, console: logged, workers };
  } finally {
    // A worker stuck in wasm must not hold the test: the browser's close in `after` ends it.
    await within(context.close(), 30, `${target.name}: closing the page`).catch(() => {});
  }
}

/** The native CLI's document for `source`. */
function native(source) {
  if (!expected.has(source)) {
    const file = join(work, 'program.lig');
    writeFileSync(file, source);
    const result = spawnSync(CLI, ['eval', file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, `the CLI failed on the apps' program: ${result.error ?? result.stderr}`);
    expected.set(source, result.stdout);
  }
  return expected.get(source);
}

/** Lines in their first order, each repeated one once, with its count (a pool that respawns logs hundreds). */
function collapse(lines) {
  const counts = new Map();
  for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  return [...counts].map(([line, n]) => (n > 1 ? `${line} (×${n})` : line));
}

/** Console lines that count against an app: errors, warnings, deprecations, uncaught errors, failures. */
const complaints = (lines) =>
  collapse(lines.filter((line) => /^\[(error|warning|uncaught|request failed|response \d+)\]|deprecated/i.test(line)));

/** Everything wrong with one run, in words (empty: it passed). */
function problems(target, { report, pageIsolated, console: logged }, served, want) {
  const found = [];
  const is = (what, actual, wanted) => {
    if (actual !== wanted) found.push(`${what}: ${JSON.stringify(actual)}, expected ${JSON.stringify(wanted)}`);
  };
  is('page crossOriginIsolated', pageIsolated, want.isolated);
  if (report.error !== undefined) {
    // The step that failed says it all; the fields after it are unset.
    found.push(`the app reports (variant ${report.variant}): ${report.error}`);
  } else {
    is('variant', report.variant, want.variant);
    is('isolated where ligature ran', report.isolated, want.isolated);
    is('initThreadPool resolved to', report.threads, want.threads);
    is('ok', report.ok, true);
    if (report.ok === false) found.push(`diagnostics: ${JSON.stringify(report.diagnostics)}`);
    is('result.stats.workers', report.workers, want.threads);
    if (typeof report.source !== 'string') found.push('the report has no source');
    else if (report.text !== native(report.source)) {
      found.push(`the text differs from the CLI's: ${JSON.stringify(report.text?.slice(0, 80))}…`);
    }
  }
  for (const line of [...served.log, ...complaints(logged)]) found.push(line);
  return found;
}

async function threaded(target) {
  const served = await serve(target, true);
  servers.push(served);
  const seen = await visit(target, served.url + (target.query ?? ''));
  const found = problems(target, seen, served, { isolated: true, variant: 'web-threads', threads: 2 });
  assert.deepEqual(found, [], `${target.name}, threaded:\n${found.join('\n')}\n(console: ${collapse(seen.console).join('\n') || 'quiet'})`);
}

for (const target of TARGETS) {
  test(`${target.name}: threads in a module Worker of a cross-origin-isolated page`, { timeout: 240_000 }, () => threaded(target));

  test(`${target.name}: single-threaded on the main thread of a page that is not cross-origin isolated`, { timeout: 240_000 }, async () => {
    const served = await serve(target, false);
    servers.push(served);
    const seen = await visit(target, served.url);
    const found = problems(target, seen, served, { isolated: false, variant: 'web', threads: 1 });
    assert.deepEqual(found, [], `${target.name}, single-threaded:\n${found.join('\n')}\n(console: ${collapse(seen.console).join('\n') || 'quiet'})`);
  });
}

for (const target of TARGETS) {
  for (const isolated of [true, false]) {
    const want = isolated ? { isolated, variant: 'web-threads', threads: 2 } : { isolated, variant: 'web', threads: 1 };
    test(`${target.name}: ligature/worker from the page, ${isolated ? 'threaded (isolated)' : 'single-threaded (not isolated)'}`, { timeout: 240_000 }, async () => {
      const served = await serve(target, isolated, true);
      servers.push(served);
      const seen = await visit(target, `${served.url}?client`);
      const found = problems(target, seen, served, want);
      assert.deepEqual(found, [], `${target.name}, ligature/worker:\n${found.join('\n')}\n(console: ${collapse(seen.console).join('\n') || 'quiet'})`);
    });
  }
}

for (const target of WEB_THREADS) {
  test(`${target.name}: threads in a module Worker of a cross-origin-isolated page`, { timeout: 240_000 }, () => threaded(target));
}
