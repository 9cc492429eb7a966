// Remote imports in JavaScript (LANGUAGE.md 9.10, issue 19): the one-shot calls fetch remote
// modules with the host's `fetch` from a real HTTP server on 127.0.0.1 (an ephemeral port),
// check them against `lock` (M4009), pin new ones in the result's `lock` (or refuse them when
// `frozen`), and report M4008 for what is not a module (status, redirect, size, UTF-8) with
// the CLI's reasons; confinement (M4006) and diagnostics inside a remote module are the core's.
// The same in workerd: workerd.test.js.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { Session, compileSchema, evaluate, typecheck, validate } from '../node.js';

/** The served files by path; each request is counted. */
const FILES = {
  '/lib/v1/net.lig': 'import "./util.lig" as util;\nexport let port = util.base + 80;\n',
  '/lib/v1/util.lig': 'export let base = 8000;\n',
  '/lib/v1/escape.lig': 'import "../../outside.lig" as o;\nexport let x = o.x;\n',
  '/lib/v1/local.lig': 'import corp.thing as t;\nexport let x = 1;\n',
  '/lib/v1/typo.lig': 'export let port = 1 + "x";\n',
  '/outside.lig': 'export let x = 1;\n',
  '/schema.lig': 'export type Port = Integer where x >= 1024;\nexport type Service = { name: String, port: Port };\n',
};
const hits = new Map();
let server;
let base;

const pin = (text) => `sha256-${createHash('sha256').update(text).digest('hex')}`;

