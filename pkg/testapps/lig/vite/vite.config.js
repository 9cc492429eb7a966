// A Vite app importing .lig files through ligature/vite (pkg/test/plugins.test.js builds it
// as a library, so that the test can import the bundle, and serves it in dev mode).
import { defineConfig } from 'vite';
import ligature from 'ligature/vite';

export default defineConfig({
  plugins: [ligature({ timeoutMs: 10_000 })],
  logLevel: 'warn',
  build: {
    lib: { entry: 'src/main.js', formats: ['es'], fileName: 'main' },
    minify: false,
  },
});
