// The TextMate grammar through vscode-textmate and Oniguruma, the engine VS Code runs it on:
// the whole corpus without the tokenizer losing its place, every token class on a sample, and
// every reserved word of LANGUAGE.md 2.4 highlighted as a keyword.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadGrammar, REPO_DIR, tokenize } from './tokenize.mjs';

const grammar = await loadGrammar();

/** Every `.lig` file under a directory of the repository, recursively, sorted. */
function ligFiles(dir) {
  const root = path.join(REPO_DIR, dir);
  return readdirSync(root, { recursive: true })
    .filter((name) => name.endsWith('.lig') && !name.split(path.sep).includes('node_modules'))
    .map((name) => path.join(dir, name))
    .sort();
}

/** The fixtures, the examples, the standard library and the npm package's test apps. */
const CORPUS = ['tests/fixtures', 'examples', 'www/examples', 'src/std', 'pkg/testapps'].flatMap(ligFiles);

/**
 * The lexical state at the end of each line by LANGUAGE.md 2.2 and 2.5, the reference the
 * grammar is held to: 'code', 'string' (inside a literal; escapes skip one character, line
 * breaks included) or 'comment' (inside `/* ... *\/`, which does not nest).
 */
function lineEndStates(source) {
  const states = [];
  let state = 'code';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '\n') {
      states.push(state);
      continue;
    }
    if (state === 'string') {
      if (c === '\\') {
        if (next === '\n') states.push(state);
        i++;
      } else if (c === '"') state = 'code';
    } else if (state === 'comment') {
      if (c === '*' && next === '/') {
        state = 'code';
        i++;
      }
    } else if (c === '"') state = 'string';
    else if (c === '/' && next === '*') {
      state = 'comment';
      i++;
    } else if ((c === '/' && next === '/') || (c === '-' && next === '-')) {
      while (i + 1 < source.length && source[i + 1] !== '\n') i++;
    }
  }
  states.push(state);
  return states;
}

/** The grammar's state at a line's end, from the scopes the next line would open in. */
function grammarState(scopes) {
  if (scopes.some((s) => s.startsWith('string.'))) return 'string';
  if (scopes.some((s) => s.startsWith('comment.'))) return 'comment';
  return 'code';
}

/** Files that are meant not to parse: their declarations may never reach a `;`. */
const MALFORMED = /^tests\/fixtures\/(syntax\/err|errors\/E1)/;

test('the corpus is there', () => {
  assert.ok(CORPUS.length > 200, `only ${CORPUS.length} .lig files found under ${REPO_DIR}`);
});

for (const file of CORPUS) {
  test(`tokenizes ${file}`, () => {
    const source = readFileSync(path.join(REPO_DIR, file), 'utf8');
    const res = tokenize(grammar, source);
    assert.equal(res.stoppedEarly, false, 'the tokenizer hit its time limit');
    const expected = lineEndStates(source);
    res.lines.forEach((line, idx) => {
      assert.equal(
        grammarState(line.after),
        expected[idx],
        `line ${idx + 1} ends in the wrong state (scopes: ${line.after.join(' ') || 'root'}):\n${line.line}`,
      );
    });
    if (!MALFORMED.test(file)) {
      assert.deepEqual(res.lines.at(-1).after, [], 'the file ends inside a region');
    }
  });
}

// The sample: every token class of LANGUAGE.md 2, in the contexts where the grammar scopes them
// differently. Each expectation names a line, a token's text (its nth occurrence on the line) and
// the innermost scope it must have.
const SAMPLE = String.raw`module Sample;
import std.core as core;
import "./net/ports" { https, Port as P };
import { a, b as c } from std.collections;
export { base, Env };
// a line comment
-- another line comment
/* a block comment
   over two lines */ let afterComment = 1;
type Env = Dev | Staging | Prod;
type Check 'a = Pass | Fail { reason: String, value: 'a };
type Port = Integer where x >= 1 && x <= 65535;
type Slug = String with pattern("[a-z]+|-") with >= "a";
typeclass Render 'a where
    superclass Show 'a;
    render : 'a -> String;
instance Render 'a => Render (List 'a) where
    render = \xs -> "[" ++ core.join ";" xs ++ "]";
export let base = { type = "web", port = 8080, ratio = 0.25, big = 2.5e-3, tiny = 1e6 };
let rec pow2 : Integer -> Integer = \n -> if n == 0 then 1 else 2 * pow2 (n - 1);
let s = "tab\there \"quoted\" caf\u{e9} \\ \d";
let f = \(p : Port) _ -> match Some p { Some v when v > 0 => v % 2, _ => -1 };
let r = { ...base, port = base.port + 1 } in r.type != "x" && !false || true;
let bad = 12px;
let c = 5 --2 is a comment, not a subtraction
let d = "// not a comment" ++ "/* nor this" /* inline */ + 2;
`;

