// The class behind issue 17's misuse findings (2, 5, 6, 9): any value in any argument
// position of any call answers in the documented way. A seeded generator calls every
// function and method of the in-thread API with arguments drawn from valid ones and from
// values of every JS type (nested inside options too), and holds each answer to:
//   - a value of the call's declared shape (a result with a boolean `ok`, a usage error
//     with `error` in plain words, a boolean for removeFile, ...), or
//   - a thrown or rejected TypeError in plain words, or the caller's own exception
//     (a getter or Proxy trap that throws) passed through unchanged;
// never a WebAssembly.RuntimeError, wasm-bindgen's "null pointer passed to rust", serde's
// words or an "internal error". After every call a valid evaluation still gives its answer.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import * as ligature from '../node.js';
import { random } from './helpers.js';

const { Session, evaluate, typecheck, validate, compileSchema, init, initSync, initThreadPool } = ligature;


/** The exception a hostile getter or Proxy throws: it must come back as it is. */
class Hostile extends Error {}

function circular() {
  const value = { a: 1 };
  value.self = value;
  return value;
}

const SCALARS = [
  undefined, null, 0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, true, false, '', 'x', 'main.lig',
  'let a = 1;', 'type T = Integer;', 'T', '\u0000', '\ud800', 10n, Symbol('s'), () => 1,
];
const OBJECTS = () => [
  {}, [], [1, 'a'], { a: 1 }, Object.create(null), new Uint8Array(3), new Map([['a', 1]]), new Date(0),
  circular(), /re/, new Error('e'), Promise.resolve(1),
  new Proxy({}, { ownKeys() { throw new Hostile('ownKeys'); }, get() { throw new Hostile('get'); } }),
  Object.defineProperty({}, 'files', { enumerable: true, get() { throw new Hostile('getter'); } }),
];
const OPTION_KEYS = [
  'files', 'entry', 'field', 'format', 'limits', 'threads', 'timeoutMs', 'signal', 'loadModule', 'dataFormat',
  'maxSteps', 'typo', '__proto__', 'constructor',
];
const LIMIT_KEYS = ['maxSteps', 'maxDepth', 'maxOutputBytes', 'maxSteps ', 'other'];
const GOOD = {
  source: 'let port = 8080;\nlet name = "api";\n',
  schema: 'type Port = Integer where x >= 1024;\ntype D = { port: Port };\n',
  typeName: 'D',
  data: { port: 8080 },
};

function generator(rand) {
  const pick = (list) => list[Math.floor(rand() * list.length)];
  function value(depth = 0) {
    const roll = rand();
    if (roll < 0.45 || depth > 2) return pick(SCALARS);
    if (roll < 0.7) return pick(OBJECTS());
    return options(depth + 1);
  }
  function options(depth = 0) {
    const result = {};
    const n = Math.floor(rand() * 4);
    for (let i = 0; i < n; i++) {
      const key = pick(OPTION_KEYS);
      if (key === 'limits' && rand() < 0.7) {
        const limits = {};
        for (let j = 0; j < 2; j++) limits[pick(LIMIT_KEYS)] = pick([1, 0, -5, 1e20, 2.5, NaN, '10', null, undefined, {}]);
        result.limits = limits;
      } else if (key === 'files' && rand() < 0.6) {
        result.files = { [pick(['a.lig', '', '../x.lig', 'main.lig'])]: pick(['let b = 2;', 5, null, {}, '\ud800']) };
      } else if (key === 'signal' && rand() < 0.5) {
        const controller = new AbortController();
        if (rand() < 0.5) controller.abort();
        result.signal = controller.signal;
      } else if (key === 'loadModule' && rand() < 0.6) {
        result.loadModule = pick([
          async () => null, async () => 'let y = 1;', async () => 5, () => 'sync', async () => { throw new Hostile('load'); },
        ]);
      } else {
        result[key] = value(depth + 1);
      }
    }
    return result;
  }
  /** A valid argument most of the time, else anything. */
  const arg = (good) => (rand() < 0.5 ? good : value());
  const opt = () => (rand() < 0.3 ? undefined : rand() < 0.8 ? options() : value());
  return { pick, arg, opt };
}

