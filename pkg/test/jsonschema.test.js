// Differential test of the JSON Schema export against the engine's own validation: for
// every type of SCHEMA, seeded random documents (valid ones, generated from the schema,
// and near misses: a field dropped or added, a bound off by one, a wrong constructor, a
// wrong type) are checked by ajv (draft 2020-12, strict) with the exported schema and by
// `compileSchema(...).schema.validate`. Where the export expressed every refinement the two
// must agree on every document; elsewhere whatever the engine accepts, the schema accepts.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import Ajv2020 from 'ajv/dist/2020.js';

import { Session, compileSchema, toJsonSchema, toTypeScript } from '../node.js';
import { random } from './helpers.js';

const SCHEMA = String.raw`
type Env = Dev | Staging | Prod;
type Port = Integer where x >= 1 && x <= 65535;
type Percent = Integer with >= 0 with <= 100;
type Positive = Integer where x > 0;
type Below = Integer where x < 10 && x >= -10;
type Ratio = Float where x >= 0.0 && x <= 1.0;
type Open01 = Float where x > 0.0 && x < 1.0;
type Temp = Float with >= -273.15;
type Slug = String with pattern("[a-z][a-z0-9-]*");
type Host = String with regexp("\\.example\\.com$");
type Code = String with pattern("[A-Z]{2,3}");
type Dotted = String with pattern("a.c");
type Short = String where length x >= 2 && length x <= 4;
type NonEmpty = List Integer where length x > 0;
type Few = List String where length x <= 2;
type Mode = String where x == "on";
type Seven = Integer where x == 7;
type Scalars = { i: Integer, f: Float, s: String, b: Bool, u: Unit };
type Matrix = List (List Integer);
type Shape = Circle Float | Rect { w: Float, h: Float } | Empty;
type Tree = Leaf Port | Node (List Tree);
type Nat = Z | S Nat;
type Pair 'a = { first: 'a, second: 'a };
type IntPair = Pair Integer;
type Check 'v = Pass | Fail { value: 'v };
type CheckPort = Check Port;
type MaybePort = Option Port;
type Res = Result Percent String;
type Service = { name: Slug, port: Port, replicas: Percent, env: Env, tags: List Short, health: Option Host };
type Services = List Service;
type Nested = { a: { b: { c: List (Option Env) } } };
type Bounded = Positive where x <= 1000;
type Even = Integer where x % 2 == 0;
type Digits = String with pattern("\\d+");
type Https = String with startsWith("https://");
type Window = { from: Integer, to: Integer } where x.from < x.to;
type NotZero = Integer where x != 0;
type Mixed = Integer where x >= 0 && x % 3 == 0;
type Wrapped = { even: Even, port: Port };
`;

const DOCS_PER_TYPE = 300;
const SEED = 20261207;


const STRINGS = [
  '', 'a', 'ab', 'abc', 'abcd', 'abcde', 'api', 'api-v2', 'a-', '-a', 'A', 'API', 'Api', 'a_b', 'a b',
  'AB', 'ABC', 'ABCD', 'A1', 'abc', 'axc', 'a\nc', 'a\rc', 'a\u2028c', 'aéc', 'a😀c', 'ac', 'abbc',
  'x.example.com', 'example.com', 'a.example.com.', '.example.com', 'x.example.comx',
  '123', '٣', '12a', 'on', 'off', 'On', 'https://x', 'http://x', 'é', 'éé', '😀😀', '😀😀😀😀', '😀😀😀😀😀',
  'Dev', 'Prod', 'Leaf', 'Some', 'None',
];

