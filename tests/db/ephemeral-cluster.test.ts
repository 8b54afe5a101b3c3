/**
 * The ephemeral PostgreSQL 15 cluster: what it is configured with, scratch databases, and above all that it
 * leaves nothing behind — after stop(), and after its owner process dies in every way we can provoke.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { PGAUDIT_SETTINGS } from '../../src/db/monitoring-settings.js';
import {
  type EphemeralCluster,
  availablePreloads,
  createScratchDatabase,
  findPostgresBinaries,
  pkgLibDir,
  startEphemeralCluster,
} from '../../src/db/ephemeral-cluster.js';
import { isCI } from '../../src/db/resolve-postgres.js';
import { describePg, describeRequiring, pgUrl } from '../support/pg.js';

const binDir = findPostgresBinaries();
const missing = binDir ? null : 'no PostgreSQL 15 server binaries (apt-get install -y postgresql-15)';

// ---- process inspection through /proc (Linux) --------------------------------------------------------

function procEntries(): { pid: number; ppid: number; state: string; cmdline: string }[] {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid ..." — comm may contain spaces and parentheses, so split after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ');
      out.push({ pid: Number(name), ppid: Number(rest[1]), state: rest[0] ?? '?', cmdline });
    } catch {
      /* exited while we looked */
    }
  }
  return out;
}

