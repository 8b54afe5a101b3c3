/**
 * PgBouncer (Debian package `pgbouncer`) in transaction pooling mode in front of a PostgreSQL the harness
 * reaches on loopback — the mode Supabase's poolers (Supavisor on port 6543, and the dedicated PgBouncer)
 * run in: a server connection belongs to a client only for one transaction, so anything a request sets
 * must be transaction-local (set_config(…, true), SET LOCAL), which is exactly how the gateway (and
 * PostgREST) publishes role and claims. node-postgres sends unnamed prepared statements, which work in
 * transaction mode on every PgBouncer version (named ones need PgBouncer ≥ 1.21 max_prepared_statements).
 *
 * Started as a child process on a free loopback port with a private temp directory (config, auth file,
 * log); run as the `postgres` OS user when we are root (PgBouncer refuses to run as root). `stop()` ends
 * only that child and removes the directory.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ephemeral-cluster.js';

export interface PgbouncerOptions {
  /** Server connection URL (loopback) of the database to pool, e.g. the ephemeral cluster's scratch database. */
  upstreamUrl: string;
  /** Server connections per (database, user) pair (Supabase's default pool size on small instances is 15-20). */
  poolSize?: number;
  maxClientConn?: number;
  /** Path of the pgbouncer binary (default: found on PATH or /usr/sbin). */
  binary?: string;
}

export interface RunningPgbouncer {
  /** Same database and user as upstreamUrl, through PgBouncer. */
  url: string;
  port: number;
  /** The pgbouncer.ini actually used (for the report). */
  config: string;
  logFile: string;
  stop(): Promise<void>;
}

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];

/** The pgbouncer binary, or null when it is not installed (`apt-get install pgbouncer`). */
export function findPgbouncer(env: NodeJS.ProcessEnv = process.env): string | null {
  const fromPath = (env.PATH ?? '')
    .split(':')
    .filter(Boolean)
    .map((d) => join(d, 'pgbouncer'));
  for (const c of [...fromPath, ...CANDIDATES]) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return null;
}

export const PGBOUNCER_INSTALL_HINT = 'install PgBouncer: `apt-get install -y pgbouncer` (.ci/run installs it in CI)';

function ini(o: {
  host: string;
  port: number;
  listenPort: number;
  dir: string;
  poolSize: number;
  maxClientConn: number;
}): string {
  return [
    '[databases]',
    // Any database name the client asks for is forwarded to the same server.
    `* = host=${o.host} port=${o.port}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${o.listenPort}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${join(o.dir, 'userlist.txt')}`,
    'pool_mode = transaction',
    `default_pool_size = ${o.poolSize}`,
    `max_client_conn = ${o.maxClientConn}`,
    // What Supavisor/PgBouncer on Supabase also tolerate from drivers.
    'ignore_startup_parameters = extra_float_digits,options,search_path',
    // Transaction mode never runs server_reset_query between clients (only session mode does): anything
    // session-level a client sets would reach the next client. The leak test proves nothing does.
    'server_reset_query = DISCARD ALL',
    'server_reset_query_always = 0',
    `logfile = ${join(o.dir, 'pgbouncer.log')}`,
    `pidfile = ${join(o.dir, 'pgbouncer.pid')}`,
    'log_connections = 0',
    'log_disconnections = 0',
    '',
  ].join('\n');
}

function postgresIds(): { uid: number; gid: number } {
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  };
}

async function waitReady(url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      await c.query('select 1');
      await c.end();
      return;
    } catch (e) {
      last = e as Error;
      await c.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  let log = '';
  try {
    log = readFileSync(logFile, 'utf8').split('\n').slice(-10).join('\n');
  } catch {
    // no log yet
  }
  throw new Error(
    `pgbouncer did not accept connections (${child.exitCode !== null ? `exited with ${child.exitCode}` : `timeout ${timeoutMs} ms`}): ${last?.message ?? ''}\n${log}`,
  );
}

export async function startPgbouncer(o: PgbouncerOptions): Promise<RunningPgbouncer> {
  const binary = o.binary ?? findPgbouncer();
  if (!binary) throw new Error(`no pgbouncer binary: ${PGBOUNCER_INSTALL_HINT}`);
  const up = new URL(o.upstreamUrl);
  const user = decodeURIComponent(up.username || 'postgres');
  const dir = mkdtempSync(join(tmpdir(), 'shipspeak-pgbouncer-'));
  const listenPort = await freePort();
  const config = ini({
    host: up.hostname || '127.0.0.1',
    port: Number(up.port || 5432),
    listenPort,
    dir,
    poolSize: o.poolSize ?? 10,
    maxClientConn: o.maxClientConn ?? 200,
  });
  writeFileSync(join(dir, 'pgbouncer.ini'), config);
  // trust: no password is checked, but the user must be listed.
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" ""\n`);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
    for (const f of ['pgbouncer.ini', 'userlist.txt']) chownSync(join(dir, f), uid, gid);
  }
  const [cmd, args] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', binary, join(dir, 'pgbouncer.ini')]]
    : [binary, [join(dir, 'pgbouncer.ini')]];
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const onExit = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  const url = new URL(o.upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String(listenPort);
  const logFile = join(dir, 'pgbouncer.log');
  try {
    await waitReady(url.toString(), child, logFile, 15_000);
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(e as Error).message}${stderr ? `\n${stderr}` : ''}`, { cause: e });
  }
  let stopped: Promise<void> | undefined;
  return {
    url: url.toString(),
    port: listenPort,
    config,
    logFile,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        process.removeListener('exit', onExit);
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        // runuser forwards SIGTERM to pgbouncer; SIGINT would be a "safe shutdown" waiting for clients.
        child.kill('SIGTERM');
        setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
      })),
  };
}