before(async () => {
  server = createServer((request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/redirect-away.lig') {
      response.writeHead(302, { location: `http://127.0.0.2:${server.address().port}/lib/v1/util.lig` });
      return response.end();
    }
    if (path === '/redirect-home.lig') {
      response.writeHead(302, { location: '/lib/v1/util.lig' });
      return response.end();
    }
    if (path === '/big.lig') {
      response.writeHead(200);
      const chunk = Buffer.alloc(1 << 20, 0x20);
      for (let i = 0; i < 17; i += 1) response.write(chunk);
      return response.end();
    }
    if (path === '/latin1.lig') {
      response.writeHead(200);
      return response.end(Buffer.from([0x6c, 0x65, 0x74, 0x20, 0x78, 0x20, 0x3d, 0x20, 0x22, 0xe9, 0x22, 0x3b, 0x0a]));
    }
    if (path === '/slow.lig') {
      const timer = setTimeout(() => response.end('export let x = 1;\n'), 10_000);
      response.on('close', () => clearTimeout(timer));
      return undefined;
    }
    const text = FILES[path];
    if (text === undefined) {
      response.writeHead(404);
      return response.end('not found');
    }
    response.writeHead(200, { 'content-type': 'text/plain' });
    return response.end(text);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

const codes = (result) => result.diagnostics.map((d) => d.code);

test('a remote import and its relative import are fetched, evaluated and pinned', async () => {
  const source = `import "${base}/lib/v1/net.lig" as net;\nlet port = net.port;\n`;
  const result = await evaluate(source);
  assert.equal(result.ok, true, result.diagnostics.map((d) => d.rendered).join('\n'));
  assert.deepEqual(result.value, { port: 8080 });
  assert.deepEqual(result.lock, {
    [`${base}/lib/v1/net.lig`]: pin(FILES['/lib/v1/net.lig']),
    [`${base}/lib/v1/util.lig`]: pin(FILES['/lib/v1/util.lig']),
  });
  // With the pins: the same answer, and the same lock back.
  const again = await evaluate(source, { lock: result.lock, frozen: true });
  assert.deepEqual([again.ok, again.value, again.lock], [true, { port: 8080 }, result.lock]);
  // typecheck, compileSchema and validate fetch the same way.
  const typed = await typecheck(source);
  assert.deepEqual(typed.types, [{ name: 'port', type: 'Integer' }]);
  const schema = `import "${base}/schema.lig" { Service };\ntype S = Service;\n`;
  const compiled = await compileSchema(schema, 'S');
  assert.equal(compiled.ok, true);
  assert.deepEqual(compiled.schema.validate({ name: 'a', port: 80 }).errors.map((e) => [e.path, e.code]), [['$.port', 'C5005']]);
  const checked = await validate({ name: 'a', port: 8080 }, schema, 'S');
  assert.deepEqual([checked.ok, Object.keys(checked.lock)], [true, [`${base}/schema.lig`]]);
});

test('a pin that does not match is M4009; frozen refuses an unpinned URL without fetching it', async () => {
  const source = `import "${base}/lib/v1/util.lig" as u;\nlet b = u.base;\n`;
  const wrong = await evaluate(source, { lock: { [`${base}/lib/v1/util.lig`]: `sha256-${'0'.repeat(64)}` } });
  assert.deepEqual(codes(wrong), ['M4009']);
  assert.match(wrong.diagnostics[0].message, /the lock pins sha256-0{64}/);
  const before = hits.get('/outside.lig') ?? 0;
  const frozen = await evaluate(`import "${base}/outside.lig" as o;\nlet x = o.x;\n`, { frozen: true, lock: {} });
  assert.deepEqual(codes(frozen), ['M4009']);
  assert.match(frozen.diagnostics[0].message, /not pinned/);
  assert.equal(hits.get('/outside.lig') ?? 0, before, 'a frozen unpinned URL is not fetched');
  assert.deepEqual(frozen.lock, {}, 'nothing is pinned under frozen');
});

test('what is not a module is M4008 with the reason, at the import', async () => {
  const cases = [
    ['/missing.lig', /status 404/],
    ['/redirect-away.lig', /neither `https:` nor the same loopback origin/],
    ['/big.lig', /larger than 16777216 bytes/],
    ['/latin1.lig', /not valid UTF-8/],
  ];
  for (const [path, reason] of cases) {
    const result = await evaluate(`import "${base}${path}" as m;\nlet x = 1;\n`);
    assert.deepEqual(codes(result), ['M4008'], path);
    assert.match(result.diagnostics[0].message, reason, path);
    assert.equal(result.diagnostics[0].line, 1, path);
  }
  // A redirect to the same loopback origin is followed.
  const home = await evaluate(`import "${base}/redirect-home.lig" as m;\nlet b = m.base;\n`);
  assert.deepEqual([home.ok, home.value], [true, { b: 8000 }]);
});

test('confinement, errors inside a remote module, and the timeout are the core\'s', async () => {
  const escape = await evaluate(`import "${base}/lib/v1/escape.lig" as m;\nlet x = m.x;\n`);
  assert.deepEqual(codes(escape), ['M4006']);
  const local = await evaluate(`import "${base}/lib/v1/local.lig" as m;\nlet x = m.x;\n`);
  assert.deepEqual(codes(local), ['M4006']);
  const typo = await evaluate(`import "${base}/lib/v1/typo.lig" as m;\nlet x = m.port;\n`);
  assert.equal(typo.ok, false);
  assert.equal(typo.diagnostics[0].file, `${base}/lib/v1/typo.lig`);
  const started = performance.now();
  const slow = await evaluate(`import "${base}/slow.lig" as m;\nlet x = m.x;\n`, { timeoutMs: 200 });
  assert.deepEqual(codes(slow), ['R3008']);
  assert.ok(performance.now() - started < 5_000, 'the timeout covers fetching');
});

test('loadModule, when given, is asked for remote modules too; a Session takes fetched ones as `remote`', async () => {
  const asked = [];
  const url = 'https://modules.example/lib/a.lig';
  const result = await evaluate(`import "${url}" as a;\nlet v = a.v;\n`, {
    loadModule: (path) => {
      asked.push(path);
      return path === url ? 'export let v = 7;\n' : null;
    },
  });
  assert.deepEqual([result.ok, result.value, asked], [true, { v: 7 }, [url]]);
  assert.deepEqual(Object.keys(result.lock), [url]);
  const session = new Session();
  const body = new TextEncoder().encode('export let v = 9;\n');
  const given = session.evaluate(`import "${url}" as a;\nlet v = a.v;\n`, { remote: { [url]: { body } } });
  assert.deepEqual([given.ok, given.value], [true, { v: 9 }]);
  const none = session.evaluate(`import "${url}" as a;\nlet v = a.v;\n`, {});
  assert.deepEqual(codes(none), ['M4008']);
  const failed = session.evaluate(`import "${url}" as a;\nlet v = a.v;\n`, { remote: { [url]: { failed: 'offline' } } });
  assert.match(failed.diagnostics[0].message, /offline/);
  session.free();
});

test('malformed lock, frozen and remote options are usage errors', async () => {
  for (const options of [{ lock: 'x' }, { lock: { a: 'sha256-xyz' } }, { frozen: 'yes' }, { remote: { a: 'text' } }, { remote: { a: { body: 'x' } } }]) {
    const result = await evaluate('let x = 1;', options);
    assert.equal(result.ok, false, JSON.stringify(options));
    assert.match(result.error, /^invalid options: (lock|frozen|remote)/, JSON.stringify(options));
  }
});
