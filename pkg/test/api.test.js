// The JS API's shape and its error paths, through the single-threaded build in Node.
// Errors are values: no call below may throw, and after any error the next call works.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as ligature from '../node.js';

const { Session, evaluate, typecheck, validate, compileSchema } = ligature;

const DIAGNOSTIC_KEYS = [
  'code', 'name', 'severity', 'message', 'file', 'start', 'end', 'line', 'column', 'endLine',
  'endColumn', 'utf16Column', 'labels', 'notes', 'help', 'rendered',
].sort();

function assertDiagnostic(d) {
  assert.deepEqual(Object.keys(d).sort(), DIAGNOSTIC_KEYS);
  assert.match(d.code, /^[ETRMC]\d{4}$/);
  assert.ok(['error', 'warning', 'note', 'bug'].includes(d.severity));
  for (const key of ['start', 'end', 'line', 'column', 'endLine', 'endColumn', 'utf16Column']) {
    assert.equal(typeof d[key], 'number', key);
  }
  assert.ok(Array.isArray(d.labels) && Array.isArray(d.notes));
  assert.equal(typeof d.rendered, 'string');
  assert.ok(d.rendered.includes(d.code), 'the rendered text names the code');
}

function assertFailure(result, code) {
  assert.equal(result.ok, false, JSON.stringify(result));
  assert.ok(Array.isArray(result.diagnostics));
  result.diagnostics.forEach(assertDiagnostic);
  if (code) assert.ok(result.diagnostics.some((d) => d.code === code), `expected ${code}: ${JSON.stringify(result.diagnostics.map((d) => d.code))}`);
}

test('module exports the documented functions', async () => {
  assert.equal(ligature.variant, 'node');
  for (const name of ['init', 'initThreadPool', 'evaluate', 'typecheck', 'validate', 'compileSchema']) {
    assert.equal(typeof ligature[name], 'function', name);
  }
  assert.equal(typeof Session, 'function');
  await ligature.init();
  await ligature.init(); // idempotent
  assert.equal(await ligature.initThreadPool(4), 1, 'the single-threaded build has no pool');
  assert.ok(evaluate('1', {}) instanceof Promise);
  assert.ok(validate(1, 'type T = Integer;', 'T') instanceof Promise);
});

test('a missing entry file is M4001 with the file name', async () => {
  const s = new Session({});
  const result = s.evaluate(null, { entry: 'nowhere.lig' });
  assertFailure(result, 'M4001');
  assert.equal(result.diagnostics[0].file, 'nowhere.lig');
  assert.equal(result.diagnostics[0].severity, 'error');
  assert.equal(result.diagnostics[0].name, 'import/not-found');
  const checked = s.typecheck(null, { entry: 'nowhere.lig' });
  assert.equal(checked.ok, false);
  assert.deepEqual(checked.types, []);
  assert.equal(checked.diagnostics[0].code, 'M4001');
});

test('malformed options are usage errors as values, not throws', async () => {
  // (usage.test.js checks every call's options; typecheck takes no format or limits.)
  const cases = [
    [{ format: 'xml' }, /format must be one of 'json', 'yaml', 'toml', 'text', got "xml"/],
    [{ timeout: 5 }, /(evaluate|typecheck) has no option `timeout`/],
    [{ loadModule: 'not a function' }, /loadModule must be a function/],
    [{ loadModule: () => { throw new Error('offline'); } }, /loadModule failed: offline/],
    [{ loadModule: () => 42, entry: 'absent.lig' }, /must give a string, null or undefined, got 42/],
    [{ limits: { maxStep: 1 } }, /unknown limit `maxStep`/],
    [{ limits: { maxSteps: -1 } }, /limits\.maxSteps must be a non-negative integer, got -1/],
    [{ limits: 3 }, /limits must be an object/],
    [{ files: { 'a.lig': 3 } }, /files\["a\.lig"\] must be a string, got 3/],
    [{ threads: 0 }, /threads must be an integer of at least 1, got 0/],
    [{ timeoutMs: -1 }, /timeoutMs must be a non-negative number/],
    [42, /options must be an object/],
  ];
  for (const [options, pattern] of cases) {
    const source = options?.loadModule ? 'import "./lib" as lib;\nlet x = lib.y;\n' : '1';
    const checks = options !== null && typeof options === 'object' && ('limits' in options || 'format' in options || 'timeoutMs' in options)
      ? [await evaluate(source, options)]
      : [await evaluate(source, options), await typecheck(source, options)];
    for (const result of checks) {
      assert.equal(result.ok, false);
      assert.deepEqual(result.diagnostics, []);
      assert.match(result.error, pattern);
    }
  }
  // The constructor has no result value: it throws a TypeError (an Error, not a string).
  assert.throws(() => new Session({ limits: { nope: 1 } }), TypeError);
  assert.throws(() => new Session({ files: 3 }), TypeError);
  // Accepted shapes.
  for (const options of [undefined, null, {}, { threads: 2, limits: { maxSteps: 10n ** 6n, maxDepth: 100 } }]) {
    assert.equal(typeof new Session(options).evaluate('1', {}).ok, 'boolean');
  }
});

