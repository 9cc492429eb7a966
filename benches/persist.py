#!/usr/bin/env python3
"""The persistent module cache (`--cache`, issue 19) on a 1,000-module project.

usage: persist.py [--binary target/release/ligature] [--runs N]

The project is tests/persist.rs's: modules m0 ... m999 in a binary tree (m{i} imports
m{2i+1} and m{2i+2}), each with a union, a record type, two functions and data built from
its children's values; main.lig imports m0. Best-of-N wall times, end to end, output to
/dev/null:
- uncached: `eval` without `--cache`;
- cold: `eval --cache` into an empty cache directory (also writes the entries);
- warm: `eval --cache` again (the document entry of the unchanged graph);
- leaf edit: `eval --cache` after changing one leaf (a new value each time), so that the
  leaf and its 10 importers miss and the other 990 modules come from their entries (their
  checks too: the counts of one more such run's `--stats` are printed).
Each run's output is compared with the uncached run's output of the same files.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
N = 1000


def module(i, base_extra=0):
    kids = [k for k in (2 * i + 1, 2 * i + 2) if k < N]
    lines = [f'import "./m{k}" as c{k};\n' for k in kids]
    lines.append(f"export type Color{i} = Red{i} | Green{i} | Custom{i} Integer;\n")
    lines.append(f"export type Item{i} = {{ id: Integer, name: String, color: Color{i}, tags: List String }};\n")
    lines.append(f"export let scale{i} = \\x -> x * {i % 7 + 2} + 1;\n")
    lines.append(
        f'export let paint{i} = \\c -> match c {{ Red{i} => "red", Green{i} => "green", Custom{i} n => "c" ++ toString n }};\n'
    )
    total = " + ".join(f"c{k}.total" for k in kids) or "0"
    lines.append(f"export let base = {i} + {total} + {base_extra};\n")
    for j in range(8):
        lines.append(
            f'let item{j} : Item{i} = {{ id = base * 10 + {j}, name = "m{i}-{j}", color = Custom{i} {j}, tags = ["a{j}", paint{i} (Custom{i} {j})] }};\n'
        )
    lines.append(f"export let items = [{', '.join(f'item{j}' for j in range(8))}];\n")
    lines.append(f"export let total = fold (\\acc it -> acc + it.id % 1000) base items + scale{i} 3;\n")
    lines.append(f'export let summary = {{ module = "m{i}", total = total, first = paint{i} Red{i} }};\n')
    return "".join(lines)


def run(binary, project, cache, use_cache):
    args = [binary, "eval", "main.lig"] + (["--cache"] if use_cache else [])
    env = dict(os.environ, LIGATURE_CACHE_DIR=cache)
    start = time.perf_counter()
    out = subprocess.run(args, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return time.perf_counter() - start, out.stdout


def main():
    binary = os.path.join(ROOT, "target", "release", "ligature")
    runs = 5
    args = sys.argv[1:]
    while args:
        flag = args.pop(0)
        if flag == "--binary":
            binary = args.pop(0)
        elif flag == "--runs":
            runs = int(args.pop(0))
    work = tempfile.mkdtemp(prefix="ligature-persist-bench-")
    project = os.path.join(work, "project")
    os.makedirs(project)
    for i in range(N):
        with open(os.path.join(project, f"m{i}.lig"), "w") as f:
            f.write(module(i))
    with open(os.path.join(project, "main.lig"), "w") as f:
        f.write('import "./m0" as root;\n{ total = root.total, summary = root.summary, items = root.items }\n')
    try:
        times = {"uncached": [], "cold": [], "warm": [], "leaf edit": []}
        _, reference = run(binary, project, os.path.join(work, "unused"), False)
        for n in range(runs):
            t, out = run(binary, project, os.path.join(work, "unused"), False)
            times["uncached"].append(t)
            assert out == reference
            cache = os.path.join(work, f"cache-{n}")
            t, out = run(binary, project, cache, True)
            times["cold"].append(t)
            assert out == reference
        cache = os.path.join(work, "cache-0")
        for _ in range(runs):
            t, out = run(binary, project, cache, True)
            times["warm"].append(t)
            assert out == reference
        leaf = os.path.join(project, f"m{N - 1}.lig")
        for n in range(runs):
            with open(leaf, "w") as f:
                f.write(module(N - 1, n + 1))
            _, expected = run(binary, project, os.path.join(work, "unused"), False)
            t, out = run(binary, project, cache, True)
            times["leaf edit"].append(t)
            assert out == expected
        # What the last leaf edit's graph re-checked: edit again and ask for the counts.
        with open(leaf, "w") as f:
            f.write(module(N - 1, runs + 1))
        env = dict(os.environ, LIGATURE_CACHE_DIR=cache)
        out = subprocess.run([binary, "eval", "main.lig", "--cache", "--stats"], cwd=project, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True)
        stats = [line for line in out.stderr.decode().splitlines() if line.startswith("stats: ")]
        persist = json.loads(stats[-1][len("stats: "):]).get("persist", {}) if stats else {}
        counts = ", ".join(f"{k} {persist.get(k)}" for k in ("modules", "read", "missed", "checked", "check_read"))
        print(f"leaf edit --stats: {counts}")
        best = {k: min(v) for k, v in times.items()}
        print(f"1,000 modules, best of {runs} (s):")
        print("| run | time | vs uncached | vs cold --cache |")
        print("|---|---|---|---|")
        for k, t in best.items():
            print(f"| {k} | {t:.3f} | {best['uncached'] / t:.1f}x | {best['cold'] / t:.1f}x |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
