// `locate(source, path)`: from a place in the document (keys, indexes, constructor names, as
// in the JSON output) to the source that produced it, for editors' "output to source" (the
// playground's click on the output). The walk itself is tested in Rust (src/syntax/locate.rs,
// tests/locate.rs); here: the JS surface, positions an editor can use, and misuse.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { locate } from '../node.js';

const SOURCE = [
  'let base = { replicas = 1, region = "eu" };',
  'let mk = \\name port -> { ...base, name = name, ports = [port, port + 1] };',
  'let api = mk "api" 8080;',
  '-- a comment with ünïcödé 🚀 before the next binding',
  'let 🚀 = 1;',
].join('\n');

/** The source text a range selects, by its UTF-16 line and column (as an editor maps it). */
function selected(source, range) {
  const lines = source.split('\n');
  const offset = (line, column) => lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
  return source.slice(offset(range.line, range.utf16Column), offset(range.endLine, range.endUtf16Column));
}

test('locate follows fields, elements, helpers and record bases to the expression', async () => {
  const cases = [
    [['api'], 'let api = mk "api" 8080;', 1],
    [['api', 'name'], '"api"', 2],
    [['api', 'ports', 1], 'port + 1', 3],
    [['api', 'ports', 0], '8080', 3],
    [['api', 'region'], '"eu"', 2],
    [['api', 'ports', 9], '[port, port + 1]', 2],
  ];
  for (const [path, text, matched] of cases) {
    const range = await locate(SOURCE, path);
    assert.equal(selected(SOURCE, range), text, JSON.stringify(path));
    assert.equal(range.matched, matched, JSON.stringify(path));
    assert.equal(Buffer.from(SOURCE).subarray(range.start, range.end).toString(), text, 'byte offsets');
  }
  assert.equal(await locate(SOURCE, ['nothing']), null);
  assert.equal(await locate(SOURCE, []), null);
  assert.equal(await locate('{ a = [Some 1] }', ['a', 0, 'Some']).then((r) => r.matched), 3);
});

test('locate rejects what is not a source and a path, and survives any text', async () => {
  for (const [source, path] of [[42, ['a']], ['let a = 1;', 'a'], ['let a = 1;', [{}]], ['let a = 1;', [-1]], ['let a = 1;', [1.5]], ['let a = 1;', null]]) {
    await assert.rejects(locate(source, path), TypeError, JSON.stringify([source, path]));
  }
  // Syntax errors and deep nesting: an answer or null, never a throw.
  assert.equal((await locate('let a = { b = ;', ['a'])).matched, 1);
  const deep = (n) => `let a = ${'['.repeat(n)}${']'.repeat(n)};`;
  assert.equal((await locate(deep(500), ['a', 0, 0, 0])).matched, 4);
  // Deeper than the host's stack holds (about 1,000 lists in V8): no location, not a throw.
  assert.equal(await locate(deep(5_000), ['a', 0, 0, 0]), null);
  assert.equal((await locate('let a = 1;', ['a'])).matched, 1, 'the instance still works');
});
