/**
 * `npm run test:perf`: runs every benchmark in tests/perf (each *.ts here but this runner), one at a time
 * so they do not compete for the two cores, each in its own process so one's warm caches do not flatter
 * the next. Each benchmark prints its own figures and exits non-zero when it misses its target.
 * k6 scripts (*.k6.js) are for environments that have k6 and are not run here.
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
for (const r of results) console.log(`  ${r.status === 0 ? 'ok    ' : 'FAILED'} ${r.bench.padEnd(32)} ${r.seconds.toFixed(1)} s`);
const failed = results.filter((r) => r.status !== 0).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
