import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { findPostgresBinaries, startEphemeralCluster, type EphemeralCluster } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { migrateDown, migrateUp } from '../../src/migrate/runner.js';
import { describePg, describeRequiring, pgUrl } from '../support/pg.js';
import { postgresFactory } from '../support/engines.js';
import { loadSeed } from '../../src/seed/load.js';
import { asRole, migratedEngines, pgFailure } from './support.js';

interface Policy {
  table_schema: string;
  table_name: string;
  timestamp_column: string;
  keep_days: number;
  enabled: boolean;
}

const purge = (db: Database, batch = 1000) =>
  db.query<{ table_name: string; purged: string }>('select table_name, purged::text from public.purge_expired($1)', [
    batch,
  ]);

/** Key (primary key as JSON) of the first `n` rows of a table, by ctid. */
async function someKeys(db: Database, table: string, n: number): Promise<string[]> {
  const r = await db.query<{ k: string }>(`
    select (select jsonb_object_agg(a.attname, to_jsonb(x) -> a.attname::text)
              from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey)
             where i.indrelid = 'public.${table}'::regclass and i.indisprimary)::text as k
      from public.${table} x order by ctid limit ${n}`);
  return r.rows.map((x) => x.k);
}

const whereKey = (key: string) => `to_jsonb(x) @> '${key.replace(/'/g, "''")}'::jsonb`;

