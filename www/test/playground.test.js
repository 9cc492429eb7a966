// The playground's built page (www/dist, `make www-build`) in headless Chromium (Debian's,
// through playwright-core, as pkg/test does): served by Vite's preview server with the
// isolation headers (what `make playground` runs), and by a plain static server without
// them. Screenshots of the main views go to target/playground-screenshots/.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { CHROMIUM, CHROMIUM_ARGS, freePort, serveStatic } from '../../pkg/test/helpers.js';

const WWW = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(WWW, 'dist');
const SHOTS = join(WWW, '..', 'target', 'playground-screenshots');
const EXAMPLE_IDS = ['deployment', 'unions', 'typeclasses', 'refinements', 'imports', 'validate', 'large', 'compute'];

let preview;
let plain;
let browser;
let base;
const problems = [];

before(async () => {
  assert.ok(existsSync(join(DIST, 'index.html')), 'www/dist is missing: make www-build');
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: make chromium`);
  mkdirSync(SHOTS, { recursive: true });
  const { preview: startPreview } = await import('vite');
  const port = await freePort();
  preview = await startPreview({ root: WWW, logLevel: 'warn', preview: { host: '127.0.0.1', port, strictPort: true } });
  base = `http://127.0.0.1:${port}/`;
  plain = await serveStatic(DIST, { isolated: false });
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
});

after(async () => {
  await browser?.close();
  await preview?.close();
  await plain?.close();
  assert.deepEqual(problems, [], 'page errors');
});

/**
 * A fresh page (its own context: empty storage) at `url`, once the first run has ended.
 * Service workers are blocked (the precache would compete with the timing of the other
 * tests) except where `serviceWorkers: 'allow'` (the offline test).
 */
async function open(url = base, { viewport = { width: 1280, height: 800 }, colorScheme = 'light', serviceWorkers = 'block' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, serviceWorkers });
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(String(error)));
  page.on('dialog', (dialog) => dialog.accept(page.nextPrompt?.shift()));
  await page.goto(url);
  await settled(page, 0);
  return page;
}

const status = (page) => page.getByTestId('status');

/** Waits until a run after the `seen`th has finished; returns the status text. */
async function settled(page, seen, timeout = 60_000) {
  await page.waitForFunction(
    (seen) => Number(document.querySelector('[data-testid=status]').dataset.finished ?? 0) > seen,
    seen,
    { timeout },
  );
  return status(page).textContent();
}

const finishedCount = async (page) => Number((await status(page).getAttribute('data-finished')) ?? 0);

/** Replaces the current file's text (as typing does) and waits for its run to finish. */
async function typeProgram(page, text) {
  const seen = await finishedCount(page);
  await page.getByTestId('editor').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
  return settled(page, seen);
}

async function chooseExample(page, id) {
  const seen = await finishedCount(page);
  await page.getByTestId('examples').selectOption(id);
  return settled(page, seen);
}

/** Sets the limits (each change starts a run) and waits for those runs to end. */
async function setLimits(page, { maxSteps, timeoutMs }) {
  for (const [selector, value] of [['#max-steps', maxSteps], ['#timeout-ms', timeoutMs]]) {
    if (value === undefined) continue;
    const seen = await finishedCount(page);
    await page.locator(selector).fill(String(value));
    await page.locator(selector).dispatchEvent('change');
    await settled(page, seen);
  }
}

const outputJson = async (page) => JSON.parse(await page.getByTestId('output').textContent());
const cursorLine = (page) => page.evaluate(() => {
  const { state } = window.playground.editor;
  return state.doc.lineAt(state.selection.main.head).number;
});

