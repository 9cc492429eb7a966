# workerd configuration of the edge example: `workerd serve config.capnp` (from this
# directory), or with `--socket-addr http=127.0.0.1:PORT` to pick the address.
# The package's files are embedded under `ligature/`, so the worker's `./ligature/edge.js`
# import and edge.js's own relative imports resolve to them; the wasm file is declared as a
# wasm module (compiling from bytes is refused by workerd); the schema is a text module.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .ligatureWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const ligatureWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "schema.lig", text = embed "schema.lig"),
    (name = "ligature/edge.js", esModule = embed "../../edge.js"),
    (name = "ligature/bind.js", esModule = embed "../../bind.js"),
    (name = "ligature/dist/web/ligature.js", esModule = embed "../../dist/web/ligature.js"),
    (name = "ligature/dist/web/ligature_bg.wasm", wasm = embed "../../dist/web/ligature_bg.wasm"),
  ],
  compatibilityDate = "2026-11-01",
);
