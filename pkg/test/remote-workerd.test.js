// Remote imports in workerd (issue 19): a worker on the package's edge build evaluates
// programs whose remote imports go through workerd's own `fetch` to a server on 127.0.0.1,
// pinned by `lock` (the Node side of the same rules: remote.test.js).

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { PKG, startWorkerd } from './helpers.js';

const FILES = {
  '/lib/v2/net.lig': 'import "./util.lig" as util;\nexport let port = util.base + 443;\n',
  '/lib/v2/util.lig': 'export let base = 8000;\n',
};
const pin = (text) => `sha256-${createHash('sha256').update(text).digest('hex')}`;

let server;
let origin;
let workerd;

before(async () => {
  server = createServer((request, response) => {
    const text = FILES[new URL(request.url, 'http://x').pathname];
    response.writeHead(text === undefined ? 404 : 200);
    response.end(text ?? 'not found');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  origin = `http://127.0.0.1:${server.address().port}`;
  workerd = await startWorkerd(join(PKG, 'testapps', 'workerd-remote'));
});

after(async () => {
  await workerd?.stop();
  server?.closeAllConnections();
  server?.close();
});

async function run(source, options) {
  const response = await fetch(workerd.base, { method: 'POST', body: JSON.stringify({ source, options }) });
  return response.json();
}

test('workerd fetches remote imports, pins them, and checks the pins', async () => {
  const source = `import "${origin}/lib/v2/net.lig" as net;\nlet port = net.port;\n`;
  const first = await run(source);
  assert.deepEqual([first.ok, first.value, first.codes], [true, { port: 8443 }, []], first.messages.join('\n'));
  const lock = {
    [`${origin}/lib/v2/net.lig`]: pin(FILES['/lib/v2/net.lig']),
    [`${origin}/lib/v2/util.lig`]: pin(FILES['/lib/v2/util.lig']),
  };
  assert.deepEqual(first.lock, lock);
  const pinned = await run(source, { lock, frozen: true });
  assert.deepEqual([pinned.ok, pinned.value], [true, { port: 8443 }]);
  const changed = await run(source, { lock: { ...lock, [`${origin}/lib/v2/util.lig`]: pin('export let base = 1;\n') } });
  assert.deepEqual(changed.codes, ['M4009']);
  const missing = await run(`import "${origin}/lib/v2/none.lig" as n;\nlet x = 1;\n`);
  assert.deepEqual(missing.codes, ['M4008']);
  assert.match(missing.messages[0], /status 404/);
});