/** The postmaster and all its descendants (backends, checkpointer, pg_cron launcher, ...). */
function clusterProcessTree(dataDir: string): number[] {
  const postmaster = Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
  const procs = procEntries();
  const tree = new Set([postmaster]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (tree.has(p.ppid) && !tree.has(p.pid)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  return [...tree];
}

/** Live (non-zombie) processes among `pids`, plus any process whose command line names `dir`. */
function leftovers(pids: number[], dir: string): string[] {
  const procs = procEntries().filter((p) => p.state !== 'Z');
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const found = pids.filter((pid) => byPid.has(pid)).map((pid) => `pid ${pid}: ${byPid.get(pid)!.cmdline}`);
  for (const p of procs) if (p.pid !== process.pid && p.cmdline.includes(dir)) found.push(`pid ${p.pid}: ${p.cmdline}`);
  return [...new Set(found)];
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

async function oneValue(url: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query(sql);
    return String(Object.values(r.rows[0] as Record<string, unknown>)[0]);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------------------

describeRequiring('ephemeral PostgreSQL 15 cluster', missing, () => {
  let cluster: EphemeralCluster;
  let client: pg.Client;

  beforeAll(async () => {
    cluster = await startEphemeralCluster();
    console.log(
      `[figures] ephemeral cluster: initdb ${cluster.timings.initdbMs} ms + start ${cluster.timings.startMs} ms = ` +
        `${cluster.timings.initdbMs + cluster.timings.startMs} ms (PostgreSQL ${cluster.version}, port ${cluster.port})`,
    );
    client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await cluster?.stop();
  });

  const setting = async (name: string) =>
    (await client.query<{ setting: string }>('select setting from pg_catalog.pg_settings where name = $1', [name]))
      .rows[0]?.setting;

  it('is PostgreSQL 15.x, reachable as superuser postgres on 127.0.0.1 only', async () => {
    const num = Number(await setting('server_version_num'));
    expect(num).toBeGreaterThanOrEqual(150000);
    expect(num).toBeLessThan(160000);
    expect(cluster.version).toMatch(/^15\.\d+/);
    expect(await setting('listen_addresses')).toBe('127.0.0.1');
    expect(await setting('unix_socket_directories')).toBe(cluster.socketDir);
    const r = await client.query(
      'select current_user as u, usesuper from pg_catalog.pg_user where usename = current_user',
    );
    expect(r.rows[0]).toEqual({ u: 'postgres', usesuper: true });
    expect(existsSync(`${cluster.socketDir}/.s.PGSQL.${cluster.port}`)).toBe(true);
  });

  it('has the configuration later suites rely on', async () => {
    expect(await setting('wal_level')).toBe('logical');
    expect(Number(await setting('max_wal_senders'))).toBeGreaterThanOrEqual(4);
    expect(Number(await setting('max_replication_slots'))).toBeGreaterThanOrEqual(4);
    expect(Number(await setting('max_connections'))).toBe(200);
    expect((await client.query('show shared_buffers')).rows[0]).toEqual({ shared_buffers: '256MB' });
    for (const off of ['fsync', 'synchronous_commit', 'full_page_writes']) expect(await setting(off), off).toBe('off');
    expect(await setting('TimeZone')).toBe('UTC');
  });

  it('preloads pg_stat_statements and auto_explain, and pg_cron / pgaudit whenever they are installed', async () => {
    const expected = availablePreloads(binDir!);
    expect(expected).toContain('pg_stat_statements');
    // .ci/run installs both packages, so CI must have them; locally they are optional.
    if (isCI()) expect(expected).toEqual(['pg_stat_statements', 'pg_cron', 'pgaudit', 'auto_explain']);
    expect(cluster.preloaded).toEqual(expected);
    expect((await setting('shared_preload_libraries'))?.split(',').map((s) => s.trim())).toEqual(expected);

    // Reading the view fails ("must be loaded via shared_preload_libraries") unless truly preloaded.
    await client.query('create extension if not exists pg_stat_statements');
    const calls = await client.query('select count(*)::int as n from public.pg_stat_statements');
    expect(calls.rows[0].n).toBeGreaterThan(0);

    if (expected.includes('pg_cron')) {
      expect(await setting('cron.database_name')).toBe('postgres');
      await client.query('create extension if not exists pg_cron');
      const job = await client.query<{ id: string }>(
        `select cron.schedule('ephemeral-test', '* * * * *', 'select 1') as id`,
      );
      expect(Number(job.rows[0]!.id)).toBeGreaterThan(0);
      await client.query(`select cron.unschedule('ephemeral-test')`);
    }
    if (expected.includes('pgaudit')) {
      await client.query('create extension if not exists pgaudit');
      // The project's audit logging (src/db/monitoring-settings.ts): DDL and role changes.
      expect(await setting('pgaudit.log')).toBe(PGAUDIT_SETTINGS['pgaudit.log']);
    }
  });

  it('decodes logical changes (wal2json when installed, test_decoding otherwise)', async () => {
    const hasWal2json = existsSync(`${pkgLibDir(binDir!)}/wal2json.so`);
    if (isCI()) expect(hasWal2json, '.ci/run installs postgresql-15-wal2json').toBe(true);
    const plugin = hasWal2json ? 'wal2json' : 'test_decoding';
    await client.query('create table public.decode_me (id int primary key, note text)');
    await client.query(`select pg_catalog.pg_create_logical_replication_slot('ephemeral_test', $1)`, [plugin]);
    try {
      // synchronous_commit=off: decoding only sees WAL already flushed, so flush this one commit now.
      await client.query('set synchronous_commit = on');
      await client.query(`insert into public.decode_me values (1, 'hello')`);
      await client.query('reset synchronous_commit');
      const changes = await client.query<{ data: string }>(
        `select data from pg_catalog.pg_logical_slot_get_changes('ephemeral_test', null, null)`,
      );
      expect(changes.rows.map((r) => r.data).join('\n')).toContain('hello');
    } finally {
      await client.query(`select pg_catalog.pg_drop_replication_slot('ephemeral_test')`);
      await client.query('drop table public.decode_me');
    }
  });

  it('creates and drops scratch databases, also from a template and with connections still open', async () => {
    const a = await createScratchDatabase(cluster.url, 'scratch');
    expect(a.name).toMatch(/^scratch_\d+_[a-z0-9]+_\d+$/);
    expect(new URL(a.url).pathname).toBe(`/${a.name}`);
    const onA = new pg.Client({ connectionString: a.url });
    await onA.connect();
    expect((await onA.query('select current_database() as d')).rows[0].d).toBe(a.name);
    await onA.query('create table public.marker (id int)');
    await onA.end();

    const b = await createScratchDatabase(cluster.url, 'scratch', { template: a.name });
    expect(b.name).not.toBe(a.name);
    const lingering = new pg.Client({ connectionString: b.url });
    lingering.on('error', () => undefined); // DROP ... WITH (FORCE) terminates it
    await lingering.connect();
    expect((await lingering.query(`select to_regclass('public.marker') is not null as copied`)).rows[0].copied).toBe(
      true,
    );

    await b.drop();
    await a.drop();
    await a.drop(); // idempotent
    const left = await client.query('select datname from pg_catalog.pg_database where datname = any($1)', [
      [a.name, b.name],
    ]);
    expect(left.rows).toEqual([]);
    await lingering.end().catch(() => undefined);
  });

  // One test for both, so that two extra clusters (an initdb each) prove both: with the suite's own cluster, three
  // run at once on distinct ports, and each of the two is then stopped twice.
  it('runs several clusters at once on distinct ports; stop() removes the directory and leaves no postgres process, a second stop() is a no-op', async () => {
    const t0 = Date.now();
    const many = await Promise.all([1, 2].map(() => startEphemeralCluster({ preload: false })));
    const wall = Date.now() - t0;
    const trees = many.map((c) => clusterProcessTree(c.dataDir));
    try {
      expect(new Set([cluster.port, ...many.map((c) => c.port)]).size).toBe(3);
      const answers = await Promise.all(many.map((c) => oneValue(c.url, 'select inet_server_port()')));
      expect(answers.map(Number)).toEqual(many.map((c) => c.port));
      for (const [i, c] of many.entries()) {
        expect(c.preloaded).toEqual([]);
        expect(trees[i]!.length).toBeGreaterThan(1); // postmaster + auxiliaries
        expect(leftovers(trees[i]!, c.dataDir)).not.toEqual([]); // the probe sees a live cluster
      }
    } finally {
      for (const c of many) {
        await c.stop();
        await c.stop();
      }
    }
    console.log(`[figures] 2 clusters started concurrently in ${wall} ms wall clock`);
    console.log(`[figures] ephemeral cluster stop: ${many.map((c) => c.timings.stopMs).join(', ')} ms`);
    for (const [i, c] of many.entries()) {
      expect(existsSync(c.baseDir)).toBe(false);
      expect(leftovers(trees[i]!, c.dataDir)).toEqual([]);
    }
  });
});

describeRequiring('ephemeral cluster when its owner process dies', missing, () => {
  const child = (how: 'throw' | 'reject' | 'exit' | NodeJS.Signals) =>
    it(`leaves nothing behind after the owner ${/^SIG/.test(how) ? `receives ${how}` : `does "${how}"`}`, async () => {
      // Only SIGKILL needs the watchdog; every other death must be handled in-process, so prove that alone.
      const useWatchdog = how === 'SIGKILL';
      const args = ['--import', 'tsx', 'tests/db/fixtures/crash-child.ts', ...(useWatchdog ? [] : ['--no-watchdog'])];
      const proc = spawn(process.execPath, args, {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      proc.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        proc.on('exit', (code, signal) => resolve({ code, signal })),
      );
      const firstLine = await new Promise<string>((resolve, reject) => {
        createInterface({ input: proc.stdout }).once('line', resolve);
        proc.once('exit', () => reject(new Error(`child exited before starting a cluster:\n${stderr}`)));
      });
      const info = JSON.parse(firstLine) as { pid: number; baseDir: string; dataDir: string };
      expect(info.pid).toBe(proc.pid);
      const tree = clusterProcessTree(info.dataDir);
      expect(leftovers(tree, info.dataDir).length).toBeGreaterThan(0);

      if (how.startsWith('SIG')) {
        proc.stdin.write('wait\n');
        proc.kill(how as NodeJS.Signals);
      } else {
        proc.stdin.write(`${how}\n`);
      }
      const { code, signal } = await exited;
      // Abnormal end, not a clean exit 0.
      expect(code === 0 && signal === null, `exit code ${code}, signal ${signal}\n${stderr}`).toBe(false);

      if (!useWatchdog) {
        // The exit/signal handlers ran synchronously before the process ended: nothing to wait for.
        expect(existsSync(info.baseDir), 'temp dir removed by the time the owner exited').toBe(false);
        expect(leftovers(tree, info.dataDir)).toEqual([]);
      }
      // SIGKILL runs no handler: the watchdog polls once a second, then stops the cluster.
      await eventually(() => !existsSync(info.baseDir) && leftovers(tree, info.dataDir).length === 0, 15_000);
      expect(existsSync(info.baseDir), 'temp dir removed').toBe(false);
      expect(leftovers(tree, info.dataDir)).toEqual([]);
    });

  child('throw');
  child('reject');
  child('exit');
  child('SIGTERM');
  child('SIGINT');
  child('SIGKILL');
});

describePg('the PostgreSQL provided by global setup', () => {
  it('is reachable as a superuser and hosts scratch databases', async () => {
    const url = pgUrl();
    expect(await oneValue(url, 'select usesuper from pg_catalog.pg_user where usename = current_user')).toBe('true');
    const scratch = await createScratchDatabase(url, 'gs');
    try {
      expect(await oneValue(scratch.url, 'select current_database()')).toBe(scratch.name);
    } finally {
      await scratch.drop();
    }
    expect(await oneValue(url, `select count(*) from pg_catalog.pg_database where datname = '${scratch.name}'`)).toBe(
      '0',
    );
  });
});
