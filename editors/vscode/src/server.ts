// How the extension starts `ligature lsp`: a pure function of the settings, with no `vscode`
// import, so that `test/server.test.mjs` can check it in plain Node.

import * as path from 'node:path';
import type { Executable, ServerOptions } from 'vscode-languageclient/node';

/** What `serverOptions` reads: the `ligature.server.path` setting and the first workspace folder. */
export interface ServerConfig {
  /** `ligature.server.path`: a command name looked up on `PATH`, or a path to the executable. */
  path?: string;
  /** The first workspace folder's file system path, for a relative `ligature.server.path` and the working directory. */
  workspaceFolder?: string;
}

/** The executable the setting names: empty means `ligature`; a relative path with a slash is taken from the workspace folder. */
export function serverCommand(config: ServerConfig): string {
  const setting = (config.path ?? '').trim();
  if (setting === '') return 'ligature';
  const home = process.env.HOME;
  if (home && (setting === '~' || setting.startsWith('~/'))) return path.join(home, setting.slice(1));
  if (config.workspaceFolder && !path.isAbsolute(setting) && /[\\/]/.test(setting)) {
    return path.resolve(config.workspaceFolder, setting);
  }
  return setting;
}

/**
 * The language client's server options: `<ligature.server.path> lsp`, spoken to over the child's
 * standard input and output. `transport` is left out on purpose: for an executable,
 * vscode-languageclient spawns the command with stdio streams when it is undefined, while
 * `TransportKind.stdio` would append `--stdio` to the arguments.
 */
export function serverOptions(config: ServerConfig): ServerOptions {
  const run: Executable = { command: serverCommand(config), args: ['lsp'] };
  if (config.workspaceFolder) run.options = { cwd: config.workspaceFolder };
  return { run, debug: run };
}
