// `ligature/vite`: a Vite plugin, and a Rollup plugin (it uses only Rollup's hooks plus Vite's
// `configResolved` and `handleHotUpdate`, which Rollup ignores). `import config from
// './app.lig'` is the file's document, evaluated at build time (tooling/compile.js has the
// module's shape). A diagnostic fails the build through `this.error`, placed, with the
// rendered excerpt as its frame (Vite's dev error overlay shows both). Every `.lig` file the
// import graph read is added with `this.addWatchFile`: Rollup's and Vite's watch modes rebuild
// when one changes, and Vite's dev server links it to its importer in the module graph, which
// `handleHotUpdate` invalidates too, so that editing an imported `.lig` updates the importer.

import { resolve } from 'node:path';

import { checkOptions, compileFile, writeDeclarations } from './tooling/compile.js';
import { fileFilter } from './tooling/filter.js';

/** @param {import('./vite.d.ts').LigatureOptions} [options] */
export default function ligature(options = {}) {
  const checked = checkOptions(options, 'ligature/vite');
  const accepts = fileFilter(checked);
  let root = checked.root ?? process.cwd();
  /** Dependency file → the `.lig` modules (ids) whose import graph read it, for handleHotUpdate. */
  const importers = new Map();

  return {
    name: 'ligature',

    configResolved(config) {
      if (checked.root === undefined) root = config.root;
    },

    async transform(source, id) {
      const [file, query = ''] = id.split('?', 2);
      // `?raw`, `?url` and workers are Vite's own business, as for its JSON plugin.
      if (!accepts(file) || /(?:^|&)(?:raw|url|worker|sharedworker)\b/.test(query)) return null;
      const result = await compileFile(file, { ...checked, source, root });
      for (const ids of importers.values()) ids.delete(id);
      for (const watched of result.watchFiles) {
        if (watched !== file) this.addWatchFile(watched);
        if (!importers.has(watched)) importers.set(watched, new Set());
        importers.get(watched).add(id);
      }
      if (!result.ok) {
        const { error } = result;
        this.error({
          message: error.message.split('\n', 1)[0],
          id: error.file,
          // 1-based, in UTF-16 code units: the column the rendered excerpt shows, which Vite's
          // overlay prints beside the file and opens the editor at (docs/spec-notes.md).
          loc: { file: error.file, line: error.line, column: error.utf16Column },
          frame: error.rendered,
        });
      }
      if (checked.dts) await writeDeclarations(file, result.declarations);
      return { code: result.code, map: { mappings: '' } };
    },

    handleHotUpdate(ctx) {
      const ids = importers.get(resolve(ctx.file));
      if (ids === undefined) return undefined;
      const modules = new Set(ctx.modules);
      for (const id of ids) {
        for (const module of ctx.server.moduleGraph.getModulesByFile(id.split('?', 1)[0]) ?? []) {
          ctx.server.moduleGraph.invalidateModule(module);
          modules.add(module);
        }
      }
      return [...modules];
    },
  };
}

export { ligature };
