/**
 * `npm run test:perf` (after the vitest project `k6`): runs every benchmark in tests/perf (each *.ts at this
 * level but this runner), one at a time so they do not compete for the two cores, each in its own process so
 * one's warm caches do not flatter the next. Each prints p50/p95/p99 and writes its verdicts as evidence
 * records (reports/results/perf-*.json, src/bench/stats.ts): a benchmark exits non-zero only when it misses a
 * gate — a side-by-side ratio or a wide ceiling — never on an absolute target, which the report judges.
 * Heavier runs live in their own scripts: `npm run bench:throughput` (tests/perf/throughput); the k6 scripts
 * (tests/perf/k6) run through `npm run k6` or real k6, not through this runner.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (benches.length === 0) {
  console.error(`no benchmark matched ${only.join(' ')}`);
  process.exit(1);
}

const results: { bench: string; status: number | null; seconds: number }[] = [];
for (const bench of benches) {
  console.log(`\n=== ${bench}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${bench}`], { stdio: 'inherit', env: process.env });
  results.push({ bench, status: r.status, seconds: (performance.now() - t0) / 1000 });
}
console.log('\n=== benchmarks');
for (const r of results)
  console.log(`  ${r.status === 0 ? 'ok    ' : 'FAILED'} ${r.bench.padEnd(32)} ${r.seconds.toFixed(1)} s`);
const failed = results.filter((r) => r.status !== 0).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
