// Every example of the playground, evaluated through the npm package (its Node build) from
// the files in www/examples, as the page loads them: none can rot. The page's own run of each is in playground.test.js.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { evaluate, validate } from 'ligature';

import { EXAMPLES } from '../src/workspaces.js';

const read = (path) => readFileSync(new URL(`../examples/${path}`, import.meta.url), 'utf8');

function files(example) {
  return Object.fromEntries(Object.entries(example.files).map(([path, source]) => [
    path, read(source),
  ]));
}

for (const example of EXAMPLES) {
  test(`example ${example.id} (${example.title}) succeeds`, async () => {
    const workspace = files(example);
    if (example.mode === 'validate') {
      const result = await validate(read(example.data), workspace['main.lig'], example.typeName, { files: workspace, entry: 'main.lig', dataFormat: 'json' });
      assert.deepEqual({ ok: result.ok, errors: result.errors, diagnostics: result.diagnostics }, { ok: true, errors: [], diagnostics: [] });
      return;
    }
    const result = await evaluate(null, { files: workspace, entry: 'main.lig' });
    assert.equal(result.ok, true, result.diagnostics?.map((d) => d.rendered).join('\n') ?? result.error);
    assert.equal(typeof result.value, 'object');
    assert.ok(Object.keys(result.value).length > 0, 'an empty document');
  });
}

test('the large example has 10,000 service bindings and the compute one spends real steps', async () => {
  const large = await evaluate(read('big/large.lig'), {});
  assert.equal(large.ok, true);
  assert.equal(Object.keys(large.value).filter((key) => /^s\d+$/.test(key)).length, 10_000);
  assert.deepEqual(large.value.s9999, { name: 'svc-9999', port: 8999, replicas: 3, tier: 'tier-4', resources: { cpu: 4, memoryMb: 2048 } });
  const compute = await evaluate(read('big/compute.lig'), {});
  assert.equal(compute.ok, true);
  assert.ok(compute.stats.steps > 5_000_000, `only ${compute.stats.steps} steps`);
});

test('the Validate example reports a violation with its JSON path when the data breaks the type', async () => {
  const example = EXAMPLES.find((it) => it.id === 'validate');
  const bad = read(example.data).replace('9090', '99999');
  const result = await validate(bad, read(example.files['main.lig']), example.typeName, { dataFormat: 'json' });
  assert.equal(result.ok, false);
  assert.deepEqual(result.errors.map((e) => [e.path, e.code]), [['$.services[1].port', 'C5005']]);
});