test('Session setFile / removeFile / stats', () => {
  const s = new Session({ files: { 'lib.lig': 'let a = 1;' } });
  assert.equal(s.stats, null, 'no stats before the first call');
  s.setFile('main.lig', 'let x = 1;');
  let result = s.evaluate(null, {});
  assert.equal(typeof result.ok, 'boolean');
  assert.ok(result.ok || result.diagnostics.every((d) => d.code !== 'M4001'), 'main.lig was set');
  assert.equal(typeof s.stats.source_bytes, 'number');
  assert.equal(s.stats.source_bytes, 'let x = 1;'.length);
  assert.ok(Array.isArray(s.stats.phases) && s.stats.phases.every(([name, ms]) => typeof name === 'string' && ms >= 0));
  assert.equal(s.removeFile('main.lig'), true);
  assert.equal(s.removeFile('main.lig'), false);
  assertFailure(s.evaluate(null, {}), 'M4001');
  // Paths are normalised like the loader's.
  s.setFile('./dir/../main.lig', 'let y = 2;');
  assert.ok(s.evaluate(null, {}).diagnostics.every((d) => d.code !== 'M4001'));
  // A call's source and files overlay the session's without changing them.
  s.evaluate('let z = 3;', { entry: 'other.lig', files: { 'extra.lig': '1' } });
  assertFailure(s.evaluate(null, { entry: 'other.lig' }), 'M4001');
  assertFailure(s.evaluate(null, { entry: 'extra.lig' }), 'M4001');
  s.free();
});

test('evaluate success shape: value, text, stats', async () => {
  const result = await evaluate('let a = 1 + 1;\nlet b = "x";\n', {});
  assert.equal(result.ok, true, JSON.stringify(result.diagnostics));
  assert.deepEqual(result.value, { a: 2, b: 'x' });
  assert.deepEqual(JSON.parse(result.text), result.value);
  // Parsed once, on first read: the same object each time, an own enumerable property
  // (spread, structuredClone and postMessage carry it), and assignable.
  assert.equal(result.value, result.value);
  assert.deepEqual({ ...result }.value, { a: 2, b: 'x' });
  assert.deepEqual(structuredClone(result).value, { a: 2, b: 'x' });
  assert.ok(Object.keys(result).includes('value'));
  result.value = 'mine';
  assert.equal(result.value, 'mine');
  assert.equal(typeof result.stats.steps, 'number');
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
  const field = await evaluate('let a = 1;\nlet b = [1, 2];\n', { field: 'b' });
  assert.deepEqual(field.value, [1, 2]);
  const yaml = await evaluate('let a = 1;\n', { format: 'yaml' });
  assert.equal(yaml.ok, true);
  assert.equal(yaml.value, null, 'value is only for JSON');
  assert.match(yaml.text, /a: 1/);
  const s = new Session({ files: { 'main.lig': 'let a = 1;' } });
  assert.deepEqual(s.evaluate(null, {}).value, { a: 1 });
  s.setFile('main.lig', 'let a = 2;');
  assert.deepEqual(s.evaluate(null, {}).value, { a: 2 });
});

test('typecheck shape: types [{ name, type }]', async () => {
  const result = await typecheck('let a = 1;\nlet f = \\x -> x;\n', {});
  assert.equal(result.ok, true, JSON.stringify(result.diagnostics));
  assert.deepEqual(result.types.map((t) => t.name), ['a', 'f']);
  assert.equal(result.types[0].type, 'Integer');
  assert.ok(result.types.every((t) => Object.keys(t).sort().join() === 'name,type'));
  const bad = await typecheck('let a = 1 + "x";\n', {});
  assertFailure(bad);
  assert.ok(bad.diagnostics[0].code.startsWith('T'));
});

