// The examples of the `examples` menu: the `.lig` files of www/examples (bundled as text by
// Vite) and the two generated ones (src/generate.js). test/examples.test.js evaluates every
// one of them through the package, from the same table (workspaces.js).

import { computeConfig, largeConfig } from './generate.js';
import { EXAMPLES } from './workspaces.js';

const texts = import.meta.glob('../examples/**/*.{lig,json}', { query: '?raw', import: 'default', eager: true });
const generated = { large: largeConfig, compute: computeConfig };

/** The workspace of example `id`. */
export function exampleWorkspace(id) {
  const example = EXAMPLES.find((it) => it.id === id);
  const files = {};
  for (const [path, source] of Object.entries(example.files)) {
    files[path] = typeof source === 'string' ? texts[`../examples/${source}`] : generated[source.generate]();
  }
  return {
    files,
    selected: Object.keys(files)[0],
    format: 'json',
    mode: example.mode ?? 'eval',
    data: example.data === undefined ? '' : texts[`../examples/${example.data}`],
    dataFormat: 'json',
    typeName: example.typeName ?? '',
  };
}

export { EXAMPLES };
