import { defineConfig } from 'vite';

// Threads need a cross-origin-isolated page: these two headers, in dev and in preview.
const headers = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  server: { headers },
  preview: { headers },
  // Served as published: pre-bundling would move the glue away from its .wasm files.
  optimizeDeps: { exclude: ['ligature'] },
  // ES module workers (the app's own worker imports ligature).
  worker: { format: 'es' },
  // bench.html: the page benches/worker_bench.mjs times (make bench-wasm).
  build: { rolldownOptions: { input: { main: 'index.html', bench: 'bench.html' } } },
});
