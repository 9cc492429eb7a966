// The edge example (examples/edge) for real in workerd on a free loopback port: POST valid
// and invalid JSON deployments, check the JSON responses, stop the runtime.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { PKG, deployment, startWorkerd } from './helpers.js';

const EXAMPLE = join(PKG, 'examples', 'edge');

let workerd;
let base;

before(async () => {
  workerd = await startWorkerd(EXAMPLE);
  base = workerd.base;
});

after(() => workerd?.stop());

async function post(path, body) {
  const response = await fetch(base + path, { method: 'POST', body });
  assert.match(response.headers.get('content-type'), /^application\/json/);
  return { status: response.status, body: await response.json() };
}

test('only POST is accepted', async () => {
  const response = await fetch(base, { method: 'GET' });
  assert.equal(response.status, 405);
  assert.deepEqual(await response.json(), { ok: false, error: 'POST a JSON document of type Deployment' });
});

test('a valid deployment is 200 { ok: true }', async () => {
  for (const n of [0, 1, 50]) {
    const { status, body } = await post('/', JSON.stringify(deployment(n)));
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body, { ok: true });
  }
});

test('an invalid deployment is 422 with every violation and its JSON path', async () => {
  const doc = deployment(6);
  doc.services[1].port = 70000; // refinement
  doc.services[3].owner = 'nobody'; // refinement through std.validation
  doc.services[4].replicas = 0; // refinement
  const refined = await post('/', JSON.stringify(doc));
  assert.equal(refined.status, 422);
  assert.deepEqual(
    refined.body.errors.map((e) => [e.path, e.code]),
    [
      ['$.services[1].port', 'C5005'],
      ['$.services[3].owner', 'C5005'],
      ['$.services[4].replicas', 'C5005'],
    ],
  );
  // Shape errors come first (refinements run once the shape fits).
  const shape = deployment(4);
  shape.services[3].port = '8080';
  delete shape.services[2].image;
  shape.region = 7;
  const { status, body } = await post('/', JSON.stringify(shape));
  assert.equal(status, 422);
  assert.deepEqual(body.errors.map((e) => e.path).sort(), ['$.region', '$.services[2].image', '$.services[3].port'].sort());
  assert.ok(body.errors.every((e) => e.code === 'C5004' && e.message.length > 0), JSON.stringify(body.errors));
});

test('malformed JSON is a violation at $; the worker keeps serving', async () => {
  for (const text of ['{"environment": ', '', 'not json', '[1, 2]']) {
    const { status, body } = await post('/', text);
    assert.equal(status, 422, text);
    assert.equal(body.errors[0].path, '$');
  }
  const again = await post('/', JSON.stringify(deployment(2)));
  assert.deepEqual(again.body, { ok: true });
});
