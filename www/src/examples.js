// The examples of the `examples` menu: the `.lig` files of www/examples, bundled as text by
// Vite. The small ones are in the page's script; the two big ones (examples/big, 350 KB) are
// separate chunks, fetched when chosen (and kept by the service worker with the rest).
// test/examples.test.js evaluates every one of them through the package, from the same
// table (workspaces.js).

import { EXAMPLES } from './workspaces.js';

const small = import.meta.glob(['../examples/**/*.{lig,json}', '!../examples/big/**'], { query: '?raw', import: 'default', eager: true });
const big = import.meta.glob('../examples/big/*.lig', { query: '?raw', import: 'default' });

async function text(path) {
  const key = `../examples/${path}`;
  return small[key] ?? big[key]();
}

/** The workspace of example `id`. */
export async function exampleWorkspace(id) {
  const example = EXAMPLES.find((it) => it.id === id);
  const files = {};
  for (const [path, source] of Object.entries(example.files)) files[path] = await text(source);
  return {
    files,
    selected: Object.keys(files)[0],
    format: 'json',
    mode: example.mode ?? 'eval',
    data: example.data === undefined ? '' : await text(example.data),
    dataFormat: 'json',
    typeName: example.typeName ?? '',
  };
}

export { EXAMPLES };