const EXPECT = [
  // keywords
  [1, 'module', 'keyword.control.import.ligature'],
  [1, 'Sample', 'entity.name.namespace.ligature'],
  [2, 'import', 'keyword.control.import.ligature'],
  [2, 'core', 'entity.name.namespace.ligature'],
  [2, 'as', 'keyword.control.import.ligature'],
  [2, 'core', 'entity.name.namespace.ligature', 1],
  [3, '"', 'punctuation.definition.string.begin.ligature'],
  [3, 'https', 'variable.other.ligature'],
  [3, 'Port', 'entity.name.type.ligature'],
  [4, 'from', 'keyword.control.import.ligature'],
  [4, 'collections', 'entity.name.namespace.ligature'],
  [5, 'export', 'keyword.control.import.ligature'],
  [5, 'Env', 'entity.name.type.ligature'],
  // comments
  [6, '//', 'punctuation.definition.comment.ligature'],
  [6, ' a line comment', 'comment.line.double-slash.ligature'],
  [7, '--', 'punctuation.definition.comment.ligature'],
  [7, ' another line comment', 'comment.line.double-dash.ligature'],
  [8, '/*', 'punctuation.definition.comment.begin.ligature'],
  [8, ' a block comment', 'comment.block.ligature'],
  [9, '   over two lines ', 'comment.block.ligature'],
  [9, '*/', 'punctuation.definition.comment.end.ligature'],
  [9, 'let', 'keyword.other.let.ligature'],
  [9, 'afterComment', 'entity.name.variable.ligature'],
  // types, constructors, classes
  [10, 'type', 'keyword.other.declaration.ligature'],
  [10, 'Env', 'entity.name.type.ligature'],
  [10, 'Dev', 'entity.name.type.constructor.ligature'],
  [10, 'Prod', 'entity.name.type.constructor.ligature'],
  [10, '|', 'keyword.operator.union.ligature'],
  [11, "'a", 'variable.parameter.type.ligature'],
  [11, 'Fail', 'entity.name.type.constructor.ligature'],
  [11, 'reason', 'variable.other.property.ligature'],
  [11, 'String', 'entity.name.type.ligature'],
  [12, 'Integer', 'entity.name.type.ligature'],
  [12, 'where', 'keyword.other.refinement.ligature'],
  [12, '>=', 'keyword.operator.comparison.ligature'],
  [12, '&&', 'keyword.operator.logical.ligature'],
  [13, 'with', 'keyword.other.refinement.ligature'],
  [13, 'pattern', 'support.function.constraint.ligature'],
  [13, 'String', 'entity.name.type.ligature'],
  [13, '[a-z]+|-', 'string.quoted.double.ligature'],
  [14, 'typeclass', 'keyword.other.declaration.ligature'],
  [14, 'Render', 'entity.name.type.class.ligature'],
  [15, 'superclass', 'keyword.other.declaration.ligature'],
  [15, 'Show', 'entity.name.type.ligature'],
  [16, 'render', 'entity.name.function.ligature'],
  [16, '->', 'keyword.operator.arrow.ligature'],
  [17, 'instance', 'keyword.other.declaration.ligature'],
  [17, '=>', 'keyword.operator.arrow.ligature'],
  [17, 'List', 'entity.name.type.ligature'],
  [17, 'where', 'keyword.other.refinement.ligature'],
  [18, 'render', 'variable.other.property.ligature'],
  [18, '\\', 'keyword.operator.lambda.ligature'],
  [18, 'xs', 'variable.parameter.ligature'],
  [18, '++', 'keyword.operator.concat.ligature'],
  [18, 'join', 'variable.other.property.ligature'],
  // fields (keywords included), numbers
  [19, 'export', 'keyword.control.import.ligature'],
  [19, 'base', 'entity.name.variable.ligature'],
  [19, 'type', 'variable.other.property.ligature'],
  [19, '8080', 'constant.numeric.integer.ligature'],
  [19, '0.25', 'constant.numeric.float.ligature'],
  [19, '2.5e-3', 'constant.numeric.float.ligature'],
  [19, '1e6', 'constant.numeric.float.ligature'],
  [20, 'rec', 'keyword.other.let.ligature'],
  [20, 'pow2', 'entity.name.variable.ligature'],
  [20, 'Integer', 'entity.name.type.ligature'],
  [20, 'if', 'keyword.control.conditional.ligature'],
  [20, 'then', 'keyword.control.conditional.ligature'],
  [20, 'else', 'keyword.control.conditional.ligature'],
  [20, '*', 'keyword.operator.arithmetic.ligature'],
  [20, '-', 'keyword.operator.arithmetic.ligature'],
  // strings and escapes
  [21, '\\t', 'constant.character.escape.ligature'],
  [21, '\\"', 'constant.character.escape.ligature'],
  [21, '\\u{e9}', 'constant.character.escape.ligature'],
  [21, '\\\\', 'constant.character.escape.ligature'],
  [21, '\\d', 'invalid.illegal.escape.ligature'],
  [21, 'here ', 'string.quoted.double.ligature'],
  // lambdas, patterns, match
  [22, 'p', 'variable.parameter.ligature'],
  [22, 'Port', 'entity.name.type.ligature'],
  [22, '_', 'variable.language.wildcard.ligature'],
  [22, 'match', 'keyword.control.match.ligature'],
  [22, 'Some', 'entity.name.type.constructor.ligature'],
  [22, 'when', 'keyword.control.match.ligature'],
  [22, '%', 'keyword.operator.arithmetic.ligature'],
  [22, '>', 'keyword.operator.comparison.ligature'],
  [23, '...', 'keyword.operator.spread.ligature'],
  [23, 'in', 'keyword.other.let.ligature'],
  [23, 'type', 'variable.other.property.ligature'],
  [23, '!=', 'keyword.operator.comparison.ligature'],
  [23, '!', 'keyword.operator.logical.ligature'],
  [23, '||', 'keyword.operator.logical.ligature'],
  [23, 'false', 'constant.language.boolean.ligature'],
  [23, 'true', 'constant.language.boolean.ligature'],
  [24, '12px', 'invalid.illegal.number.ligature'],
  [25, '--', 'punctuation.definition.comment.ligature'],
  [25, '2 is a comment, not a subtraction', 'comment.line.double-dash.ligature'],
  [26, '// not a comment', 'string.quoted.double.ligature'],
  [26, '/* nor this', 'string.quoted.double.ligature'],
  [26, ' inline ', 'comment.block.ligature'],
  [26, '+', 'keyword.operator.arithmetic.ligature'],
  [26, '2', 'constant.numeric.integer.ligature'],
];

