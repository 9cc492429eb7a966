// An edge worker (workerd / Cloudflare-style) that validates a POSTed JSON document against
// the Ligature type `Deployment` of schema.lig, refinements included, with the
// single-threaded build.
//
//   POST /   body: JSON → 200 { ok: true } | 422 { ok: false, errors: [{ path, code, message }] }
//
// The schema is compiled once per isolate (on the first request) and reused; a request only
// parses its body and checks it. The wasm module is imported (declared in config.capnp),
// which is all workerd allows; the package's edge entry instantiates it synchronously.
import { compileSchema } from './ligature/edge.js';
import SCHEMA from './schema.lig';

const TYPE = 'Deployment';
const MAX_BODY = 1 << 20;

let compiled;

function json(body, status = 200) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

export default {
  async fetch(request) {
    if (request.method !== 'POST') {
      return json({ ok: false, error: `POST a JSON document of type ${TYPE}` }, 405);
    }
    compiled ??= await compileSchema(SCHEMA, TYPE);
    if (!compiled.ok) {
      // The schema itself is broken: a deployment problem, not the client's.
      return json({ ok: false, error: 'schema', diagnostics: compiled.diagnostics.map((d) => d.rendered) }, 500);
    }
    const body = await request.text();
    if (body.length > MAX_BODY) {
      return json({ ok: false, error: 'document too large' }, 413);
    }
    // The text goes to the core as is: it parses the JSON itself (a malformed body is an
    // error at `$`), with no JS object in between.
    const result = compiled.schema.validate(body, { dataFormat: 'json' });
    if (result.error !== undefined) return json({ ok: false, error: result.error }, 400);
    return result.ok ? json({ ok: true }) : json({ ok: false, errors: result.errors }, 422);
  },
};
