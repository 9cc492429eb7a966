// The page and its worker as two ES module bundles in dist/, and ligature's two .wasm files
// (the threaded and the single-threaded build's) next to them under names of their own.
import { copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

await esbuild.build({
  entryPoints: ['src/main.js', 'src/worker.js'],
  bundle: true,
  format: 'esm',
  minify: true,
  outdir: 'dist',
  logLevel: 'warning',
});
for (const [from, to] of [
  ['ligature/web/ligature_bg.wasm', 'dist/ligature.wasm'],
  ['ligature/web-threads/ligature_bg.wasm', 'dist/ligature-threads.wasm'],
]) {
  copyFileSync(fileURLToPath(import.meta.resolve(from)), to);
}
