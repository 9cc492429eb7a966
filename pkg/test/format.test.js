// `format(source, options)`: `ligature fmt` in JS (issue 22): the same text as the CLI for
// every example and a sample of the fixtures, syntax errors as diagnostics (never laid out),
// the width option, misuse.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { format } from '../node.js';
import { CLI, ROOT } from './helpers.js';

function cliFormat(text, width) {
  const out = spawnSync(CLI, ['fmt', '--width', String(width), '-'], { input: text, encoding: 'utf8' });
  return { code: out.status, text: out.stdout };
}

test('format gives the CLI\'s layout, for the examples and the syntax fixtures', async () => {
  const dirs = [join(ROOT, 'examples'), join(ROOT, 'tests', 'fixtures', 'syntax', 'ok'), join(ROOT, 'tests', 'fixtures', 'fmt')];
  let compared = 0;
  for (const dir of dirs) {
    for (const name of readdirSync(dir).filter((it) => it.endsWith('.lig')).sort()) {
      const text = readFileSync(join(dir, name), 'utf8');
      for (const width of [100, 40]) {
        const cli = cliFormat(text, width);
        const js = await format(text, { width });
        if (cli.code !== 0) {
          assert.equal(js.ok, false, name);
          continue;
        }
        assert.equal(js.ok, true, `${name}: ${js.diagnostics?.map((d) => d.rendered).join('')}`);
        assert.equal(js.text, cli.text, `${name} at width ${width}`);
        compared += 1;
      }
    }
  }
  assert.ok(compared >= 20, `only ${compared} compared`);
});

test('format never lays out a source with syntax errors, and rejects misuse', async () => {
  const broken = await format('let x = 1 +;\n');
  assert.equal(broken.ok, false);
  assert.equal(broken.text, null);
  assert.ok(broken.diagnostics.length > 0 && broken.diagnostics[0].code.startsWith('E1'));
  assert.match(broken.diagnostics[0].rendered, /main\.lig:1:/);
  assert.deepEqual(await format('let   a=1;'), { ok: true, text: 'let a = 1;\n', diagnostics: [] });
  await assert.rejects(format(42), TypeError);
  assert.match((await format('let a = 1;', { width: 0 })).error, /^invalid options: width must be an integer of at least 1/);
  assert.match((await format('let a = 1;', { indent: 2 })).error, /format has no option `indent`/);
});
