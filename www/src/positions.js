import { isMap, isScalar, isSeq, parseDocument } from 'yaml';

// Positions between the engine and the editors. The engine's diagnostics give a 1-based line,
// a 1-based UTF-16 column (`utf16Column`) and byte offsets (`start`..`end`); CodeMirror wants
// UTF-16 offsets into its document. The output-to-source and violation helpers map what the
// user clicks to keys and JSON paths.

/** The UTF-16 offsets `{ from, to }` in `doc` (a CodeMirror Text) of a diagnostic. */
export function byteRangeToOffsets(doc, d) {
  if (!(d.line >= 1) || d.line > doc.lines) return { from: 0, to: 0 };
  const line = doc.line(d.line);
  const from = Math.min(line.from + Math.max(0, (d.utf16Column ?? 1) - 1), doc.length);
  // The span's length is in UTF-8 bytes: walk the document's characters until they add up.
  let bytes = Math.max(0, (d.end ?? 0) - (d.start ?? 0));
  const text = doc.sliceString(from, Math.min(doc.length, from + bytes));
  let to = from;
  for (const char of text) {
    if (bytes <= 0) break;
    const code = char.codePointAt(0);
    bytes -= code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    to += char.length;
  }
  return { from, to };
}

/** `$.services[3].port` or `$["a key"][0]` → `['services', 3, 'port']`; undefined if it is not one. */
export function parseJsonPath(path) {
  if (!path.startsWith('$')) return undefined;
  const keys = [];
  const step = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  step.lastIndex = 1;
  while (step.lastIndex < path.length) {
    const match = step.exec(path);
    if (!match) return undefined;
    if (match[1] !== undefined) keys.push(match[1]);
    else if (match[2] !== undefined) keys.push(Number(match[2]));
    else keys.push(JSON.parse(match[3]));
  }
  return keys;
}

const TOP_LEVEL_KEY = {
  json: /^ {2}("(?:[^"\\]|\\.)*"):/,
  yaml: /^("(?:[^"\\]|\\.)*"|'[^']*'|[^\s#:'"-][^:]*):(?:\s|$)/,
  toml: /^(?:\[\[?)?("(?:[^"\\]|\\.)*"|[A-Za-z0-9_-]+)/,
};

/** The top-level key of the output `text` (in `format`) whose entry holds `offset`. */
export function topLevelKeyAt(text, offset, format) {
  const pattern = TOP_LEVEL_KEY[format];
  if (pattern === undefined) return undefined;
  const lines = text.slice(0, text.indexOf('\n', offset) === -1 ? text.length : text.indexOf('\n', offset)).split('\n');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const match = pattern.exec(lines[i]);
    if (!match) continue;
    const key = match[1];
    if (key.startsWith('"')) return JSON.parse(key);
    if (key.startsWith("'")) return key.slice(1, -1);
    return key.trim();
  }
  return undefined;
}

/**
 * The document path (keys and indexes, as `locate` takes it) of the place at `offset` in
 * the rendered output `text`: JSON and YAML are parsed (JSON is YAML) and walked down to the
 * innermost entry or element on the clicked line; TOML gives its top-level key only.
 */
export function documentPathAt(text, offset, format) {
  if (format === 'toml') {
    const key = topLevelKeyAt(text, offset, format);
    return key === undefined ? [] : [key];
  }
  const doc = parseDocument(text, { keepSourceTokens: false, uniqueKeys: false });
  if (doc.errors.length > 0) return [];
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const lineEnd = text.indexOf('\n', offset) === -1 ? text.length : text.indexOf('\n', offset);
  // Inside a node, or (for a click in the indentation or after a comma) starting on its line.
  const holds = (node) => node?.range !== undefined
    && ((node.range[0] <= offset && offset < node.range[1]) || (node.range[0] >= lineStart && node.range[0] <= lineEnd));
  const path = [];
  let node = doc.contents;
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((it) => holds(it.key) || (holds(it.value) && it.value.range[0] <= offset));
      if (pair === undefined) break;
      path.push(isScalar(pair.key) ? String(pair.key.value) : String(pair.key));
      if (holds(pair.key) && !(pair.value?.range?.[0] <= offset)) break;
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((it) => holds(it));
      if (index === -1) break;
      path.push(index);
      node = node.items[index];
    } else {
      break;
    }
  }
  return path;
}

/** The range of the top-level `let` declaring `name` in `source` (from `let` to its `;`). */
export function declarationOf(source, name) {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^[ \\t]*(?:export[ \\t]+)?let[ \\t]+(?:rec[ \\t]+)?${escaped}\\b`, 'm').exec(source);
  if (!match) return undefined;
  const from = match.index + match[0].length - match[0].trimStart().length;
  const end = /;[ \t]*(?:\/\/.*)?$/m.exec(source.slice(match.index));
  return { from, to: end ? match.index + end.index + 1 : match.index + match[0].length };
}
