// Ligature's highlighting for CodeMirror 6: a StreamLanguage over the lexical grammar of
// LANGUAGE.md §2 (comments `//`, `--`, `/* */`; strings spanning lines with escapes; numbers;
// the reserved words of §2.4; upper identifiers name types and constructors; `'a` type
// variables), and the colours as CSS variables so that light and dark follow the page.

import { HighlightStyle, StreamLanguage, syntaxHighlighting } from '@codemirror/language';
import { tags } from '@lezer/highlight';

/** LANGUAGE.md §2.4. */
export const KEYWORDS = new Set([
  'as', 'else', 'export', 'false', 'from', 'if', 'import', 'in', 'instance', 'let', 'match', 'module',
  'rec', 'superclass', 'then', 'true', 'type', 'typeclass', 'when', 'where', 'with',
]);
const ATOMS = new Set(['true', 'false']);
const DEFINERS = new Set(['let', 'rec', 'type', 'typeclass']);

const ligature = StreamLanguage.define({
  name: 'ligature',
  startState: () => ({ inBlockComment: false, inString: false, afterDefiner: false }),
  token(stream, state) {
    if (state.inBlockComment) {
      if (stream.skipTo('*/')) {
        stream.pos += 2;
        state.inBlockComment = false;
      } else {
        stream.skipToEnd();
      }
      return 'blockComment';
    }
    if (state.inString) return string(stream, state);
    if (stream.eatSpace()) return null;
    if (stream.match('//') || stream.match('--')) {
      stream.skipToEnd();
      return 'lineComment';
    }
    if (stream.match('/*')) {
      state.inBlockComment = true;
      return 'blockComment';
    }
    if (stream.eat('"')) {
      state.inString = true;
      return string(stream, state);
    }
    if (stream.match(/^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/)) return 'number';
    if (stream.match(/^'[A-Za-z_][A-Za-z0-9_]*/)) return 'typeName';
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/);
    if (word) {
      const text = word[0];
      const definer = state.afterDefiner;
      state.afterDefiner = DEFINERS.has(text);
      if (ATOMS.has(text)) return 'bool';
      if (KEYWORDS.has(text)) return 'keyword';
      if (/^[A-Z]/.test(text)) return 'typeName';
      return definer ? 'def' : 'variableName';
    }
    state.afterDefiner = false;
    if (stream.match(/^(\.\.\.|\.\.|->|=>|==|!=|<=|>=|&&|\|\||\+\+|[+\-*/%<>!=|\\])/)) return 'operator';
    stream.next();
    return 'punctuation';
  },
  languageData: { commentTokens: { line: '//', block: { open: '/*', close: '*/' } } },
});

function string(stream, state) {
  while (!stream.eol()) {
    const ch = stream.next();
    if (ch === '\\') stream.next();
    else if (ch === '"') {
      state.inString = false;
      return 'string';
    }
  }
  return 'string';
}

const style = HighlightStyle.define([
  { tag: tags.keyword, color: 'var(--hl-keyword)', fontWeight: '600' },
  { tag: [tags.lineComment, tags.blockComment], color: 'var(--hl-comment)', fontStyle: 'italic' },
  { tag: tags.string, color: 'var(--hl-string)' },
  { tag: [tags.number, tags.bool], color: 'var(--hl-number)' },
  { tag: tags.typeName, color: 'var(--hl-type)' },
  { tag: tags.definition(tags.variableName), color: 'var(--hl-definition)', fontWeight: '600' },
  { tag: tags.operator, color: 'var(--hl-operator)' },
]);

/** The editor extension: the language and its colours. */
export function ligatureLanguage() {
  return [ligature, syntaxHighlighting(style)];
}
