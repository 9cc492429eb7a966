#!/usr/bin/env python3
"""Runs the benchmark workloads through the release CLI and prints a Markdown table.

usage: run.py [--quick] [--types] [--binary target/release/ligature]

For each workload: source size, best-of-N wall time end to end (eval to JSON, output to
/dev/null), throughput in MB/s of source, peak resident memory of the process, and the
per-phase times that `ligature eval --stats` reports (parse, check, eval, render).
`--types` runs only the types export rows (`make bench-export`).
The machine is noisy: each run is repeated and the best time is kept; peak memory is the
maximum seen.
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "target", "bench")


def generate(workload, n):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"{workload}-{n}.lig")
    if not os.path.exists(path):
        with open(path, "w") as f:
            subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), workload, str(n)], stdout=f, check=True)
    return path


def run_once(binary, args):
    """Runs one command; returns (seconds, peak RSS in MB, stderr text, exit code)."""
    # stderr goes to a file, not a pipe: a run that warns more than a pipe holds
    # (`types` lists some 15,000 refinements it could not express) would block on it.
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen([binary] + args, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        errors.seek(0)
        err = errors.read().decode("utf-8", "replace")
    code = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024.0, err, code


def stats_of(stderr):
    for line in stderr.splitlines():
        if line.startswith("stats: "):
            try:
                return json.loads(line[len("stats: "):])
            except json.JSONDecodeError:
                return None
    return None


def bench(binary, workload, n, repeat, extra=()):
    path = generate(workload, n)
    size_mb = os.path.getsize(path) / 1e6
    best, peak, phases = None, 0.0, None
    for _ in range(repeat):
        elapsed, rss, err, code = run_once(binary, ["eval", path, "--stats", *extra])
        if code != 0:
            sys.exit(f"{workload} {n} failed (exit {code}):\n{err[:2000]}")
        peak = max(peak, rss)
        if best is None or elapsed < best:
            best, phases = elapsed, stats_of(err)
    return {"workload": workload, "n": n, "mb": size_mb, "seconds": best, "rss": peak, "phases": phases, "extra": " ".join(extra)}


def generate_dir(workload, n):
    path = os.path.join(OUT, f"{workload}-{n}")
    if not os.path.exists(path):
        subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), workload, str(n), path], check=True)
    return path


def dir_bytes(path, suffix):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path) if f.endswith(suffix))


def bench_modules(binary, n, repeat):
    """A project of n modules in a DAG: load, check and evaluate on one thread."""
    path = generate_dir("modules", n)
    best, peak, phases = None, 0.0, None
    for _ in range(repeat):
        elapsed, rss, err, code = run_once(binary, ["eval", os.path.join(path, "main.lig"), "--stats"])
        if code != 0:
            sys.exit(f"modules {n} failed (exit {code}):\n{err[:2000]}")
        peak = max(peak, rss)
        if best is None or elapsed < best:
            best, phases = elapsed, stats_of(err)
    return {"workload": f"modules ({n} files)", "n": n * 50, "mb": dir_bytes(path, ".lig") / 1e6,
            "seconds": best, "rss": peak, "phases": phases, "extra": ""}


def bench_validate(binary, n, repeat):
    """n JSON documents of about 1 KB against a refined schema, one worker thread."""
    path = generate_dir("documents", n)
    files = sorted((f for f in os.listdir(path) if f.endswith(".json")), key=lambda f: int(f[1:-5]))
    args = ["validate", *[os.path.join(path, f) for f in files], "--schema", os.path.join(path, "schema.lig"),
            "--type", "Fleet", "--workers", "1"]
    best, peak = None, 0.0
    for _ in range(repeat):
        elapsed, rss, err, code = run_once(binary, args)
        if code != 0:
            sys.exit(f"validate {n} failed (exit {code}):\n{err[:2000]}")
        peak = max(peak, rss)
        best = elapsed if best is None else min(best, elapsed)
    return {"workload": "validate (1 thread)", "n": n, "mb": dir_bytes(path, ".json") / 1e6,
            "seconds": best, "rss": peak, "phases": None, "extra": "",
            "note": f"{n / best:,.0f} documents/s"}


def bench_bigdoc(binary, n, repeat):
    """One JSON document of n services (1,000,000: 190 MB) against the refined fleet schema,
    in the default (automatic) mode and with --sequential, interleaved; medians of the runs,
    peak RSS the maximum seen (the target: under 1 GB, automatic no slower than one thread)."""
    path = generate_dir("bigdoc", n)
    base = ["validate", os.path.join(path, "fleet.json"), "--schema", os.path.join(path, "schema.lig"),
            "--type", "Fleet"]
    times = {"": [], "--sequential": []}
    peak = {"": 0.0, "--sequential": 0.0}
    for k in range(repeat):
        order = ["", "--sequential"] if k % 2 == 0 else ["--sequential", ""]
        for mode in order:
            elapsed, rss, err, code = run_once(binary, base + ([mode] if mode else []))
            if code != 0:
                sys.exit(f"bigdoc {n} failed (exit {code}):\n{err[:2000]}")
            times[mode].append(elapsed)
            peak[mode] = max(peak[mode], rss)
    mb = os.path.getsize(os.path.join(path, "fleet.json")) / 1e6
    rows = []
    for mode, label in (("", "auto"), ("--sequential", "--sequential")):
        ts = sorted(times[mode])
        rows.append({"workload": "validate one document", "n": n, "mb": mb, "seconds": ts[len(ts) // 2],
                     "rss": peak[mode], "phases": None, "extra": label, "note": "median of interleaved runs"})
    return rows


TIMEOUT_PROGRAM = "let rec spin = \\n -> if n == 0 then 0 else spin (n - 1);\n" + "".join(
    # 600 independent bindings (enough for the automatic parallel path), each about 0.3 s of
    # work: minutes in all. Every worker is busy when the timeout fires, so the time to stop
    # is the time for all of them to notice.
    f"let x{k} = fold (\\a n -> (a * 31 + n + spin 100) % 1000003) {k} (range 0 100000);\n" for k in range(600)
) + "{ done = x599 }\n"


def bench_timeout(binary, repeat):
    """`--timeout 100ms` on a program of minutes at 2 workers: how long until exit with R3008."""
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "timeout.lig")
    with open(path, "w") as f:
        f.write(TIMEOUT_PROGRAM)
    worst, peak = 0.0, 0.0
    for _ in range(repeat):
        elapsed, rss, err, code = run_once(binary, ["eval", path, "--timeout", "100ms", "--workers", "2",
                                                    "--max-steps", str(10**12)])
        if code != 1 or "R3008" not in err:
            sys.exit(f"timeout run did not end with R3008 (exit {code}):\n{err[:2000]}")
        worst, peak = max(worst, elapsed), max(peak, rss)
    return {"workload": "timeout 100ms", "n": 600, "mb": os.path.getsize(path) / 1e6, "seconds": worst,
            "rss": peak, "phases": None, "extra": "--workers 2",
            "note": f"R3008 after {worst * 1000:.0f} ms (worst of {repeat}; goal ~150 ms)"}


def fmt_phases(phases, size_mb):
    if not phases:
        return ""
    parts = []
    for name, ms in phases.get("phases", []):
        rate = f" ({size_mb / (ms / 1000.0):.0f} MB/s)" if ms > 0 and name in ("parse", "check", "eval") else ""
        parts.append(f"{name} {ms:.0f} ms{rate}")
    return ", ".join(parts)


def bench_types(binary, n, repeat):
    """`ligature types` on a schema of n lines: JSON Schema and TypeScript of every type."""
    path = generate("schema", n)
    rows = []
    for emit in ("json-schema", "typescript"):
        best, peak = None, 0.0
        for _ in range(repeat):
            elapsed, rss, err, code = run_once(binary, ["types", path, "--emit", emit])
            if code != 0:
                sys.exit(f"types --emit {emit} failed (exit {code}):\n{err[:2000]}")
            peak = max(peak, rss)
            best = elapsed if best is None else min(best, elapsed)
        rows.append({"workload": f"types --emit {emit}", "n": n, "mb": os.path.getsize(path) / 1e6,
                     "seconds": best, "rss": peak, "phases": None, "extra": "",
                     "note": f"{n:,} lines of types (goal: under 500 ms)"})
    return rows


def main():
    quick = "--quick" in sys.argv
    binary = os.path.join(ROOT, "target", "release", "ligature")
    if "--binary" in sys.argv:
        binary = sys.argv[sys.argv.index("--binary") + 1]
    repeat = 2 if quick else 5
    scale = 10 if quick else 1
    seq, par2 = ("--sequential",), ("--workers", "2")
    pairs = [
        ("services", 100_000 // scale),
        ("services", 10_000 // scale),
        ("compute", 10_000 // scale),
        ("chain", 10_000 // scale),
        ("bigmap", 200_000 // scale),
    ]
    rows = []
    if "--types" in sys.argv:
        # `make bench-export`: the types export alone.
        pairs = []
    for workload, n in pairs:
        one = bench(binary, workload, n, repeat, seq)
        two = bench(binary, workload, n, repeat, par2)
        two["speedup"] = one["seconds"] / two["seconds"]
        rows += [one, two]
    if "--types" not in sys.argv:
        rows.append(bench_modules(binary, 1_000 // scale, repeat))
        rows.append(bench_validate(binary, 10_000 // scale, repeat))
        rows += bench_bigdoc(binary, 1_000_000 // scale, 3 if quick else 5)
        rows.append(bench_timeout(binary, repeat))
    rows += bench_types(binary, 100_000 // scale, repeat)
    print(f"machine: {os.cpu_count()} cores; best of {repeat} runs; peak RSS is the maximum seen\n")
    print("| workload | threads | bindings | source | end to end | vs 1 thread | throughput | peak memory | phases |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        speedup = f"{row['speedup']:.2f}x" if "speedup" in row else ""
        print(
            f"| {row['workload']} | {row['extra']} | {row['n']:,} | {row['mb']:.2f} MB | {row['seconds'] * 1000:.0f} ms "
            f"| {speedup} | {row['mb'] / row['seconds']:.1f} MB/s | {row['rss']:.0f} MB | {row.get('note') or fmt_phases(row['phases'], row['mb'])} |"
        )


if __name__ == "__main__":
    main()
