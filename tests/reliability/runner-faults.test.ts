/**
 * The migration runner under real faults on PostgreSQL 15 (issue #16, part 1). Every drill compares the
 * catalog snapshot and both history tables before the fault and after it (0 partial states allowed), then
 * runs the runner again with no manual repair and checks it reaches head.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import type { Database } from '../../src/db/database.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { describePg, pgUrl } from '../support/pg.js';
import { sqlTree } from '../support/sql-tree.js';
import { reliabilityEvidence } from './support/evidence.js';
import { spawnRunner, stateOf, steppedMigration, waitForSleeper, withOptions } from './support/faults.js';

// Read by the runner when its module loads: a short lock_timeout keeps the lock drill fast.
process.env.MIGRATION_LOCK_TIMEOUT = '300ms';
const { migrateUp } = await import('../../src/migrate/runner.js');

const STEPS = 4;
/** The fault's error, with any figures the drill measured. */
type Fault = Error & { figures?: Record<string, number> };
const root = sqlTree({
  'migrations/0001_drill.sql': steppedMigration(STEPS),
  'down/0001_drill.sql': 'drop table public.drill;\n',
  'migrations/0002_extend.sql': 'alter table public.drill add column extra int;\n',
  'down/0002_extend.sql': 'alter table public.drill drop column extra;\n',
});

const evidence = reliabilityEvidence('runner-faults', 'PostgreSQL 15 (ephemeral cluster or DATABASE_URL)');
let faultsInjected = 0;
let partialStates = 0;

