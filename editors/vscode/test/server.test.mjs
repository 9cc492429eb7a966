// How the extension starts the language server: `serverOptions` (src/server.ts, bundled here
// by esbuild as the extension is) gives `<ligature.server.path> lsp` on stdio, and a process
// started from those options the way vscode-languageclient starts an executable answers an
// LSP `initialize` through vscode-jsonrpc, the client's own transport.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { EXTENSION_DIR } from './tokenize.mjs';

const require = createRequire(import.meta.url);
const esbuild = require('esbuild');

const temp = mkdtempSync(path.join(tmpdir(), 'ligature-vscode-'));
after(() => rmSync(temp, { recursive: true, force: true }));

const bundled = await esbuild.build({
  entryPoints: [path.join(EXTENSION_DIR, 'src', 'server.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  write: false,
  logLevel: 'silent',
});
const modulePath = path.join(temp, 'server.mjs');
writeFileSync(modulePath, bundled.outputFiles[0].text);
const { serverOptions, serverCommand } = await import(pathToFileURL(modulePath).href);

test('server.ts imports nothing at run time but Node built-ins', () => {
  const imports = [...bundled.outputFiles[0].text.matchAll(/^import .* from "([^"]+)"/gm)].map((m) => m[1]);
  assert.deepEqual(imports.filter((name) => !name.startsWith('node:')), []);
});

test('the default: `ligature lsp` on stdio', () => {
  const options = serverOptions({});
  assert.deepEqual(options.run, { command: 'ligature', args: ['lsp'] });
  assert.equal(options.debug, options.run);
  // No `transport`: with TransportKind.stdio the client would append `--stdio` to the arguments.
  assert.equal('transport' in options.run, false);
});

test('ligature.server.path', () => {
  assert.equal(serverCommand({ path: '/opt/ligature/bin/ligature' }), '/opt/ligature/bin/ligature');
  assert.equal(serverCommand({ path: '  ' }), 'ligature');
  assert.equal(serverCommand({ path: 'ligature-nightly', workspaceFolder: '/w' }), 'ligature-nightly');
  assert.equal(serverCommand({ path: 'target/release/ligature', workspaceFolder: '/w' }), '/w/target/release/ligature');
  assert.equal(serverCommand({ path: './ligature', workspaceFolder: '/w' }), '/w/ligature');
  assert.equal(serverCommand({ path: '~/bin/ligature' }), path.join(process.env.HOME ?? '', 'bin/ligature'));
  const options = serverOptions({ path: 'target/release/ligature', workspaceFolder: '/w' });
  assert.deepEqual(options.run, { command: '/w/target/release/ligature', args: ['lsp'], options: { cwd: '/w' } });
});

test('a server started from the options answers initialize over stdio', async () => {
  const fake = path.join(EXTENSION_DIR, 'test', 'fake-server.mjs');
  const { run } = serverOptions({ path: fake, workspaceFolder: temp });
  // What vscode-languageclient/node does for an executable without a transport.
  const child = spawn(run.command, run.args ?? [], { ...run.options, cwd: run.options?.cwd });
  const rpc = require(require.resolve('vscode-jsonrpc/node', { paths: [require.resolve('vscode-languageclient/node')] }));
  const connection = rpc.createMessageConnection(new rpc.StreamMessageReader(child.stdout), new rpc.StreamMessageWriter(child.stdin));
  connection.listen();
  try {
    const result = await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
    assert.deepEqual(result.serverInfo, { name: 'fake', version: 'lsp' });
    assert.equal(result.capabilities.hoverProvider, true);
    await connection.sendRequest('shutdown');
    const exited = new Promise((resolve) => child.on('exit', resolve));
    await connection.sendNotification('exit');
    assert.equal(await exited, 0);
  } finally {
    connection.dispose();
    child.kill();
  }
});
