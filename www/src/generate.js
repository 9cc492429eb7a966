// The two generated examples: real Ligature programs made by a few lines of JS, so that the
// repository holds the generator rather than 600 KB of text. The page and the example test
// (test/examples.test.js) both call these.

/** A configuration of `n` services, one top-level binding each (10,000 by default). */
export function largeConfig(n = 10_000) {
  const lines = [
    '// A large generated configuration: one binding per service, each built by `mk`.',
    '// Edit one binding: the session re-evaluates it alone (see `reused` in the stats).',
    'let mk = \\i tier -> {',
    '    name = "svc-" ++ toString i,',
    '    port = 8000 + i % 1000,',
    '    replicas = if i % 3 == 0 then 3 else 1,',
    '    tier = tier,',
    '    resources = { cpu = i % 4 + 1, memoryMb = (i % 8 + 1) * 256 }',
    '};',
  ];
  for (let i = 0; i < n; i += 1) lines.push(`let s${i} = mk ${i} "tier-${i % 5}";`);
  return `${lines.join('\n')}\n`;
}

/**
 * A compute-heavy program: `n` independent bindings, each a fold of 400 steps, which the
 * threaded build evaluates on every thread of its pool.
 */
export function computeConfig(n = 2_000) {
  const lines = [
    '// Compute-heavy: independent bindings, each a fold; the threaded build spreads them',
    '// over its pool (compare the eval phase at 1 thread and at 2 with the threads control).',
    'let checksum = \\i -> fold (\\acc n -> (acc * 31 + n + i) % 1000003) 0 (range 0 400);',
  ];
  for (let i = 0; i < n; i += 1) lines.push(`let c${i} = checksum ${i};`);
  lines.push(`let total = ${Array.from({ length: 20 }, (_, i) => `c${i * Math.floor(n / 20)}`).join(' + ')};`);
  return `${lines.join('\n')}\n`;
}
