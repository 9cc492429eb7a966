#!/usr/bin/env python3
"""Adversarial inputs through the release CLI: each must end within about a second of its
limit (or its timeout) with the right code and a bounded peak memory (issue 16).

Generates every input in a temporary directory, runs `target/release/ligature` under
`/usr/bin/time`, and prints one row per input: the exit code, the diagnostic code seen,
the wall time and the peak resident memory. `make bench-robustness` runs it; the README
and the closing notes quote its table.
"""

import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, "target", "release", "ligature")


def nest(open_, inner, close, n):
    return open_ * n + inner + close * n


def cases(tmp):
    """(name, files, argv, expected code or None for success, allowed seconds)."""
    out = []

    def add(name, text, args, code, secs, fname="main.lig"):
        path = os.path.join(tmp, name)
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, fname), "w") as f:
            f.write(text)
        out.append((name, os.path.join(path, fname), args, code, secs))

    add("refinement with a local", "let v = let lim = 1000 in (50 : Integer where x < lim);\nv\n", [], None, 1)
    add("partial application checks", "type Pos = Integer where x > 0;\nlet add = \\(a : Pos) (b : Pos) -> a + b;\nlet addZero = add 0;\n", [], "C5005", 1)
    add("recursive union refinement", "type Port = Integer where x >= 1;\ntype Tree = Leaf Port | Node (List Tree);\nlet t : Tree = Node [Leaf 0];\n", [], "C5005", 1)
    add("nested List 9,999 deep", "let x : %s = [];\n" % nest("List (", "Integer", ")", 9999), ["--timeout", "2s"], None, 1)
    add("nested alias 9,999 deep", "type L 'a = List 'a;\nlet x : %s = [];\n" % nest("L (", "Integer", ")", 9999), ["--timeout", "2s"], None, 1)
    add("looping instance", "typeclass C 'a where c : 'a -> Integer;\ninstance C (List 'a) => C (List 'a) where c = \\x -> 1;\nlet v = c [1];\n", ["--timeout", "3s"], "T2017", 1)
    add("growing instance", "typeclass C 'a where c : 'a -> Integer;\ninstance C (List (List 'a)) => C (List 'a) where c = \\x -> 1;\nlet v = c [1];\n", ["--timeout", "3s"], "T2017", 1)
    big = "let a = range 0 100; let b = map (\\_ -> a) (range 0 1000); let c = map (\\_ -> b) (range 0 1000);\n"
    add("10^8 numbers, output limit", big, ["--max-output-bytes", "1000", "--timeout", "2s"], "R3010", 1)
    add("10^8 numbers, timeout", big, ["--timeout", "300ms", "--max-output-bytes", "100000000000"], "R3008", 1)
    doubling = "let a0 = [1];\n" + "".join("let a%d = [a%d, a%d];\n" % (i + 1, i, i) for i in range(60)) + "a60\n"
    add("2^60 numbers, output limit", doubling, ["--max-output-bytes", "1000"], "R3010", 1)
    add("2^60 numbers, no limit", doubling, [], "R3010", 3)
    add("9,000 errors on one line", "let a = 1; " * 9000, [], "T2006", 1)
    add("one error on a 50 MB line", 'let x = 1 + "' + "a" * (50 << 20) + '";\n', [], "T2001", 3)
    add("failure beside fib 40 (--parallel)", "let rec fib = \\n -> if n < 2 then n else fib (n - 1) + fib (n - 2);\nlet a = 1 / 0;\nlet b = fib 40;\n", ["--parallel"], "R3002", 1)
    budget = "let x = 1;\nlet a = fold (\\s i -> s + fold (\\t j -> t + j) 0 (range 0 10000)) 0 (range 0 10000);\nlet b = 2;\n"
    add("budget exhausted (--sequential)", budget, ["--max-steps", "20000000", "--sequential"], "R3007", 1)
    add("budget exhausted (--parallel)", budget, ["--max-steps", "20000000", "--parallel"], "R3007", 1)
    add("10,000 nested parentheses", "let x = %s;\n" % nest("(", "1", ")", 10000), [], None, 1)
    add("let chain of 100,000", "".join("let x%d = %d in\n" % (i, i) for i in range(100000)) + "x0\n", [], None, 2)
    return out


def run(path, args):
    cmd = ["/usr/bin/time", "-f", "%e %M", CLI, "eval", path] + args
    start = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return None, None, 60.0, None
    lines = p.stderr.strip().splitlines()
    secs, kb = (lines[-1].split() + ["0", "0"])[:2] if lines else ("0", "0")
    codes = re.findall(r"(?:error|bug)\[([A-Z]\d{4})\]", p.stderr)
    return p.returncode, codes[0] if codes else None, float(secs), int(kb) // 1024


def main():
    if not os.path.exists(CLI):
        sys.exit("build the release CLI first: cargo build --release")
    fifo_ok = True
    print("| input | arguments | expected | got | exit | time | peak memory |")
    print("|---|---|---|---|---:|---:|---:|")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, path, args, code, secs in cases(tmp):
            rc, got, elapsed, mb = run(path, args)
            ok = got == code and rc == (0 if code is None else 1) and mb is not None and mb < 500
            failures += not ok
            print("| %s | %s | %s | %s | %s | %.2f s | %s MB |%s" % (
                name, " ".join(args), code or "ok", got or "ok", rc, elapsed, mb,
                "" if ok else " **unexpected**"))
        # Not regular files: a FIFO with no writer and /dev/zero are refused, not read.
        fifo = os.path.join(tmp, "fifo.lig")
        os.mkfifo(fifo)
        for name, path in [("a FIFO with no writer", fifo), ("/dev/zero", "/dev/zero")]:
            rc, got, elapsed, mb = run(path, [])
            ok = rc == 1 and elapsed < 1 and mb is not None and mb < 500
            failures += not ok
            print("| %s |  | error | %s | %s | %.2f s | %s MB |%s" % (
                name, got, rc, elapsed, mb, "" if ok else " **unexpected**"))
    print("\n%d of the inputs did not end as expected" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