test('a parse error is E1001 with line, column and UTF-16 column', async () => {
  // The bad token `)` follows non-ASCII text on its line: é is 2 UTF-8 bytes and 1 UTF-16
  // unit, 😀 is 4 UTF-8 bytes and 2 UTF-16 units.
  const line2 = 'let b = "é😀" );';
  const source = `let a = 1;\n${line2}\n`;
  const result = await evaluate(source, {});
  assertFailure(result, 'E1001');
  const d = result.diagnostics.find((it) => it.code === 'E1001');
  const index = line2.indexOf(')');
  assert.equal(d.line, 2);
  assert.equal(d.file, 'main.lig');
  assert.equal(d.utf16Column, index + 1);
  assert.equal(d.column, [...line2.slice(0, index)].length + 1);
  assert.equal(d.start, Buffer.byteLength(source.slice(0, source.indexOf(')'))));
  assert.notEqual(d.column, d.utf16Column);
  assert.ok(d.end >= d.start && d.endLine >= d.line);
  const checked = await typecheck(source, { entry: 'x.lig' });
  assertFailure(checked, 'E1001');
  assert.equal(checked.diagnostics[0].file, 'x.lig');
});

// Doubles its work per level without deep recursion: 2^40 steps never finish in time.
const EXPENSIVE = 'let rec f = \\n -> if n == 0 then 0 else f (n - 1) + f (n - 1);\nlet x = f 40;\n';

test('a step budget is R3007', async () => {
  assertFailure(await evaluate(EXPENSIVE, { limits: { maxSteps: 1000 } }), 'R3007');
  const s = new Session({ limits: { maxSteps: 1000 } });
  assertFailure(s.evaluate(EXPENSIVE, {}), 'R3007');
});

test('timeoutMs is R3008', async () => {
  const started = performance.now();
  const result = await evaluate(EXPENSIVE, { timeoutMs: 50 });
  assertFailure(result, 'R3008');
  assert.ok(performance.now() - started < 5000, 'stops promptly');
});

test('bad inputs never kill the instance', async () => {
  const s = new Session({});
  const inputs = [
    '',
    'let = ;',
    '((((((((((',
    '('.repeat(100_000),
    '[' .repeat(50_000) + ']'.repeat(50_000),
    '"unterminated',
    '/* unterminated',
    '\uD800 lone surrogate',
    '\u0000\u0001\u0002',
    'let x = 99999999999999999999999999;',
    'let rec f = \\n -> f n; let x = f 1;',
    'let rec down = \\n -> if n == 0 then 0 else down (n - 1);\nlet b = down 100000;\n',
    'x'.repeat(1 << 20),
  ];
  for (const input of inputs) {
    for (const result of [s.evaluate(input, { limits: { maxSteps: 100_000 } }), s.typecheck(input, {})]) {
      assert.equal(typeof result.ok, 'boolean');
      assert.ok(Array.isArray(result.diagnostics));
      result.diagnostics.forEach(assertDiagnostic);
    }
    // The instance still works after each of them.
    assertFailure(s.evaluate(null, { entry: 'absent.lig' }), 'M4001');
  }
});

test('deep nesting is a diagnostic, never a host stack overflow', async () => {
  // LANGUAGE.md 12.4: nesting beyond the limit is E1009. Within the limit it must parse;
  // either way no call may be cut short by the host's stack (reported as `error`).
  for (const n of [1_000, 5_000, 20_000]) {
    for (const [open, close] of [['(', ')'], ['[', ']']]) {
      const result = await typecheck(`${open.repeat(n)}1${close.repeat(n)}`, {});
      assert.equal(result.error, undefined, `${n} × ${open}: ${result.error}`);
      // Beyond what V8's stack holds (docs/wasm.md), R3006 from the glue; else the core's.
      if (!result.ok) {
        assert.ok(result.diagnostics.every((d) => ['E1009', 'R3006'].includes(d.code)), JSON.stringify(result.diagnostics));
        result.diagnostics.forEach(assertDiagnostic);
      }
      if (n > 10_000) assert.equal(result.ok, false);
    }
  }
});

const SCHEMA = `import std.validation { isValidEmail };
type Port = Integer where x >= 1024;
type Service = { name: String, port: Port, owner: String where isValidEmail x };
type Doc = { services: List Service };
`;

