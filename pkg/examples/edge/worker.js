// An edge worker (workerd / Cloudflare-style) that evaluates or type-checks a posted Ligature
// document with the single-threaded build, under limits suited to a request handler.
//
//   POST /            body: Ligature source → 200 { ok: true, value } | 422 { ok: false, diagnostics }
//   POST /typecheck   body: Ligature source → 200 { ok: true, types } | 422 { ok: false, diagnostics }
//
// The wasm module is imported (declared in config.capnp), which is all workerd allows; the
// package's edge entry instantiates it synchronously.
import { evaluate, typecheck } from './ligature/edge.js';

const LIMITS = { maxSteps: 5_000_000, maxDepth: 500, maxOutputBytes: 1 << 20 };
const MAX_BODY = 1 << 20;

function json(body, status = 200) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

/** The fields of a diagnostic a client needs to show it. */
function brief({ code, name, severity, message, file, line, column, utf16Column, endLine, endColumn, help, rendered }) {
  return { code, name, severity, message, file, line, column, utf16Column, endLine, endColumn, help, rendered };
}

export default {
  async fetch(request) {
    if (request.method !== 'POST') {
      return json({ ok: false, error: 'POST a Ligature document' }, 405);
    }
    const source = await request.text();
    if (source.length > MAX_BODY) {
      return json({ ok: false, error: 'document too large' }, 413);
    }
    const { pathname } = new URL(request.url);
    const options = { entry: 'request.lig', limits: LIMITS, timeoutMs: 100 };
    if (pathname === '/typecheck') {
      const result = await typecheck(source, options);
      return result.ok
        ? json({ ok: true, types: result.types })
        : json({ ok: false, diagnostics: result.diagnostics.map(brief), error: result.error }, 422);
    }
    const result = await evaluate(source, options);
    return result.ok
      ? json({ ok: true, value: result.value })
      : json({ ok: false, diagnostics: result.diagnostics.map(brief), error: result.error }, 422);
  },
};
