#!/usr/bin/env python3
"""Generates Ligature benchmark workloads.

usage: gen.py WORKLOAD N > file.lig

workloads:
  services  N top-level bindings `let sI = mk I "wI";`, each building a record with string
            concatenation, arithmetic, an `if`, a nested record and a list; the document is
            `{ services = [s0, ..., sN-1] }` (about 40 bytes of source per binding).
  compute   the same plus a fold over 200 elements per binding (CPU-heavy, independent).
  chain     each binding depends on the previous one: nothing can run in parallel.
  bigmap    one `map` over N elements, each doing a fold over 50 numbers: parallelism
            inside one binding (the split list built-ins).
"""
import sys

MK = """let mk = \\i w -> {
    name = "svc-" ++ toString i,
    port = 8000 + i % 1000,
    replicas = if i % 3 == 0 then 3 else 1,
    weight = w,
    resources = { cpu = i % 4 + 1, memoryMb = (i % 8 + 1) * 256 },
    tags = ["tier-" ++ toString (i % 5), w]
};
"""

MKC = """let mkc = \\i w -> {
    ...mk i w,
    checksum = fold (\\acc n -> (acc * 31 + n + i) % 1000003) 0 (range 0 200)
};
"""


def services(n, out, fn="mk"):
    for i in range(n):
        out.append(f'let s{i} = {fn} {i} "w{i}";\n')
    out.append("{ services = [")
    out.append(", ".join(f"s{i}" for i in range(n)))
    out.append("] }\n")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    workload, n = sys.argv[1], int(sys.argv[2])
    out = []
    if workload == "services":
        out.append(MK)
        services(n, out)
    elif workload == "compute":
        out.append(MK)
        out.append(MKC)
        services(n, out, "mkc")
    elif workload == "chain":
        out.append("let c0 = { n = 0, label = \"c0\" };\n")
        for i in range(1, n):
            out.append(f'let c{i} = {{ n = c{i - 1}.n + {i % 7}, label = "c{i}" }};\n')
        out.append(f"{{ last = c{n - 1} }}\n")
    elif workload == "bigmap":
        out.append(
            f"let xs = map (\\x -> fold (\\a n -> (a * 31 + n + x) % 1000003) 0 (range 0 50)) (range 0 {n});\n"
            "{ n = length xs, total = fold (\\a x -> (a + x) % 1000000007) 0 xs }\n"
        )
    else:
        sys.exit(f"unknown workload {workload}\n{__doc__}")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