test('the page loads cross-origin isolated, on the threaded build, and evaluates its first example', async () => {
  const page = await open();
  assert.equal(await status(page).textContent(), 'ok');
  const info = await page.evaluate(() => ({
    isolated: crossOriginIsolated, variant: window.playground.engine.variant, threads: window.playground.engine.threads,
    cores: navigator.hardwareConcurrency,
  }));
  assert.equal(info.isolated, true);
  assert.equal(info.variant, 'web-threads');
  assert.equal(info.threads, info.cores);
  const indicator = await page.getByTestId('threads').textContent();
  assert.match(indicator, /threads/);
  assert.ok(indicator.includes(String(info.threads)), indicator);
  assert.equal((await outputJson(page)).environment, 'prod');
  assert.match(await page.locator('#stats').textContent(), /parse [\d.]+ · check [\d.]+ · lower [\d.]+ · eval [\d.]+ · render [\d.]+ ms · [\d,]+ steps/);
  await page.screenshot({ path: join(SHOTS, 'evaluate.png') });
  // The language reference: the specification and the spec notes, one page of the build.
  const [reference] = await Promise.all([page.context().waitForEvent('page'), page.getByTestId('reference').click()]);
  await reference.waitForLoadState();
  assert.equal(await reference.title(), 'Ligature language reference');
  assert.equal(await reference.locator('h1').first().textContent(), 'Ligature language specification');
  assert.ok(await reference.locator('[id="9-10-remote-modules"]').count() === 1, 'an anchor per section');
  assert.ok(await reference.getByText('M4009').count() > 0);
  assert.ok(await reference.locator('h1', { hasText: 'Spec notes' }).count() === 1, 'the spec notes follow');
  await page.context().close();
});

test('typing a program gives its JSON; a type error is a squiggle on its line and a list entry that moves the cursor', async () => {
  const page = await open();
  assert.equal(await typeProgram(page, 'let a = 1 + 2;\nlet b = "x" ++ "y";\nlet c = [a, a * 2];\n'), 'ok');
  assert.deepEqual(await outputJson(page), { a: 3, b: 'xy', c: [3, 6] });
  // YAML and TOML tabs render the same run.
  await page.getByTestId('format').locator('[data-format=yaml]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=output]').textContent.startsWith('a: 3'));
  await page.getByTestId('format').locator('[data-format=types]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=output]').textContent.includes('c : List Integer'));
  await page.getByTestId('format').locator('[data-format=json]').click();

  assert.equal(await typeProgram(page, 'let a = 1;\nlet b = a + "x";\nlet c = 2;\n'), 'error');
  const entries = page.getByTestId('diagnostics').locator('li');
  assert.equal(await entries.count(), 1);
  assert.match(await entries.first().textContent(), /main\.lig:2:\d+ T2001/);
  // The squiggle covers the span on line 2 (the `"x"` the type error is about).
  const squiggle = page.locator('.cm-lintRange-error');
  assert.equal(await squiggle.count(), 1);
  const squiggleLine = await squiggle.evaluate((el) => [...document.querySelectorAll('[data-testid=editor] .cm-line')].indexOf(el.closest('.cm-line')) + 1);
  assert.equal(squiggleLine, 2);
  assert.equal(await squiggle.textContent(), '"x"');
  assert.equal(await page.locator('.cm-gutter-lint .cm-lint-marker-error').count(), 1);
  await page.evaluate(() => window.playground.editor.dispatch({ selection: { anchor: 0 } }));
  assert.equal(await cursorLine(page), 1);
  await entries.first().click();
  assert.equal(await cursorLine(page), 2);
  // Hovering the squiggle shows the rendered excerpt.
  await squiggle.hover();
  await page.waitForSelector('.cm-tooltip-lint pre');
  assert.match(await page.locator('.cm-tooltip-lint pre').textContent(), /error\[T2001\][\s\S]*2 │ let b = a \+ "x";/);
  await page.screenshot({ path: join(SHOTS, 'type-error.png') });
  await page.context().close();
});

test('every example evaluates to ok in the page', async () => {
  const page = await open();
  const ids = await page.getByTestId('examples').locator('option').evaluateAll((options) => options.map((o) => o.value).filter(Boolean));
  assert.deepEqual(ids, EXAMPLE_IDS);
  for (const id of ids) {
    assert.equal(await chooseExample(page, id), 'ok', `${id}: ${await page.getByTestId('output').textContent()}`);
    if (id === 'large') {
      assert.equal(Object.keys(await outputJson(page)).filter((key) => /^s\d+$/.test(key)).length, 10_000);
      // Its 2 MB of JSON is in blocks laid out only near the viewport (the whole text stays).
      const blocks = await page.getByTestId('output').locator('.chunk').count();
      assert.ok(blocks > 100, `${blocks} blocks`);
      await page.screenshot({ path: join(SHOTS, 'large.png') });
    }
  }
  await page.context().close();
});