test('validate: JSON paths, codes, JS values and JSON/YAML text', async () => {
  const good = { services: [{ name: 'a', port: 8080, owner: 'a@example.com' }] };
  assert.deepEqual(await validate(good, SCHEMA, 'Doc'), { ok: true, errors: [], diagnostics: [] });
  const bad = {
    services: [
      { name: 'a', port: 8080, owner: 'a@example.com' },
      { name: 'b', port: 80, owner: 'b@example.com' },
      { name: 'c', port: '8080', owner: 'c@example.com' },
      { name: 'd', port: 9000, owner: 'nobody' },
    ],
  };
  const result = await validate(bad, SCHEMA, 'Doc');
  assert.equal(result.ok, false);
  assert.deepEqual(result.errors.map((e) => e.path), ['$.services[2].port']);
  assert.equal(result.errors[0].code, 'C5004');
  // Once the shape fits, the refinements run: every failing one with its path.
  bad.services[2].port = 8081;
  const refined = await validate(bad, SCHEMA, 'Doc');
  assert.deepEqual(refined.errors.map((e) => [e.path, e.code]), [
    ['$.services[1].port', 'C5005'],
    ['$.services[3].owner', 'C5005'],
  ]);
  assert.ok(refined.errors.every((e) => typeof e.message === 'string' && e.message.length > 0));
  // Text input, parsed by the core.
  const text = await validate(JSON.stringify(bad), SCHEMA, 'Doc', { dataFormat: 'json' });
  assert.deepEqual(text.errors, refined.errors);
  const yaml = await validate('services:\n  - { name: a, port: 80, owner: a@example.com }\n', SCHEMA, 'Doc', { dataFormat: 'yaml' });
  assert.deepEqual(yaml.errors.map((e) => e.path), ['$.services[0].port']);
  const malformed = await validate('{"services": [', SCHEMA, 'Doc', { dataFormat: 'json' });
  assert.equal(malformed.ok, false);
  assert.equal(malformed.errors[0].path, '$');
  // Problems of the schema itself are diagnostics; usage errors are `error`.
  const noType = await validate(good, SCHEMA, 'Nope');
  assertFailure(noType, 'T2004');
  assert.deepEqual(noType.errors, []);
  assertFailure(await validate(good, 'type T = ;', 'T'), 'E1001');
  assert.match((await validate(good, SCHEMA, 'Doc', { dataFormat: 'xml' })).error, /dataFormat/);
  assert.match((await validate(5, SCHEMA, 'Doc', { dataFormat: 'json' })).error, /needs the text as a string/);
});

test('compileSchema: one schema, many documents; schema imports from files', async () => {
  const compiled = await compileSchema('import "./types" as t;\ntype P = t.Port;\n', 'P', {
    files: { 'types.lig': 'type Port = Integer where x >= 1024 && x <= 65535;\n' },
  });
  assert.equal(compiled.ok, true, JSON.stringify(compiled.diagnostics));
  const { schema } = compiled;
  assert.deepEqual(schema.validate(8080).errors, []);
  assert.equal(schema.validate(80).errors[0].code, 'C5005');
  assert.equal(schema.validate(70000).errors[0].path, '$');
  assert.equal(schema.validate('x').errors[0].code, 'C5004');
  schema.free();
  const s = new Session({ files: { 'types.lig': 'type Name = String where length x > 0;\n' } });
  const named = s.compileSchema('import "./types" as t;\ntype N = t.Name;\n', 'N');
  assert.equal(named.ok, true, JSON.stringify(named.diagnostics));
  assert.equal(named.schema.validate('').ok, false);
  assert.equal(named.schema.validate('a').ok, true);
});

