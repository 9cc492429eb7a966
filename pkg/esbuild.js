// `ligature/esbuild`: an esbuild plugin. `import config from './app.lig'` is the file's
// document, evaluated at build time (tooling/compile.js has the module's shape). `onResolve`
// places `.lig` imports (relative to their importer) in the plugin's namespace, `onLoad`
// answers with the module as JS, `watchFiles` listing every `.lig` the import graph read (so
// `esbuild.context(…).watch()` rebuilds when an imported one changes), or with `errors`: the
// diagnostic's file, line, column and line text, and the rendered excerpt as a note.

import { dirname, isAbsolute, resolve } from 'node:path';

import { checkOptions, compileFile, writeDeclarations } from './tooling/compile.js';
import { fileFilter } from './tooling/filter.js';

/** @param {import('./esbuild.d.ts').LigatureOptions} [options] */
export default function ligature(options = {}) {
  const checked = checkOptions(options, 'ligature/esbuild');
  const accepts = fileFilter(checked);
  return {
    name: 'ligature',
    setup(build) {
      const root = checked.root ?? build.initialOptions.absWorkingDir ?? process.cwd();

      build.onResolve({ filter: /\.lig$/ }, async (args) => {
        if (args.pluginData?.ligatureResolving || (args.namespace !== 'file' && args.namespace !== 'ligature')) return undefined;
        let path;
        if (isAbsolute(args.path)) path = args.path;
        else if (/^\.\.?[/\\]/.test(args.path)) path = resolve(args.resolveDir || root, args.path);
        else {
          // A package's file (`some-package/config.lig`): esbuild's own resolution finds it.
          const found = await build.resolve(args.path, {
            kind: args.kind,
            importer: args.importer,
            resolveDir: args.resolveDir,
            pluginData: { ligatureResolving: true },
          });
          if (found.errors.length > 0) return { errors: found.errors };
          path = found.path;
        }
        if (!accepts(path)) return undefined;
        return { path, namespace: 'ligature' };
      });

      build.onLoad({ filter: /.*/, namespace: 'ligature' }, async (args) => {
        const result = await compileFile(args.path, { ...checked, root });
        // Missing files too: esbuild notices their creation.
        const watchFiles = [...result.watchFiles, ...result.missingFiles];
        if (!result.ok) return { errors: [message(result.error)], watchFiles };
        if (checked.dts) await writeDeclarations(args.path, result.declarations);
        return { contents: result.code, loader: 'js', resolveDir: dirname(args.path), watchFiles, warnings: result.warnings.map(message) };
      });
    },
  };
}

/** A placed diagnostic (tooling/compile.js) as an esbuild message. */
function message(placed) {
  return {
    text: placed.message.split('\n', 1)[0],
    location: {
      file: placed.file,
      line: placed.line,
      // esbuild's columns count from 0, in UTF-8 bytes.
      column: Buffer.byteLength(placed.lineText.slice(0, placed.utf16Column - 1)),
      lineText: placed.lineText,
    },
    notes: [{ text: placed.rendered }],
    detail: placed,
  };
}

export { ligature };
