#!/usr/bin/env python3
"""Remote imports (issue 19) through the release CLI: 200 modules behind a local server.

usage: remote.py [--binary target/release/ligature] [--runs N] [--delay-ms 20]

The project: modules m0 ... m199 in a binary tree (m{i} imports m{2i+1} and m{2i+2}, eight
levels), each with a union, a function and data from its children; main.lig imports m0 by
URL. The server (127.0.0.1, an ephemeral port, a thread per request) delays every
response by --delay-ms. Best-of-N wall times, end to end, output compared each time:
- default: `eval` with an empty cache and no lock file (the default --fetch-jobs, 16);
- one at a time: the same with `--fetch-jobs 1` (run once);
- cached: `eval --offline --frozen` from the lock and cache the default run wrote, the
  server stopped;
- local: the same 200 modules as local files.
"""
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
N = 200


def module(i):
    kids = [k for k in (2 * i + 1, 2 * i + 2) if k < N]
    lines = [f'import "./m{k}.lig" as c{k};\n' for k in kids]
    lines.append(f"export type Color{i} = Red{i} | Custom{i} Integer;\n")
    lines.append(f'export let paint{i} = \\c -> match c {{ Red{i} => "red", Custom{i} n => "c" ++ toString n }};\n')
    total = " + ".join(f"c{k}.total" for k in kids) or "0"
    lines.append(f"export let total = {i} + {total};\n")
    lines.append(f'export let summary = {{ module = "m{i}", total = total, first = paint{i} (Custom{i} {i}) }};\n')
    return "".join(lines)


def serve(bodies, delay):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(delay)
            body = bodies.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        # The default backlog of 5 drops connections 16 fetches open at once (the client
        # then waits a second to try again).
        request_queue_size = 256

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(binary, project, cache, extra):
    args = [binary, "eval", "main.lig"] + extra
    env = dict(os.environ, LIGATURE_CACHE_DIR=cache)
    start = time.perf_counter()
    out = subprocess.run(args, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    took = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"{' '.join(extra)}: exit {out.returncode}: {out.stderr.decode()}")
    return took, out.stdout


def main():
    binary = os.path.join(ROOT, "target", "release", "ligature")
    runs, delay = 3, 0.020
    args = sys.argv[1:]
    while args:
        flag = args.pop(0)
        if flag == "--binary":
            binary = args.pop(0)
        elif flag == "--runs":
            runs = int(args.pop(0))
        elif flag == "--delay-ms":
            delay = int(args.pop(0)) / 1000
    work = tempfile.mkdtemp(prefix="ligature-remote-bench-")
    bodies = {f"/lib/m{i}.lig": module(i).encode() for i in range(N)}
    server = serve(bodies, delay)
    url = f"http://127.0.0.1:{server.server_address[1]}/lib/m0.lig"
    main_text = f'import "{url}" as root;\n{{ total = root.total, summary = root.summary }}\n'
    try:
        local = os.path.join(work, "local")
        os.makedirs(local)
        for i in range(N):
            with open(os.path.join(local, f"m{i}.lig"), "w") as f:
                f.write(module(i))
        with open(os.path.join(local, "main.lig"), "w") as f:
            f.write(main_text.replace(url, "./m0.lig"))
        _, reference = run(binary, local, os.path.join(work, "unused"), [])
        times = {"default (16 in flight)": [], "one at a time": [], "cached, server stopped": [], "local files": []}

        def fresh(name):
            project = os.path.join(work, name)
            os.makedirs(project)
            with open(os.path.join(project, "main.lig"), "w") as f:
                f.write(main_text)
            return project

        for n in range(runs):
            project = fresh(f"default{n}")
            t, out = run(binary, project, os.path.join(work, f"cache{n}"), [])
            assert out == reference
            times["default (16 in flight)"].append(t)
        project = fresh("sequential")
        t, out = run(binary, project, os.path.join(work, "cache-seq"), ["--fetch-jobs", "1"])
        assert out == reference
        times["one at a time"].append(t)
        server.shutdown()
        server.server_close()
        for _ in range(runs + 2):
            t, out = run(binary, os.path.join(work, "default0"), os.path.join(work, "cache0"), ["--offline", "--frozen"])
            assert out == reference
            times["cached, server stopped"].append(t)
            t, out = run(binary, local, os.path.join(work, "unused"), [])
            assert out == reference
            times["local files"].append(t)
        print(f"{N} remote modules, {delay * 1000:.0f} ms per response, best of {runs} (s):")
        print("| run | time |")
        print("|---|---|")
        for k, v in times.items():
            print(f"| {k} | {min(v):.3f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
