// What `ligature/vite` adds to a Vite build, per small `.lig` module (issue 20's goal: under
// 5 ms). Two apps that differ only in their data modules: one imports N small `.lig` files,
// the other the N equivalent `.json` files (Vite's built-in JSON plugin, the cheapest data
// import there is). Both are built in this process with `vite build` (library mode, no
// minification), warmed up once, then built alternately ROUNDS times; the goal's number is
// (median .lig build - median .json build) / N. Also printed: `compileFile` alone per module
// (the plugin's work without Vite, one file after another), for comparison.
//
//   make bench-plugins          (needs pkg/dist/web: make wasm)
//   N=200 ROUNDS=9 node benches/plugins_bench.mjs

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PKG = fileURLToPath(new URL('../pkg/', import.meta.url));
const N = Number(process.env.N ?? 100);
const ROUNDS = Number(process.env.ROUNDS ?? 7);

const work = mkdtempSync(join(tmpdir(), 'ligature-plugins-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Module i as Ligature source and as the JSON it evaluates to. */
function module(i) {
  const lig = [
    `let name = "service-${i}";`,
    `let port = ${8000 + i};`,
    `let replicas = ${1 + (i % 3)};`,
    `let tags = ["web", "tier-${i % 4}"];`,
    `let limits = { cpu = 0.5, memory = ${256 * (1 + (i % 2))} };`,
    '',
  ].join('\n');
  const json = {
    name: `service-${i}`,
    port: 8000 + i,
    replicas: 1 + (i % 3),
    tags: ['web', `tier-${i % 4}`],
    limits: { cpu: 0.5, memory: 256 * (1 + (i % 2)) },
  };
  return { lig, json: `${JSON.stringify(json, null, 2)}\n` };
}

/** An app in `dir` whose main.js imports the N modules with extension `ext`. */
function app(dir, ext) {
  mkdirSync(join(dir, 'src', 'data'), { recursive: true });
  const imports = [];
  for (let i = 0; i < N; i += 1) {
    const { lig, json } = module(i);
    writeFileSync(join(dir, 'src', 'data', `m${i}.${ext}`), ext === 'lig' ? lig : json);
    imports.push(`import m${i} from './data/m${i}.${ext}';`);
  }
  writeFileSync(
    join(dir, 'src', 'main.js'),
    `${imports.join('\n')}\nexport const all = [${imports.map((_, i) => `m${i}`).join(', ')}];\n`,
  );
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
}

try {
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(PKG, join(work, 'node_modules', 'ligature'), 'dir');
  const ligDir = join(work, 'lig');
  const jsonDir = join(work, 'json');
  app(ligDir, 'lig');
  app(jsonDir, 'json');

  const { build } = await import(join(PKG, 'node_modules', 'vite', 'dist', 'node', 'index.js'));
  const { default: ligature } = await import(join(PKG, 'vite.js'));
  const { compileFile } = await import(join(PKG, 'tooling', 'compile.js'));

  const timed = async (root, plugins) => {
    const started = performance.now();
    await build({
      root,
      configFile: false,
      logLevel: 'silent',
      plugins,
      build: { lib: { entry: 'src/main.js', formats: ['es'], fileName: 'main' }, minify: false, emptyOutDir: true },
    });
    return performance.now() - started;
  };

  // Warm-up: the engine's instantiation, Vite's and Rolldown's first run, the file cache.
  await timed(ligDir, [ligature()]);
  await timed(jsonDir, []);
  const ligTimes = [];
  const jsonTimes = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    ligTimes.push(await timed(ligDir, [ligature()]));
    jsonTimes.push(await timed(jsonDir, []));
  }

  const compileTimes = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const started = performance.now();
    for (let i = 0; i < N; i += 1) {
      const result = await compileFile(join(ligDir, 'src', 'data', `m${i}.lig`), { root: ligDir });
      if (!result.ok) throw new Error(result.error.message);
    }
    compileTimes.push(performance.now() - started);
  }

  const lig = median(ligTimes);
  const json = median(jsonTimes);
  const fmt = (ms) => `${ms.toFixed(1)} ms`;
  console.log(`vite build, ${N} modules, median of ${ROUNDS} (after one warm-up each):`);
  console.log(`  .json modules: ${fmt(json)}   (all: ${jsonTimes.map((it) => it.toFixed(0)).join(', ')})`);
  console.log(`  .lig modules:  ${fmt(lig)}   (all: ${ligTimes.map((it) => it.toFixed(0)).join(', ')})`);
  console.log(`  added per .lig module: ${((lig - json) / N).toFixed(2)} ms (goal: under 5 ms)`);
  console.log(`compileFile alone: ${(median(compileTimes) / N).toFixed(2)} ms per module`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
