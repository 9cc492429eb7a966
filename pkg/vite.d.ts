// `ligature/vite`: a Vite (and Rollup) plugin that imports `.lig` files as their evaluated
// document. Typed structurally: `vite` and `rollup` types are not needed.
import type { LigatureOptions } from './tooling/options.js';

export type { LigatureOptions, PathPattern } from './tooling/options.js';

/** What the plugin uses of a Vite module graph. */
export interface ModuleGraphLike {
  getModulesByFile(file: string): Set<any> | undefined;
  invalidateModule(module: any): void;
}

/** The plugin object: assignable to Vite's `Plugin` and Rollup's `Plugin`. */
export interface LigaturePlugin {
  name: 'ligature';
  configResolved(config: { root: string; command: string }): void;
  transform(
    this: {
      addWatchFile(id: string): void;
      warn(warning: { message: string; id?: string; loc?: { file?: string; line: number; column: number }; frame?: string }): void;
      error(error: { message: string; id?: string; loc?: { file?: string; line: number; column: number }; frame?: string }): never;
    },
    code: string,
    id: string,
  ): Promise<{ code: string; map: { mappings: '' } } | null>;
  hotUpdate(
    this: { environment: { moduleGraph: ModuleGraphLike } },
    options: { type: 'create' | 'update' | 'delete'; file: string; modules: readonly any[] },
  ): any[] | undefined;
  handleHotUpdate(ctx: { file: string; modules: readonly any[]; server: { moduleGraph: ModuleGraphLike } }): any[] | undefined;
}

/** `plugins: [ligature()]` in vite.config.js (or a Rollup config). Throws on unknown options. */
export default function ligature(options?: LigatureOptions): LigaturePlugin;
export { ligature };
