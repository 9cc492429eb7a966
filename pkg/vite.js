// `ligature/vite`: a Vite plugin, and a Rollup plugin (it uses only Rollup's hooks plus Vite's
// `configResolved`, `hotUpdate` and `handleHotUpdate`, which Rollup ignores). `import config from
// './app.lig'` is the file's document, evaluated at build time (tooling/compile.js has the
// module's shape). A diagnostic fails the build through `this.error`, placed, with the
// rendered excerpt as its frame (Vite's dev error overlay shows both). Every `.lig` file the
// import graph read is added with `this.addWatchFile`: Rollup's and Vite's watch modes rebuild
// when one changes, and Vite's dev server links it to its importer in the module graph, which
// `hotUpdate` (`handleHotUpdate` before Vite 6) invalidates too, so that editing an imported
// `.lig`, or creating a file an import looked for, updates the importer.

import { resolve } from 'node:path';

import { checkOptions, compileFile, writeDeclarations } from './tooling/compile.js';
import { fileFilter } from './tooling/filter.js';

/** @param {import('./vite.d.ts').LigatureOptions} [options] */
export default function ligature(options = {}) {
  const checked = checkOptions(options, 'ligature/vite');
  const accepts = fileFilter(checked);
  let root = checked.root ?? process.cwd();
  /** Vite's dev server, which watches the whole root itself (see `transform`). */
  let serving = false;
  /** File → the `.lig` modules (ids) whose import graph read or looked for it (hotUpdate). */
  const importers = new Map();

  /** The modules of `graph` whose import graph read (or looked for) `file`. */
  const ligModules = (graph, file) =>
    [...(importers.get(resolve(file)) ?? [])].flatMap((id) => [...(graph.getModulesByFile(id.split('?', 1)[0]) ?? [])]);

  return {
    name: 'ligature',

    configResolved(config) {
      if (checked.root === undefined) root = config.root;
      serving = config.command === 'serve';
    },

    async transform(source, id) {
      const [file, query = ''] = id.split('?', 2);
      // `?raw`, `?url` and workers are Vite's own business, as for its JSON plugin.
      if (!accepts(file) || /(?:^|&)(?:raw|url|worker|sharedworker)\b/.test(query)) return null;
      const result = await compileFile(file, { ...checked, source, root });
      for (const ids of importers.values()) ids.delete(id);
      for (const watched of result.watchFiles) {
        if (watched !== file) this.addWatchFile(watched);
      }
      // A file an import looked for and did not find: Rollup's watcher notices its creation;
      // the dev server would take it for a module to load, but it watches the root anyway and
      // hands the creation to hotUpdate, which finds the importer in `importers`.
      if (!serving) for (const missing of result.missingFiles) this.addWatchFile(missing);
      for (const watched of [...result.watchFiles, ...result.missingFiles]) {
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
      for (const warning of result.warnings) {
        this.warn({ message: warning.message, id: warning.file, loc: { file: warning.file, line: warning.line, column: warning.utf16Column }, frame: warning.frame });
      }
      if (checked.dts) await writeDeclarations(file, result.declarations);
      return { code: result.code, map: { mappings: '' } };
    },

    // Vite 6 and later, per environment and for every event: a file of some `.lig` module's
    // import graph changed, or a file its imports looked for was created or deleted. The
    // modules whose graph it is are invalidated (re-transformed on the next request) and
    // added to the update, which reaches their importers (a full reload unless one accepts).
    hotUpdate(options) {
      const graph = this.environment.moduleGraph;
      const affected = ligModules(graph, options.file);
      if (affected.length === 0) return undefined;
      for (const module of affected) graph.invalidateModule(module);
      return [...new Set([...options.modules, ...affected])];
    },

    // Vite 5 (Vite 6 and later call `hotUpdate` instead): changes only.
    handleHotUpdate(ctx) {
      const graph = ctx.server.moduleGraph;
      const affected = ligModules(graph, ctx.file);
      if (affected.length === 0) return undefined;
      for (const module of affected) graph.invalidateModule(module);
      return [...new Set([...ctx.modules, ...affected])];
    },
  };
}

export { ligature };
