// The playground page: CodeMirror editors on the left, the engine's answers on the right.
// The engine is the npm package's worker client (`ligature/worker`): one Worker running the
// threaded build when the page is cross-origin isolated, the single-threaded one otherwise,
// and one `Session` in it holding the workspace's files, so that an edit re-evaluates only
// what it changed. Every run takes an AbortSignal: a keystroke supersedes the running one,
// Stop ends it, and in the threaded build both go through the engine's cancel flag, so the
// worker and its caches survive.

import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { json } from '@codemirror/lang-json';
import { yaml } from '@codemirror/lang-yaml';
import { bracketMatching, indentOnInput } from '@codemirror/language';
import { lintGutter, lintKeymap, setDiagnostics } from '@codemirror/lint';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { Compartment, EditorSelection, EditorState } from '@codemirror/state';
import {
  EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, hoverTooltip, keymap, lineNumbers,
} from '@codemirror/view';
import packageJson from 'ligature/package.json';
import { createWorker } from 'ligature/worker';
import { parseDocument } from 'yaml';

import { EXAMPLES, exampleWorkspace } from './examples.js';
import { ligatureLanguage } from './language.js';
import { decodeWorkspace, encodeWorkspace } from './share.js';
import { byteRangeToOffsets, declarationOf, documentPathAt, parseJsonPath } from './positions.js';

export const ENGINE_VERSION = packageJson.version;
/** Milliseconds between the last keystroke and the run it starts. */
const DEBOUNCE_MS = 150;
const STORAGE_KEY = 'ligature-playground:workspace';
const FORMATS = ['json', 'yaml', 'toml', 'text', 'types'];

const $ = (selector) => document.querySelector(selector);
const ui = {
  examples: $('#examples'), status: $('#status'), stop: $('#stop'), run: $('#run'), share: $('#share'),
  formatSource: $('#format-source'),
  reproduce: $('#reproduce'), threads: $('#threads'), threadCount: $('#thread-count'), maxSteps: $('#max-steps'),
  timeoutMs: $('#timeout-ms'), stats: $('#stats'), linkLength: $('#link-length'), version: $('#version'),
  fileTabs: $('#file-tabs'), editor: $('#editor'), format: $('#format'), evalView: $('#eval-view'),
  validateView: $('#validate-view'), typePicker: $('#type-picker'), dataFormat: $('#data-format'),
  dataEditor: $('#data-editor'), output: $('#output'), diagnostics: $('#diagnostics'),
  dialog: $('#reproduce-dialog'), reproduceCli: $('#reproduce-cli'), reproduceNpm: $('#reproduce-npm'),
};

/** The workspace: what a link and localStorage keep. */
let workspace;
/** One EditorState per file (undo history and diagnostics stay with their file). */
const states = new Map();
/** What the engine's session holds: path → text. */
const synced = new Map();
let engine;
let session;
let controller;
let runId = 0;
let debounce;
let stoppedByUser = false;
/** The last successful run of the entry: its JSON value and its bindings' types (for hover). */
let last = { result: undefined, types: [], entry: undefined };
/** What the output pane shows per format, from the last run. */
let outputs = {};

// ---------------------------------------------------------------- editors

const language = new Compartment();

/** The editor's hover: a top-level name's inferred type and its value from the same run. */
const bindingHover = hoverTooltip(async (view, pos) => {
  if (workspace.selected !== entryPath()) return null;
  const word = view.state.wordAt(pos);
  if (!word) return null;
  const name = view.state.sliceDoc(word.from, word.to);
  // The types of the last run, asked for now if they are still waiting for an idle moment.
  await typesNow();
  const binding = last.types.find((it) => it.name === name);
  if (!binding) return null;
  return {
    pos: word.from,
    end: word.to,
    above: true,
    create() {
      const dom = document.createElement('div');
      dom.className = 'hover-type';
      dom.dataset.testid = 'hover';
      const type = document.createElement('div');
      type.textContent = `${name} : ${binding.type}`;
      dom.append(type);
      const document_ = last.result?.value;
      if (document_ !== null && typeof document_ === 'object' && Object.hasOwn(document_, name)) {
        const value = document.createElement('div');
        value.className = 'value';
        value.textContent = `= ${abbreviate(document_[name])}`;
        dom.append(value);
      }
      return { dom };
    },
  };
});

