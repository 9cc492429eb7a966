// The edge example (examples/edge) for real in workerd on a free loopback port: POST valid
// and invalid Ligature documents, check the JSON responses, stop the runtime.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { Session } from '../node.js';
import { PKG, coreStatus, freePort } from './helpers.js';

const WORKERD = join(PKG, 'node_modules', '.bin', 'workerd');
const EXAMPLE = join(PKG, 'examples', 'edge');
const core = coreStatus((source, options) => new Session({}).evaluate(source, options));

let child;
let base;
let log = '';

before(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(WORKERD, ['serve', 'config.capnp', '--socket-addr', `http=127.0.0.1:${port}`], {
    cwd: EXAMPLE,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${log}`);
    try {
      await fetch(base, { method: 'GET' });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`workerd did not listen on ${base}:\n${log}`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }
});

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((ok) => child.once('exit', ok));
    child.kill('SIGTERM');
    await exited;
  }
});

async function post(path, body) {
  const response = await fetch(base + path, { method: 'POST', body });
  assert.match(response.headers.get('content-type'), /^application\/json/);
  return { status: response.status, body: await response.json() };
}

test('workerd serves the example worker; only POST is accepted', async () => {
  const response = await fetch(base, { method: 'GET' });
  assert.equal(response.status, 405);
  assert.deepEqual(await response.json(), { ok: false, error: 'POST a Ligature document' });
});

test('every response is JSON with ok and, on failure, diagnostics', async () => {
  for (const body of ['let a = 1;', 'let = ;', '', '\u0000', '{ a = '.repeat(200)]) {
    for (const path of ['/', '/typecheck']) {
      const { status, body: result } = await post(path, body);
      assert.equal(typeof result.ok, 'boolean');
      assert.equal(status, result.ok ? 200 : 422);
      if (!result.ok) assert.ok(Array.isArray(result.diagnostics));
    }
  }
});

test('a valid document evaluates to its value', { todo: core.evaluator }, async () => {
  const source = 'let name = "api";\nlet replicas = 1 + 2;\nlet ports = [80, 443];\n';
  const { status, body } = await post('/', source);
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body, { ok: true, value: { name: 'api', replicas: 3, ports: [80, 443] } });
  const checked = await post('/typecheck', source);
  assert.equal(checked.status, 200);
  assert.deepEqual(checked.body.types.map((t) => t.name), ['name', 'replicas', 'ports']);
});

test('an invalid document is 422 with diagnostics', { todo: core.parser }, async () => {
  const { status, body } = await post('/', 'let a = 1;\nlet b = ;\n');
  assert.equal(status, 422);
  assert.equal(body.ok, false);
  const [d] = body.diagnostics;
  assert.equal(d.code, 'E1001');
  assert.equal(d.file, 'request.lig');
  assert.equal(d.line, 2);
  assert.equal(typeof d.utf16Column, 'number');
  assert.match(d.rendered, /E1001/);
});

test('runaway documents stop at the limits and the worker keeps serving', { todo: core.evaluator }, async () => {
  const loop = 'let rec f = \\n -> if n == 0 then 0 else f (n - 1) + f (n - 1);\nlet x = f 60;\n';
  const { status, body } = await post('/', loop);
  assert.equal(status, 422);
  assert.ok(['R3007', 'R3008'].includes(body.diagnostics[0]?.code), JSON.stringify(body));
  const again = await post('/', 'let a = 1;');
  assert.deepEqual(again.body, { ok: true, value: { a: 1 } });
});
