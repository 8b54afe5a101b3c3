/**
 * Monitoring on a real PostgreSQL 15 (issue #16, part 6): the logging configuration of
 * src/db/monitoring-settings.ts is in force on the harness cluster, produces the log lines it promises
 * (errors with their statement, slow statements with their plan, lock waits, pgaudit DDL and role lines), and
 * no log line carries a bind parameter, e-mail, user id or token. `shipspeak-db stats` reports from
 * pg_stat_statements and the statistics views, with normalised query text only.
 */
import { readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { runCli } from '../../src/commands/dispatch.js';
import { findPostgresBinaries, startEphemeralCluster, type EphemeralCluster } from '../../src/db/ephemeral-cluster.js';
import { AUTO_EXPLAIN_SETTINGS, LOGGING_SETTINGS, PGAUDIT_SETTINGS } from '../../src/db/monitoring-settings.js';
import { isCI } from '../../src/db/resolve-postgres.js';
import { describeRequiring } from '../support/pg.js';
import { reliabilityEvidence } from './support/evidence.js';

const evidence = reliabilityEvidence('monitoring', 'PostgreSQL 15 (ephemeral cluster)');
const binaries = findPostgresBinaries()
  ? null
  : 'no PostgreSQL 15 server binaries (the monitoring drill reads its own cluster log)';

// Values that must never reach a log line or the stats output.
const SECRET_EMAIL = 'monitoring.secret@example.org';
const SECRET_UUID = '6f1d2c3b-4a59-4e7d-9c11-aa00bb11cc22';
const SECRET_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sig-never-logged';
const SECRET_TEXT = 'transcript: the quarterly numbers are confidential';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), ask: async () => null }, out, err };
}