for (const engine of migratedEngines({ seed: true })) {
  describeRequiring(`retention on ${engine.name}`, engine.missing, () => {
    let policies: Policy[] = [];
    beforeAll(async () => {
      const db = await engine.fresh();
      policies = (await db.query<Policy>(`select * from audit.retention_policies order by table_name`)).rows;
      await db.close();
    });

    it('has sensible defaults: transcripts kept shorter than analyses and progress, audit log longest, usage events aggregated', async () => {
      const days = Object.fromEntries(policies.map((p) => [`${p.table_schema}.${p.table_name}`, p.keep_days]));
      expect(days['public.meeting_transcripts']).toBeLessThan(days['public.meeting_analyses']!);
      expect(days['public.meeting_transcripts']).toBeLessThan(days['public.user_progress']!);
      const longest = Math.max(...Object.values(days));
      expect(days['audit.log']).toBe(longest);
      expect(policies.filter((p) => p.table_schema === 'public').length).toBeGreaterThanOrEqual(7);
    });

    it('for every public policy (each alone): a row just outside the window is purged, a row just inside is kept', async () => {
      for (const p of policies.filter((x) => x.table_schema === 'public')) {
        const db = await engine.fresh();
        try {
          await db.query(`update audit.retention_policies set enabled = (table_schema = $1 and table_name = $2)`, [
            p.table_schema,
            p.table_name,
          ]);
          const [outside, inside] = await someKeys(db, p.table_name, 2);
          expect(inside, `${p.table_name} needs two seed rows`).toBeDefined();
          // Everything recent, then one row an hour past the window and one an hour inside it. Every
          // timestamp column of a row moves by the same amount, so ordering checks (completed >= started) hold.
          const tsCols = (
            await db.query<{ c: string }>(
              `select attname::text as c from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped
               and atttypid = 'timestamptz'::regtype and attgenerated = ''`,
              [`public.${p.table_name}`],
            )
          ).rows.map((r) => r.c);
          const shift = (target: string) =>
            tsCols.map((c) => `${c} = ${c} + ((${target}) - x.${p.timestamp_column})`).join(', ');
          // set_updated_at would stamp now() over a backdated updated_at: user triggers are off while we age rows.
          await db.query(`alter table public.${p.table_name} disable trigger user`);
          await db.query(`update public.${p.table_name} x set ${shift('now()')}`);
          await db.query(
            `update public.${p.table_name} x set ${shift(`now() - make_interval(days => $1) - interval '1 hour'`)} where ${whereKey(outside!)}`,
            [p.keep_days],
          );
          await db.query(
            `update public.${p.table_name} x set ${shift(`now() - make_interval(days => $1) + interval '1 hour'`)} where ${whereKey(inside!)}`,
            [p.keep_days],
          );
          await db.query(`alter table public.${p.table_name} enable trigger user`);
          const before = await db.query<{ n: number }>(`select count(*)::int as n from public.${p.table_name}`);
          const result = await purge(db);
          expect(result.rows.find((r) => r.table_name === `public.${p.table_name}`)?.purged, p.table_name).toBe('1');
          expect(
            (await db.query(`select 1 from public.${p.table_name} x where ${whereKey(outside!)}`)).rows,
            `${p.table_name}: expired row kept`,
          ).toEqual([]);
          expect(
            (await db.query(`select 1 from public.${p.table_name} x where ${whereKey(inside!)}`)).rows.length,
            `${p.table_name}: live row purged`,
          ).toBe(1);
          expect(
            (await db.query<{ n: number }>(`select count(*)::int as n from public.${p.table_name}`)).rows[0]!.n,
          ).toBe(before.rows[0]!.n - 1);
          const entry = await db.query<{ rows: number }>(
            `select (new_values->>'rows')::int as rows from audit.log where operation = 'PURGE' and table_name = $1`,
            [`public.${p.table_name}`],
          );
          expect(entry.rows, `${p.table_name}: PURGE entry`).toEqual([{ rows: 1 }]);
          expect((await db.query(`select audit.verify_chain() as v`)).rows[0]).toEqual({ v: null });
        } finally {
          await db.close();
        }
      }
    });

    it('a disabled policy purges nothing', async () => {
      const db = await engine.fresh();
      try {
        await db.query(`update audit.retention_policies set enabled = false`);
        await db.query(`update public.meeting_transcripts set created_at = now() - interval '100 years'`);
        const r = await purge(db);
        expect(r.rows).toEqual([]);
        expect(
          (await db.query<{ n: number }>('select count(*)::int as n from public.meeting_transcripts')).rows[0]!.n,
        ).toBeGreaterThan(0);
      } finally {
        await db.close();
      }
    });

    it('usage events are folded into anonymous daily totals before they are dropped, and per-row auditing resumes after the purge', async () => {
      const db = await engine.fresh();
      try {
        const expired = await db.query<{ n: number; q: string }>(
          `select count(*)::int as n, sum(quantity)::text as q from public.usage_metrics where occurred_at < now() - interval '90 days'`,
        );
        await db.query(
          `update public.usage_metrics set occurred_at = now() - interval '200 days' where id in (select id from public.usage_metrics order by id limit 5)`,
        );
        const target = await db.query<{ n: number; q: string }>(
          `select count(*)::int as n, sum(quantity)::text as q from public.usage_metrics where occurred_at < now() - interval '90 days'`,
        );
        expect(target.rows[0]!.n).toBeGreaterThanOrEqual(Math.max(5, expired.rows[0]!.n));
        await db.transaction(async (tx) => {
          const r = await tx.query<{ purged: string }>(
            `select purged::text from public.purge_expired(2) where table_name = 'public.usage_metrics'`,
          );
          expect(Number(r.rows[0]!.purged)).toBe(target.rows[0]!.n);
          await tx.query(`delete from public.usage_metrics where id = (select min(id) from public.usage_metrics)`);
        });
        const totals = await db.query<{ n: number; q: string }>(
          `select sum(events)::int as n, sum(total_quantity)::text as q from private.usage_daily_totals`,
        );
        expect(totals.rows[0]!.n).toBe(target.rows[0]!.n);
        expect(Number(totals.rows[0]!.q)).toBe(Number(target.rows[0]!.q));
        const cols = await db.query<{ c: string }>(
          `select attname::text as c from pg_attribute where attrelid = 'private.usage_daily_totals'::regclass and attnum > 0`,
        );
        expect(cols.rows.map((r) => r.c)).not.toContain('user_id');
        const after = await db.query(
          `select 1 from audit.log where table_name = 'usage_metrics' and operation = 'DELETE'`,
        );
        expect(after.rows.length, 'the delete after the purge, same transaction, is audited').toBe(1);
      } finally {
        await db.close();
      }
    });

    it('rejects bad configuration with a clear error', async () => {
      const db = await engine.fresh();
      try {
        const cases: [string, RegExp][] = [
          [
            `insert into audit.retention_policies (table_name, timestamp_column, keep_days) values ('no_such_table', 'created_at', 30)`,
            /public\.no_such_table: table does not exist/,
          ],
          [
            `insert into audit.retention_policies (table_name, timestamp_column, keep_days) values ('modules', 'no_such_column', 30)`,
            /public\.modules: column "no_such_column" does not exist/,
          ],
          [
            `insert into audit.retention_policies (table_name, timestamp_column, keep_days) values ('modules', 'title', 30)`,
            /public\.modules: column "title" is of type text, not a timestamp or date/,
          ],
          [
            `update audit.retention_policies set keep_days = 0 where table_name = 'meetings'`,
            /public\.meetings: keep_days must be a positive number of days, got 0/,
          ],
          [
            `update audit.retention_policies set keep_days = -5 where table_name = 'meetings'`,
            /keep_days must be a positive number of days, got -5/,
          ],
          [
            `insert into audit.retention_policies (table_schema, table_name, timestamp_column, keep_days) values ('auth', 'users', 'created_at', 30)`,
            /only tables in schema public and audit\.log/,
          ],
        ];
        for (const [sql, message] of cases) {
          const f = await pgFailure(db.query(sql));
          expect(f.code, sql).toBe('22023');
          expect(f.message, sql).toMatch(message);
        }
        const bad = await pgFailure(db.query('select * from public.purge_expired(0)'));
        expect(bad.message).toMatch(/batch_size and max_batches must be positive/);
      } finally {
        await db.close();
      }
    });

    it('purge_expired is callable by service_role only', async () => {
      const db = await engine.fresh();
      try {
        for (const role of ['anon', 'authenticated'] as const) {
          const f = await pgFailure(
            asRole(db, role, role === 'anon' ? null : '00000000-0000-4000-8000-00000000000a', (tx) =>
              tx.query('select * from public.purge_expired()'),
            ),
          );
          expect(f.code, role).toBe('42501');
          expect(f.message).toMatch(/permission denied for function purge_expired/);
        }
        const ok = await asRole(db, 'service_role', null, (tx) => tx.query('select * from public.purge_expired()'));
        expect(ok.rows.length).toBeGreaterThan(0);
      } finally {
        await db.close();
      }
    });

    it('expired audit entries go as a prefix of the chain; the rest still verifies from the new anchor', async () => {
      const db = await engine.fresh();
      try {
        await db.query(
          `update audit.retention_policies set enabled = (table_schema = 'audit'), keep_days = 30 where table_schema = 'audit' or true`,
        );
        // A log whose oldest entries are old: rebuild it as the owner would have written it years ago (entries
        // appended in one finished transaction, chained by the sealer like any other).
        await db.query('select audit.seal(null)');
        await db.transaction(async (tx) => {
          await tx.exec('alter table audit.log disable trigger refuse_update_delete');
          await tx.exec('alter table audit.seals disable trigger refuse_update_delete');
          await tx.query(`delete from audit.seals`);
          await tx.query(`delete from audit.log`);
          await tx.query(`update audit.chain_head set last_hash = anchor_hash, last_seq = 0`);
          for (const age of ['40 days', '31 days', '29 days']) {
            await tx.query(
              `
              insert into audit.log (occurred_at, txid, db_role, table_name, operation, new_values)
              values (now() - $1::interval, pg_current_xact_id()::text::bigint, 'postgres', 'fixture', 'INSERT', jsonb_build_object('age', $1::text))`,
              [age],
            );
          }
          await tx.exec('alter table audit.log enable trigger refuse_update_delete');
          await tx.exec('alter table audit.seals enable trigger refuse_update_delete');
        });
        await db.query(`update public.meetings set platform = 'zoom' where platform = 'zoom'`);
        expect((await db.query(`select audit.verify_chain() as v`)).rows[0]).toEqual({ v: null });
        const r = await purge(db, 1);
        expect(r.rows).toEqual([{ table_name: 'audit.log', purged: '2' }]);
        const ages = await db.query<{ age: string | null }>(
          `select new_values->>'age' as age from audit.log where table_name = 'fixture' order by id`,
        );
        expect(ages.rows).toEqual([{ age: '29 days' }]);
        expect((await db.query(`select audit.verify_chain() as v`)).rows[0]).toEqual({ v: null });
      } finally {
        await db.close();
      }
    });
  });
}

