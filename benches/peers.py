#!/usr/bin/env python3
"""Runs the benchmark workloads through Ligature and, when installed, its peers jrsonnet and
nickel, and prints a Markdown table of times, peak memory and ratios.

usage: peers.py [--quick] [--runs N] [--ligature PATH] [--jrsonnet PATH] [--nickel PATH]

The peers are found on PATH or in /work/peers/bin (where `cargo install jrsonnet
--root /work/peers` and `cargo install nickel-lang-cli --root /work/peers` put them); a peer
that is missing is left out of the table. Each workload of benches/gen.py (services, compute,
chain) is written once per language, meaning the same thing: the same records, strings and
arithmetic, the same document. Every tool's JSON output is parsed and compared with
Ligature's (field order aside: Jsonnet sorts fields), so a row only counts when all agree.
Times are the best of N runs end to end (process start to exit, JSON to a pipe); peak memory
is the largest resident set seen. A ratio above 1 means the peer is slower or bigger.
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "target", "bench", "peers")
sys.path.insert(0, HERE)
import gen  # noqa: E402  (the Ligature generator)

TIMEOUT = 300


# --- the workloads in each language -------------------------------------------------------

def ligature_source(workload, n):
    out = []
    if workload == "services":
        out.append(gen.MK)
        gen.services(n, out)
    elif workload == "compute":
        out.append(gen.MK)
        out.append(gen.MKC)
        gen.services(n, out, "mkc")
    elif workload == "chain":
        out.append('let c0 = { n = 0, label = "c0" };\n')
        for i in range(1, n):
            out.append(f'let c{i} = {{ n = c{i - 1}.n + {i % 7}, label = "c{i}" }};\n')
        out.append(f"{{ last = c{n - 1} }}\n")
    return "".join(out)


JSONNET_MK = """local mk(i, w) = {
  name: "svc-" + std.toString(i),
  port: 8000 + i % 1000,
  replicas: if i % 3 == 0 then 3 else 1,
  weight: w,
  resources: { cpu: i % 4 + 1, memoryMb: (i % 8 + 1) * 256 },
  tags: ["tier-" + std.toString(i % 5), w],
};
local mkc(i, w) = mk(i, w) + {
  checksum: std.foldl(function(acc, n) (acc * 31 + n + i) % 1000003, std.range(0, 199), 0),
};
"""


def jsonnet_source(workload, n):
    out = []
    if workload in ("services", "compute"):
        # The bindings inline in the list: jrsonnet has a limit of 65,536 locals per scope.
        fn = "mk" if workload == "services" else "mkc"
        out.append(JSONNET_MK)
        out.append("{ services: [")
        out.append(", ".join(f'{fn}({i}, "w{i}")' for i in range(n)))
        out.append("] }\n")
    elif workload == "chain":
        out.append('local\n  c0 = { n: 0, label: "c0" }')
        for i in range(1, n):
            out.append(f',\n  c{i} = {{ n: c{i - 1}.n + {i % 7}, label: "c{i}" }}')
        out.append(f";\n{{ last: c{n - 1} }}\n")
    return "".join(out)


NICKEL_MK = """let mk = fun i w => {
  name = "svc-" ++ std.string.from_number i,
  port = 8000 + i % 1000,
  replicas = if i % 3 == 0 then 3 else 1,
  weight = w,
  resources = { cpu = i % 4 + 1, memoryMb = (i % 8 + 1) * 256 },
  tags = ["tier-" ++ std.string.from_number (i % 5), w],
} in
let mkc = fun i w => mk i w & {
  checksum = std.array.fold_left (fun acc n => (acc * 31 + n + i) % 1000003) 0 (std.array.range 0 200),
} in
"""


def nickel_source(workload, n):
    # One let block per workload (`let a = .., b = .. in`; `let rec` for the chain): nested
    # `let ... in` overflows Nickel's stack long before 10,000 levels.
    out = []
    if workload in ("services", "compute"):
        fn = "mk" if workload == "services" else "mkc"
        out.append(NICKEL_MK)
        out.append("let\n")
        out.append(",\n".join(f'  s{i} = {fn} {i} "w{i}"' for i in range(n)))
        out.append("\nin\n{ services = [")
        out.append(", ".join(f"s{i}" for i in range(n)))
        out.append("] }\n")
    elif workload == "chain":
        out.append('let rec\n  c0 = { n = 0, label = "c0" }')
        for i in range(1, n):
            out.append(f',\n  c{i} = {{ n = c{i - 1}.n + {i % 7}, label = "c{i}" }}')
        out.append(f"\nin\n{{ last = c{n - 1} }}\n")
    return "".join(out)


# --- running ---------------------------------------------------------------------------

def find(name, given):
    if given:
        return given
    return shutil.which(name) or next(
        (p for p in [f"/work/peers/bin/{name}"] if os.path.exists(p)), None)


def run_measured(cmd):
    """(seconds, peak RSS in MB, stdout, stderr, exit code) of one run; output is read on
    threads while the process is polled with wait4. The peak comes from /usr/bin/time, the
    process's parent: Linux keeps the maximum RSS across fork and exec, so a child forked from
    this script (which holds the parsed outputs) would report this script's size."""
    cmd = ["/usr/bin/time", "-f", "peak-rss-kb %M"] + cmd
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    chunks, errs = [], []
    t_out = threading.Thread(target=lambda: chunks.append(proc.stdout.read()))
    t_err = threading.Thread(target=lambda: errs.append(proc.stderr.read()))
    t_out.start()
    t_err.start()
    deadline = start + TIMEOUT
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            t_out.join()
            t_err.join()
            return TIMEOUT, 0.0, b"", b"timed out", -1
        time.sleep(0.002)
    elapsed = time.perf_counter() - start
    t_out.join()
    t_err.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = errs[0]
    lines = err.decode("utf-8", "replace").rstrip().splitlines()
    peak = 0.0
    if lines and lines[-1].startswith("peak-rss-kb "):
        peak = int(lines[-1].split()[1]) / 1024.0
        err = "\n".join(lines[:-1]).encode()
    return elapsed, peak, chunks[0], err, proc.returncode