function makeGen(defs, rand) {
  const pick = (items) => items[Math.floor(rand() * items.length)];
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const resolve = (schema) => {
    let s = schema;
    while (s && s.$ref) s = defs[s.$ref.slice('#/$defs/'.length)];
    return s;
  };
  function anyValue(depth) {
    return pick([null, true, 1, -2, 0.5, 'x', depth < 2 ? [anyValue(depth + 1)] : [], depth < 2 ? { k: anyValue(depth + 1) } : {}]);
  }
  function integer(s) {
    const lo = Math.max(s.minimum ?? -Infinity, s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -Infinity, -1e6);
    const hi = Math.min(s.maximum ?? Infinity, s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : Infinity, 1e6);
    if (s.const !== undefined) return s.const;
    return pick([lo, hi, lo + 1 <= hi ? lo + 1 : lo, hi - 1 >= lo ? hi - 1 : hi, int(lo, hi), Math.min(Math.max(0, lo), hi)]);
  }
  function number(s) {
    const lo = s.minimum ?? s.exclusiveMinimum ?? -1000;
    const hi = s.maximum ?? s.exclusiveMaximum ?? 1000;
    const inside = lo + (hi - lo) * rand();
    const candidates = [inside, Math.round(inside)];
    if (s.minimum !== undefined) candidates.push(s.minimum);
    if (s.maximum !== undefined) candidates.push(s.maximum);
    const ok = candidates.filter((x) => x >= lo && x <= hi && (s.exclusiveMinimum === undefined || x > lo) && (s.exclusiveMaximum === undefined || x < hi));
    return ok.length > 0 ? pick(ok) : inside;
  }
  function string(s) {
    if (s.const !== undefined) return s.const;
    if (s.minLength !== undefined || s.maxLength !== undefined) {
      const n = int(s.minLength ?? 0, Math.min(s.maxLength ?? 6, 8));
      return Array.from({ length: n }, () => pick(['a', 'é', '😀', 'Z'])).join('');
    }
    return pick(STRINGS);
  }
  /**
   * A document that (usually) has the schema's type; `nodes` collects every part with its
   * schema and a setter, for a mutation to pick one.
   */
  function gen(schema, depth, nodes, set) {
    const s = resolve(schema);
    nodes.push({ schema: s, set });
    if (s === undefined || s === true || (typeof s === 'object' && Object.keys(s).length === 0)) return anyValue(0);
    if (s.enum) return pick(s.enum);
    if (s.const !== undefined && s.type === undefined) return s.const;
    if (s.oneOf) {
      // Deep down, the alternatives without payload (or the first) end recursion.
      const shallow = s.oneOf.filter((alt) => alt.enum || alt.const !== undefined);
      const alt = depth > 3 && shallow.length > 0 ? shallow[0] : pick(s.oneOf);
      return gen(alt, depth + 1, nodes, set);
    }
    switch (s.type) {
      case 'integer':
        return integer(s);
      case 'number':
        return number(s);
      case 'string':
        return string(s);
      case 'boolean':
        return rand() < 0.5;
      case 'null':
        return null;
      case 'array': {
        const max = depth > 3 ? Math.min(s.minItems ?? 0, 1) : Math.min(s.maxItems ?? 3, 3);
        const n = int(s.minItems ?? 0, Math.max(s.minItems ?? 0, max));
        const out = [];
        for (let k = 0; k < n; k++) out.push(gen(s.items, depth + 1, nodes, (v) => { out[k] = v; }));
        return out;
      }
      case 'object': {
        const out = {};
        for (const [key, sub] of Object.entries(s.properties ?? {})) {
          out[key] = gen(sub, depth + 1, nodes, (v) => { out[key] = v; });
        }
        nodes.push({ schema: s, set, object: out });
        return out;
      }
      default:
        return anyValue(0);
    }
  }
  /** A near miss of a part with schema `s` (its value is `object` for records). */
  function mutation(node) {
    const s = node.schema ?? {};
    const options = [null, 'Nope', 1.5, [], {}, true];
    if (s.type === 'integer') {
      const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : undefined);
      const hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : undefined);
      if (lo !== undefined && Math.abs(lo) < 1e15) options.push(lo - 1, lo);
      if (hi !== undefined && Math.abs(hi) < 1e15) options.push(hi + 1, hi);
      options.push(2.5, '3');
    }
    if (s.type === 'number') {
      for (const b of [s.minimum, s.maximum, s.exclusiveMinimum, s.exclusiveMaximum]) {
        if (b !== undefined) options.push(b, b - 0.001, b + 0.001);
      }
    }
    if (s.type === 'string') options.push(pick(STRINGS), pick(STRINGS) + 'é', '😀' + pick(STRINGS), 7);
    if (s.type === 'array') options.push(['x'], [1, 2, 3, 4, 5], [[]]);
    if (s.oneOf || s.enum) {
      options.push('Dev', 'Leaf', 'Some', 'Pass', 'Z', 'S', 'Empty', { None: 1 }, { Some: 1, Ok: 2 }, { Leaf: 70000 }, { S: 'Z' }, { Fail: {} });
    }
    if (node.object !== undefined) {
      const keys = Object.keys(node.object);
      const dropped = { ...node.object };
      if (keys.length > 0) delete dropped[pick(keys)];
      const changed = { ...node.object };
      if (keys.length > 0) changed[pick(keys)] = pick([null, 'x', -1, 1.5, [], {}]);
      options.push({ ...node.object, zz: 1 }, dropped, changed);
      if (node.object.from !== undefined) options.push({ from: 3, to: 3 }, { from: 2, to: 5 });
    }
    return pick(options);
  }
  return { gen, mutation, pick };
}