test('one binding of the 10,000-binding example edited: the output blocks keep their nodes, one is rewritten; the types wait for a pause', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'block' });
  // What the page asks the engine's worker: each request's op (a session's method for a
  // session request), in order.
  await context.addInitScript(() => {
    window.engineOps = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function postMessage(data, ...rest) {
      if (data?.op !== undefined) window.engineOps.push(data.op === 'session' ? data.args[1] : data.op);
      return post.call(this, data, ...rest);
    };
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => problems.push(String(error)));
  await page.goto(base);
  await settled(page, 0);
  assert.equal(await chooseExample(page, 'large'), 'ok');
  const seen = await finishedCount(page);
  const kept = await page.evaluate(async () => {
    const output = document.querySelector('[data-testid=output]');
    const before = [...output.children];
    const texts = before.map((node) => node.textContent);
    window.engineOps.length = 0;
    const { editor, runNow } = window.playground;
    const text = editor.state.doc.toString();
    const at = text.indexOf('let s5000 = mk 5000 "') + 'let s5000 = mk 5000 "'.length;
    editor.dispatch({ changes: { from: at, to: text.indexOf('"', at), insert: 'edited' } });
    runNow();
    await new Promise((resolve) => {
      const check = () => (output.textContent.includes('edited') ? resolve() : setTimeout(check, 0));
      check();
    });
    const after = [...output.children];
    return {
      blocks: after.length,
      same: after.filter((node, i) => node === before[i]).length,
      rewritten: after.filter((node, i) => node.textContent !== texts[i]).length,
      ops: [...window.engineOps],
    };
  });
  await settled(page, seen);
  assert.ok(kept.blocks > 100, `${kept.blocks} blocks`);
  // Every block keeps its node; only the one with the binding has new text.
  assert.equal(kept.same, kept.blocks, `${kept.same} of ${kept.blocks} blocks kept their node`);
  assert.equal(kept.rewritten, 1);
  // The result is on screen before any typecheck was asked for: it waits for a pause.
  assert.deepEqual(kept.ops, ['evaluate']);
  await page.waitForFunction(() => window.engineOps.includes('typecheck'), null, { timeout: 10_000 });
  // The Types tab has the types of the edited program.
  await page.getByTestId('format').locator('[data-format=types]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=output]').textContent.includes('s5000 : '));
  await context.close();
});

test('a second file is imported by the first; renaming and deleting files works', async () => {
  const page = await open();
  await typeProgram(page, 'import "./lib" as lib;\nlet answer = lib.base + 2;\n');
  assert.equal(await status(page).textContent(), 'error');
  assert.match(await page.getByTestId('diagnostics').textContent(), /M4001/);
  page.nextPrompt = ['lib.lig'];
  await page.locator('#add-file').click();
  assert.equal(await page.evaluate(() => window.playground.workspace.selected), 'lib.lig');
  assert.equal(await typeProgram(page, 'export let base = 40;\n'), 'ok');
  assert.deepEqual(await outputJson(page), { answer: 42 });
  // Renamed, the import no longer finds it; renamed back, it does.
  page.nextPrompt = ['util.lig'];
  let seen = await finishedCount(page);
  await page.locator('[data-rename="lib.lig"]').click();
  assert.equal(await settled(page, seen), 'error');
  page.nextPrompt = ['lib.lig'];
  seen = await finishedCount(page);
  await page.locator('[data-rename="util.lig"]').click();
  assert.equal(await settled(page, seen), 'ok');
  seen = await finishedCount(page);
  await page.locator('[data-delete="lib.lig"]').click();
  assert.equal(await settled(page, seen), 'error');
  assert.deepEqual(await page.evaluate(() => Object.keys(window.playground.workspace.files)), ['main.lig']);
  await page.context().close();
});

