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
  // ligature loads its build with a dynamic import: workers must be ES modules.
  worker: { format: 'es' },
});
