# workerd configuration of the remote-import test (test/workerd.test.js): a worker that
# evaluates the POSTed program with the package's edge build, whose remote imports go
# through workerd's own `fetch`. The outbound network allows loopback addresses (workerd's
# default allows public ones only), for the test's server on 127.0.0.1.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .remoteWorker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8788", http = (), service = "main") ],
);

const remoteWorker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "ligature/edge.js", esModule = embed "../../edge.js"),
    (name = "ligature/bind.js", esModule = embed "../../bind.js"),
    (name = "ligature/dist/web/ligature.js", esModule = embed "../../dist/web/ligature.js"),
    (name = "ligature/dist/web/ligature_bg.wasm", wasm = embed "../../dist/web/ligature_bg.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  globalOutbound = "internet",
);