test('Validate mode reports a violation with its JSON path, highlighted in the data', async () => {
  const page = await open();
  assert.equal(await chooseExample(page, 'validate'), 'ok');
  assert.match(await page.getByTestId('output').textContent(), /conforms to `Deployment`/);
  const seen = await finishedCount(page);
  await page.evaluate(() => {
    const view = window.playground.dataEditor;
    const at = view.state.doc.toString().indexOf('9090');
    view.dispatch({ changes: { from: at, to: at + 4, insert: '99999' } });
  });
  assert.equal(await settled(page, seen), 'error');
  const list = page.getByTestId('diagnostics');
  assert.match(await list.textContent(), /\$\.services\[1\]\.port C5005/);
  assert.equal(await page.locator('#data-editor .cm-lintRange-error').textContent(), '99999');
  await page.screenshot({ path: join(SHOTS, 'validate.png') });
  await page.context().close();
});

test('a shared link opened in a fresh page restores the workspace', async () => {
  const page = await open();
  await chooseExample(page, 'imports');
  await page.locator('[data-file="naming.lig"]').click();
  await page.getByTestId('format').locator('[data-format=yaml]').click();
  await page.getByTestId('share').click();
  await page.waitForFunction(() => location.hash.startsWith('#w1.'));
  const url = page.url();
  const length = Number(await page.locator('#link-length').getAttribute('data-length'));
  assert.equal(length, url.length);
  const workspace = await page.evaluate(() => structuredClone(window.playground.workspace));
  const fresh = await open(url);
  assert.deepEqual(await fresh.evaluate(() => structuredClone(window.playground.workspace)), workspace);
  assert.equal(await fresh.evaluate(() => window.playground.editor.state.doc.toString()), workspace.files['naming.lig']);
  assert.match(await fresh.getByTestId('output').textContent(), /^services:\n {2}- name: checkout-api/);
  await page.context().close();
  await fresh.context().close();
});

test('hovering a top-level name shows its type and its value; clicking the output selects the source of the value', async () => {
  const page = await open();
  await typeProgram(page, 'let port = 8000 + 80;\nlet hosts = ["a", "b"];\nlet pick = \\x -> x;\nlet mk = \\name -> { name = name, replicas = 2 * 3 };\nlet web = mk "web";\n');
  // The types arrive after the output: the hover waits for them.
  await page.waitForFunction(() => window.playground.workspace && document.querySelector('[data-testid=output]').textContent.includes('8080'));
  const coords = await page.evaluate(() => {
    const view = window.playground.editor;
    const at = view.state.doc.toString().indexOf('hosts') + 2;
    const box = view.coordsAtPos(at);
    return { x: box.left + 1, y: (box.top + box.bottom) / 2 };
  });
  let text = '';
  for (let tries = 0; tries < 20 && !text.includes('='); tries += 1) {
    await page.mouse.move(coords.x, coords.y + 40);
    await page.mouse.move(coords.x, coords.y);
    text = await page.waitForSelector('[data-testid=hover]', { timeout: 2_000 }).then((el) => el.textContent(), () => '');
  }
  assert.equal(text, 'hosts : List String= ["a","b"]');
  // Clicking `"port"` in the JSON output selects `let port = ...;` in the source; a nested
  // value selects the expression that made it: a list element, a field of a record built
  // by a helper (in the helper), an argument of the helper (at the call).
  assert.equal(await clickOutput(page, '"port"', 2), 'let port = 8000 + 80;');
  assert.equal(await clickOutput(page, '"b"', 1), '"b"');
  assert.equal(await clickOutput(page, '"replicas": 6', 13), '2 * 3');
  assert.equal(await clickOutput(page, '"name": "web"', 10), '"web"');
  assert.equal(await page.getByTestId('output').getAttribute('data-located'), 'web.name');
  await page.context().close();
});