test('the sample: every token class has its scope', () => {
  const res = tokenize(grammar, SAMPLE);
  assert.equal(res.stoppedEarly, false);
  const failures = [];
  for (const [lineNo, text, scope, nth = 0] of EXPECT) {
    const tokens = res.lines[lineNo - 1].tokens.filter((t) => t.text === text);
    const token = tokens[nth];
    if (!token) {
      failures.push(`line ${lineNo}: no token ${JSON.stringify(text)} (#${nth}) in ${JSON.stringify(res.lines[lineNo - 1].tokens.map((t) => t.text))}`);
    } else if (token.scopes.at(-1) !== scope) {
      failures.push(`line ${lineNo}: ${JSON.stringify(text)} is ${token.scopes.join(' ')}, expected ${scope}`);
    }
  }
  assert.deepEqual(failures, []);
  // Each line of the sample closes what it opens, but for the block comment's first line.
  res.lines.forEach((line, idx) => {
    assert.deepEqual(line.after, idx === 7 ? ['comment.block.ligature'] : [], `line ${idx + 1} ends in a region`);
  });
});

/** LANGUAGE.md 2.4's reserved words, read from the specification beside the repository. */
function specKeywords() {
  const spec = readFileSync(path.join(REPO_DIR, '..', 'shared', 'LANGUAGE.md'), 'utf8');
  const section = spec.slice(spec.indexOf('### 2.4 Keywords'));
  const block = section.match(/```text\n([\s\S]*?)```/);
  assert.ok(block, 'LANGUAGE.md 2.4 has no ```text block of keywords');
  return block[1].split(/\s+/).filter(Boolean);
}

test('every reserved word of LANGUAGE.md 2.4 is highlighted as a keyword', () => {
  const keywords = specKeywords();
  assert.ok(keywords.length >= 20, `read only ${keywords.length} keywords`);
  for (const word of keywords) {
    // Alone on a line, inside an expression, and not as part of a longer identifier.
    for (const [line, text] of [[word, word], [`let v = f ${word} y;`, word]]) {
      const token = tokenize(grammar, line).lines[0].tokens.find((t) => t.text === text);
      const scope = token?.scopes.at(-1) ?? '(no token)';
      const ok = ['true', 'false'].includes(word) ? scope === 'constant.language.boolean.ligature' : scope.startsWith('keyword.');
      assert.ok(ok, `${JSON.stringify(word)} in ${JSON.stringify(line)} is ${scope}`);
    }
    const longer = tokenize(grammar, `let v = ${word}ish;`).lines[0].tokens.find((t) => t.text.includes(`${word}ish`));
    assert.ok(longer && !longer.scopes.some((s) => s.startsWith('keyword.')), `${word}ish is highlighted as a keyword`);
  }
});
