// One `.lig` file as an ES module, for the bundler plugins (`ligature/vite`, `ligature/esbuild`)
// and the Node hooks (`ligature/register`): the file is evaluated at build time by the Node
// build (`../node.js`), its imports read from disk through `loadModule`, and the answer is
// `{ ok: true, code, watchFiles }` or `{ ok: false, error, watchFiles }`, where `error` says
// where (absolute file, 1-based line and column, the line's text) and carries the rendered
// excerpt. Each host turns that into its own shapes (Rollup's `this.error`, esbuild's
// `errors`, a thrown Error in Node).
//
// The module's exports (docs/spec-notes.md, "`.lig` files as ES modules"):
// - `default` is the document (LANGUAGE.md §11.1) as JSON data;
// - a named export for each top-level value binding whose value is data (function-typed and
//   overloaded bindings, which have no JSON value, are left out, as in §11.1) and whose name
//   is a JS identifier that is not a reserved word. When the document is the file's record
//   of exported bindings (the file has no trailing expression), the named exports are exactly
//   that record's fields and share their values with `default`; a file with a trailing
//   expression exports each data binding as `ligature eval --field NAME` selects it (§11.2).
//
// Paths: the engine's file system is a map of keys (relative `/`-separated paths). A file
// inside the project root (Vite's `root`, esbuild's working directory, Node's current
// directory) gets the key of its path relative to that root, so its relative imports may
// reach any file of the project and no further (§9.6: the host sets the project root); a
// file outside it is keyed from its own directory, which is then its root (the CLI's rule).

import { readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

import * as engine from '../node.js';

/** Words a named export may not be (ES2015+ reserved words, strict-mode ones, and `default`). */
const RESERVED = new Set(
  ('break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval')
    .split(' '),
);

/** Whether `name` can be a named export: a JS identifier (Ligature's are ASCII) and not reserved. */
export function isExportName(name) {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) && !RESERVED.has(name);
}

/**
 * Whether a printed type scheme (`typecheck`'s `types[].type`) is data: not overloaded (no
 * `C 'a =>` constraint) and not a function (no `->` outside brackets).
 */
export function isDataScheme(scheme) {
  let depth = 0;
  for (let i = 0; i < scheme.length; i += 1) {
    const c = scheme[i];
    if (c === '(' || c === '{' || c === '[') depth += 1;
    else if (c === ')' || c === '}' || c === ']') depth -= 1;
    else if (depth === 0 && (scheme.startsWith('->', i) || scheme.startsWith('=>', i))) return false;
  }
  return true;
}

/** The host's options, checked once (a typo throws when the plugin is made, not per file). */
export function checkOptions(options = {}, where = 'ligature') {
  const known = ['include', 'exclude', 'registerPath', 'maxSteps', 'timeoutMs', 'dts', 'root'];
  for (const key of Object.keys(options ?? {})) {
    if (!known.includes(key)) throw new TypeError(`${where}: unknown option \`${key}\` (known: ${known.join(', ')})`);
  }
  const { registerPath, maxSteps, timeoutMs } = options ?? {};
  const paths = registerPath === undefined ? [] : [registerPath].flat();
  if (!paths.every((it) => typeof it === 'string' && it.length > 0)) {
    throw new TypeError(`${where}: registerPath must be a directory or a list of directories, got ${JSON.stringify(registerPath)}`);
  }
  if (maxSteps !== undefined && !(Number.isInteger(maxSteps) && maxSteps >= 0)) {
    throw new TypeError(`${where}: maxSteps must be a non-negative integer, got ${maxSteps}`);
  }
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) {
    throw new TypeError(`${where}: timeoutMs must be a non-negative number, got ${timeoutMs}`);
  }
  return options ?? {};
}

/** Key → text of the `.lig` files and manifests under the register roots (keys from `base`). */
async function registerFiles(base, roots) {
  const out = {};
  for (const root of roots) {
    let names;
    try {
      names = await readdir(resolve(base, root), { recursive: true });
    } catch (error) {
      if (error?.code === 'ENOENT' || error?.code === 'ENOTDIR') continue;
      throw error;
    }
    for (const name of names.sort()) {
      if (!name.endsWith('.lig') && !name.endsWith('register.toml')) continue;
      const key = `${root === '.' ? '' : `${root}/`}${name.split(sep).join('/')}`;
      out[key] = await readFile(resolve(base, key), 'utf8');
    }
  }
  return out;
}

