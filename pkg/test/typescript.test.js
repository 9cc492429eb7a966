// The TypeScript export against the real compiler: for every fixture that declares types
// and evaluates, its declarations (`toTypeScript`) must compile under `tsc --strict`, its
// evaluated document pasted as a literal typed by the declaration's default export must
// compile, and the same literal with one field of the wrong type must not. All files go
// to one project, checked by two `tsc` runs: the good files alone (exit 0), then with the
// wrong ones (each wrong file, and only those, has an error).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { evaluate, toTypeScript } from '../node.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const TSC = join(HERE, '..', 'node_modules', '.bin', 'tsc');
const CORPORA = ['tests/fixtures/eval', 'tests/fixtures/types/ok', 'tests/fixtures/validate'];

const SAMPLE = String.raw`
type Env = Dev | Staging | Prod;
type Port = Integer where x >= 1 && x <= 65535;
type Check 'v = Pass | Fail { value: 'v, why: String };
type Service = { name: String with pattern("[a-z]+"), port: Port, env: Env, check: Check Port, tags: List String };
let services : List Service = [
  { name = "api", port = 8080, env = Prod, check = Pass, tags = ["a"] },
  { name = "db", port = 5432, env = Dev, check = Fail { value = 1, why = "x" }, tags = [] }
];
let owner = { name = "ops", on = true, nothing = (), ratio = 0.5, maybe = Some (Ok 3 : Result Integer String) };
let inc = \n -> n + 1;
`;

/** The `.lig` files of the corpora that declare a type. */
function corpus() {
  const out = [{ name: 'sample', source: SAMPLE }];
  for (const dir of CORPORA) {
    let entries = [];
    try {
      entries = readdirSync(join(ROOT, dir));
    } catch {
      continue;
    }
    for (const file of entries.filter((it) => it.endsWith('.lig')).sort()) {
      const source = readFileSync(join(ROOT, dir, file), 'utf8');
      if (/^(export\s+)?type\s/m.test(source) && !source.startsWith('// args:')) {
        out.push({ name: `${dir.split('/').pop()}_${file.replace(/\W/g, '_')}`, source });
      }
    }
  }
  return out;
}

/** The literal with the first field (found depth first) of another type. */
function wrongField(value) {
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, field] of Object.entries(value)) {
    const wrong =
      typeof field === 'number' ? 'a string' :
      typeof field === 'string' ? 42 :
      typeof field === 'boolean' ? 'a string' :
      field === null ? 1 :
      Array.isArray(field) ? 1 : 1;
    if (Array.isArray(value)) {
      const inner = wrongField(field);
      if (inner !== undefined) return value.map((it, k) => (k === Number(key) ? inner : it));
      continue;
    }
    return { ...value, [key]: wrong };
  }
  return undefined;
}

test('TypeScript declarations of the fixtures compile and type their documents', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ligature-ts-'));
  try {
    const good = [];
    const wrong = [];
    let declared = 0;
    for (const { name, source } of corpus()) {
      const evaluated = await evaluate(source, { format: 'json' });
      if (!evaluated.ok) continue;
      const exported = await toTypeScript(source);
      assert.equal(exported.ok, true, `${name}: ${JSON.stringify(exported.diagnostics)}`);
      declared++;
      writeFileSync(join(dir, `${name}.lig.d.ts`), exported.typescript);
      const doc = JSON.parse(evaluated.text);
      const use = (literal) =>
        `import config from './${name}.lig';\nconst doc: typeof config = ${JSON.stringify(literal, null, 2)};\nexport { doc };\n`;
      writeFileSync(join(dir, `${name}.use.ts`), use(doc));
      good.push(`${name}.use.ts`, `${name}.lig.d.ts`);
      const bad = /declare const config: unknown;/.test(exported.typescript) ? undefined : wrongField(doc);
      if (bad !== undefined) {
        writeFileSync(join(dir, `${name}.wrong.ts`), use(bad));
        wrong.push(`${name}.wrong.ts`);
      }
    }
    t.diagnostic(`${declared} files with types, ${wrong.length} wrong literals`);
    assert.ok(declared >= 8, `${declared} fixtures with types`);
    assert.ok(wrong.length >= 5, `${wrong.length} wrong literals`);
    const tsconfig = (files) => ({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        module: 'esnext',
        moduleResolution: 'bundler',
        skipLibCheck: false,
        types: [],
      },
      files,
    });
    const run = (files) => {
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig(files)));
      return spawnSync(TSC, ['-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8', cwd: dir });
    };
    const ok = run(good);
    assert.equal(ok.status, 0, `tsc on the declarations and documents:\n${ok.stdout}${ok.stderr}`);
    const all = run([...good, ...wrong]);
    assert.notEqual(all.status, 0, 'the wrong literals do not compile');
    const failing = new Set(
      all.stdout
        .split('\n')
        .map((line) => /^([^(]+)\(\d+,\d+\): error/.exec(line)?.[1])
        .filter(Boolean)
        .map((file) => file.split(/[\\/]/).pop()),
    );
    assert.deepEqual([...failing].sort(), [...wrong].sort(), all.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