/** Whether the definition `name`, through everything it references, has a refinement kept as text. */
function inexpressible(defs, name) {
  const seen = new Set();
  const work = [defs[name]];
  while (work.length > 0) {
    const s = work.pop();
    if (s === null || typeof s !== 'object') continue;
    if (Array.isArray(s)) {
      work.push(...s);
      continue;
    }
    if ('x-ligature-refinement' in s) return true;
    if (typeof s.$ref === 'string') {
      const target = s.$ref.slice('#/$defs/'.length);
      if (!seen.has(target)) {
        seen.add(target);
        work.push(defs[target]);
      }
    }
    for (const [key, value] of Object.entries(s)) if (key !== '$ref') work.push(value);
  }
  return false;
}

test('JSON Schema export agrees with validation on generated documents', async () => {
  const exported = await toJsonSchema(SCHEMA, null);
  assert.equal(exported.ok, true, JSON.stringify(exported.diagnostics));
  const { schema } = exported;
  // The declared types (the unions reached have definitions too); validation takes only
  // types without parameters.
  const names = Object.keys(schema.$defs).filter((name) => SCHEMA.includes(`type ${name} =`));
  assert.ok(names.length >= 30, `${names.length} types`);
  // Every type that lost a refinement is listed as such.
  const listed = new Set(exported.unexpressed.map((it) => it.type));
  for (const name of ['Even', 'Digits', 'Https', 'Window', 'NotZero', 'Mixed', 'Wrapped']) {
    assert.ok(listed.has(name), `${name} is listed in ${JSON.stringify(exported.unexpressed)}`);
  }

  const ajv = new Ajv2020({ strict: true, allErrors: false });
  ajv.addKeyword({ keyword: 'x-ligature-refinement', schemaType: 'string' });
  const rand = random(SEED);
  const { gen, mutation, pick } = makeGen(schema.$defs, rand);
  const disagreements = [];
  let documents = 0;
  let engineAccepted = 0;
  for (const name of names) {
    const check = ajv.compile({ ...schema, $ref: `#/$defs/${name}` });
    const compiled = await compileSchema(SCHEMA, name);
    assert.equal(compiled.ok, true, JSON.stringify(compiled.diagnostics));
    const exact = !inexpressible(schema.$defs, name);
    try {
      for (let k = 0; k < DOCS_PER_TYPE; k++) {
        const nodes = [];
        const holder = {};
        holder.doc = gen({ $ref: `#/$defs/${name}` }, 0, nodes, (v) => { holder.doc = v; });
        if (k % 2 === 1 && nodes.length > 0) {
          const node = pick(nodes);
          node.set(mutation(node));
        }
        const doc = JSON.parse(JSON.stringify(holder.doc));
        documents++;
        const bySchema = check(doc);
        const result = compiled.schema.validate(doc);
        assert.equal(result.error, undefined, result.error);
        const byEngine = result.ok;
        if (byEngine) engineAccepted++;
        if (exact ? bySchema !== byEngine : byEngine && !bySchema) {
          disagreements.push(
            `type ${name} (${exact ? 'exact' : 'inexpressible'}): document ${JSON.stringify(doc)}: ` +
              `ajv ${bySchema ? 'accepts' : `rejects (${ajv.errorsText(check.errors)})`}, ` +
              `ligature ${byEngine ? 'accepts' : `rejects (${JSON.stringify(result.errors)})`}`,
          );
        }
      }
    } finally {
      compiled.schema.free();
    }
  }
  assert.ok(documents >= 10_000, `${documents} documents`);
  // Both kinds of document are there in numbers.
  assert.ok(engineAccepted > documents / 4 && engineAccepted < (documents * 3) / 4, `${engineAccepted} of ${documents} accepted`);
  assert.deepEqual(disagreements.slice(0, 20), [], `${disagreements.length} disagreements`);
});

