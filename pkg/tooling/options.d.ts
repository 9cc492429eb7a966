// Types shared by `ligature/vite` and `ligature/esbuild`: their options. Structural only, so
// that neither `vite` nor `esbuild` (nor `@types/node`) is needed to type-check a config.

/** A path pattern: a RegExp, or a string the file's path must end with. */
export type PathPattern = RegExp | string;

export interface LigatureOptions {
  /** Which `.lig` files to compile (default: all). Globs are not supported. */
  include?: PathPattern | readonly PathPattern[];
  /** `.lig` files to leave alone, among the included ones. */
  exclude?: PathPattern | readonly PathPattern[];
  /**
   * Register roots for register imports other than `std`. Not supported yet: the wasm engine
   * resolves only the `std` register, and a non-empty value throws saying so.
   */
  registerPath?: string | readonly string[];
  /** Evaluation steps per file (`limits.maxSteps`; default 1e9). */
  maxSteps?: number;
  /** Wall-clock limit per file in milliseconds, imports' loading included (R3008 past it). */
  timeoutMs?: number;
  /**
   * Writes `FILE.lig.d.ts` beside each imported `.lig` file, from the package's
   * `toTypeScript`; throws "dts needs toTypeScript" when the installed package has none.
   */
  dts?: boolean;
  /**
   * The project root that relative imports must stay inside (LANGUAGE.md §9.6). Default:
   * Vite's `root`, esbuild's `absWorkingDir`, else the current directory.
   */
  root?: string;
}
