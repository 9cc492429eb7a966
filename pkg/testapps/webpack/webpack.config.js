import { fileURLToPath } from 'node:url';

// webpack 5 bundles the worker (`new Worker(new URL(…, import.meta.url))`) and emits the
// .wasm files the glue points to (`new URL('…_bg.wasm', import.meta.url)`) as assets.
export default {
  entry: './src/main.js',
  // `--output-path dist-dev` for the development build (dev.html).
  output: {
    path: fileURLToPath(new URL('dist', import.meta.url)),
    clean: true,
  },
  // The .wasm files are megabytes by nature: size hints for the JavaScript only.
  performance: { assetFilter: (file) => !file.endsWith('.wasm') },
};