/** Clicks `offset` characters into the first `needle` of the output; the source then selected. */
async function clickOutput(page, needle, offset) {
  const at = await page.getByTestId('output').evaluate((pre, [needle, offset]) => {
    const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const index = node.textContent.indexOf(needle);
      if (index === -1) continue;
      const range = document.createRange();
      range.setStart(node, index + offset);
      range.setEnd(node, index + offset + 1);
      const box = range.getBoundingClientRect();
      return { x: box.left + 1, y: (box.top + box.bottom) / 2 };
    }
    throw new Error(`${needle} is not in the output`);
  }, [needle, offset]);
  const before = await page.evaluate(() => window.playground.editor.state.selection.main.to);
  await page.mouse.click(at.x, at.y);
  await page.waitForFunction((old) => {
    const { main } = window.playground.editor.state.selection;
    return main.from !== main.to && main.to !== old;
  }, before);
  return page.evaluate(() => {
    const { state } = window.playground.editor;
    return state.sliceDoc(state.selection.main.from, state.selection.main.to);
  });
}

test('Format lays the file out as ligature fmt does, and leaves a file with syntax errors alone', async () => {
  const page = await open();
  await typeProgram(page, 'let a =   {x=1,   y=[1,2]} ; // kept\n\n\n\nlet b=a.x;\n');
  const text = () => page.evaluate(() => window.playground.editor.state.doc.toString());
  const seen = await finishedCount(page);
  await page.getByTestId('format-source').click();
  await page.waitForFunction(() => window.playground.editor.state.doc.toString().startsWith('let a = { x = 1'));
  assert.equal(await text(), 'let a = { x = 1, y = [1, 2] }; // kept\n\nlet b = a.x;\n');
  // The formatted text runs like an edit.
  await settled(page, seen);
  assert.deepEqual(await outputJson(page), { a: { x: 1, y: [1, 2] }, b: 1 });
  await typeProgram(page, 'let a = 1 +;\n');
  await page.getByTestId('format-source').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=format-source]').dataset.result === 'error');
  assert.equal(await text(), 'let a = 1 +;\n');
  await page.context().close();
});

/** A runaway program: 10^10 steps of nested folds (hours in wasm). */
const RUNAWAY = 'let spin = \\n -> fold (\\s i -> s + fold (\\t j -> t + j % 7) 0 (range 0 n)) 0 (range 0 n);\nlet forever = spin 100000;\n';