/** The key (engine path) of an absolute file, and the directory keys are relative to. */
function placeOf(file, root) {
  const inside = relative(root, file);
  const base = inside.startsWith('..') || isAbsolute(inside) ? dirname(file) : root;
  return { base, key: relative(base, file).split(sep).join('/') };
}

/**
 * Compiles the `.lig` file `file` (absolute) into an ES module. `source`: its text if the
 * host already read it. `root`: the project root (default the working directory).
 * Resolves to `{ ok: true, code, value, names, declarations, warnings, watchFiles, missingFiles, files }`
 * or `{ ok: false, error, watchFiles, missingFiles }`; `watchFiles` are the absolute paths of
 * every file of the import graph that was read (the file itself first), `missingFiles` those
 * an import looked for and did not find (creating one changes what the import names);
 * `warnings` are placed like `error`. A failing read of an import (other than a missing
 * file) is a usage error, placed at the file itself; only a failing read of the file itself
 * rejects.
 */
export async function compileFile(file, { source, root = process.cwd(), maxSteps, timeoutMs, dts, registerPath } = {}) {
  const { base, key } = placeOf(resolve(file), resolve(root));
  // Register roots (the CLI's --register-path), relative to the project root, as keys of
  // the engine's file map. The loader finds a register by its directory, which loadModule
  // (files only) cannot answer: the registers' files are read up front and all watched.
  const registerRoots = [registerPath ?? []].flat().map((dir) => relative(base, resolve(root, dir)).split(sep).join('/') || '.');
  const registered = await registerFiles(base, registerRoots);
  const text = source ?? (await readFile(file, 'utf8'));
  /** Key → text of every file read (the entry included): the import graph. */
  const files = { [key]: text };
  /** Keys the loader looked for and did not find (`./lib` tries lib.lig, then lib/mod.lig). */
  const missing = new Set();
  const loadModule = async (path) => {
    try {
      const found = await readFile(resolve(base, path), 'utf8');
      files[path] = found;
      return found;
    } catch (error) {
      if (error?.code === 'ENOENT' || error?.code === 'ENOTDIR' || error?.code === 'EISDIR') {
        missing.add(path);
        return null;
      }
      throw error;
    }
  };
  const absolute = (path) => resolve(base, path);
  const watchFiles = () => [...Object.keys(files), ...Object.keys(registered)].map(absolute);
  const missingFiles = () => [...missing].map(absolute);
  const limits = maxSteps === undefined ? undefined : { maxSteps };
  const started = Date.now();
  const remaining = () => (timeoutMs === undefined ? undefined : Math.max(0, timeoutMs - (Date.now() - started)));
  const failure = (result) => ({ ok: false, error: describe(result, files, absolute, file), watchFiles: watchFiles(), missingFiles: missingFiles() });

  // One session for the document, the checker's bindings and the `field` selections: the
  // later calls reuse the values the first computed (the session's caches).
  const session = new engine.Session({ limits, registerRoots, files: registered });
  try {
    const evaluated = await session.evaluate(text, { entry: key, loadModule, timeoutMs: remaining() });
    if (!evaluated.ok) return failure(evaluated);
    const value = evaluated.value;
    for (const [path, contents] of Object.entries(files)) session.setFile(path, contents);
    const checked = session.typecheck(null, { entry: key, timeoutMs: remaining() });
    if (!checked.ok) return failure(checked);
    const fields = new Map();
    for (const { name, type } of checked.types) {
      if (!isDataScheme(type)) continue;
      const selected = session.evaluate(null, { entry: key, field: name, timeoutMs: remaining() });
      // R3009: a function behind a type alias (`let f : Handler = …`) has no data either.
      if (!selected.ok && selected.diagnostics.length > 0 && selected.diagnostics.every((it) => it.code === 'R3009')) continue;
      if (!selected.ok) return failure(selected);
      fields.set(name, selected.text);
    }
    // The document is the record of the file's exported data bindings (§11.1) exactly when
    // the file has no trailing expression; then the named exports are that record's fields.
    const fromDocument = isRecordOf(value, evaluated.text, fields);
    const names = (fromDocument ? Object.keys(value) : [...fields.keys()]).filter(isExportName);
    const code = moduleCode(evaluated.text, names, fromDocument ? null : fields);
    let declarations;
    if (dts) {
      const typed = await engine.toTypeScript(text, { entry: key, files: { ...registered, ...files }, registerRoots });
      if (!typed.ok) return failure(typed);
      declarations = typed.typescript;
    }
    // Warnings (T2013, a `match` missing a case) never stop a run (§1.1); the hosts show them.
    const warnings = evaluated.diagnostics.filter((it) => it.severity === 'warning').map((it) => place(it, files, absolute));
    return { ok: true, code, value, names, declarations, warnings, watchFiles: watchFiles(), missingFiles: missingFiles(), files };
  } finally {
    session.free();
  }
}

