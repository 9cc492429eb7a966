// The grammar through the engine VS Code itself uses: vscode-textmate over the Oniguruma regex
// library compiled to wasm (vscode-oniguruma's onig.wasm), loaded once per test process.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const textmate = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

export const EXTENSION_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = path.resolve(EXTENSION_DIR, '..', '..');
const GRAMMAR = path.join(EXTENSION_DIR, 'syntaxes', 'ligature.tmLanguage.json');

let loading;

/** The Ligature grammar, loaded as VS Code loads it (JSON through `parseRawGrammar`). */
export function loadGrammar() {
  loading ??= (async () => {
    const wasm = await readFile(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new textmate.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
        createOnigString: (text) => new oniguruma.OnigString(text),
      }),
      loadGrammar: async (scopeName) => {
        if (scopeName !== 'source.ligature') return null;
        return textmate.parseRawGrammar(await readFile(GRAMMAR, 'utf8'), GRAMMAR);
      },
    });
    return registry.loadGrammar('source.ligature');
  })();
  return loading;
}

export const INITIAL = textmate.INITIAL;

/**
 * VS Code's `editor.maxTokenizationLineLength` default: it leaves longer lines untokenized. The
 * tests tokenize them anyway, without the per-line time limit (a generated fixture has a line of
 * 277,794 characters that takes seconds).
 */
export const MAX_TOKENIZED_LINE = 20_000;

/**
 * Every line's tokens as `{ text, scopes }` (scopes without the root `source.ligature`), and for
 * each line the scopes a next line would start in (`after`); `stoppedEarly` if any line hit the
 * time limit.
 */
export function tokenize(grammar, source, { timeLimit = 1000 } = {}) {
  const lines = source.split(/\r?\n/);
  let state = INITIAL;
  const res = [];
  let stoppedEarly = false;
  for (const line of lines) {
    const out = grammar.tokenizeLine(line, state, line.length > MAX_TOKENIZED_LINE ? 0 : timeLimit);
    stoppedEarly ||= out.stoppedEarly;
    state = out.ruleStack;
    const tokens = out.tokens.map((t) => ({
      text: line.slice(t.startIndex, t.endIndex),
      scopes: t.scopes.slice(1),
    }));
    res.push({ line, tokens, after: openScopes(grammar, state), depth: state.depth });
  }
  return { lines: res, stoppedEarly, state };
}

/** The scopes a line starting in `state` begins with: those of an empty line's one token. */
export function openScopes(grammar, state) {
  return grammar.tokenizeLine('', state).tokens[0].scopes.slice(1);
}