/** Every call, as a name and a function of the generator giving its outcome's promise. */
function calls(g) {
  const session = () => new Session(g.pick([undefined, {}, { files: { 'lib.lig': 'export let z = 3;' } }]));
  return [
    ['evaluate', () => evaluate(g.arg(GOOD.source), g.opt())],
    ['typecheck', () => typecheck(g.arg(GOOD.source), g.opt())],
    ['validate', () => validate(g.arg(GOOD.data), g.arg(GOOD.schema), g.arg(GOOD.typeName), g.opt())],
    ['compileSchema', () => compileSchema(g.arg(GOOD.schema), g.arg(GOOD.typeName), g.opt())],
    ['new Session', () => new Session(g.opt())],
    ['Session.setFile', () => session().setFile(g.arg('lib.lig'), g.arg(GOOD.source))],
    ['Session.removeFile', () => session().removeFile(g.arg('lib.lig'))],
    ['Session.evaluate', () => session().evaluate(g.arg(GOOD.source), g.opt())],
    ['Session.typecheck', () => session().typecheck(g.arg(GOOD.source), g.opt())],
    ['Session.missingFiles', () => session().missingFiles(g.arg(GOOD.source), g.opt())],
    ['Session.compileSchema', () => session().compileSchema(g.arg(GOOD.schema), g.arg(GOOD.typeName), g.opt())],
    ['Session.stats', () => session().stats],
    ['freed Session', () => {
      const s = session();
      s.free();
      return s.evaluate(g.arg(GOOD.source), g.opt());
    }],
    ['schema.validate', async () => {
      const compiled = await compileSchema(GOOD.schema, GOOD.typeName);
      try {
        return compiled.schema.validate(g.arg(GOOD.data), g.opt());
      } finally {
        compiled.schema.free();
      }
    }],
    ['init', () => init(g.arg(undefined))],
    ['initSync', () => initSync(g.arg(undefined))],
    ['initThreadPool', () => initThreadPool(g.arg(1))],
  ];
}

const WASM_WORDS = /null pointer|memory access|unreachable|RuntimeError|Reflect\.|expected struct|invalid type: |internal error/;

function holds(call, label, outcome) {
  const name = label;
  if ('thrown' in outcome) {
    const { thrown } = outcome;
    if (thrown instanceof Hostile) return; // the caller's own exception, passed through
    assert.ok(thrown instanceof TypeError, `${name}: threw ${thrown?.constructor?.name}: ${thrown?.message}`);
    assert.doesNotMatch(thrown.message, WASM_WORDS, name);
    return;
  }
  const { value } = outcome;
  switch (call) {
    case 'new Session':
      assert.ok(value instanceof Session, name);
      value.free();
      return;
    case 'Session.setFile':
      assert.equal(value, undefined, name);
      return;
    case 'Session.removeFile':
      assert.equal(typeof value, 'boolean', name);
      return;
    case 'Session.stats':
      assert.ok(value === null || typeof value === 'object', name);
      return;
    case 'init':
    case 'initSync':
      assert.equal(value, undefined, name);
      return;
    case 'initThreadPool':
      assert.equal(value, 1, name);
      return;
    case 'Session.missingFiles':
      // The loader's probe: `{ ok: true, missing }`, or a failure in a result's shape.
      if (value?.ok === true) {
        assert.ok(Array.isArray(value.missing), name);
        return;
      }
      break;
    default:
  }
  assert.equal(typeof value?.ok, 'boolean', `${name}: ${JSON.stringify(value)}`);
  assert.ok(Array.isArray(value.diagnostics), `${name}: diagnostics`);
  if (value.error !== undefined) {
    assert.equal(typeof value.error, 'string', name);
    assert.doesNotMatch(value.error, WASM_WORDS, `${name}: ${value.error}`);
  }
  for (const d of value.diagnostics) {
    assert.match(d.code, /^[A-Z]\d{4}$/, `${name}: ${JSON.stringify(d)}`);
    assert.doesNotMatch(d.message, /internal error/, `${name}: ${d.message}`);
  }
  if (value.ok && call.endsWith('evaluate')) assert.equal(typeof value.text, 'string', name);
}

const SEED = Number(process.env.LIGATURE_FUZZ_SEED ?? 20261207);
const CALLS = Number(process.env.LIGATURE_FUZZ_CALLS ?? 3000);

test(`any value in any argument of any call answers as documented (seed ${SEED}, ${CALLS} calls)`, async () => {
  const rand = random(SEED);
  const g = generator(rand);
  const table = calls(g);
  const seen = new Map();
  for (let i = 0; i < CALLS; i++) {
    const [name, call] = table[Math.floor(rand() * table.length)];
    let outcome;
    try {
      outcome = { value: await call() };
    } catch (thrown) {
      outcome = { thrown };
    }
    holds(name, `${name} (call ${i})`, outcome);
    const kind = 'thrown' in outcome ? 'thrown' : outcome.value?.ok === true ? 'ok' : 'value';
    seen.set(`${name} ${kind}`, (seen.get(`${name} ${kind}`) ?? 0) + 1);
    if (i % 100 === 99) {
      const check = await evaluate('let a = 1 + 1;');
      assert.equal(check.text, '{\n  "a": 2\n}\n', `after call ${i}`);
    }
  }
  // The generator reached both sides of every call that has both: valid answers and refusals.
  for (const name of ['evaluate', 'typecheck', 'validate', 'compileSchema', 'Session.evaluate', 'schema.validate']) {
    assert.ok(seen.get(`${name} ok`) > 0, `${name} never succeeded: ${[...seen].join(', ')}`);
    assert.ok((seen.get(`${name} value`) ?? 0) + (seen.get(`${name} thrown`) ?? 0) > 0, `${name} never refused`);
  }
});
