/**
 * The scale seed's user load stays linear (issue #17). A multi-row insert into auth.users once cost more
 * per user the more users the statement held: the signup triggers ran per row, each nested insert fired the
 * audit capture, and its cached plan hashed every audit.subject_keys row so far — user k read k keys, so
 * 100,000 users never finished. Measured here at two sizes (N and 4N) in fresh databases of the suite's
 * PostgreSQL 15, with the signup and audit triggers on as in the real load:
 *  - work: rows read from audit.subject_keys per user inserted (this transaction's own counters, no clock),
 *    which was ~N/2 per user before 0036 and is now a constant;
 *  - time: seconds per user at 4N over seconds per user at N, a wide ratio measured side by side (never an
 *    absolute time; a loaded shared machine moves both sizes alike).
 */
import { afterAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { scaleSteps, stepStatements } from '../../src/seed/scale.js';
import { postgresFactory } from '../support/engines.js';
import { describePg } from '../support/pg.js';

const SMALL = 500;
const LARGE = 4 * SMALL;
/**
 * Per-user work may not grow with the batch: at 4x the users, at most 1.5x the subject-key reads per user
 * (or one read per audited row, if the planner picks an index nested loop there).
 */
const MAX_WORK_RATIO = 1.5;
/** Wide on purpose (shared 2-core machine): linear is ~1, the old quadratic path reached 4x at 4N. */
const MAX_TIME_RATIO = 2.5;

interface UserLoad {
  users: number;
  profiles: number;
  /** Rows the signup wrote per user (profile + progress), each audited once: the most reads of a key any plan needs. */
  auditedRowsPerUser: number;
  msPerUser: number;
  keyReadsPerUser: number;
}

/** Runs the seed's helper and auth.users steps for `users` users in one transaction, as loadScaleSeed does. */
async function loadUsers(db: Database, users: number): Promise<UserLoad> {
  const [helpers, authUsers] = scaleSteps(users, 'linearity');
  return db.transaction(async (tx) => {
    await tx.exec('set local max_parallel_workers_per_gather = 0');
    for (const sql of stepStatements(helpers!.sql)) await tx.query(sql);
    const t0 = performance.now();
    for (const sql of stepStatements(authUsers!.sql)) await tx.query(sql);
    const ms = performance.now() - t0;
    // This transaction's own table counters: every row the triggers' statements read from the key table.
    const reads = await tx.query<{ n: string }>(
      `select (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::text as n
         from pg_catalog.pg_stat_xact_user_tables where relid = 'audit.subject_keys'::regclass`,
    );
    const counts = await tx.query<{ profiles: string; progress: string }>(
      `select (select count(*) from public.profiles)::text as profiles,
              (select count(*) from public.user_progress)::text as progress`,
    );
    const profiles = Number(counts.rows[0]!.profiles);
    return {
      users,
      profiles,
      auditedRowsPerUser: (profiles + Number(counts.rows[0]!.progress)) / users,
      msPerUser: ms / users,
      keyReadsPerUser: Number(reads.rows[0]!.n) / users,
    };
  });
}

describePg('scale seed: loading users through auth.users stays linear (PostgreSQL 15)', () => {
  const fresh = postgresFactory(async (db) => void (await migrateUp(db)), { shareAs: 'seed-scale-linear' });
  const open: Database[] = [];
  afterAll(async () => {
    for (const db of open) await db.close();
  });

  it(`${LARGE} users cost no more per user than ${SMALL} (work ≤ ${MAX_WORK_RATIO}x, time ≤ ${MAX_TIME_RATIO}x)`, async () => {
    const [small, large] = [await fresh(), await fresh()];
    open.push(small, large);
    // Warm both connections' caches on the small size first, so neither measurement pays first-use costs.
    const a = await loadUsers(small, SMALL);
    const b = await loadUsers(large, LARGE);
    console.log(
      `users ${a.users}: ${a.msPerUser.toFixed(3)} ms/user, ${a.keyReadsPerUser.toFixed(1)} key reads/user; ` +
        `users ${b.users}: ${b.msPerUser.toFixed(3)} ms/user, ${b.keyReadsPerUser.toFixed(1)} key reads/user`,
    );
    // The signup trigger ran for every user (set-based must not mean skipped).
    expect(a.profiles).toBe(SMALL);
    expect(b.profiles).toBe(LARGE);
    // A hash join reads each key once per capture, an index nested loop once per audited row: either is a
    // constant per user. Before 0036 it was ~250 per user at 500 users and ~1,000 at 2,000.
    expect(b.keyReadsPerUser).toBeLessThanOrEqual(Math.max(MAX_WORK_RATIO * a.keyReadsPerUser, b.auditedRowsPerUser));
    expect(b.msPerUser / a.msPerUser).toBeLessThanOrEqual(MAX_TIME_RATIO);
  }, 240_000);
});