async function countFrames(page) {
  await page.evaluate(() => {
    window.frameCount = 0;
    const tick = () => {
      window.frameCount += 1;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

test('a runaway loop is stopped by the step limit, and by Stop, while the page keeps painting', async () => {
  const page = await open();
  await countFrames(page);
  await setLimits(page, { maxSteps: 2_000_000 });
  assert.equal(await typeProgram(page, RUNAWAY), 'error', await page.getByTestId('output').textContent());
  assert.match(await page.getByTestId('diagnostics').textContent(), /R3007/);

  const seen = await finishedCount(page);
  await page.locator('#max-steps').fill('1000000000000');
  await page.locator('#max-steps').dispatchEvent('change');
  await page.waitForFunction(() => document.querySelector('[data-testid=status]').textContent === 'running');
  const before = await page.evaluate(() => [window.frameCount, performance.now()]);
  await page.waitForTimeout(1_500);
  const during = await page.evaluate(() => [window.frameCount, performance.now()]);
  assert.equal(await status(page).textContent(), 'running');
  const fps = ((during[0] - before[0]) / (during[1] - before[1])) * 1000;
  assert.ok(fps >= 20, `the page painted ${fps.toFixed(1)} frames per second while the loop ran`);
  await page.getByTestId('stop').click();
  assert.equal(await settled(page, seen, 5_000), 'error');
  assert.match(await page.getByTestId('output').textContent(), /stopped/);
  assert.match(await page.getByTestId('diagnostics').textContent(), /R3008/);
  await page.context().close();
});

test('Stop keeps the threaded session warm: the next run reuses its caches, the worker is not replaced', async () => {
  const page = await open();
  await setLimits(page, { maxSteps: 1e12, timeoutMs: 600_000 });
  const warm = 'let services = map (\\i -> { name = "svc-" ++ toString i, port = 8000 + i }) (range 0 50);\n';
  assert.equal(await typeProgram(page, warm), 'ok');
  let seen = await finishedCount(page);
  await page.getByTestId('editor').click();
  await page.keyboard.press('Control+End');
  await page.keyboard.insertText(RUNAWAY);
  await page.waitForTimeout(800);
  assert.equal(await status(page).textContent(), 'running');
  await page.getByTestId('stop').click();
  assert.equal(await settled(page, seen, 5_000), 'error');
  assert.equal(await page.evaluate(() => window.playground.engine.restarts), 0);
  seen = await finishedCount(page);
  await page.evaluate(() => {
    const view = window.playground.editor;
    const text = view.state.doc.toString();
    const at = text.indexOf('spin 100000');
    view.dispatch({ changes: { from: at, to: at + 'spin 100000'.length, insert: 'spin 10' } });
  });
  assert.equal(await settled(page, seen), 'ok');
  const stats = await page.locator('#stats').evaluate((el) => ({ ...el.dataset }));
  assert.ok(Number(stats.reused) > 0 || Number(stats.hits) > 0, `no cache reuse after Stop: ${JSON.stringify(stats)}`);
  assert.equal(await page.evaluate(() => window.playground.engine.restarts), 0);
  await page.context().close();
});

test('after one visit the page, and a shared link, open with the server stopped (isolated, threaded)', async () => {
  const { preview: startPreview } = await import('vite');
  const port = await freePort();
  const server = await startPreview({ root: WWW, logLevel: 'warn', preview: { host: '127.0.0.1', port, strictPort: true } });
  let page;
  try {
    page = await open(`http://127.0.0.1:${port}/`, { serviceWorkers: 'allow' });
    await page.waitForFunction(() => document.documentElement.dataset.offline !== undefined, null, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => document.documentElement.dataset.offline), 'ready');
    assert.equal(await typeProgram(page, 'let offline = "yes";\n'), 'ok');
    await page.getByTestId('share').click();
    await page.waitForFunction(() => location.hash.length > 1);
  } finally {
    await server.close();
  }
  const link = page.url();
  const context = page.context();
  await page.close();
  const again = await context.newPage();
  again.on('pageerror', (error) => problems.push(String(error)));
  await again.goto(link);
  await settled(again, 0);
  // The server is gone for the browser too: what is not cached fails.
  assert.equal(await again.evaluate(() => fetch('/not-cached').then(() => 'answered', () => 'failed')), 'failed');
  assert.equal(await status(again).textContent(), 'ok');
  assert.deepEqual(await outputJson(again), { offline: 'yes' });
  assert.equal(await again.evaluate(() => crossOriginIsolated), true);
  assert.equal(await again.evaluate(() => window.playground.engine.variant), 'web-threads');
  await context.close();
});

test('the same build served without the isolation headers runs single-threaded', async () => {
  const page = await open(`${plain.url}/`);
  assert.equal(await status(page).textContent(), 'ok');
  assert.equal(await page.evaluate(() => crossOriginIsolated), false);
  assert.match(await page.getByTestId('threads').textContent(), /single/);
  assert.equal(await page.evaluate(() => window.playground.engine.variant), 'web');
  assert.equal(await typeProgram(page, 'let x = 6 * 7;\n'), 'ok');
  assert.deepEqual(await outputJson(page), { x: 42 });
  await page.context().close();
});

test('narrow windows and dark mode render the page', async () => {
  const page = await open(base, { viewport: { width: 420, height: 900 }, colorScheme: 'dark' });
  assert.equal(await status(page).textContent(), 'ok');
  const background = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  assert.equal(background, 'rgb(21, 24, 28)');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a narrow window`);
  await page.screenshot({ path: join(SHOTS, 'narrow-dark.png'), fullPage: true });
  await page.context().close();
  assert.ok(readFileSync(join(SHOTS, 'narrow-dark.png')).length > 1000);
});