describePg('retention: concurrent purges on PostgreSQL 15', () => {
  it('two purges at once neither double-count nor deadlock', async () => {
    const db = await postgresFactory(async (d) => {
      await migrateUp(d);
      await loadSeed(d);
    })();
    try {
      await db.query(`update audit.retention_policies set enabled = (table_name = 'usage_metrics')`);
      await db.query(`insert into public.usage_metrics (user_id, kind, quantity, occurred_at)
                      select '00000000-0000-4000-8000-00000000000a', 'analysis_tokens', 1, now() - interval '100 days' - g * interval '1 second'
                        from generate_series(1, 60000) g`);
      const expired = await db.query<{ n: number }>(
        `select count(*)::int as n from public.usage_metrics where occurred_at < now() - interval '90 days'`,
      );
      // Three connections open before the race starts, so the purges really overlap.
      await Promise.all([1, 2, 3].map(() => db.query('select pg_sleep(0.05)')));
      const run = () => db.query<{ purged: string }>(`select purged::text from public.purge_expired(100)`);
      const results = await Promise.all([run(), run(), run()]);
      const total = results.reduce((a, r) => a + Number(r.rows[0]!.purged), 0);
      expect(total).toBe(expired.rows[0]!.n);
      const left = await db.query<{ n: number }>(
        `select count(*)::int as n from public.usage_metrics where occurred_at < now() - interval '90 days'`,
      );
      expect(left.rows[0]!.n).toBe(0);
      const folded = await db.query<{ n: number }>(`select sum(events)::int as n from private.usage_daily_totals`);
      expect(folded.rows[0]!.n).toBe(expired.rows[0]!.n);
      const entries = await db.query<{ n: number }>(
        `select sum((new_values->>'rows')::int)::int as n from audit.log where operation = 'PURGE'`,
      );
      expect(entries.rows[0]!.n).toBe(expired.rows[0]!.n);
      expect((await db.query(`select audit.verify_chain() as v`)).rows[0]).toEqual({ v: null });
      console.log(
        `[figures] concurrent purge: ${expired.rows[0]!.n} expired rows, per-run counts ${results.map((r) => r.rows[0]!.purged).join(' + ')}`,
      );
    } finally {
      await db.close();
    }
  });
});