/**
 * Whether the document (`value`, rendered as `text`) is the record of the file's bindings:
 * an object whose keys are some of the data bindings (`fields`: name → JSON), in their order, each with the value that
 * selecting it gives (a trailing record of other values fails the comparison).
 */
function isRecordOf(value, text, fields) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const candidates = [...fields.keys()];
  const keys = Object.keys(value);
  let at = 0;
  for (const key of keys) {
    at = candidates.indexOf(key, at);
    if (at < 0) return false;
    at += 1;
  }
  // Compare each field as JSON data (both sides parsed the same way).
  const document = JSON.parse(text);
  return keys.every((key) => JSON.stringify(JSON.parse(fields.get(key))) === JSON.stringify(document[key]));
}

/**
 * The ES module: the document as default export, then the named exports. The module's own
 * variable is `$document`: `$` is not in Ligature identifiers, so no binding can clash.
 */
function moduleCode(documentText, names, fields) {
  const lines = [`const $document = ${literal(documentText)};`, 'export default $document;'];
  for (const name of names) {
    lines.push(fields === null ? `export const ${name} = $document[${JSON.stringify(name)}];` : `export const ${name} = ${literal(fields.get(name))};`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A JSON text as a JS expression. Short texts as literals; long ones through `JSON.parse`,
 * which engines parse faster than an object literal (as Vite's JSON plugin does), and so
 * is a text with a `__proto__` field, which a literal would take for the prototype.
 */
function literal(text) {
  const compact = JSON.stringify(JSON.parse(text));
  return compact.length > 10_000 || compact.includes('"__proto__":') ? `JSON.parse(${JSON.stringify(compact)})` : compact;
}

/**
 * The first error of a failed result, placed (see `place`), with every diagnostic of the
 * result rendered in `rendered`. A usage error (a failing read, bad options) has no place
 * but the file itself.
 */
function describe(result, files, absolute, entryFile) {
  const diagnostics = result.diagnostics ?? [];
  const first = diagnostics.find((it) => it.severity === 'error' || it.severity === 'bug') ?? diagnostics[0];
  if (first === undefined) {
    const message = `${entryFile}: ${result.error ?? 'the ligature engine failed without a diagnostic'}`;
    return { message, file: entryFile, line: 1, column: 1, utf16Column: 1, lineText: '', frame: '', rendered: message, code: null, diagnostics };
  }
  const placed = place(first, files, absolute);
  const rendered = diagnostics.map((it) => it.rendered.trimEnd()).join('\n\n');
  return { ...placed, message: `${placed.message}\n\n${rendered}`, rendered, diagnostics };
}

/**
 * One diagnostic, placed: `{ message, file, line, column, utf16Column, lineText, frame,
 * rendered, code, diagnostics }`: `file` absolute when it is a file of the graph, line and
 * columns 1-based, `message` the header line (`file:line:column: error[CODE]: …`), `frame`
 * and `rendered` the excerpt as the CLI prints it.
 */
function place(diagnostic, files, absolute) {
  const inGraph = Object.hasOwn(files, diagnostic.file);
  const file = inGraph ? absolute(diagnostic.file) : diagnostic.file;
  const lineText = inGraph ? (files[diagnostic.file].split(/\r?\n/)[diagnostic.line - 1] ?? '') : '';
  const frame = diagnostic.rendered.trimEnd();
  return {
    message: `${file}:${diagnostic.line}:${diagnostic.column}: ${diagnostic.severity}[${diagnostic.code}]: ${diagnostic.message}`,
    file,
    line: diagnostic.line,
    column: diagnostic.column,
    utf16Column: diagnostic.utf16Column,
    lineText,
    frame,
    rendered: frame,
    code: diagnostic.code,
    diagnostics: [diagnostic],
  };
}

/**
 * Writes `FILE.lig.d.ts` (the `dts` option), unless it already says the same: rewriting an
 * unchanged file would wake watchers for nothing.
 */
export async function writeDeclarations(file, declarations) {
  const path = `${file}.d.ts`;
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old !== declarations) await writeFile(path, declarations);
}
