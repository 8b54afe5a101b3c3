/** Percentiles of a sample (nearest-rank), for benchmarks that print p50/p95/p99 instead of adjectives. */
export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
}

export function summarise(samples: number[]): Summary {
  if (samples.length === 0) throw new Error('summarise: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { n: s.length, mean: s.reduce((a, b) => a + b, 0) / s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), min: s[0]!, max: s.at(-1)! };
}

export function formatMs(x: Summary, digits = 2): string {
  const f = (v: number) => v.toFixed(digits);
  return `n=${x.n} p50=${f(x.p50)} ms p95=${f(x.p95)} ms p99=${f(x.p99)} ms mean=${f(x.mean)} ms`;
}

/**
 * A benchmark's verdict line. Targets are the thresholds the issue set; a benchmark exits non-zero when
 * one is missed so `npm run test:perf` is a gate, not a printout.
 */
export function checkTarget(label: string, actual: number, op: '<=' | '>=', target: number, unit = ''): boolean {
  const ok = op === '<=' ? actual <= target : actual >= target;
  console.log(`[target] ${label}: ${actual.toFixed(3)}${unit} ${op} ${target}${unit} -> ${ok ? 'met' : 'MISSED'}`);
  if (!ok) process.exitCode = 1;
  return ok;
}