def best_of(cmd, runs):
    best, peak, out, err, code = None, 0.0, b"", b"", 0
    for _ in range(runs):
        elapsed, rss, out, err, code = run_measured(cmd)
        if code != 0:
            return None, rss, out, err, code
        best = elapsed if best is None else min(best, elapsed)
        peak = max(peak, rss)
    return best, peak, out, err, code


def normalise(value):
    """JSON numbers as ints where integral (Nickel and Jsonnet print 3 or 3.0 alike)."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def main():
    args = sys.argv[1:]
    quick = "--quick" in args
    runs = 1 if quick else 3

    def opt(name):
        return args[args.index(name) + 1] if name in args else None

    if opt("--runs"):
        runs = int(opt("--runs"))
    ligature = opt("--ligature") or os.path.join(ROOT, "target", "release", "ligature")
    tools = {
        "jrsonnet": (find("jrsonnet", opt("--jrsonnet")), "jsonnet", jsonnet_source,
                     lambda path: [path]),
        "nickel": (find("nickel", opt("--nickel")), "ncl", nickel_source,
                   lambda path: ["export", "--format", "json", path]),
    }
    os.makedirs(OUT, exist_ok=True)
    sizes = [("services", 10_000 if quick else 100_000), ("compute", 10_000), ("chain", 10_000)]
    print(f"machine: {os.cpu_count()} cores; best of {runs} runs; ratio = peer / Ligature at the default workers\n")
    print("| workload | tool | end to end | peak memory | time ratio | memory ratio |")
    print("|---|---|---:|---:|---:|---:|")
    for workload, n in sizes:
        lig_path = os.path.join(OUT, f"{workload}-{n}.lig")
        with open(lig_path, "w") as f:
            f.write(ligature_source(workload, n))
        rows = []
        reference = None
        for label, flags in (("ligature --sequential", ["--sequential"]), ("ligature", [])):
            t, rss, out, err, code = best_of([ligature, "eval", lig_path, "--format", "json"] + flags, runs)
            if t is None:
                rows.append((label, None, rss, err.decode("utf-8", "replace").strip()[:80]))
                continue
            reference = reference or normalise(json.loads(out))
            rows.append((label, t, rss, None))
        base_t, base_rss = (rows[-1][1], rows[-1][2]) if rows[-1][1] else (None, None)
        for name, (binary, ext, source, argv) in tools.items():
            if not binary:
                continue
            path = os.path.join(OUT, f"{workload}-{n}.{ext}")
            with open(path, "w") as f:
                f.write(source(workload, n))
            t, rss, out, err, code = best_of([binary] + argv(path), runs)
            if t is None:
                rows.append((name, None, rss, err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["failed"]))
                continue
            try:
                same = normalise(json.loads(out)) == reference
            except json.JSONDecodeError:
                same = False
            rows.append((name, t, rss, None if same else "output differs from Ligature's"))
        for name, t, rss, problem in rows:
            label = f"{workload} {n:,}"
            if problem is not None:
                print(f"| {label} | {name} | failed: {problem} | | | |")
                continue
            ratio_t = f"{t / base_t:.2f}x" if base_t and not name.startswith("ligature") else ""
            ratio_m = f"{rss / base_rss:.2f}x" if base_rss and not name.startswith("ligature") else ""
            print(f"| {label} | {name} | {t * 1000:.0f} ms | {rss:.0f} MB | {ratio_t} | {ratio_m} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
