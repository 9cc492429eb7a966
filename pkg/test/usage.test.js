// Misuse of the API from JS (issue 17): wrong-typed arguments, unknown or malformed options,
// freed objects, data that is not JSON. Every entry point answers in plain words: a TypeError
// for a wrong-typed argument or a freed object, a usage-error value `{ ok: false,
// diagnostics: [], error }` for options and data; never a wasm RuntimeError, a message in
// serde's words, or a dead instance (a valid call afterwards still works).

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as ligature from '../node.js';

const { Session, evaluate, typecheck, validate, compileSchema, init, initThreadPool } = ligature;

/** Values of every wrong type for a string argument. */
const NOT_STRINGS = [42, 0, NaN, true, {}, { length: 3 }, [], ['a'], Symbol('s'), 10n, () => 'x', new Map()];
/** Values that are not options objects. */
const NOT_OPTIONS = [42, 'yaml', true, [], ['files'], Symbol('o'), 5n, () => ({}), new Map(), new Date(0)];

const SCHEMA = 'type D = { port: Integer where x >= 1024 };\n';

/** Calls `f`, awaiting a promise: `{ value }` or `{ thrown }`. */
async function outcome(f) {
  try {
    return { value: await f() };
  } catch (thrown) {
    return { thrown };
  }
}

function assertTypeError(result, label, pattern) {
  assert.ok(result.thrown !== undefined, `${label}: expected a TypeError, got ${JSON.stringify(result.value)}`);
  assert.ok(result.thrown instanceof TypeError, `${label}: ${result.thrown?.constructor?.name}: ${result.thrown?.message}`);
  assert.ok(!(result.thrown instanceof WebAssembly.RuntimeError), label);
  assert.doesNotMatch(result.thrown.message, /null pointer|memory access|unreachable|Reflect|expected struct/, label);
  if (pattern) assert.match(result.thrown.message, pattern, label);
}

function assertUsage(result, label, pattern) {
  assert.equal(result.thrown, undefined, `${label}: threw ${result.thrown?.constructor?.name}: ${result.thrown?.message}`);
  const value = result.value;
  assert.equal(value.ok, false, label);
  assert.deepEqual(value.diagnostics, [], `${label}: ${JSON.stringify(value.diagnostics)}`);
  assert.equal(typeof value.error, 'string', label);
  assert.doesNotMatch(value.error, /internal error|serde|expected struct|expected u64|Reflect\.get|floating point|null pointer/, `${label}: ${value.error}`);
  if (pattern) assert.match(value.error, pattern, `${label}: ${value.error}`);
}

/** A session and a compiled schema to call methods on, and a check that all still work. */
async function fixtures() {
  const session = new Session({ files: { 'lib.lig': 'let base = 8000;\n' } });
  const compiled = await compileSchema(SCHEMA, 'D');
  assert.equal(compiled.ok, true);
  const fromSession = session.compileSchema(SCHEMA, 'D');
  assert.equal(fromSession.ok, true);
  return { session, schema: compiled.schema, sessionSchema: fromSession.schema };
}

async function assertStillWorks({ session, schema, sessionSchema }, label) {
  assert.deepEqual((await evaluate('let a = 1;\n')).value, { a: 1 }, label);
  assert.deepEqual((await typecheck('let a = 1;\n')).types, [{ name: 'a', type: 'Integer' }], label);
  assert.equal((await validate({ port: 8080 }, SCHEMA, 'D')).ok, true, label);
  session.setFile('main.lig', 'import "./lib" as lib;\nlet port = lib.base + 80;\n');
  assert.deepEqual(session.evaluate(null).value, { port: 8080 }, label);
  assert.equal(session.typecheck(null).ok, true, label);
  assert.equal(schema.validate({ port: 80 }).errors[0].code, 'C5005', label);
  assert.equal(sessionSchema.validate({ port: 9000 }).ok, true, label);
}

/**
 * Every exported function and method with its string arguments: [label, call(args)], and
 * for each argument position whether null is allowed (a source: null reads the entry file).
 */
