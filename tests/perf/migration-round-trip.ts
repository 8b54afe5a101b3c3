/**
 * Benchmark: the full PGlite migration round trip a developer's fresh clone pays for — cold PGlite start,
 * Supabase bootstrap, every migration up, every migration down — repeated in fresh processes-worth of
 * state (a new PGlite each round) and summarised. Target (issue 2): ≤ 10 s including PGlite start-up.
 */
import { openPGlite } from '../../src/db/pglite.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { loadMigrations } from '../../src/migrate/files.js';
import { migrateDown, migrateUp } from '../../src/migrate/runner.js';
import { checkTarget, formatMs, summarise } from '../../src/bench/stats.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const count = loadMigrations().length;
const total: number[] = [];
const phases: Record<string, number[]> = { start: [], bootstrap: [], up: [], down: [] };

for (let i = 0; i < ROUNDS; i++) {
  const t0 = performance.now();
  const db = await openPGlite();
  const t1 = performance.now();
  await applyBootstrap(db);
  const t2 = performance.now();
  await migrateUp(db);
  const t3 = performance.now();
  await migrateDown(db, { to: '0000' });
  const t4 = performance.now();
  await db.close();
  phases.start!.push(t1 - t0);
  phases.bootstrap!.push(t2 - t1);
  phases.up!.push(t3 - t2);
  phases.down!.push(t4 - t3);
  total.push(t4 - t0);
}

console.log(`PGlite full round trip of ${count} migrations, ${ROUNDS} rounds (round 1 includes WASM compilation):`);
console.log(`  rounds: ${total.map((t) => `${t.toFixed(0)} ms`).join(', ')}`);
for (const [name, samples] of Object.entries(phases)) console.log(`  ${name.padEnd(9)} ${formatMs(summarise(samples), 0)}`);
console.log(`  total     ${formatMs(summarise(total), 0)}`);
checkTarget('PGlite round trip, worst round incl. start-up', Math.max(...total) / 1000, '<=', 10, ' s');
