// The extension builds as package.json says: `npm run build` bundles src/extension.ts with
// esbuild into dist/extension.js (CommonJS, `vscode` left to the host, the language client
// inside), and `npm run check` type-checks it against @types/vscode with tsc.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { EXTENSION_DIR } from './tokenize.mjs';

const manifest = JSON.parse(readFileSync(path.join(EXTENSION_DIR, 'package.json'), 'utf8'));
const bin = (name) => path.join(EXTENSION_DIR, 'node_modules', '.bin', name);
/** A package.json script's command, run with the package's own binaries (as `npm run` would). */
function runScript(name) {
  const [tool, ...args] = manifest.scripts[name].split(' ');
  return execFileSync(bin(tool), args, { cwd: EXTENSION_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('the bundle builds, with vscode external and the language client inside', () => {
  runScript('build');
  const bundle = readFileSync(path.join(EXTENSION_DIR, manifest.main), 'utf8');
  const required = new Set([...bundle.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]));
  assert.ok(required.has('vscode'), 'the bundle does not require vscode');
  const packages = [...required].filter((name) => !name.startsWith('node:') && !builtinModules.includes(name));
  assert.deepEqual(packages, ['vscode'], 'the bundle requires packages it should contain');
  assert.match(bundle, /LanguageClient/);
  assert.match(bundle, /module\.exports = __toCommonJS\(extension_exports\)/);
  assert.match(bundle, /activate: \(\) => activate/);
  assert.match(bundle, /deactivate: \(\) => deactivate/);
});

test('the sources type-check against @types/vscode', () => {
  runScript('check');
});

test('the manifest: language, grammar, configuration and activation', () => {
  const [language] = manifest.contributes.languages;
  assert.deepEqual([language.id, language.extensions], ['ligature', ['.lig']]);
  const [grammar] = manifest.contributes.grammars;
  assert.deepEqual([grammar.language, grammar.scopeName], ['ligature', 'source.ligature']);
  const grammarFile = JSON.parse(readFileSync(path.join(EXTENSION_DIR, grammar.path), 'utf8'));
  assert.equal(grammarFile.scopeName, grammar.scopeName);
  const languageConfig = JSON.parse(readFileSync(path.join(EXTENSION_DIR, language.configuration), 'utf8'));
  assert.deepEqual(languageConfig.comments, { lineComment: '//', blockComment: ['/*', '*/'] });
  // VS Code compiles these as JavaScript regular expressions.
  const word = new RegExp(`^(?:${languageConfig.wordPattern})$`);
  for (const text of ["'key", '_port', 'DB_URL', '2.5e-3']) assert.match(text, word);
  const increase = new RegExp(languageConfig.indentationRules.increaseIndentPattern);
  const decrease = new RegExp(languageConfig.indentationRules.decreaseIndentPattern);
  for (const line of ['let r = {', "typeclass Render 'a where", 'let f = \\x ->', 'Some v => -- note']) assert.match(line, increase);
  for (const line of ['let r = 1;', 'Dev => 1,', 'let x = 1 in']) assert.doesNotMatch(line, increase);
  assert.match('  };', decrease);
  const setting = manifest.contributes.configuration.properties['ligature.server.path'];
  assert.equal(setting.default, 'ligature');
  assert.deepEqual(manifest.activationEvents, ['onLanguage:ligature']);
  // vsce refuses a package whose @types/vscode is newer than the engine it declares.
  assert.equal(manifest.engines.vscode, `^${manifest.devDependencies['@types/vscode']}`);
});
