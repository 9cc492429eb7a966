// Shared by the pkg tests: the eval fixture corpus, `// args:` headers, free ports and a
// static server with the headers cross-origin isolation needs.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PKG = fileURLToPath(new URL('..', import.meta.url));
export const ROOT = resolve(PKG, '..');
export const FIXTURES = process.env.LIGATURE_FIXTURES ?? join(ROOT, 'tests', 'fixtures', 'eval');
export const CLI = join(ROOT, 'target', 'release', 'ligature');

/** `// args: --format X --field Y --max-steps N …` → evaluate options (as the Rust harness). */
export function fixtureOptions(name, source) {
  const options = { entry: name };
  const first = source.split('\n', 1)[0];
  if (!first.startsWith('// args:')) return { options, cliArgs: [] };
  const words = first.slice('// args:'.length).trim().split(/\s+/).filter(Boolean);
  const limits = {};
  let cancelled = false;
  for (let i = 0; i < words.length; i += 2) {
    const [flag, value] = [words[i], words[i + 1]];
    // The host cancels the run before it starts: in JS, a deadline already passed.
    if (flag === '--cancelled') {
      options.timeoutMs = 0;
      cancelled = true;
      i -= 1;
      continue;
    }
    if (value === undefined) throw new Error(`${name}: ${flag} needs a value`);
    switch (flag) {
      case '--format': options.format = value; break;
      case '--field': options.field = value; break;
      case '--max-steps': limits.maxSteps = Number(value); break;
      case '--max-depth': limits.maxDepth = Number(value); break;
      case '--max-output-bytes': limits.maxOutputBytes = Number(value); break;
      default: throw new Error(`${name}: unknown fixture option ${flag}`);
    }
  }
  if (Object.keys(limits).length > 0) options.limits = limits;
  // The CLI has no way to cancel a run before it starts: such a fixture has no native run.
  return { options, cliArgs: cancelled ? null : words };
}

/** Codes of the diagnostics in a rendered `.err` file: every `error[CODE]`-style header. */
export function expectedCodes(errText) {
  // A header is `file:line:col: error[CODE]: message` (or without the location).
  const codes = [...errText.matchAll(/^(?:\S+:\d+:\d+: )?(?:error|warning|note|bug)\[([A-Z]\d{4})\]/gm)].map((m) => m[1]);
  return codes;
}

/**
 * The eval fixtures with an expected file: `{ name, path, source, options, cliArgs, out?, err? }`.
 * Also returns the expected files that have no `.lig` (the tidy test's business, reported here
 * so that an empty corpus is an honest zero).
 */
export function loadFixtures(dir = FIXTURES) {
  const files = existsSync(dir) ? readdirSync(dir).sort() : [];
  const cases = [];
  for (const file of files) {
    if (!file.endsWith('.lig')) continue;
    const base = file.slice(0, -'.lig'.length);
    const outPath = join(dir, `${base}.out`);
    const errPath = join(dir, `${base}.err`);
    const out = existsSync(outPath) ? readFileSync(outPath, 'utf8') : undefined;
    const err = existsSync(errPath) ? readFileSync(errPath, 'utf8') : undefined;
    if (out === undefined && err === undefined) continue;
    const source = readFileSync(join(dir, file), 'utf8');
    cases.push({ name: file, path: join(dir, file), source, ...fixtureOptions(file, source), out, err });
  }
  const expectedFiles = files.filter((it) => it.endsWith('.out') || it.endsWith('.err'));
  return { dir, cases, expectedFiles };
}

/**
 * Fixtures deeper than what wasm holds (docs/wasm.md): `must` recurses deeper than the wasm
 * builds' default `maxDepth` (1,000, which fits V8's stack), so natively it succeeds and in
 * wasm it fails with exactly R3006; `may` nests 10,000 levels, which fits Node's main-thread
 * stack but not a Chromium Worker's: there it gives R3006 (from the glue) instead of its
 * expected result. Anything else from them
 * is a failure like any other.
 */
export const WASM_DEPTH_DEVIATIONS = new Map([
  ['recursion.lig', 'must'],
  ['deep_chains.lig', 'may'],
]);

/** Checks one evaluation result against a fixture; returns a list of problems (empty = pass). */
export function compareFixture(fixture, result) {
  const problems = [];
  const deviation = WASM_DEPTH_DEVIATIONS.get(fixture.name);
  const codes = (result.diagnostics ?? []).map((d) => d.code);
  if (deviation === 'may' && codes.join() !== 'R3006') return compareFixture({ ...fixture, name: '' }, result);
  if (deviation !== undefined) {
    if (deviation === 'must' && fixture.out === undefined) problems.push('listed as a depth deviation but expected to fail natively');
    if (result.ok || codes.join() !== 'R3006') problems.push(`expected R3006 at the wasm depth, got ${result.ok ? 'ok' : codes.join(', ') || result.error}`);
    return problems;
  }
  if (fixture.out !== undefined) {
    if (!result.ok) {
      const codes = (result.diagnostics ?? []).map((d) => d.code).join(', ');
      problems.push(`expected success, got ok: false (${codes || result.error || 'no diagnostics'})`);
    } else if (result.text !== fixture.out) {
      problems.push(`text differs\n--- expected\n${fixture.out}\n--- actual\n${result.text}`);
    }
  } else {
    const expected = expectedCodes(fixture.err);
    const actual = (result.diagnostics ?? []).map((d) => d.code);
    if (result.ok) problems.push(`expected failure with ${expected.join(', ')}, got ok: true`);
    else if (expected.length === 0) problems.push('the .err file has no error[CODE] header');
    else if (actual.join(',') !== expected.join(',')) {
      problems.push(`codes differ: expected ${expected.join(', ')}, got ${actual.join(', ') || 'none'}`);
    }
  }
  return problems;
}

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createNetServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.lig': 'text/plain; charset=utf-8',
};

