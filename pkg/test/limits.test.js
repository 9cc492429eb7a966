// Limits and stats of the wasm builds as documented (issue 17): the real default maxDepth is
// the one index.d.ts and the README state, a failed run still has its stats, and a long
// chain of modules does not depend on the host's stack.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { Session, evaluate, typecheck } from '../node.js';
import { PKG } from './helpers.js';

const down = (n) => `let rec down = \\n -> if n == 0 then 0 else 1 + down (n - 1);\nlet a = down ${n};\n`;

test('the documented default maxDepth is the one the wasm builds apply', async () => {
  const types = readFileSync(join(PKG, 'index.d.ts'), 'utf8');
  const readme = readFileSync(join(PKG, 'README.md'), 'utf8');
  const documented = Number(types.match(/Nested function applications[^]*?Default \*\*([\d,]+)\*\*/)[1].replaceAll(',', ''));
  assert.equal(Number(readme.match(/`limits\.maxDepth`[^]*?defaults to \*\*([\d,]+)\*\*/)[1].replaceAll(',', '')), documented);
  const deep = await evaluate(down(documented + 10));
  assert.ok(deep.diagnostics.some((d) => d.code === 'R3006'), JSON.stringify(deep.diagnostics.map((d) => d.code)));
  const limit = Number(deep.diagnostics.find((d) => d.code === 'R3006').message.match(/limit of (\d+)/)[1]);
  assert.equal(limit, documented, 'index.d.ts states the default the evaluator applies');
  assert.equal((await evaluate(down(documented - 10))).ok, true, 'the default depth fits the host');
});

const EXPENSIVE = 'let rec f = \\n -> if n == 0 then 0 else f (n - 1) + f (n - 1);\nlet x = f 40;\n';

test('a failed run still has its stats: steps spent, eval phase (R3007, R3002)', async () => {
  const phases = (stats) => stats.phases.map(([name]) => name);
  const budget = await evaluate(EXPENSIVE, { limits: { maxSteps: 1000 } });
  assert.ok(budget.diagnostics.some((d) => d.code === 'R3007'));
  assert.equal(budget.stats.steps, 1000, 'the whole budget was spent');
  assert.equal(phases(budget.stats).at(-1), 'eval', JSON.stringify(budget.stats.phases));
  const s = new Session({ limits: { maxSteps: 1000 } });
  const inSession = s.evaluate(EXPENSIVE);
  assert.equal(inSession.stats.steps, 1000);
  assert.deepEqual(s.stats, inSession.stats);
  const division = await evaluate('let a = 1 + 2;\nlet b = 1 / 0;\n');
  assert.ok(division.diagnostics.some((d) => d.code === 'R3002'));
  assert.ok(division.stats.steps >= 3, `steps ${division.stats.steps}`);
  assert.equal(phases(division.stats).at(-1), 'eval');
});

test('a chain of 1,000 modules evaluates and type-checks (module depth is not the host stack\'s)', async () => {
  const n = 1000;
  const files = {};
  for (let i = 1; i < n; i += 1) {
    files[`m${i}.lig`] = i === n - 1 ? 'export let x = 0;\n' : `import "./m${i + 1}" as m;\nexport let x = m.x + 1;\n`;
  }
  const source = 'import "./m1" as m;\nlet x = m.x + 1;\n';
  const result = await evaluate(source, { files });
  assert.equal(result.ok, true, JSON.stringify(result.diagnostics.map((d) => d.rendered)));
  assert.deepEqual(result.value, { x: n - 1 });
  const checked = await typecheck(source, { files });
  assert.deepEqual(checked.types, [{ name: 'x', type: 'Integer' }]);
});