const cronMissing = findPostgresBinaries()
  ? null
  : 'no PostgreSQL 15 binaries to start a cluster with pg_cron preloaded';
describeRequiring('retention: pg_cron schedule on a dedicated PostgreSQL 15 cluster', cronMissing, () => {
  let cluster: EphemeralCluster;
  beforeAll(async () => {
    cluster = await startEphemeralCluster();
  });
  afterAll(async () => cluster?.stop());

  it('schedules the daily purge and the per-minute audit sealer where pg_cron is installed; the down migrations unschedule them', async () => {
    expect(cluster.preloaded, 'postgresql-15-cron must be installed (the cluster preloads it when present)').toContain(
      'pg_cron',
    );
    // pg_cron lives in cron.database_name = postgres: this cluster's own postgres database is the test database.
    const db = await openNodePostgres(cluster.url, { max: 2 });
    try {
      await db.query('create extension pg_cron');
      await applyBootstrap(db);
      await migrateUp(db);
      const job = await db.query<{ schedule: string; command: string }>(
        `select schedule, command from cron.job where jobname = 'shipspeak-purge-expired'`,
      );
      expect(job.rows).toEqual([{ schedule: '17 3 * * *', command: 'select public.purge_expired()' }]);
      const seal = await db.query<{ schedule: string; command: string }>(
        `select schedule, command from cron.job where jobname = 'shipspeak-audit-seal'`,
      );
      expect(seal.rows).toEqual([{ schedule: '* * * * *', command: 'select audit.seal()' }]);
      await migrateDown(db, { to: '0020' });
      expect((await db.query(`select 1 from cron.job where jobname = 'shipspeak-purge-expired'`)).rows).toEqual([]);
      await migrateDown(db, { to: '0014' });
      expect((await db.query(`select 1 from cron.job where jobname = 'shipspeak-audit-seal'`)).rows).toEqual([]);
    } finally {
      await db.close();
    }
  });
});

it('pgUrl is provided to the privacy project', () => {
  expect(typeof pgUrl).toBe('function');
});