function stringCalls(f) {
  return [
    ['evaluate(source)', (x) => evaluate(x, {}), 'source'],
    ['typecheck(source)', (x) => typecheck(x, {}), 'source'],
    ['compileSchema(schemaSource)', (x) => compileSchema(x, 'D'), 'schemaSource'],
    ['compileSchema(, typeName)', (x) => compileSchema(SCHEMA, x), 'typeName'],
    ['validate(, schemaSource)', (x) => validate({}, x, 'D'), 'schemaSource'],
    ['validate(,, typeName)', (x) => validate({}, SCHEMA, x), 'typeName'],
    ['Session.setFile(path)', (x) => f.session.setFile(x, 'let a = 1;'), 'path'],
    ['Session.setFile(, text)', (x) => f.session.setFile('main.lig', x), 'text'],
    ['Session.removeFile(path)', (x) => f.session.removeFile(x), 'path'],
    ['Session.evaluate(source)', (x) => f.session.evaluate(x, {}), 'source'],
    ['Session.typecheck(source)', (x) => f.session.typecheck(x, {}), 'source'],
    ['Session.compileSchema(schemaSource)', (x) => f.session.compileSchema(x, 'D'), 'schemaSource'],
    ['Session.compileSchema(, typeName)', (x) => f.session.compileSchema(SCHEMA, x), 'typeName'],
  ];
}

/** Every call that takes options, with the usage error's form (a value, or a TypeError). */
function optionCalls(f) {
  return [
    ['evaluate', (o) => evaluate('let a = 1;', o)],
    ['typecheck', (o) => typecheck('let a = 1;', o)],
    ['compileSchema', (o) => compileSchema(SCHEMA, 'D', o)],
    ['validate', (o) => validate({ port: 8080 }, SCHEMA, 'D', o)],
    ['Session.evaluate', (o) => f.session.evaluate('let a = 1;', o)],
    ['Session.typecheck', (o) => f.session.typecheck('let a = 1;', o)],
    ['Session.compileSchema', (o) => f.session.compileSchema(SCHEMA, 'D', o)],
    ['schema.validate', (o) => f.schema.validate({ port: 8080 }, o)],
    ['new Session', (o) => new Session(o), 'throws'],
  ];
}

test('every entry point: wrong-typed string arguments are TypeErrors in plain words', async () => {
  const f = await fixtures();
  for (const [label, call, name] of stringCalls(f)) {
    const nullable = name === 'source';
    const wrong = nullable ? NOT_STRINGS : [...NOT_STRINGS, null, undefined];
    for (const value of wrong) {
      const result = await outcome(() => call(value));
      assertTypeError(result, `${label} with ${String(value)}`, new RegExp(`${name} must be a string`));
    }
    await assertStillWorks(f, label);
  }
  // The reported cases, word for word.
  assertTypeError(await outcome(() => evaluate(42)), 'evaluate(42)', /evaluate: source must be a string or null, got 42/);
  assertTypeError(await outcome(() => new Session({}).setFile('main.lig', 42)), 'setFile', /text must be a string, got 42/);
  assertTypeError(await outcome(() => new Session({}).setFile(7, '')), 'setFile(7)', /path must be a string, got 7/);
  assertTypeError(await outcome(() => new Session({}).removeFile(7)), 'removeFile(7)', /path must be a string/);
  assertTypeError(await outcome(() => compileSchema(42, 'D')), 'compileSchema(42)', /schemaSource must be a string, got 42/);
  // init and initThreadPool check theirs too.
  assertTypeError(await outcome(() => init(42)), 'init(42)', /init: input/);
  for (const threads of [0, -1, 1.5, '4', {}, Symbol('t')]) {
    assertTypeError(await outcome(() => initThreadPool(threads)), `initThreadPool(${String(threads)})`, /threads/);
  }
  assert.equal(await initThreadPool(2), 1);
  await assertStillWorks(f, 'after all');
});

test('every entry point: options that are not an object are rejected in plain words', async () => {
  const f = await fixtures();
  for (const [label, call, form] of optionCalls(f)) {
    for (const options of NOT_OPTIONS) {
      const result = await outcome(() => call(options));
      const what = `${label} with options ${String(options)}`;
      const pattern = /options must be an object/;
      if (form === 'throws') assertTypeError(result, what, pattern);
      else assertUsage(result, what, pattern);
    }
    // Absent options are fine.
    for (const options of [undefined, null, {}]) {
      const result = await outcome(() => call(options));
      assert.equal(result.thrown, undefined, `${label}(${options}): ${result.thrown?.message}`);
      assert.equal(result.value.error, undefined, `${label}(${options}): ${result.value.error}`);
    }
    await assertStillWorks(f, label);
  }
});