test('loadModule: imports fetched concurrently, before the pure phases', async () => {
  const modules = {
    'lib.lig': 'import "./a" as a;\nimport "./b" as b;\nlet y = a.v + b.v;\n',
    'a.lig': 'let v = 1;\n',
    'b/mod.lig': 'let v = 2;\n',
  };
  const asked = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const loadModule = async (path) => {
    asked.push(path);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((ok) => setTimeout(ok, 5));
    inFlight -= 1;
    return modules[path] ?? null;
  };
  const result = await evaluate('import "./lib" as lib;\nlet x = lib.y;\n', { loadModule });
  assert.equal(result.ok, true, JSON.stringify(result.diagnostics));
  assert.deepEqual(result.value, { x: 3 });
  for (const path of Object.keys(modules)) assert.ok(asked.includes(path), path);
  assert.equal(new Set(asked).size, asked.length, 'no path is asked twice');
  assert.ok(maxInFlight >= 2, 'the imports of lib.lig were fetched at the same time');
  // A module that loadModule cannot supply is the loader's M4001, as for files.
  const missing = await evaluate('import "./nope" as n;\nlet x = n.y;\n', { loadModule: () => null });
  assertFailure(missing, 'M4001');
  // On a session, with types too.
  const s = new Session({});
  const checked = await s.typecheck('import "./a" as a;\nlet z = a.v;\n', { loadModule });
  assert.deepEqual(checked.types, [{ name: 'z', type: 'Integer' }]);
});

test('timeoutMs stops an endless-looking program with R3008, as a value', async () => {
  const s = new Session({});
  const started = performance.now();
  const result = s.evaluate(EXPENSIVE, { timeoutMs: 30 });
  const took = performance.now() - started;
  assertFailure(result, 'R3008');
  assert.ok(took < 2000, `stopped after ${took} ms`);
  assert.equal(s.evaluate('let a = 1;', {}).ok, true, 'the session still works');
});

test('Session keeps its caches across edits (incremental)', () => {
  const s = new Session({ files: { 'main.lig': 'let a = fold (\\s n -> s + n) 0 (range 0 100000);\nlet b = 1;\n' } });
  assert.equal(s.evaluate(null, {}).ok, true);
  s.setFile('main.lig', 'let a = fold (\\s n -> s + n) 0 (range 0 100000);\nlet b = 2;\n');
  const again = s.evaluate(null, {});
  assert.deepEqual(again.value, { a: 4999950000, b: 2 });
  assert.ok(again.stats.reused >= 1, `reused ${again.stats.reused}`);
});

test('one-shot calls keep no caches (nothing could reuse them); a Session does', async () => {
  const source = 'let a = 1;\nlet b = a + 1;\n';
  const once = await evaluate(source, {});
  assert.deepEqual(once.value, { a: 1, b: 2 });
  assert.equal(once.stats.cache, null);
  const s = new Session({});
  const first = s.evaluate(source, {});
  assert.deepEqual(first.value, once.value);
  assert.ok(first.stats.cache.values.entries >= 2, JSON.stringify(first.stats.cache));
});

test('deep recursion: R3006 at the wasm default depth, never a dead instance', async () => {
  const down = (n) => `let rec down = \\n -> if n == 0 then 0 else 1 + down (n - 1);\nlet a = down ${n};\n`;
  assert.deepEqual((await evaluate(down(900), {})).value, { a: 900 });
  const deep = await evaluate(down(10_000), {});
  assertFailure(deep, 'R3006');
  assert.match(deep.diagnostics[0].message, /limit of 1000/);
  assert.equal(deep.diagnostics[0].line, 1, 'located by the evaluator, not the glue');
  // Raising maxDepth past what the host's stack holds: still a value, and the instance lives.
  const s = new Session({});
  const raised = s.evaluate(down(100_000), { limits: { maxDepth: 200_000 } });
  assertFailure(raised, 'R3006');
  assert.deepEqual(s.evaluate('let a = 1;', {}).value, { a: 1 });
  assert.deepEqual(s.evaluate(down(500), {}).value, { a: 500 });
});

test('registerRoots: `import corp.net` finds the register under a root of the file map, in one-shot calls and a Session', async () => {
  const files = { 'regs/corp/net.lig': 'export let port = 8443;\n' };
  const source = 'import corp.net as net;\nlet port = net.port;\n';
  const { evaluate: run, typecheck: check, Session: S } = await import('../node.js');
  const found = await run(source, { files, registerRoots: ['regs'] });
  assert.deepEqual([found.ok, found.value], [true, { port: 8443 }]);
  const missing = await run(source, { files });
  assert.deepEqual(missing.diagnostics.map((d) => d.code), ['M4001']);
  assert.equal((await check(source, { files, registerRoots: ['regs'] })).ok, true);
  const session = new S({ files, registerRoots: ['regs'] });
  assert.deepEqual(session.evaluate(source).value, { port: 8443 });
  session.free();
  assert.match((await run(source, { registerRoots: 'regs' })).error, /^invalid options: registerRoots must be an array/);
});
