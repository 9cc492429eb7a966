// The generated workloads of the JS benchmarks (benches/gen.py), made once into target/bench.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { ROOT } from '../pkg/test/helpers.js';

export const OUT = join(ROOT, 'target', 'bench');

/** The path of gen.py's `workload` of size `n`, generated if missing. */
export function generate(workload, n) {
  mkdirSync(OUT, { recursive: true });
  const path = join(OUT, `${workload}-${n}.lig`);
  if (!existsSync(path)) {
    const run = spawnSync('python3', [join(ROOT, 'benches', 'gen.py'), workload, String(n)], { maxBuffer: 1 << 30 });
    if (run.status !== 0) throw new Error(`gen.py ${workload} ${n}: ${run.stderr}`);
    writeFileSync(path, run.stdout);
  }
  return path;
}