test('each call accepts exactly the options it uses, and names the valid ones', async () => {
  const f = await fixtures();
  const unused = {
    evaluate: ['dataFormat', 'timeout'],
    typecheck: ['format', 'field', 'limits', 'dataFormat'],
    compileSchema: ['format', 'field', 'dataFormat', 'threads'],
    validate: ['format', 'field', 'threads'],
    'Session.evaluate': ['dataFormat'],
    'Session.typecheck': ['format', 'field', 'limits'],
    'Session.compileSchema': ['format', 'loadModule', 'dataFormat'],
    'schema.validate': ['files', 'entry', 'limits', 'format'],
    'new Session': ['format', 'field', 'entry', 'timeoutMs', 'signal', 'dataFormat', 'loadModule'],
  };
  for (const [label, call, form] of optionCalls(f)) {
    for (const key of unused[label]) {
      const result = await outcome(() => call({ [key]: 'x' }));
      const what = `${label} with ${key}`;
      const pattern = new RegExp(`${label.replace('.', '\\.')} has no option \`${key}\` \\(its options: `);
      if (form === 'throws') assertTypeError(result, what, pattern);
      else assertUsage(result, what, pattern);
      const message = form === 'throws' ? result.thrown.message : result.value.error;
      assert.doesNotMatch(message.slice(message.indexOf('its options')), new RegExp(`\\b${key}\\b`), `${what}: lists ${key} as valid`);
    }
  }
  // The reported case: the session's list names only files, limits and threads.
  assert.throws(() => new Session({ format: 'yaml' }), {
    name: 'TypeError',
    message: 'invalid options: new Session has no option `format` (its options: files, limits, threads, registerRoots)',
  });
  await assertStillWorks(f, 'after unknown options');
});

test('malformed option values are described in plain words', async () => {
  const f = await fixtures();
  const cases = [
    [{ limits: { maxSteps: -5 } }, 'limits.maxSteps must be a non-negative integer, got -5'],
    [{ limits: { maxSteps: 1.5 } }, 'limits.maxSteps must be a non-negative integer, got 1.5'],
    [{ limits: { maxSteps: '10' } }, 'limits.maxSteps must be a non-negative integer, got "10"'],
    [{ limits: { maxSteps: 2n ** 64n } }, 'limits.maxSteps must be at most 18446744073709551615'],
    [{ limits: { maxDepth: 2 ** 32 } }, 'limits.maxDepth must be at most 4294967295'],
    [{ limits: { maxDepth: null } }, 'limits.maxDepth must be a non-negative integer, got null'],
    [{ limits: { maxStep: 1 } }, 'unknown limit `maxStep` (valid limits: maxSteps, maxDepth, maxOutputBytes)'],
    [{ limits: 3 }, 'limits must be an object'],
    [{ files: 5 }, 'files must be an object of path → text, got 5'],
    [{ files: ['a'] }, 'files must be an object of path → text, got an array'],
    [{ files: { 'a.lig': 3 } }, 'files["a.lig"] must be a string, got 3'],
    [{ entry: 7 }, 'entry must be a file path (a non-empty string), got 7'],
    [{ entry: '' }, 'entry must be a file path'],
    [{ format: 'xml' }, "format must be one of 'json', 'yaml', 'toml', 'text', got \"xml\""],
    [{ field: 1 }, 'field must be a string'],
    [{ threads: 0 }, 'threads must be an integer of at least 1, got 0'],
    [{ threads: 'many' }, 'threads must be an integer of at least 1'],
    [{ timeoutMs: -1 }, 'timeoutMs must be a non-negative number of milliseconds, got -1'],
    [{ timeoutMs: NaN }, 'timeoutMs must be a non-negative number'],
    [{ loadModule: 'not a function' }, 'loadModule must be a function'],
  ];
  for (const [options, message] of cases) {
    const result = await outcome(() => evaluate('let a = 1;', options));
    assertUsage(result, JSON.stringify(options, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)), undefined);
    assert.ok(result.value.error.startsWith(`invalid options: ${message}`), `${result.value.error} ≠ ${message}`);
    // The same words from a session's call, and thrown by the constructor where it takes the option.
    const key = Object.keys(options)[0];
    if (['files', 'limits', 'threads'].includes(key)) {
      assert.throws(() => new Session(options), (error) => error instanceof TypeError && error.message.startsWith(`invalid options: ${message}`));
    }
  }
  assert.match((await validate({}, SCHEMA, 'D', { dataFormat: 'xml' })).error, /dataFormat must be one of 'value', 'json', 'yaml', got "xml"/);
  assert.match(f.schema.validate(5, { dataFormat: 'json' }).error, /needs the text as a string, got 5/);
  // Accepted: undefined counts as absent; BigInt and number limits, huge ones too.
  for (const options of [
    { format: undefined, limits: { maxSteps: undefined } },
    { limits: { maxSteps: 10n ** 6n, maxDepth: 100, maxOutputBytes: 2 ** 60 } },
    { limits: { maxSteps: 2n ** 64n - 1n, maxDepth: 100n } },
    { threads: 1, timeoutMs: Infinity },
  ]) {
    const result = await evaluate('let a = 1;', options);
    assert.equal(result.ok, true, `${String(Object.keys(options))}: ${result.error}`);
    assert.deepEqual(result.value, { a: 1 });
  }
  // A limit given as a BigInt is applied, not ignored.
  const budget = await evaluate('let xs = range 0 1000;\n', { limits: { maxSteps: 10n } });
  assert.ok(budget.diagnostics.some((d) => d.code === 'R3007'), JSON.stringify(budget.diagnostics.map((d) => d.code)));
  await assertStillWorks(f, 'after malformed options');
});

