/**
 * Randomised isolation fuzz (issue #16, part 4), the quick run inside `npm test`: FUZZ_OPS operations
 * (default 1000) by 10 users on each engine. `npm run test:fuzz` runs 10,000 per engine. A failure prints
 * the seed; FUZZ_SEED=<seed> replays it.
 */
import { expect, it } from 'vitest';
import { summarise } from '../../src/harness/stats.js';
import { describeEachEngine } from '../rest/support/engines.js';
import { reliabilityEvidence } from './support/evidence.js';
import { fuzzSeed, runFuzz } from './support/fuzz.js';

const OPS = Number(process.env.FUZZ_OPS ?? 1000);
const USERS = 10;
const evidence = reliabilityEvidence(
  process.env.FUZZ_SUITE ?? 'fuzz',
  'PGlite + PostgreSQL 15 (gateway fixture, supabase-js)',
);

describeEachEngine('isolation fuzz through supabase-js', (ctx) => {
  it(`${OPS} random operations by ${USERS} users: 0 cross-user reads or writes`, { timeout: 600_000 }, async () => {
    const { engine, db, c } = ctx();
    const seed = fuzzSeed();
    console.log(`[fuzz:${engine}] seed ${seed} (replay: FUZZ_SEED=${seed})`);
    const r = await runFuzz(db, c, { ops: OPS, users: USERS, seed });
    const lat = summarise(r.latenciesMs);
    console.log(
      `[fuzz:${engine}] ${r.ops} ops, cross-user reads ${r.crossUserReads}, writes ${r.crossUserWrites}, mismatches ${r.modelMismatches}; p50 ${lat.p50.toFixed(2)} ms p95 ${lat.p95.toFixed(2)} ms p99 ${lat.p99.toFixed(2)} ms`,
    );
    expect(r.failures, `seed ${seed}`).toEqual([]);
    expect(r.crossUserReads + r.crossUserWrites + r.modelMismatches).toBe(0);
    expect(r.ops).toBe(OPS);
    evidence.pass(
      `isolation.${engine}`,
      `${OPS} random supabase-js operations by ${USERS} users on ${engine}: no cross-user read or write`,
      {
        seed,
        ops: r.ops,
        users: r.users,
        crossUserReads: r.crossUserReads,
        crossUserWrites: r.crossUserWrites,
        modelMismatches: 0,
        p50Ms: lat.p50,
        p95Ms: lat.p95,
        p99Ms: lat.p99,
      },
      { byKind: r.byKind },
      engine === 'pglite' ? 'pglite' : 'postgresql',
    );
  });
});
