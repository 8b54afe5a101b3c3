/**
 * The hot-query gate inside `npm test` (tests/perf/run.ts runs it): the catalogue of tests/perf/queries.json
 * at modest scale (GATE_USERS users, ~20 s), every query RLS-on beside RLS-bypass interleaved in one run.
 * It gates only on what is stable on a shared 2-core machine:
 *   - RLS ÷ bypass ≤ RATIO_CEILING, the median over back-to-back pairs (machine load hits both halves of a pair);
 *   - the spec's 100 ms as a ceiling on the median wall-clock time with RLS. Not on p99, and not on one EXPLAIN
 *     ANALYZE: on a 2-core machine shared at load average 30, single stalls put a p99 of 50 samples past 100 ms
 *     (seen: own_profile p50 43 ms, p99 233 ms, for a 0.1 ms primary-key lookup) and one insert's execution at
 *     101 ms against 1.8 ms in a quieter run; both are printed and recorded, not gated;
 *   - exactly one statement per gateway request (pg_stat_statements: no N+1);
 *   - no sequential scan on a table of ≥ SEQ_SCAN_ROWS rows in the plan of any hot query;
 *   - the monthly admin rollup agrees with the raw aggregate (admin_usage_monthly = admin_usage_summary).
 * Absolute targets at scale (p99 ≤ 5 ms, ratio ≤ 1.3 at 10k users) are measured by `npm run bench`.
 */
import { loadCatalogue, runHotQueries } from '../../src/bench/hot-queries.js';
import { HOT_QUERY_CATALOGUE } from '../paths.js';
import { checksFor, describeMisses, hotQueryRecord, type Limits } from '../../src/bench/targets.js';
import { createScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { isCI, isUnavailable, resolveServer } from '../../src/db/resolve-postgres.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { provenance, writeResults, type CheckRecord } from '../../src/report/results.js';
import { loadScaleSeed } from '../../src/seed/scale.js';
import { actAs } from '../../src/db/act-as.js';

const GATE_USERS = Number(process.env.GATE_USERS ?? 300);
const RATIO_CEILING = 4;
const P50_CEILING_MS = 100;
const SEQ_SCAN_ROWS = 2000;

const startedAt = new Date();
const server = await resolveServer();
if (isUnavailable(server)) {
  console.error(`NOT RUN: hot-query gate needs PostgreSQL 15: ${server.unavailable}`);
  process.exit(isCI() ? 1 : 0);
}
const scratch = await createScratchDatabase(server.url, 'gate');
const admin = await openNodePostgres(scratch.url, { max: 2 });
const timing = await openNodePostgres(scratch.url, { max: 1 });
let failed = 0;
try {
  await applyBootstrap(admin);
  await migrateUp(admin);
  const seed = await loadScaleSeed(admin, { users: GATE_USERS, randomSeed: 'gate', audit: false });
  console.log(`scale seed: ${GATE_USERS} users, ${seed.totalRows} rows in ${(seed.totalMs / 1000).toFixed(1)} s`);
  const limits: Limits = { p99Ms: null, p50Ms: P50_CEILING_MS, rlsRatio: RATIO_CEILING, statements: 1, seqScans: true };
  const results = await runHotQueries({
    admin,
    timing,
    catalogue: loadCatalogue(HOT_QUERY_CATALOGUE),
    users: 25,
    rounds: 2,
    warmup: 10,
    largeTableRows: SEQ_SCAN_ROWS,
    log: console.log,
  });
  const records: CheckRecord[] = results.map((r) =>
    hotQueryRecord('perf.gate.hot_query', r, limits, `${GATE_USERS} users (gate)`),
  );

  // The rollup and the raw aggregate must agree for the current month (tiers did not change since the load).
  const month = new Date(Date.UTC(startedAt.getUTCFullYear(), startedAt.getUTCMonth(), 1));
  const next = new Date(Date.UTC(startedAt.getUTCFullYear(), startedAt.getUTCMonth() + 1, 1));
  const asService = async (sql: string, params: unknown[]) =>
    actAs(admin, 'service_role', { role: 'service_role' }, async (tx) => (await tx.query(sql, params)).rows);
  const rollup = await asService(
    'select kind, tier, users::text, events::text, total_quantity::text from public.admin_usage_monthly($1::date) order by 1, 2',
    [month.toISOString().slice(0, 10)],
  );
  const raw = await asService(
    'select kind, tier, users::text, events::text, total_quantity::text from public.admin_usage_summary($1, $2) order by 1, 2',
    [month.toISOString(), next.toISOString()],
  );
  const agree = JSON.stringify(rollup) === JSON.stringify(raw) && raw.length > 0;
  records.push({
    id: 'perf.gate.usage_rollup_agrees',
    title:
      'admin_usage_monthly (rollup) returns exactly what admin_usage_summary computes from raw events for this month',
    status: agree ? 'pass' : 'fail',
    reason: agree ? null : `rollup ${JSON.stringify(rollup)} vs raw ${JSON.stringify(raw)}`,
    engine: 'postgresql',
    figures: { groups: raw.length },
    evidence: { rollup, raw },
  });
  console.log(
    `[gate] usage rollup vs raw aggregate for ${month.toISOString().slice(0, 7)}: ${agree ? `agree (${raw.length} kind x tier groups)` : 'DIFFER'}`,
  );
  if (!agree) failed++;

  for (const r of results) {
    if (!r.hot) continue;
    const missed = describeMisses(checksFor(r, limits));
    console.log(
      `[gate] ${r.id}: ${missed ? `FAILED ${missed}` : `ok (ratio ${r.ratio.toFixed(2)} <= ${RATIO_CEILING}, p50 ${r.rls.p50.toFixed(2)} ms <= ${P50_CEILING_MS} ms, ${r.statementsPerRequest} statement, no large seq scan; not gated: p99 ${r.rls.p99.toFixed(2)} ms, execution ${r.explain.executionMs.toFixed(2)} ms)`}`,
    );
    if (missed) failed++;
  }
  writeResults('perf-hot-queries', provenance(server.description, startedAt), records);
} finally {
  await timing.close();
  await admin.close();
  await scratch.drop();
  await server.stop();
}
console.log(failed ? `hot-query gate: ${failed} check(s) failed` : 'hot-query gate: every check passed');
process.exit(failed ? 1 : 0);
