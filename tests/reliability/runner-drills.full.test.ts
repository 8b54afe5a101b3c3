/**
 * The heavy runner drills (`npm run test:reliability:full`), outside `npm test`:
 *   - SIGKILL of a runner process inside every step of a migration (one process per step);
 *   - 10 runner processes started at once on one database: each migration applied exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { describePg, pgUrl } from '../support/pg.js';
import { sqlTree } from '../support/sql-tree.js';
import { reliabilityEvidence } from './support/evidence.js';
import { spawnRunner, stateOf, steppedMigration, waitForSleeper, withOptions } from './support/faults.js';

const STEPS = 4;
const evidence = reliabilityEvidence('runner-drills-full', 'PostgreSQL 15 (ephemeral cluster or DATABASE_URL)');

describePg('runner processes killed at every step, and ten at once', () => {
  let scratch: ScratchDatabase;
  beforeAll(async () => {
    scratch = await createScratchDatabase(pgUrl(), 'drill');
  });
  afterAll(async () => scratch?.drop());

  it(`SIGKILL inside each of the ${STEPS} steps: 0 partial states, orphan gone within the bound, next run reaches head`, async () => {
    const root = sqlTree({
      'migrations/0001_drill.sql': steppedMigration(STEPS),
      'down/0001_drill.sql': 'drop table public.drill;\n',
    });
    const admin = await openNodePostgres(scratch.url, { max: 2 });
    const perStep: { step: number; orphanMs: number; partial: boolean }[] = [];
    try {
      for (let step = 1; step <= STEPS; step++) {
        const before = await stateOf(admin);
        const child = spawnRunner(withOptions(scratch.url, { 'shipspeak.fault_step': String(step) }), root);
        const pid = await waitForSleeper(pgUrl(), scratch.name, 120_000);
        const killedAt = performance.now();
        child.child.kill('SIGKILL');
        await child.done;
        let orphanMs = -1;
        while (performance.now() - killedAt < 30_000) {
          if ((await admin.query('select 1 from pg_stat_activity where pid = $1', [pid])).rows.length === 0) {
            orphanMs = Math.round(performance.now() - killedAt);
            break;
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        const after = await stateOf(admin);
        perStep.push({ step, orphanMs, partial: JSON.stringify(after) !== JSON.stringify(before) });
        expect(after).toEqual(before);
        expect(orphanMs).toBeGreaterThanOrEqual(0);
        expect(orphanMs).toBeLessThan(10_000);
      }
      const applied = await migrateUp(admin, { sqlDir: root });
      expect(applied.map((s) => s.version)).toEqual(['0001']);
      evidence.pass(
        'sigkill-each-step',
        `runner SIGKILLed inside each of ${STEPS} migration steps`,
        {
          faultsInjected: STEPS,
          partialStates: perStep.filter((p) => p.partial).length,
          maxOrphanMs: Math.max(...perStep.map((p) => p.orphanMs)),
        },
        perStep,
      );
    } finally {
      await admin.exec('drop table if exists public.drill; drop schema if exists supabase_migrations cascade;');
      await admin.close();
    }
  });

  it('10 runner processes at once apply each migration exactly once', async () => {
    const versions = ['0002', '0003', '0004', '0005', '0006'];
    const root = sqlTree({
      'migrations/0001_log.sql': `create table public.apply_log (version text not null, at timestamptz default clock_timestamp());`,
      'down/0001_log.sql': `drop table public.apply_log;`,
      ...Object.fromEntries(
        versions.flatMap((v) => [
          [
            `migrations/${v}_step${v}.sql`,
            `select pg_sleep(0.1);\ninsert into public.apply_log (version) values ('${v}');\ncreate table public.t${v} (id int);`,
          ],
          [`down/${v}_step${v}.sql`, `drop table public.t${v};\ndelete from public.apply_log where version = '${v}';`],
        ]),
      ),
    });
    const runs = Array.from({ length: 10 }, () => spawnRunner(scratch.url, root));
    const exits = await Promise.all(runs.map((r) => r.done));
    expect(
      exits.map((e) => e.code),
      exits.map((e) => e.stderr).join('\n'),
    ).toEqual(Array(10).fill(0));
    const applied = exits
      .flatMap((e) => (JSON.parse(e.stdout.trim().split('\n').at(-1)!) as { applied: string[] }).applied)
      .sort();
    expect(applied).toEqual(['0001', ...versions]);
    const c = new pg.Client({ connectionString: scratch.url });
    await c.connect();
    try {
      const log = await c.query<{ version: string }>('select version from public.apply_log order by at');
      expect(log.rows.map((r) => r.version)).toEqual(versions);
      evidence.pass('ten-processes', '10 runner processes at once: each of 6 migrations applied exactly once', {
        processes: 10,
        migrations: 6,
        applications: applied.length,
        duplicates: log.rows.length - versions.length,
      });
    } finally {
      await c.end();
    }
  });
});
