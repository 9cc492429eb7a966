// The playground's build: static files in dist/ that any host serves. Served with these two
// headers (`make playground`, the tests), the page is cross-origin isolated and the engine
// runs the threaded build; without them, the same files run the single-threaded one.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { defineConfig } from 'vite';

const headers = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * dist/sw.js: src/sw.js (the service worker that keeps the playground offline) with the list
 * of the build's files and a version over their content-hashed names and the page.
 */
function precache() {
  return {
    name: 'ligature-playground-precache',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const names = Object.keys(bundle).filter((name) => !name.endsWith('.map') && name !== 'index.html').sort();
      const page = bundle['index.html']?.source;
      if (page === undefined) this.error('index.html is not in the bundle: the service worker would not know its page');
      const version = createHash('sha256').update(names.join('\n')).update(page).digest('hex').slice(0, 16);
      const template = readFileSync(new URL('./src/sw.js', import.meta.url), 'utf8');
      this.emitFile({
        type: 'asset',
        fileName: 'sw.js',
        source: `self.__PRECACHE__ = ${JSON.stringify(['./', ...names])};\nself.__VERSION__ = '${version}';\n\n${template}`,
      });
    },
  };
}

export default defineConfig({
  plugins: [precache()],
  server: { headers },
  preview: { headers },
  // Served as published: pre-bundling would move the package's glue away from its .wasm files.
  optimizeDeps: { exclude: ['ligature'] },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
});
