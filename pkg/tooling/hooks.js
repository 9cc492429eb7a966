// Node's module customization hooks for `.lig` files (registered by ../register.js; they run
// on Node's hooks thread). `resolve` marks a `.lig` file URL with the format `ligature`;
// `load` compiles it (./compile.js) into an ES module, relative imports read from disk with
// the current directory as the project root. A file with errors fails the import with an
// Error whose message is the placed, rendered diagnostic; the module emits its warnings as
// process warnings when it is evaluated.
import { fileURLToPath } from 'node:url';

import { compileFile } from './compile.js';

const isLig = (url) => url.startsWith('file:') && /\.lig$/.test(new URL(url).pathname);

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  return isLig(resolved.url) ? { ...resolved, format: 'ligature', shortCircuit: true } : resolved;
}

export async function load(url, context, nextLoad) {
  if (context.format !== 'ligature' && !isLig(url)) return nextLoad(url, context);
  const result = await compileFile(fileURLToPath(url));
  if (!result.ok) {
    const error = new Error(result.error.message);
    error.code = 'ERR_LIGATURE';
    Object.assign(error, { file: result.error.file, line: result.error.line, column: result.error.column });
    throw error;
  }
  // Warnings are emitted by the module itself, on the main thread when it is evaluated: one
  // emitted here, on the hooks thread, could be lost when the program exits first.
  const warn = result.warnings.map(
    (warning) => `process.emitWarning(${JSON.stringify(`${warning.message}\n${warning.rendered}`)}, 'LigatureWarning');\n`,
  );
  return { format: 'module', source: `${warn.join('')}${result.code}`, shortCircuit: true };
}
