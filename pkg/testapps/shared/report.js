// How each app's page reports (shared by the apps like check.js): `window.ligatureReport`
// and the page's text, from the page itself or from the worker the app started.

export function done(report) {
  window.ligatureReport = report;
  document.querySelector('#output').textContent = JSON.stringify({ ...report, source: undefined, text: undefined }, null, 2);
}

/** Waits for the report of `worker` (the app's own, which runs ligature with threads). */
export function fromWorker(worker) {
  const timer = setTimeout(() => done({ error: 'the worker sent no report within 60 s' }), 60_000);
  worker.onmessage = ({ data }) => {
    clearTimeout(timer);
    done(data);
  };
  worker.onerror = (event) => {
    clearTimeout(timer);
    done({ error: `the worker failed: ${event.message ?? 'its script did not load'}` });
  };
}