test('a freed Session or Schema says so; a second free() does nothing', async () => {
  const session = new Session({});
  session.free();
  session.free();
  const calls = [
    () => session.setFile('main.lig', 'let a = 1;'),
    () => session.removeFile('main.lig'),
    () => session.evaluate('let a = 1;'),
    () => session.typecheck('let a = 1;'),
    () => session.compileSchema(SCHEMA, 'D'),
    () => session.stats,
  ];
  for (const call of calls) {
    assertTypeError(await outcome(call), String(call), /^this Session was freed/);
  }
  const { schema } = await compileSchema(SCHEMA, 'D');
  assert.equal(schema.validate({ port: 8080 }).ok, true);
  schema.free();
  schema.free();
  assertTypeError(await outcome(() => schema.validate({ port: 8080 })), 'schema.validate', /^this Schema was freed/);
  // Freed while a loadModule call waits for its files: the call answers that, as a value.
  const waiting = new Session({});
  const pending = waiting.evaluate('import "./lib" as lib;\nlet x = lib.y;\n', {
    loadModule: async () => {
      waiting.free();
      return 'let y = 1;\n';
    },
  });
  assertUsage(await outcome(() => pending), 'freed during loadModule', /this Session was freed/);
  await assertStillWorks(await fixtures(), 'after freed objects');
});

test('validate: data that is not JSON is a usage error naming its path', async () => {
  const f = await fixtures();
  const circular = { port: 8080 };
  circular.self = circular;
  const inList = [1, 2];
  inList.push({ back: inList });
  const cases = [
    [circular, /^invalid data: \$\.self is a circular reference/],
    [{ a: [inList] }, /^invalid data: \$\.a\[0\]\[2\]\.back is a circular reference/],
    [{ port: 8080, f: () => 1 }, /^invalid data: \$\.f is a function, which is not a JSON value/],
    [{ port: Symbol('p') }, /^invalid data: \$\.port is a symbol/],
    [{ port: 8080n }, /^invalid data: \$\.port is a BigInt \(8080n\)/],
    [[1, undefined], /^invalid data: \$\[1\] is undefined/],
    // eslint-disable-next-line no-sparse-arrays
    [[1, , 3], /^invalid data: \$\[1\] is undefined/],
    [{ port: undefined }, /^invalid data: \$\.port is undefined/],
    [{ port: NaN }, /^invalid data: \$\.port is NaN, which JSON cannot represent/],
    [{ 'a b': Infinity }, /^invalid data: \$\["a b"\] is Infinity/],
    [{ when: new Date(0) }, /^invalid data: \$\.when is a Date, not a JSON value/],
    [new Map(), /^invalid data: \$ is a Map/],
    [undefined, /^invalid data: \$ is undefined/],
  ];
  for (const [data, pattern] of cases) {
    assertUsage(await outcome(() => f.schema.validate(data)), String(pattern), pattern);
    assertUsage(await outcome(() => validate(data, SCHEMA, 'D')), String(pattern), pattern);
    assert.deepEqual((await validate(data, SCHEMA, 'D')).errors, []);
  }
  // Shared (not circular) objects, deep data and null-prototype objects are JSON values.
  const shared = { port: 8080 };
  assert.equal((await validate([shared, shared], 'type L = List { port: Integer };', 'L')).ok, true);
  let deep = 1;
  for (let i = 0; i < 100_000; i += 1) deep = [deep];
  assert.equal(typeof f.schema.validate(deep).ok, 'boolean');
  const bare = Object.assign(Object.create(null), { port: 8080 });
  assert.equal(f.schema.validate(bare).ok, true);
  await assertStillWorks(f, 'after non-JSON data');
});
