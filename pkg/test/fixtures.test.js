// Replays tests/fixtures/eval through the single-threaded build in Node: every `.lig` with a
// `.out` must evaluate to exactly that text, every one with a `.err` must fail with the codes
// of its `error[CODE]` headers. `// args:` headers set the options, as in the Rust harness.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Session } from '../node.js';
import { compareFixture, loadFixtures } from './helpers.js';

const { dir, cases, expectedFiles } = loadFixtures();

test(`eval fixtures (${cases.length} in ${dir})`, async (t) => {
  if (cases.length === 0) {
    t.diagnostic(`no eval fixtures with an expected file in ${dir}`);
    assert.deepEqual(expectedFiles, [], 'expected files without a .lig beside them');
    return;
  }
  // One session for all of them, as a playground would use it: a failing fixture must not
  // disturb the next one.
  const session = new Session({});
  for (const fixture of cases) {
    await t.test(fixture.name, () => {
      const result = session.evaluate(fixture.source, fixture.options);
      const problems = compareFixture(fixture, result);
      assert.deepEqual(problems, [], problems.join('\n'));
    });
  }
});