function abbreviate(value, max = 240) {
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function baseExtensions() {
  return [
    lineNumbers(), highlightActiveLineGutter(), history(), drawSelection(), indentOnInput(), bracketMatching(),
    highlightActiveLine(), highlightSelectionMatches(), lintGutter(),
    keymap.of([
      { key: 'Mod-Enter', run: () => { runNow(); return true; } },
      ...defaultKeymap, ...historyKeymap, ...searchKeymap, ...lintKeymap, indentWithTab,
    ]),
  ];
}

function sourceState(text) {
  return EditorState.create({
    doc: text,
    extensions: [
      baseExtensions(), ligatureLanguage(), bindingHover,
      EditorView.contentAttributes.of({ 'data-testid': 'editor', 'aria-label': 'Ligature source' }),
      EditorView.updateListener.of((update) => {
        if (!update.docChanged) return;
        workspace.files[workspace.selected] = update.state.doc.toString();
        if (workspace.mode === 'validate') refreshTypePicker();
        changed();
      }),
    ],
  });
}

const editor = new EditorView({ parent: ui.editor, state: EditorState.create({ doc: '' }) });

const dataEditor = new EditorView({
  parent: ui.dataEditor,
  state: EditorState.create({
    doc: '',
    extensions: [
      baseExtensions(), language.of(json()),
      EditorView.contentAttributes.of({ 'data-testid': 'data', 'aria-label': 'Data to validate' }),
      EditorView.updateListener.of((update) => {
        if (!update.docChanged) return;
        workspace.data = update.state.doc.toString();
        changed();
      }),
    ],
  }),
});

// ---------------------------------------------------------------- workspace

function entryPath() {
  return Object.hasOwn(workspace.files, 'main.lig') ? 'main.lig' : workspace.selected;
}

/** Replaces the whole workspace (an example, a link, the stored one). */
function loadWorkspace(next) {
  workspace = {
    files: { ...next.files },
    selected: Object.hasOwn(next.files, next.selected) ? next.selected : Object.keys(next.files)[0],
    format: FORMATS.includes(next.format) ? next.format : 'json',
    mode: next.mode === 'validate' ? 'validate' : 'eval',
    data: next.data ?? '',
    dataFormat: next.dataFormat === 'yaml' ? 'yaml' : 'json',
    typeName: next.typeName ?? '',
  };
  states.clear();
  for (const [path, text] of Object.entries(workspace.files)) states.set(path, sourceState(text));
  editor.setState(states.get(workspace.selected));
  dataEditor.dispatch({
    changes: { from: 0, to: dataEditor.state.doc.length, insert: workspace.data },
    effects: language.reconfigure(workspace.dataFormat === 'yaml' ? yaml() : json()),
  });
  last = { result: undefined, types: [], entry: undefined };
  outputs = {};
  renderChrome();
  changed({ now: true });
}

function selectFile(path) {
  if (path === workspace.selected) return;
  states.set(workspace.selected, editor.state);
  workspace.selected = path;
  editor.setState(states.get(path));
  renderFileTabs();
  save();
}

function addFile() {
  const path = prompt('Name of the new file', nextName());
  if (!path) return;
  const name = path.endsWith('.lig') ? path : `${path}.lig`;
  if (Object.hasOwn(workspace.files, name)) return;
  const module = name.slice(0, -4).replace(/[^A-Za-z0-9_]/g, '_');
  workspace.files[name] = `// ${name}: import it with \`import "./${name.slice(0, -4)}" as ${module};\`\nexport let hello = "from ${name}";\n`;
  states.set(name, sourceState(workspace.files[name]));
  selectFile(name);
  changed();
}

function nextName() {
  for (let i = 1; ; i += 1) if (!Object.hasOwn(workspace.files, `lib${i}.lig`)) return `lib${i}.lig`;
}

function renameFile(path) {
  const next = prompt(`Rename ${path} to`, path);
  if (!next || next === path) return;
  const name = next.endsWith('.lig') ? next : `${next}.lig`;
  if (Object.hasOwn(workspace.files, name)) return;
  const state = path === workspace.selected ? editor.state : states.get(path);
  const files = {};
  for (const [key, text] of Object.entries(workspace.files)) files[key === path ? name : key] = text;
  workspace.files = files;
  states.delete(path);
  states.set(name, state);
  if (workspace.selected === path) workspace.selected = name;
  renderFileTabs();
  changed();
}

function deleteFile(path) {
  if (Object.keys(workspace.files).length === 1) return;
  if (!confirm(`Delete ${path}?`)) return;
  delete workspace.files[path];
  states.delete(path);
  if (workspace.selected === path) {
    workspace.selected = Object.keys(workspace.files)[0];
    editor.setState(states.get(workspace.selected));
  }
  renderFileTabs();
  changed();
}

/** A file tab's small button: `data-<key>` holds the file's path (the tests find it so). */
function smallButton(text, title, key, path, onclick) {
  const button = document.createElement('button');
  button.className = 'small';
  button.textContent = text;
  button.title = title;
  button.dataset[key] = path;
  button.onclick = onclick;
  return button;
}

function renderFileTabs() {
  ui.fileTabs.replaceChildren();
  for (const path of Object.keys(workspace.files)) {
    const tab = document.createElement('span');
    tab.className = 'file';
    const open = document.createElement('button');
    open.textContent = path;
    open.dataset.file = path;
    open.className = path === workspace.selected ? 'active' : '';
    open.title = path === entryPath() ? 'The entry: the file evaluated' : 'A module of the workspace';
    open.onclick = () => selectFile(path);
    open.ondblclick = () => renameFile(path);
    const rename = smallButton('✎', `Rename ${path}`, 'rename', path, () => renameFile(path));
    const remove = smallButton('×', `Delete ${path}`, 'delete', path, () => deleteFile(path));
    tab.append(open, rename, remove);
    ui.fileTabs.append(tab);
  }
  const add = document.createElement('button');
  add.textContent = '+';
  add.title = 'Add a file';
  add.id = 'add-file';
  add.onclick = addFile;
  ui.fileTabs.append(add);
}

function renderChrome() {
  renderFileTabs();
  for (const button of ui.format.querySelectorAll('button')) button.classList.toggle('active', button.dataset.format === workspace.format);
  for (const radio of document.querySelectorAll('input[name=mode]')) radio.checked = radio.value === workspace.mode;
  ui.evalView.hidden = workspace.mode !== 'eval';
  ui.validateView.hidden = workspace.mode !== 'validate';
  ui.dataFormat.value = workspace.dataFormat;
  refreshTypePicker();
}

/** The types the schema file declares (the Validate mode's picker). */
function refreshTypePicker() {
  const source = workspace.files[entryPath()] ?? '';
  const names = [...source.matchAll(/^\s*(?:export\s+)?type\s+([A-Z][A-Za-z0-9_]*)/gm)].map((m) => m[1]);
  const current = [...ui.typePicker.options].map((o) => o.value);
  if (names.join() !== current.join()) {
    ui.typePicker.replaceChildren(...names.map((name) => new Option(name, name)));
  }
  if (names.includes(workspace.typeName)) ui.typePicker.value = workspace.typeName;
  else if (names.length > 0) {
    workspace.typeName = names[names.length - 1];
    ui.typePicker.value = workspace.typeName;
  }
}

function save() {
  const text = JSON.stringify(workspace);
  try {
    sessionStorage.setItem(STORAGE_KEY, text);
    localStorage.setItem(STORAGE_KEY, text);
  } catch {
    // Storage full or refused (a private window): the link still works.
  }
}

// ---------------------------------------------------------------- running

let saving;

function changed({ now = false } = {}) {
  clearTimeout(debounce);
  // Stored when the typing pauses: a 10,000-binding workspace is 300 KB to write.
  clearTimeout(saving);
  saving = setTimeout(save, 500);
  if (now) runNow();
  else debounce = setTimeout(runNow, DEBOUNCE_MS);
}

function runNow() {
  clearTimeout(debounce);
  run().catch((error) => {
    setStatus('error');
    ui.output.textContent = `internal error: ${error?.message ?? error}`;
  });
}

let finished = 0;

function setStatus(status) {
  ui.status.textContent = status;
  ui.status.className = `status ${status}`;
  // Tests wait for a run to end by this counter (the status alone may already say `ok`).
  if (status !== 'running') ui.status.dataset.finished = String((finished += 1));
}

function limits() {
  const maxSteps = Number(ui.maxSteps.value);
  const timeoutMs = Number(ui.timeoutMs.value);
  return {
    limits: Number.isSafeInteger(maxSteps) && maxSteps > 0 ? { maxSteps } : undefined,
    timeoutMs: Number.isSafeInteger(timeoutMs) && timeoutMs > 0 ? timeoutMs : undefined,
  };
}

/**
 * A new session with the current step limit. The limit is the session's own, not each
 * call's: a call given its own `limits` runs without the session's caches.
 */
function newSession() {
  session?.free();
  session = new engine.Session({ limits: limits().limits });
  sessionLimits = JSON.stringify(limits().limits);
  synced.clear();
}
let sessionLimits;

/**
 * Brings the session's files in line with the workspace's, but for `except`: the entry, whose
 * text each call of the run carries (`evaluate(source, { entry })`), so that an edit of the
 * entry costs one round trip to the worker, not two.
 */
async function syncFiles(except) {
  for (const path of [...synced.keys()]) {
    // (A call's source is the entry for that call only: no stale copy stays behind it.)
    if (!Object.hasOwn(workspace.files, path) || path === except) {
      synced.delete(path);
      await session.removeFile(path);
    }
  }
  for (const [path, text] of Object.entries(workspace.files)) {
    if (path === except) continue;
    if (synced.get(path) !== text) {
      synced.set(path, text);
      await session.setFile(path, text);
    }
  }
}

async function run() {
  if (session === undefined) return;
  const id = ++runId;
  const started = performance.now();
  controller?.abort();
  const signal = (controller = new AbortController()).signal;
  stoppedByUser = false;
  setStatus('running');
  ui.stop.disabled = false;
  if (JSON.stringify(limits().limits) !== sessionLimits) newSession();
  const entry = entryPath();
  const evaluating = workspace.mode === 'eval';
  await syncFiles(evaluating ? entry : undefined);
  if (id !== runId) return;
  const syncedAt = performance.now();
  const { timeoutMs } = limits();
  if (workspace.mode === 'validate') {
    await validate(id, entry, { timeoutMs, signal });
    return;
  }
  const source = workspace.files[entry];
  const result = await session.evaluate(source, { entry, format: 'json', timeoutMs, signal });
  if (id !== runId) return;
  const answered = performance.now();
  outputs = { json: result.ok ? result.text : null };
  // The JSON value is parsed on first read (a hover), not on every run.
  if (result.ok) last = { result, types: last.entry === entry ? last.types : [], entry };
  finish(result, performance.now() - started);
  // Where the time went: syncing files, the engine's round trip, the page's own work.
  Object.assign(ui.output.dataset, {
    syncMs: (syncedAt - started).toFixed(1), engineMs: (answered - syncedAt).toFixed(1), pageMs: (performance.now() - answered).toFixed(1),
  });
  // The other formats come from the same (cached) session, after the JSON is on screen.
  if (result.ok && workspace.format !== 'json' && workspace.format !== 'types') await renderFormat(id, entry, signal);
  if (id !== runId) return;
  // The types (the Types tab, the hover) only when shown or when the typing pauses: for the
  // 10,000-binding example the typecheck kept the worker busy for 25-35 ms after each result
  // (10,000 `{ name, type }` objects made in the worker and copied to the page), and the next
  // keystroke's run waited behind it.
  pendingTypes = { id, entry, source, signal, promise: undefined };
  if (workspace.format === 'types') await typesNow();
  else typesTimer = setTimeout(typesNow, TYPES_IDLE_MS);
  if (id === runId) ui.stop.disabled = true;
}

/** How long after a result, with no new run, the types are asked for. */
const TYPES_IDLE_MS = 400;
/** The typecheck owed to the last run: `{ id, entry, source, signal, promise }`. */
let pendingTypes;
let typesTimer;

/**
 * The last run's types: asked for once (now, if they were waiting for an idle moment);
 * resolves when they are in `last.types` and `outputs.types`, or the run is superseded.
 */
function typesNow() {
  clearTimeout(typesTimer);
  const owed = pendingTypes;
  if (owed === undefined || owed.id !== runId || session === undefined) return Promise.resolve();
  owed.promise ??= (async () => {
    const { timeoutMs } = limits();
    const checked = await session.typecheck(owed.source, { entry: owed.entry, timeoutMs, signal: owed.signal });
    if (owed.id !== runId) return;
    if (checked.types !== undefined && checked.ok) {
      last = { ...last, types: checked.types, entry: owed.entry };
      outputs.types = checked.types.map((it) => `${it.name} : ${it.type}`).join('\n');
      if (workspace.format === 'types') showOutput();
    }
  })().catch(() => {
    // The engine was replaced or ended meanwhile: the next run asks again.
  });
  return owed.promise;
}

async function renderFormat(id, entry, signal) {
  const format = workspace.format;
  if (outputs[format] !== undefined || format === 'types' || format === 'json') return;
  const { timeoutMs } = limits();
  const result = await session.evaluate(workspace.files[entry], { entry, format, timeoutMs, signal });
  if (id !== runId) return;
  outputs[format] = result.ok ? result.text : null;
  if (!result.ok) outputs[`${format}:error`] = result.diagnostics.map((d) => d.rendered).join('\n') || result.error;
  showOutput();
}

function finish(result, ms) {
  setStatus(result.ok ? 'ok' : 'error');
  // The first result's time since the navigation started (the benchmark reads it); then,
  // with the page on screen, the service worker that keeps it for offline use.
  if (ui.status.dataset.firstMs === undefined) {
    ui.status.dataset.firstMs = String(Math.round(performance.now()));
    keepOffline();
  }
  ui.output.dataset.ms = String(Math.round(ms * 10) / 10);
  showStats(result.stats);
  showDiagnostics(result.diagnostics ?? []);
  if (!result.ok) {
    const stopped = result.diagnostics?.some((d) => d.code === 'R3008');
    outputs.error = result.error ?? (stopped && stoppedByUser ? 'stopped (Stop): the engine and its caches stay warm' : result.diagnostics.map((d) => d.rendered).join('\n'));
  }
  showOutput();
}

function showOutput() {
  const format = workspace.format;
  const text = outputs.error ?? outputs[format] ?? outputs[`${format}:error`];
  setOutputText(text ?? '…');
  ui.output.dataset.format = format;
}

/** Lines per block of a long output. */
const CHUNK_LINES = 200;
/** The output pane's line height in px (style.css `.output`). */
const OUTPUT_LINE_PX = 18;

/** The blocks on screen, `{ node, text }` in order (empty when the pane holds plain text). */
let outputBlocks = [];

/**
 * The output text, a long one in blocks of CHUNK_LINES lines that Chromium lays out and paints
 * only near the viewport (`content-visibility: auto`, with their height estimated until then):
 * one <pre> text of the 10,000-binding example's 2 MB of JSON took 550-900 ms of layout in the
 * frame after each edit. A block whose text is unchanged keeps its node: an edit of one
 * binding rewrites one block of 50, not all of them (making them all anew cost 8-9 ms in the
 * page and 3-4 ms more of style and layout in the next frame). The pane's textContent stays
 * the whole text.
 */
function setOutputText(text) {
  const kept = outputBlocks.length > 0 && ui.output.childElementCount === outputBlocks.length
    && outputBlocks.every((it) => it.node.parentNode === ui.output);
  if (text.length < 64 * 1024) {
    outputBlocks = [];
    ui.output.textContent = text;
    return;
  }
  const previous = kept ? outputBlocks : [];
  const blocks = [];
  for (let start = 0; start < text.length;) {
    let end = start;
    let lines = 0;
    while (lines < CHUNK_LINES && end < text.length) {
      const newline = text.indexOf('\n', end);
      end = newline === -1 ? text.length : newline + 1;
      lines += 1;
    }
    const slice = text.slice(start, end);
    const old = previous[blocks.length];
    if (old !== undefined && old.text === slice) {
      blocks.push(old);
    } else {
      const node = old?.node ?? document.createElement('div');
      node.className = 'chunk';
      node.style.containIntrinsicBlockSize = `auto ${lines * OUTPUT_LINE_PX}px`;
      node.textContent = slice;
      blocks.push({ node, text: slice });
    }
    start = end;
  }
  if (kept) {
    for (const { node } of previous.slice(blocks.length)) node.remove();
    ui.output.append(...blocks.slice(previous.length).map((it) => it.node));
  } else {
    ui.output.replaceChildren(...blocks.map((it) => it.node));
  }
  outputBlocks = blocks;
}

function showStats(stats) {
  if (!stats) {
    ui.stats.textContent = '';
    return;
  }
  const phases = stats.phases.map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(' · ');
  const caches = stats.cache ? Object.values(stats.cache) : [];
  const hits = caches.reduce((sum, it) => sum + it.hits, 0);
  const lookups = caches.reduce((sum, it) => sum + it.hits + it.misses, 0);
  ui.stats.textContent = `${phases} ms · ${stats.steps.toLocaleString('en')} steps · ${stats.workers} worker${stats.workers === 1 ? '' : 's'} · reused ${stats.reused} · cache ${hits}/${lookups}`;
  Object.assign(ui.stats.dataset, { steps: stats.steps, reused: stats.reused, hits, workers: stats.workers });
}

// ---------------------------------------------------------------- diagnostics

/** Editor diagnostics of `file` from the engine's (spans in bytes, converted to UTF-16 offsets). */
function lintDiagnostics(state, file, diagnostics) {
  return diagnostics
    .filter((d) => d.file === file)
    .map((d) => {
      const { from, to } = byteRangeToOffsets(state.doc, d);
      return {
        from, to,
        severity: d.severity === 'warning' ? 'warning' : d.severity === 'note' ? 'info' : 'error',
        source: d.code,
        message: `${d.code} ${d.message}`,
        renderMessage() {
          const pre = document.createElement('pre');
          pre.textContent = d.rendered;
          return pre;
        },
      };
    });
}

/** Whether the editors and the list show no diagnostics (nothing to clear). */
let diagnosticsClear = false;

function showDiagnostics(diagnostics) {
  // No diagnostics after none: nothing to redo (a transaction on the 10,000-line editor and
  // a list rebuilt cost 2-3 ms of each clean edit).
  if (diagnostics.length === 0 && diagnosticsClear && ui.diagnostics.childElementCount === 0) return;
  diagnosticsClear = diagnostics.length === 0;
  for (const path of Object.keys(workspace.files)) {
    if (path === workspace.selected) {
      editor.dispatch(setDiagnostics(editor.state, lintDiagnostics(editor.state, path, diagnostics)));
    } else {
      const state = states.get(path);
      states.set(path, state.update(setDiagnostics(state, lintDiagnostics(state, path, diagnostics))).state);
    }
  }
  ui.diagnostics.replaceChildren(...diagnostics.map((d) => {
    const item = document.createElement('li');
    item.className = d.severity;
    item.title = d.rendered;
    const where = d.file ? `${d.file}:${d.line}:${d.column}` : '';
    item.innerHTML = '<span class="where"></span> <code></code> <span class="message"></span>';
    item.querySelector('.where').textContent = where;
    item.querySelector('code').textContent = d.code;
    item.querySelector('.message').textContent = d.message;
    item.onclick = () => jumpTo(d);
    return item;
  }));
}

function jumpTo(d) {
  if (d.file === 'data') {
    const range = dataRanges.get(d.path);
    if (range) {
      dataEditor.dispatch({ selection: EditorSelection.range(range.from, range.to), scrollIntoView: true });
      dataEditor.focus();
    }
    return;
  }
  if (!Object.hasOwn(workspace.files, d.file)) return;
  selectFile(d.file);
  const { from } = byteRangeToOffsets(editor.state.doc, d);
  editor.dispatch({ selection: EditorSelection.cursor(from), scrollIntoView: true });
  editor.focus();
}

// ---------------------------------------------------------------- validate

/** JSON path → range in the data pane, for the violations of the last validation. */
let dataRanges = new Map();

async function validate(id, entry, options) {
  const { timeoutMs, signal } = options;
  const typeName = workspace.typeName;
  if (!typeName) {
    setStatus('error');
    outputs = { error: 'Declare a type in the schema file (main.lig) to validate the data against it.' };
    showDiagnostics([]);
    showOutput();
    return;
  }
  const started = performance.now();
  const compiled = await session.compileSchema(workspace.files[entry], typeName, { entry, timeoutMs, signal });
  if (id !== runId) {
    if (compiled.ok) compiled.schema.free();
    return;
  }
  if (!compiled.ok) {
    outputs = {};
    finish(compiled, performance.now() - started);
    return;
  }
  const result = await compiled.schema.validate(workspace.data, { dataFormat: workspace.dataFormat, timeoutMs, signal });
  compiled.schema.free();
  if (id !== runId) return;
  ui.stop.disabled = true;
  const ms = performance.now() - started;
  ui.output.dataset.ms = String(Math.round(ms * 10) / 10);
  ui.stats.textContent = `compile and validate ${ms.toFixed(1)} ms (round trip)`;
  for (const key of ['steps', 'reused', 'hits', 'workers']) delete ui.stats.dataset[key];
  showDiagnostics(result.diagnostics ?? []);
  const errors = result.errors ?? [];
  dataRanges = locateViolations(errors);
  dataEditor.dispatch(setDiagnostics(dataEditor.state, errors.map((e) => {
    const range = dataRanges.get(e.path) ?? { from: 0, to: 0 };
    return { ...range, severity: 'error', source: e.code, message: `${e.path}: ${e.code} ${e.message}` };
  })));
  ui.diagnostics.append(...errors.map((e) => {
    const item = document.createElement('li');
    item.innerHTML = '<span class="violation-path"></span> <code></code> <span class="message"></span>';
    item.querySelector('.violation-path').textContent = e.path;
    item.querySelector('code').textContent = e.code;
    item.querySelector('.message').textContent = e.message;
    item.onclick = () => jumpTo({ file: 'data', path: e.path });
    return item;
  }));
  setStatus(result.ok ? 'ok' : 'error');
  outputs = {
    error: result.error
      ?? (result.ok
        ? `The data conforms to \`${typeName}\`.`
        : `${errors.length} violation${errors.length === 1 ? '' : 's'} of \`${typeName}\`:\n${errors.map((e) => `${e.path}: ${e.code} ${e.message}`).join('\n')}`),
  };
  showOutput();
}

/** Where each violation's JSON path is in the data pane (JSON is YAML: one parser for both). */
function locateViolations(errors) {
  const ranges = new Map();
  if (errors.length === 0) return ranges;
  const doc = parseDocument(workspace.data, { keepSourceTokens: false });
  for (const { path } of errors) {
    let keys = parseJsonPath(path);
    // A missing field: the closest node that exists.
    while (keys !== undefined) {
      const node = keys.length === 0 ? doc.contents : doc.getIn(keys, true);
      if (node?.range) {
        ranges.set(path, { from: node.range[0], to: node.range[1] });
        break;
      }
      if (keys.length === 0) break;
      keys = keys.slice(0, -1);
    }
  }
  return ranges;
}

// ---------------------------------------------------------------- output to source

ui.output.addEventListener('click', async () => {
  if (workspace.mode !== 'eval' || !['json', 'yaml', 'toml'].includes(workspace.format)) return;
  const selection = getSelection();
  if (!selection || selection.rangeCount === 0) return;
  const range = selection.getRangeAt(0);
  const before = document.createRange();
  before.setStart(ui.output, 0);
  before.setEnd(range.startContainer, range.startOffset);
  const offset = before.toString().length;
  const path = documentPathAt(ui.output.textContent, offset, workspace.format);
  if (path.length === 0) return;
  const entry = entryPath();
  const source = workspace.files[entry];
  // The engine follows the path through the entry file's syntax: a record field's expression,
  // a list element, a payload, through names and helper calls (`locate`). The binding's
  // declaration is the fallback when the engine is busy or gone.
  let found;
  try {
    found = await engine.locate(source, path);
  } catch {
    found = undefined;
  }
  if (workspace.files[entry] !== source) return;
  selectFile(entry);
  let target;
  if (found) {
    target = byteRangeToOffsets(editor.state.doc, found);
    ui.output.dataset.located = path.slice(0, found.matched).map(String).join('.');
  } else {
    target = declarationOf(source, String(path[0]));
    if (target === undefined) return;
    ui.output.dataset.located = String(path[0]);
  }
  editor.dispatch({ selection: EditorSelection.range(target.from, target.to), scrollIntoView: true });
  editor.focus();
});

// ---------------------------------------------------------------- engine

async function startEngine(threads) {
  runId += 1;
  controller?.abort();
  engine?.terminate();
  session = undefined;
  synced.clear();
  setStatus('running');
  ui.threads.textContent = 'starting…';
  engine = await createWorker(threads === undefined ? undefined : { threads });
  newSession();
  const threaded = engine.variant === 'web-threads';
  ui.threads.textContent = threaded ? `web-threads: ${engine.threads} threads` : 'single thread (web)';
  ui.threads.title = threaded
    ? 'The threaded build: the page is cross-origin isolated'
    : globalThis.crossOriginIsolated ? 'The single-threaded build (1 thread chosen)' : 'The single-threaded build: the page is not cross-origin isolated';
  Object.assign(ui.threads.dataset, { variant: engine.variant, threads: engine.threads });
  ui.threadCount.value = String(engine.threads);
  window.playground.engine = engine;
  runNow();
}

function setUpThreadControl() {
  const max = Math.max(2, navigator.hardwareConcurrency ?? 1);
  for (let n = 1; n <= max; n += 1) ui.threadCount.append(new Option(String(n), String(n)));
  ui.threadCount.disabled = !globalThis.crossOriginIsolated;
  ui.threadCount.title = globalThis.crossOriginIsolated
    ? 'Size of the worker\'s thread pool (the engine is made again)'
    : 'Threads need a cross-origin-isolated page (COOP/COEP headers)';
  ui.threadCount.onchange = () => startEngine(Number(ui.threadCount.value));
}

// ---------------------------------------------------------------- offline

/**
 * Registers dist/sw.js (built by vite.config.js; absent from the dev server), which caches
 * the page, its scripts and both wasm builds. `data-offline` on <html> says `ready` once
 * they are cached (tests wait for it), `unavailable` where there is no service worker
 * (a file:// page, an http:// host that is not localhost).
 */
async function keepOffline() {
  const root = document.documentElement;
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) {
    root.dataset.offline = 'unavailable';
    return;
  }
  try {
    await navigator.serviceWorker.register('./sw.js');
    await navigator.serviceWorker.ready;
    root.dataset.offline = 'ready';
    ui.version.title = 'Kept for offline use: the page opens without a network';
  } catch (error) {
    root.dataset.offline = 'unavailable';
    ui.version.title = `Not kept for offline use: ${error.message}`;
  }
}

