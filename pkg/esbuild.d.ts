// `ligature/esbuild`: an esbuild plugin that imports `.lig` files as their evaluated document.
// Typed structurally: the `esbuild` types are not needed.
import type { LigatureOptions } from './tooling/options.js';

export type { LigatureOptions, PathPattern } from './tooling/options.js';

/** The plugin object: assignable to esbuild's `Plugin`. */
export interface LigaturePlugin {
  name: 'ligature';
  setup(build: {
    initialOptions: { absWorkingDir?: string };
    resolve(path: string, options: object): Promise<{ path: string; errors: any[] }>;
    onResolve(options: { filter: RegExp; namespace?: string }, callback: (args: any) => any): void;
    onLoad(options: { filter: RegExp; namespace?: string }, callback: (args: any) => any): void;
  }): void;
}

/** `plugins: [ligature()]` in `esbuild.build(…)`. Throws on unknown options. */
export default function ligature(options?: LigatureOptions): LigaturePlugin;
export { ligature };
