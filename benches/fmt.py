#!/usr/bin/env python3
"""Times `ligature fmt --check` (formatting and the formatter's own re-parse check, nothing
written) on the services workload (benches/gen.py, 100,000 services) and on every `.lig`
file of the repository's corpus (tests/fixtures, examples, www/examples) in one run.

usage: fmt.py [--repeat N] [--binary target/release/ligature]

Prints the best and median wall time of N runs, the least CPU time (user + system) and the
peak resident memory. The machine
is shared and noisy: the best time is the one to compare.
"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (ROOT, generate)

ROOT = run.ROOT


def run_once(binary, args):
    """(wall seconds, CPU seconds (user + system), peak RSS in MB, exit code)."""
    start = time.perf_counter()
    proc = subprocess.Popen([binary] + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, code


def measure(binary, args, repeat):
    times, cpu, peak = [], [], 0.0
    for _ in range(repeat):
        elapsed, used, rss, code = run_once(binary, args)
        if code not in (0, 1):
            sys.exit(f"{' '.join(args)} failed ({code})")
        times.append(elapsed)
        cpu.append(used)
        peak = max(peak, rss)
    return min(times), statistics.median(times), min(cpu), peak


def main():
    args = sys.argv[1:]
    repeat, binary = 10, os.path.join(ROOT, "target", "release", "ligature")
    while args:
        flag = args.pop(0)
        if flag == "--repeat":
            repeat = int(args.pop(0))
        elif flag == "--binary":
            binary = args.pop(0)
        else:
            sys.exit(__doc__)
    services = run.generate("services", 100_000)
    corpus = [os.path.join(ROOT, d) for d in ("tests/fixtures", "examples", "www/examples")]
    n_files = sum(
        name.endswith(".lig")
        for d in corpus
        for _, _, names in os.walk(d)
        for name in names
    )
    size = os.path.getsize(services) / 1e6
    print("| input | size | best wall | median wall | best CPU | peak memory |")
    print("|---|---|---|---|---|---|")
    best, median, cpu, peak = measure(binary, ["fmt", "--check", services], repeat)
    print(
        f"| services-100000 | {size:.2f} MB | {best * 1000:.0f} ms | {median * 1000:.0f} ms"
        f" | {cpu * 1000:.0f} ms | {peak:.0f} MB |"
    )
    best, median, cpu, peak = measure(binary, ["fmt", "--check", *corpus], repeat)
    print(
        f"| corpus ({n_files} files) | | {best * 1000:.0f} ms | {median * 1000:.0f} ms"
        f" | {cpu * 1000:.0f} ms | {peak:.0f} MB |"
    )


if __name__ == "__main__":
    main()