// ---------------------------------------------------------------- share, reproduce

async function share() {
  const hash = await encodeWorkspace(workspace, ENGINE_VERSION);
  window.history.replaceState(null, '', hash);
  const link = location.href;
  ui.linkLength.textContent = `link: ${link.length.toLocaleString('en')} characters`;
  ui.linkLength.dataset.length = String(link.length);
  try {
    await navigator.clipboard.writeText(link);
  } catch {
    // No clipboard permission: the link is in the address bar.
  }
}

function shellQuote(text) {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function reproduce() {
  const entry = entryPath();
  const { limits: runLimits, timeoutMs } = limits();
  const lines = ['mkdir ligature-workspace && cd ligature-workspace'];
  for (const [path, text] of Object.entries(workspace.files)) lines.push(`cat > ${shellQuote(path)} <<'LIGATURE_EOF'\n${text.replace(/\n$/, '')}\nLIGATURE_EOF`);
  if (workspace.mode === 'validate') {
    const data = `data.${workspace.dataFormat}`;
    lines.push(`cat > ${data} <<'LIGATURE_EOF'\n${workspace.data.replace(/\n$/, '')}\nLIGATURE_EOF`);
    lines.push(`ligature validate ${data} --schema ${shellQuote(entry)} --type ${workspace.typeName}`);
  } else {
    const format = workspace.format === 'types' ? undefined : workspace.format;
    lines.push(workspace.format === 'types'
      ? `ligature typecheck ${shellQuote(entry)} --types`
      : `ligature eval ${shellQuote(entry)} --format ${format}${runLimits ? ` --max-steps ${runLimits.maxSteps}` : ''}${timeoutMs ? ` --timeout ${timeoutMs}ms` : ''}`);
  }
  ui.reproduceCli.value = lines.join('\n');
  const files = JSON.stringify(workspace.files, null, 2);
  ui.reproduceNpm.value = workspace.mode === 'validate'
    ? `import { validate } from 'ligature';\n\nconst files = ${files};\nconst result = await validate(${JSON.stringify(workspace.data)}, files[${JSON.stringify(entry)}], ${JSON.stringify(workspace.typeName)}, { files, entry: ${JSON.stringify(entry)}, dataFormat: ${JSON.stringify(workspace.dataFormat)} });\nconsole.log(result.ok ? 'valid' : result.errors);\n`
    : `import { ${workspace.format === 'types' ? 'typecheck' : 'evaluate'} } from 'ligature';\n\nconst files = ${files};\n${workspace.format === 'types'
      ? `const result = await typecheck(null, { files, entry: ${JSON.stringify(entry)} });\nconsole.log(result.types);`
      : `const result = await evaluate(null, { files, entry: ${JSON.stringify(entry)}, format: ${JSON.stringify(workspace.format)}${runLimits ? `, limits: { maxSteps: ${runLimits.maxSteps} }` : ''}${timeoutMs ? `, timeoutMs: ${timeoutMs}` : ''} });\nconsole.log(result.ok ? result.text : result.diagnostics.map((d) => d.rendered).join('\\n'));`}\n`;
  navigator.clipboard?.writeText(`${ui.reproduceCli.value}\n`).catch(() => {});
  ui.dialog.showModal();
}

// ---------------------------------------------------------------- wiring

// For tests and the console: the editors, the engine and the workspace.
window.playground = { engine: undefined, editor, dataEditor, runNow, get workspace() { return workspace; }, ENGINE_VERSION };

for (const example of EXAMPLES) ui.examples.append(new Option(example.title, example.id));
ui.examples.onchange = async () => {
  if (ui.examples.value) loadWorkspace(await exampleWorkspace(ui.examples.value));
};
ui.format.addEventListener('click', async (event) => {
  const format = event.target?.dataset?.format;
  if (!format) return;
  workspace.format = format;
  renderChrome();
  save();
  showOutput();
  if (format === 'types') {
    await typesNow();
    return;
  }
  if (outputs[format] === undefined && session !== undefined && workspace.mode === 'eval' && outputs.error === undefined) {
    const id = runId;
    const signal = controller?.signal;
    await renderFormat(id, entryPath(), signal?.aborted ? undefined : signal);
  }
});
for (const radio of document.querySelectorAll('input[name=mode]')) {
  radio.onchange = () => {
    workspace.mode = radio.value;
    renderChrome();
    changed({ now: true });
  };
}
ui.typePicker.onchange = () => {
  workspace.typeName = ui.typePicker.value;
  changed({ now: true });
};
ui.dataFormat.onchange = () => {
  workspace.dataFormat = ui.dataFormat.value;
  dataEditor.dispatch({ effects: language.reconfigure(workspace.dataFormat === 'yaml' ? yaml() : json()) });
  changed({ now: true });
};
ui.stop.onclick = () => {
  stoppedByUser = true;
  controller?.abort();
};
ui.run.onclick = runNow;
// Format: the file in the editor laid out by the engine (`ligature fmt`); a file with syntax
// errors is left as it is (the run shows them).
ui.formatSource.onclick = async () => {
  const path = workspace.selected;
  const before = editor.state.doc.toString();
  const result = await engine.format(before);
  ui.formatSource.title = result.ok ? 'Lay the file out as ligature fmt does' : 'Not formatted: the file has syntax errors';
  ui.formatSource.dataset.result = result.ok ? 'ok' : 'error';
  if (!result.ok || result.text === before || workspace.selected !== path || editor.state.doc.toString() !== before) return;
  editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: result.text } });
};
ui.share.onclick = () => share();
ui.reproduce.onclick = reproduce;
let appliedLimits = JSON.stringify(limits());
/** A changed limit runs again (a `change` event without a change, as on blur, does not). */
function limitsChanged() {
  const now = JSON.stringify(limits());
  if (now === appliedLimits) return;
  appliedLimits = now;
  changed({ now: true });
}
ui.maxSteps.onchange = limitsChanged;
ui.timeoutMs.onchange = limitsChanged;
ui.version.textContent = `engine ${ENGINE_VERSION}`;
window.addEventListener('hashchange', () => restoreFromHash());
window.addEventListener('pagehide', save);

async function restoreFromHash() {
  try {
    const shared = await decodeWorkspace(location.hash);
    if (shared === undefined) return false;
    loadWorkspace(shared);
    if (shared.engine !== ENGINE_VERSION) ui.linkLength.textContent = `link made with engine ${shared.engine}`;
    return true;
  } catch (error) {
    ui.linkLength.textContent = `the link could not be opened: ${error.message}`;
    return false;
  }
}

async function initialWorkspace() {
  if (await restoreFromHash()) return;
  const stored = sessionStorage.getItem(STORAGE_KEY) ?? localStorage.getItem(STORAGE_KEY);
  if (stored) {
    try {
      loadWorkspace(JSON.parse(stored));
      return;
    } catch {
      // A damaged entry: start from the first example.
    }
  }
  loadWorkspace(await exampleWorkspace(EXAMPLES[0].id));
}

setUpThreadControl();
await initialWorkspace();
try {
  await startEngine();
} catch (error) {
  setStatus('error');
  ui.threads.textContent = 'no engine';
  ui.output.textContent = `The engine could not start: ${error.message}`;
}
