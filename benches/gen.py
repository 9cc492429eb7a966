#!/usr/bin/env python3
"""Generates Ligature benchmark workloads.

usage: gen.py WORKLOAD N > file.lig
       gen.py modules N DIR     (writes DIR/main.lig and DIR/m0.lig ... DIR/m{N-1}.lig)
       gen.py documents N DIR   (writes DIR/schema.lig and DIR/d0.json ... DIR/d{N-1}.json)
       gen.py bigdoc N DIR      (writes DIR/schema.lig and DIR/fleet.json)

workloads:
  services  N top-level bindings `let sI = mk I "wI";`, each building a record with string
            concatenation, arithmetic, an `if`, a nested record and a list; the document is
            `{ services = [s0, ..., sN-1] }` (about 40 bytes of source per binding).
  compute   the same plus a fold over 200 elements per binding (CPU-heavy, independent).
  chain     each binding depends on the previous one: nothing can run in parallel.
  bigmap    one `map` over N elements, each doing a fold over 50 numbers: parallelism
            inside one binding (the split list built-ins).
  modules   N modules importing each other in a DAG (module i imports i-1 qualified and
            i/2 selectively), each with 50 bindings; main.lig imports the last one.
  documents N JSON documents of about 1 KB each and a schema with a refined record type
            (`ligature validate DIR/d*.json --schema DIR/schema.lig --type Fleet`).
  bigdoc    one JSON document DIR/fleet.json of N services (1,000,000: about 190 MB) and the
            same schema (`ligature validate DIR/fleet.json --schema DIR/schema.lig --type Fleet`).
  schema    a schema file of N lines of type declarations (groups of 13 lines, 7 types:
            refined aliases of each expressible kind and one not, a union with a refined
            payload, a recursive union, a record of them all) for `ligature types --emit ...`.
"""
import os
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


def modules(n, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for i in range(n):
        lines = []
        if i > 0:
            lines.append(f'import "./m{i - 1}" as prev;\n')
        if i > 1:
            lines.append(f'import "./m{i // 2}" {{ v0 as half }};\n')
        base = "prev.v49" if i > 0 else "0"
        extra = " + half" if i > 1 else ""
        lines.append(f"let v0 = {base}{extra} + 1;\n")
        for k in range(1, 50):
            if k % 5 == 0:
                lines.append(f'let v{k} = v{k - 1} + length ("m{i}-" ++ toString v{k - 1});\n')
            elif k % 5 == 1:
                lines.append(f"let v{k} = if v{k - 1} % 2 == 0 then v{k - 1} / 2 else v{k - 1} * 3 + 1;\n")
            elif k % 5 == 2:
                lines.append(f"let r{k} = {{ id = v{k - 1}, name = \"m{i}v{k}\", tags = [v{k - 1}, {k}] }};\n")
                lines.append(f"let v{k} = r{k}.id % 1000 + {k};\n")
            else:
                lines.append(f"let v{k} = v{k - 1} % 10007 + {k};\n")
        with open(os.path.join(out_dir, f"m{i}.lig"), "w") as f:
            f.write("".join(lines))
    with open(os.path.join(out_dir, "main.lig"), "w") as f:
        f.write(f'import "./m{n - 1}" as last;\n{{ result = last.v49 }}\n')


SCHEMA = """// A fleet of services: every field refined.
type Port = Integer where x >= 1024 && x <= 65535;
type Replicas = Integer with >= 1 with <= 64;
type Name = String with pattern("[a-z][a-z0-9-]{0,40}");
type Percent = Float where x >= 0.0 && x <= 100.0;
type Tier = Gold | Silver | Bronze;
type Service = {
    name: Name,
    port: Port,
    replicas: Replicas,
    cpu: Percent,
    tier: Tier,
    tags: List String,
    owner: Option String
};
type Fleet = { region: String, version: Integer, services: List Service };
"""


def documents(n, out_dir):
    import json
    import random
    rng = random.Random(42)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "schema.lig"), "w") as f:
        f.write(SCHEMA)
    for i in range(n):
        services = []
        for k in range(6):
            services.append({
                "name": f"svc-{i}-{k}",
                "port": 1024 + rng.randrange(60000),
                "replicas": 1 + rng.randrange(64),
                "cpu": round(rng.random() * 100, 2),
                "tier": rng.choice(["Gold", "Silver", "Bronze"]),
                "tags": [f"team-{rng.randrange(20)}", "prod"],
                "owner": {"Some": f"owner{k}@example.com"} if k % 2 else "None",
            })
        doc = {"region": "eu-west", "version": i, "services": services}
        with open(os.path.join(out_dir, f"d{i}.json"), "w") as f:
            json.dump(doc, f, indent=1)


def bigdoc(n, out_dir):
    """One document of n services (1,000,000: about 200 MB) against the fleet schema."""
    import json
    import random
    rng = random.Random(7)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "schema.lig"), "w") as f:
        f.write(SCHEMA)
    with open(os.path.join(out_dir, "fleet.json"), "w") as f:
        f.write('{"region": "eu-west", "version": 1, "services": [\n')
        for i in range(n):
            service = {
                "name": f"svc-{i}",
                "port": 1024 + rng.randrange(60000),
                "replicas": 1 + rng.randrange(64),
                "cpu": round(rng.random() * 100, 2),
                "tier": rng.choice(["Gold", "Silver", "Bronze"]),
                "tags": [f"team-{rng.randrange(20)}", "prod", f"zone-{i % 3}"],
                "owner": {"Some": f"owner{i % 97}@example.com"} if i % 2 else "None",
            }
            f.write(("" if i == 0 else ",\n") + json.dumps(service, indent=2))
        f.write("]}\n")


def schema(n, out):
    """About n lines of type declarations, 7 types per 13 lines."""
    for i in range((n + 12) // 13):
        out.append(
            f"type Port{i} = Integer where x >= 1 && x <= 65535;\n"
            f"type Name{i} = String with pattern(\"[a-z][a-z0-9-]*\");\n"
            f"type Tag{i} = String where length x >= 1 && length x <= 32;\n"
            f"type Mode{i} = Off{i} | On{i} | Auto{i} {{ level: Integer with >= 0 with <= 10 }};\n"
            f"type Even{i} = Integer where x % 2 == 0;\n"
            f"type Tree{i} = Leaf{i} Port{i} | Node{i} (List Tree{i});\n"
            f"type Service{i} = {{\n"
            f"    name: Name{i},\n"
            f"    port: Port{i},\n"
            f"    mode: Mode{i},\n"
            f"    tags: List Tag{i},\n"
            f"    backup: Option Port{i},\n"
            f"    shards: Even{i}, tree: Tree{i} }};\n"
        )


def main():
    if len(sys.argv) == 4 and sys.argv[1] in ("modules", "documents", "bigdoc"):
        n, out_dir = int(sys.argv[2]), sys.argv[3]
        {"modules": modules, "documents": documents, "bigdoc": bigdoc}[sys.argv[1]](n, out_dir)
        return
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
    elif workload == "schema":
        schema(n, out)
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