/**
 * A static file server on 127.0.0.1 for `root`, with the COOP/COEP headers that make pages
 * and their workers cross-origin isolated (SharedArrayBuffer, hence wasm threads), unless
 * `isolated: false`, or for one document, `?plain` in its URL. A directory serves its
 * index.html. Resolves to `{ url, close }`.
 */
export async function serveStatic(root, { isolated = true } = {}) {
  const base = resolve(root);
  const server = createServer((request, response) => {
    const url = new URL(request.url, 'http://localhost');
    const path = decodeURIComponent(url.pathname);
    let file = normalize(join(base, path));
    if (path.endsWith('/')) file = join(file, 'index.html');
    const headers = { 'Cache-Control': 'no-store' };
    if (isolated && !url.searchParams.has('plain')) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      headers['Cross-Origin-Resource-Policy'] = 'same-origin';
    }
    if (!(file === base || file.startsWith(base + sep)) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, headers).end('not found');
      return;
    }
    headers['Content-Type'] = TYPES[extname(file)] ?? 'application/octet-stream';
    response.writeHead(200, headers).end(readFileSync(file));
  });
  const port = await freePort();
  await new Promise((ok, fail) => {
    server.on('error', fail);
    server.listen(port, '127.0.0.1', ok);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((ok) => {
        server.close(ok);
        server.closeAllConnections();
      }),
  };
}

/** A valid deployment of `n` services (examples/edge/schema.lig). */
export function deployment(n) {
  return {
    environment: 'production',
    region: 'eu-west-1',
    services: Array.from({ length: n }, (_, i) => ({
      name: `svc-${i}`,
      image: `registry.example.com/svc-${i}:1.${i}`,
      port: 8000 + (i % 1000),
      replicas: 1 + (i % 5),
      owner: `team-${i % 7}@example.com`,
      healthCheck: `https://svc-${i}.example.com/health`,
    })),
  };
}

/** The Chromium flags of the threaded-build test (headless, no sandbox: root in a container). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Debian's headless Chromium through playwright-core (resolved from this package). */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/**
 * Debian's Chromium through playwright-core on a page of this package served with COOP/COEP
 * on 127.0.0.1. Resolves to `{ page, url, errors, messages, worker(entry), close }`; `worker(entry)` starts a
 * module Worker running the package entry (`../index.js`, `../web.js`) and resolves
 * to `{ info, call(message), terminate }` once its `init` (and thread pool) is done.
 */
export async function openChromium() {
  const server = await serveStatic(PKG);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    // Console output of the page and of every worker (the pool's too): `[type, text]`.
    const messages = [];
    page.on('console', (message) => messages.push([message.type(), message.text(), message.location()?.url ?? '']));
    page.on('worker', (worker) => worker.on('console', (message) => messages.push([message.type(), message.text(), message.location()?.url ?? ''])));
    await page.goto(`${server.url}/testpage/page.html`);
    await page.waitForFunction(() => typeof window.ligature === 'function');
    let workers = 0;
    const worker = async (entry) => {
      const name = `w${workers++}`;
      const info = await page.evaluate(
        async ([name, entry]) => {
          window[name] = window.ligature(entry);
          return window[name].call({ type: 'init' });
        },
        [name, entry],
      );
      if (info.error) throw new Error(`${entry}: ${info.error}`);
      return {
        info,
        call: async (message) => {
          const reply = await page.evaluate(([name, message]) => window[name].call(message), [name, message]);
          if (reply.error) throw new Error(reply.error);
          return reply;
        },
        terminate: () => page.evaluate((name) => window[name].terminate(), name),
      };
    };
    return {
      page,
      url: server.url,
      errors,
      messages,
      worker,
      close: async () => {
        await browser.close();
        await server.close();
      },
    };
  } catch (error) {
    await browser.close();
    await server.close();
    throw error;
  }
}

/**
 * Runs the native CLI (`target/release/ligature eval`) on a fixture: `{ ok, text, codes }`,
 * the codes from its `--error-format json` diagnostics.
 */
export function runCli(fixture, spawnSync) {
  const run = spawnSync(CLI, ['eval', fixture.path, ...fixture.cliArgs, '--error-format', 'json'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const codes = [...run.stderr.matchAll(/"code":\s*"([A-Z]\d{4})"/g)].map((m) => m[1]);
  return { ok: run.status === 0, text: run.status === 0 ? run.stdout : null, codes, status: run.status };
}

/**
 * Runs `workerd serve config.capnp` from `dir` on a free loopback port until `stop()`:
 * resolves to `{ base, stop }` once it answers HTTP.
 */
export async function startWorkerd(dir) {
  const { spawn } = await import('node:child_process');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(join(PKG, 'node_modules', '.bin', 'workerd'), ['serve', 'config.capnp', '--socket-addr', `http=127.0.0.1:${port}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((ok) => child.once('exit', ok));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${log}`);
    try {
      await fetch(base, { method: 'GET' });
      return { base, stop, log: () => log };
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`workerd did not listen on ${base}:\n${log}`);
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
}

/** mulberry32: a small seeded PRNG, so that every run of a generated test checks the same inputs. */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
