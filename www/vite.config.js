// The playground's build: static files in dist/ that any host serves. Served with these two
// headers (`make playground`, the tests), the page is cross-origin isolated and the engine
// runs the threaded build; without them, the same files run the single-threaded one.
import { defineConfig } from 'vite';

const headers = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  server: { headers },
  preview: { headers },
  // Served as published: pre-bundling would move the package's glue away from its .wasm files.
  optimizeDeps: { exclude: ['ligature'] },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2048 },
});
