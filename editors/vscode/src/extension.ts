// The Ligature extension: the grammar and language configuration are declared in package.json;
// this file starts `ligature lsp` through the official language client and restarts it when
// `ligature.server.path` changes.

import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions } from 'vscode-languageclient/node';
import { serverOptions } from './server';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
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
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/*.lig') },
  };
  client = new LanguageClient('ligature', 'Ligature', options, clientOptions);
  try {
    await client.start();
  } catch (error) {
    const command = 'run' in options ? options.run : undefined;
    const name = command && 'command' in command ? command.command : 'ligature';
    void vscode.window.showErrorMessage(
      `Ligature: could not start \`${name} lsp\` (${String(error)}). Set "ligature.server.path" to the ligature executable.`,
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