describeRequiring('monitoring on PostgreSQL 15', binaries, () => {
  let cluster: EphemeralCluster;
  let client: pg.Client;
  let logStart = 0;
  const log = () => readFileSync(cluster.logFile, 'utf8').slice(logStart);
  async function untilLogged(re: RegExp, timeoutMs = 15_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const text = log();
      const line = text.split('\n').find((l) => re.test(l));
      if (line) return line;
      if (Date.now() > until) throw new Error(`no server log line matched ${re} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    cluster = await startEphemeralCluster();
    client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    logStart = statSync(cluster.logFile).size;
  });
  afterAll(async () => {
    await client?.end();
    await cluster?.stop();
  });

  it('the logging configuration is in force', async () => {
    if (isCI()) expect(cluster.preloaded).toEqual(expect.arrayContaining(['pgaudit', 'auto_explain']));
    const wanted = {
      ...LOGGING_SETTINGS,
      ...(cluster.preloaded.includes('auto_explain') ? AUTO_EXPLAIN_SETTINGS : {}),
      ...(cluster.preloaded.includes('pgaudit') ? PGAUDIT_SETTINGS : {}),
    };
    const actual: Record<string, string> = {};
    for (const name of Object.keys(wanted)) {
      actual[name] = (
        await client.query<{ v: string }>('select pg_catalog.current_setting($1) as v', [name])
      ).rows[0]!.v;
    }
    expect(actual).toEqual(wanted);
    evidence.pass(
      'settings',
      'server logging, auto_explain and pgaudit settings in force on the harness cluster',
      { settings: Object.keys(wanted).length },
      actual,
    );
  });

  it('pgaudit logs DDL and role changes', async (ctx) => {
    if (!cluster.preloaded.includes('pgaudit')) {
      if (isCI()) throw new Error('pgaudit is not installed: .ci/run installs postgresql-15-pgaudit');
      return ctx.skip('NOT RUN: pgaudit not installed');
    }
    await client.query('create table public.audited_probe (id int primary key)');
    await client.query('create role monitoring_probe nologin');
    await client.query('grant select on public.audited_probe to monitoring_probe');
    const ddl = await untilLogged(/AUDIT: SESSION,\d+,\d+,DDL,CREATE TABLE,.*public\.audited_probe/);
    const role = await untilLogged(/AUDIT: SESSION,\d+,\d+,ROLE,CREATE ROLE/);
    const grant = await untilLogged(/AUDIT: SESSION,\d+,\d+,ROLE,GRANT/);
    evidence.pass(
      'pgaudit',
      'a DDL statement, a role creation and a grant appear in the server log (pgaudit ddl, role)',
      { lines: 3 },
      { ddl, role, grant },
    );
  });

  it('errors are logged with their statement, slow statements with their plan, lock waits with the holder', async () => {
    // An error: the statement text is logged (log_min_error_statement), its parameter values are not.
    await client.query('select $1::text, 1 / 0', [SECRET_EMAIL]).catch(() => undefined);
    const error = await untilLogged(/ERROR: {2}division by zero/);
    const statement = await untilLogged(/STATEMENT: {2}select \$1::text, 1 \/ 0/);
    // A unique violation on a key holding an e-mail: the DETAIL quoting the row is dropped (terse).
    await client.query('create table public.emails (email text primary key)');
    await client.query('insert into public.emails values ($1)', [SECRET_EMAIL]);
    await client.query('insert into public.emails values ($1)', [SECRET_EMAIL]).catch(() => undefined);
    await untilLogged(/duplicate key value violates unique constraint "emails_pkey"/);
    // A slow statement (thresholds lowered for this session only, so the drill takes 0.3 s, not 1 s).
    await client.query(`set log_min_duration_statement = '100ms'`);
    await client.query(`set auto_explain.log_min_duration = '100ms'`).catch(() => undefined);
    await client.query('select pg_sleep(0.3), $1::text, $2::uuid, $3::text, $4::text', [
      SECRET_EMAIL,
      SECRET_UUID,
      SECRET_TOKEN,
      SECRET_TEXT,
    ]);
    const slow = await untilLogged(/duration: [\d.]+ ms {2}(execute|statement)[^:]*: select pg_sleep\(0\.3\)/);
    const plan = cluster.preloaded.includes('auto_explain') ? await untilLogged(/duration: [\d.]+ ms {2}plan:/) : null;
    await client.query('reset log_min_duration_statement');
    // A lock wait longer than deadlock_timeout (lowered for the waiting session).
    const holder = new pg.Client({ connectionString: cluster.url });
    const waiter = new pg.Client({ connectionString: cluster.url });
    await holder.connect();
    await waiter.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table public.emails in access exclusive mode');
      await waiter.query(`set deadlock_timeout = '100ms'`);
      await waiter.query(`set lock_timeout = '1s'`);
      await waiter.query('select count(*) from public.emails').catch(() => undefined);
    } finally {
      await holder.query('rollback');
      await holder.end();
      await waiter.end();
    }
    const lockWait = await untilLogged(/still waiting for AccessShareLock on relation/);

    const text = log();
    const leaks = [SECRET_EMAIL, SECRET_UUID, SECRET_TOKEN, SECRET_TEXT].filter((s) => text.includes(s));
    expect(leaks).toEqual([]);
    expect(text).not.toMatch(/parameters: \$1/);
    expect(text).not.toMatch(/DETAIL: {2}Key \(email\)/);
    evidence.pass(
      'server-log',
      'errors with statement text, slow statements with plan, lock waits logged; no parameter value, e-mail, user id, token or transcript in the log',
      { logLinesChecked: text.split('\n').length, secretsFound: leaks.length },
      { error, statement, slow, plan, lockWait },
    );
  });

  it('`stats` reports top statements, cache hit ratio, connections, slots and bloat hints, never parameter values', async () => {
    await client.query('create extension if not exists pg_stat_statements');
    await client.query('create table public.churn (id int primary key, note text)');
    await client.query(`insert into public.churn select g, 'n' || g from generate_series(1, 5000) g`);
    await client.query('delete from public.churn where id > 1000');
    await client.query(`select count(*) from public.emails where email = '${SECRET_EMAIL}'`);
    await client.query(
      `select pg_catalog.pg_create_logical_replication_slot('monitoring_probe_slot', 'test_decoding')`,
    );
    await client.query('select pg_catalog.pg_stat_force_next_flush()');
    await new Promise((r) => setTimeout(r, 200));
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = cluster.url;
    try {
      const c = capture();
      const code = await runCli(['stats', '--json', '--top', '5'], c.io);
      expect(c.err).toEqual([]);
      expect(code).toBe(0);
      const stats = JSON.parse(c.out.join('\n'));
      expect(stats.topByTotal.length).toBeGreaterThan(0);
      expect(stats.topByTotal.length).toBeLessThanOrEqual(5);
      expect(stats.topByMean.length).toBeGreaterThan(0);
      expect(stats.cacheHitRatio).toBeGreaterThan(0);
      expect(stats.cacheHitRatio).toBeLessThanOrEqual(1);
      expect(stats.connections.find((x: { state: string }) => x.state === 'active')?.count).toBeGreaterThanOrEqual(1);
      expect(stats.replicationSlots.map((s: { slot: string }) => s.slot)).toContain('monitoring_probe_slot');
      expect(stats.bloatHints.map((b: { table: string }) => b.table)).toContain('public.churn');
      const raw = c.out.join('\n');
      expect(raw).not.toContain(SECRET_EMAIL);
      // The literal became a placeholder (looked for among all recorded statements).
      const all = capture();
      expect(await runCli(['stats', '--json', '--top', '1000'], all.io)).toBe(0);
      expect(all.out.join('\n')).not.toContain(SECRET_EMAIL);
      const queries = (JSON.parse(all.out.join('\n')).topByTotal as { query: string }[]).map((s) => s.query);
      expect(queries.some((q) => /from public\.emails where email = \$1/.test(q))).toBe(true);
      const text = capture();
      expect(await runCli(['stats'], text.io)).toBe(0);
      expect(text.out.join('\n')).toMatch(/cache hit ratio: \d+\.\d+ %/);
      evidence.pass(
        'stats',
        'shipspeak-db stats: top statements by total and mean time with normalised text, cache hit ratio, connections, replication slots, bloat hints',
        {
          statements: stats.topByTotal.length,
          cacheHitRatio: Math.round(stats.cacheHitRatio * 10000) / 10000,
          replicationSlots: stats.replicationSlots.length,
          bloatHints: stats.bloatHints.length,
        },
        { sample: text.out.slice(0, 12) },
      );
    } finally {
      await client.query(`select pg_catalog.pg_drop_replication_slot('monitoring_probe_slot')`);
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });

  it('`stats` without DATABASE_URL is a usage error, and without pg_stat_statements exits 1 naming it', async () => {
    const saved = process.env.DATABASE_URL;
    try {
      delete process.env.DATABASE_URL;
      const none = capture();
      expect(await runCli(['stats'], none.io)).toBe(2);
      expect(none.err.join('\n')).toMatch(/set DATABASE_URL/);
      await client.query('create database no_pgss');
      const u = new URL(cluster.url);
      u.pathname = '/no_pgss';
      process.env.DATABASE_URL = u.toString();
      const missing = capture();
      expect(await runCli(['stats'], missing.io)).toBe(1);
      expect(missing.err.join('\n')).toMatch(/pg_stat_statements is not installed/);
      expect(missing.out.join('\n')).toMatch(/connections \(max_connections \d+\)/);
      const bad = capture();
      expect(await runCli(['stats', '--top', '0'], bad.io)).toBe(2);
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });
});
