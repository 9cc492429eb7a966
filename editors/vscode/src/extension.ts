// The Ligature extension: the grammar and language configuration are declared in package.json;
// this file starts `ligature lsp` through the official language client and restarts it when
// `ligature.server.path` changes.

import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions } from 'vscode-languageclient/node';
import { serverOptions } from './server';

let client: LanguageClient | undefined;
let watcher: vscode.FileSystemWatcher | undefined;
/** One output channel for every client a restart makes, instead of a new one each time. */
let output: vscode.LogOutputChannel | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // Imports read other files, registers read their manifests, remote imports the lock file.
  watcher = vscode.workspace.createFileSystemWatcher('**/{*.lig,register.toml,ligature.lock}');
  output = vscode.window.createOutputChannel('Ligature', { log: true });
  context.subscriptions.push(
    watcher,
    output,
    vscode.commands.registerCommand('ligature.restartServer', () => restart()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('ligature.server.path')) void restart();
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

async function start(): Promise<void> {
  const settings = vscode.workspace.getConfiguration('ligature');
  const options = serverOptions({
    path: settings.get<string>('server.path'),
    workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
  });
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'ligature' },
      { scheme: 'untitled', language: 'ligature' },
    ],
    synchronize: { fileEvents: watcher },
    outputChannel: output,
  };
  client = new LanguageClient('ligature', 'Ligature', options, clientOptions);
  try {
    await client.start();
  } catch (error) {
    const command = 'run' in options && 'command' in options.run ? options.run.command : 'ligature';
    void vscode.window.showErrorMessage(
      `Ligature: could not start \`${command} lsp\` (${String(error)}). Set "ligature.server.path" to the ligature executable.`,
    );
  }
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running?.isRunning()) await running.stop();
}

async function restart(): Promise<void> {
  await stop();
  await start();
}
