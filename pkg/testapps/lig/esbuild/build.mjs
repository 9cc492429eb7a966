// An esbuild build importing .lig files through ligature/esbuild: `node build.mjs` writes
// dist/main.js; pkg/test/plugins.test.js calls `build` with other entries.
import * as esbuild from 'esbuild';
import ligature from 'ligature/esbuild';

export function build(entry = 'src/main.js', outfile = 'dist/main.js') {
  return esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    absWorkingDir: import.meta.dirname,
    logLevel: 'silent',
    plugins: [ligature({ timeoutMs: 10_000 })],
  });
}

if (process.argv[1] === import.meta.filename) await build(...process.argv.slice(2));