describePg('migration runner under faults on PostgreSQL 15', () => {
  let scratch: ScratchDatabase;
  let db: Database | undefined;
  beforeAll(async () => {
    scratch = await createScratchDatabase(pgUrl(), 'fault');
  });
  afterEach(async () => {
    await db?.close();
    db = undefined;
    // Each drill starts from an empty database.
    const c = new pg.Client({ connectionString: scratch.url });
    await c.connect();
    await c.query('drop table if exists public.drill; drop schema if exists supabase_migrations cascade;');
    await c.end();
  });
  afterAll(async () => {
    await scratch?.drop();
    evidence.pass('summary', 'faults injected into the migration runner and partial states found', {
      faultsInjected,
      partialStates,
    });
  });

  /** Fault, then compare, then recover with an ordinary run. Returns the fault's error. */
  async function drill(
    id: string,
    title: string,
    inject: () => Promise<Fault>,
    setup?: (admin: Database) => Promise<void>,
  ) {
    return evidence.check(id, title, async () => {
      const admin = await openNodePostgres(scratch.url, { max: 2 });
      try {
        await setup?.(admin);
        const before = await stateOf(admin);
        const error = await inject();
        faultsInjected++;
        const after = await stateOf(admin);
        if (JSON.stringify(after) !== JSON.stringify(before)) partialStates++;
        expect(after).toEqual(before);
        const recoveryStart = performance.now();
        const applied = await migrateUp(admin, { sqlDir: root });
        const recoveryMs = Math.round(performance.now() - recoveryStart);
        expect((await admin.query<{ n: number }>('select count(*)::int as n from public.drill')).rows[0]!.n).toBe(1000);
        expect((await stateOf(admin)).history).toHaveLength(2);
        evidence.pass(
          id,
          title,
          { ...error.figures, partialStates: 0, recoveryMs, appliedOnRecovery: applied.length },
          { error: error.message },
        );
        return error;
      } finally {
        await admin.close();
      }
    });
  }

  it('pg_terminate_backend in the middle of a migration leaves nothing and the next run proceeds', async () => {
    const err = await drill('terminate', 'server terminates the runner connection mid-migration', async () => {
      db = await openNodePostgres(withOptions(scratch.url, { 'shipspeak.fault_step': '2' }), { max: 1 });
      const run = migrateUp(db, { sqlDir: root }).then(
        () => new Error('migration finished'),
        (e: Error) => e,
      );
      const pid = await waitForSleeper(pgUrl(), scratch.name);
      const c = new pg.Client({ connectionString: pgUrl() });
      await c.connect();
      await c.query('select pg_terminate_backend($1)', [pid]);
      await c.end();
      return run;
    });
    expect(err.message).toMatch(/terminat/i);
  });

  it('statement_timeout inside a migration rolls it back whole', async () => {
    const err = await drill('statement-timeout', 'statement_timeout fires inside a migration', async () => {
      db = await openNodePostgres(withOptions(scratch.url, { 'shipspeak.fault_step': '3', statement_timeout: '300' }), {
        max: 1,
      });
      return migrateUp(db, { sqlDir: root }).then(
        () => new Error('migration finished'),
        (e: Error) => e,
      );
    });
    expect(err.message).toMatch(/57014|statement timeout/);
  });

  it('lock_timeout while another session holds the table rolls the migration back and names the file', async () => {
    const err = await drill(
      'lock-timeout',
      'lock_timeout while another session holds the table',
      async () => {
        db = await openNodePostgres(scratch.url, { max: 1 });
        const holder = new pg.Client({ connectionString: scratch.url });
        await holder.connect();
        try {
          await holder.query('begin');
          await holder.query('lock table public.drill in access exclusive mode');
          return await migrateUp(db, { sqlDir: root }).then(
            () => new Error('migration finished'),
            (e: Error) => e,
          );
        } finally {
          await holder.query('rollback');
          await holder.end();
        }
      },
      async (admin) => void (await migrateUp(admin, { sqlDir: root, to: '0001' })),
    );
    expect(err.message).toMatch(/55P03|lock timeout/);
    expect(err.message).toContain('0002_extend.sql');
  });

  it('a disk-full-like failure (temp_file_limit exceeded) rolls the migration back whole', async () => {
    const tree = sqlTree({
      'migrations/0001_drill.sql':
        steppedMigration(STEPS) +
        `create table public.spill as select g, md5(g::text) as h from generate_series(1, 300000) g order by 2;\n`,
      'down/0001_drill.sql': 'drop table public.spill;\ndrop table public.drill;\n',
    });
    db = await openNodePostgres(withOptions(scratch.url, { work_mem: '64kB', temp_file_limit: '1MB' }), { max: 1 });
    const admin = await openNodePostgres(scratch.url, { max: 1 });
    try {
      const before = await stateOf(admin);
      const err = await migrateUp(db, { sqlDir: tree }).then(
        () => new Error('migration finished'),
        (e: Error) => e,
      );
      faultsInjected++;
      const after = await stateOf(admin);
      if (JSON.stringify(after) !== JSON.stringify(before)) partialStates++;
      expect(err.message).toMatch(/53400|temp_file_limit/);
      expect(after).toEqual(before);
      const applied = await migrateUp(admin, { sqlDir: tree });
      expect(applied.map((s) => s.version)).toEqual(['0001']);
      evidence.pass(
        'disk-full',
        'a statement fails like a full disk (temp_file_limit exceeded)',
        { partialStates: 0 },
        { error: err.message },
      );
      await admin.exec('drop table public.spill');
    } finally {
      await admin.close();
    }
  });

  it(
    'SIGKILL of the runner process mid-migration: nothing applied, the orphan ends within seconds, the next run proceeds',
    { timeout: 180_000 },
    async () => {
      await drill('sigkill', 'runner process killed with SIGKILL inside a migration step', async () => {
        const child = spawnRunner(withOptions(scratch.url, { 'shipspeak.fault_step': '2' }), root);
        const pid = await waitForSleeper(pgUrl(), scratch.name, 90_000);
        const killedAt = performance.now();
        child.child.kill('SIGKILL');
        const exit = await child.done;
        expect(exit.signal).toBe('SIGKILL');
        // The orphaned server session still sleeps (60 s) holding the migration lock unless the runner's
        // client_connection_check_interval makes the server notice its client is gone.
        const c = new pg.Client({ connectionString: pgUrl() });
        await c.connect();
        let orphanMs = -1;
        try {
          while (performance.now() - killedAt < 30_000) {
            const r = await c.query('select 1 from pg_stat_activity where pid = $1', [pid]);
            if (r.rows.length === 0) {
              orphanMs = Math.round(performance.now() - killedAt);
              break;
            }
            await new Promise((res) => setTimeout(res, 50));
          }
        } finally {
          await c.end();
        }
        expect(orphanMs, 'orphaned session still alive 30 s after its runner was killed').toBeGreaterThanOrEqual(0);
        // Stated bound: client_connection_check_interval (1 s) plus scheduling slack on a loaded machine.
        expect(orphanMs).toBeLessThan(10_000);
        return Object.assign(new Error(`runner killed; orphaned session gone after ${orphanMs} ms`), {
          figures: { orphanMs, orphanBoundMs: 10_000 },
        });
      });
    },
  );
});
