// POST { source, options } → the evaluation's { ok, value, lock, codes, messages }: remote
// imports in the program are fetched by workerd's `fetch` (test/workerd.test.js).
import { evaluate } from './ligature/edge.js';

export default {
  async fetch(request) {
    const { source, options } = await request.json();
    const result = await evaluate(source, options ?? {});
    const body = {
      ok: result.ok,
      value: result.ok ? result.value : null,
      lock: result.lock ?? null,
      codes: result.diagnostics.map((d) => d.code),
      messages: result.diagnostics.map((d) => d.message),
      error: result.error ?? null,
    };
    return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  },
};