test('toJsonSchema and toTypeScript check their arguments and report errors as values', async () => {
  await assert.rejects(() => toJsonSchema(1, null), TypeError);
  await assert.rejects(() => toJsonSchema('type T = Integer;', 3), TypeError);
  const unknown = await toJsonSchema('type T = Integer;', 'Nope');
  assert.equal(unknown.ok, false);
  assert.equal(unknown.diagnostics[0].code, 'T2004');
  const several = await toJsonSchema('type A = Integer;\ntype B = List A;', ['A', 'B']);
  assert.deepEqual(Object.keys(several.schema.$defs), ['A', 'B']);
  const bad = await toJsonSchema('type A = {', null);
  assert.equal(bad.ok, false);
  const options = await toJsonSchema('type A = Integer;', null, { nope: 1 });
  assert.equal(options.ok, false);
  assert.match(options.error, /no option `nope`/);
  const files = await toJsonSchema('import "./t";\ntype B = List A;', 'B', { files: { 't.lig': 'type A = Integer where x > 0;' } });
  assert.equal(files.ok, true, JSON.stringify(files.diagnostics));
  assert.deepEqual(files.schema.$defs.B.items, { type: 'integer', minimum: 1, maximum: 9223372036854775807 });
  const loaded = await toTypeScript('import "./t";\nlet a : A = 2;', {
    loadModule: async (path) => (path.endsWith('t.lig') ? 'export type A = Integer where x > 0;' : null),
  });
  assert.equal(loaded.ok, true, JSON.stringify(loaded.diagnostics));
  assert.match(loaded.typescript, /export declare const a: number;/);
  // A session: its files are the imports, the calls synchronous.
  const session = new Session({ files: { 't.lig': 'export type A = Integer where x > 0;' } });
  const viaSession = session.toJsonSchema('import "./t";\ntype B = List A;', ['B']);
  assert.equal(viaSession.ok, true, JSON.stringify(viaSession));
  assert.deepEqual(viaSession.schema, files.schema);
  assert.match(session.toTypeScript('import "./t";\nlet a : A = 2;').typescript, /export declare const a: number;/);
  assert.throws(() => session.toJsonSchema('', {}), TypeError);
  session.free();
  const even = await toTypeScript('type Even = Integer where x % 2 == 0;');
  assert.deepEqual(even.unexpressed, [{ type: 'Even', path: '$', refinement: 'where x % 2 == 0' }]);
  assert.match(even.typescript, /\/\*\* @refinement where x % 2 == 0 \*\/\nexport type Even = number;/);
});
