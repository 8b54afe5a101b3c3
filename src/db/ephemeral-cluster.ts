/**
 * A throw-away PostgreSQL 15 cluster started from the local binaries: initdb into a temp dir, start on a free
 * loopback port, stop and delete on `stop()` or whenever the process goes away.
 *
 * Why not the distribution's default cluster: tests need a known configuration (logical WAL, preloaded
 * extensions, trust auth on loopback only) and several suites must be able to run side by side without
 * sharing state. Each cluster is private to the process that started it.
 *
 * Cleanup layers, outermost first:
 *  1. `stop()` — the normal path (fast shutdown, directory removed).
 *  2. process 'exit' / SIGINT / SIGTERM / SIGHUP / uncaught exception — synchronous `pg_ctl stop -m immediate`.
 *  3. a detached watchdog shell that polls the owning pid and does the same if the owner vanished without
 *     running any handler (SIGKILL, OOM killer, a test runner killing its worker).
 */
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { chown, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { monitoringConf } from './monitoring-settings.js';
import { quoteConfValue as quote, quoteIdent } from './quote.js';
import { connectionConfig, redactUrl } from './node-postgres.js';

const execFileAsync = promisify(execFile);

export const REQUIRED_MAJOR = 15;

/** Preloaded only when the distribution ships them (postgresql-15-cron, postgresql-15-pgaudit). */
const OPTIONAL_PRELOADS = ['pg_cron', 'pgaudit'] as const;
/** contrib: slow statements' plans in the server log (src/db/monitoring-settings.ts). */
const CONTRIB_PRELOADS = ['auto_explain'] as const;

export interface EphemeralClusterOptions {
  /** Fixed port; default: a free port chosen by the OS (retried if another process takes it first). */
  port?: number;
  /** Preload pg_stat_statements (+ pg_cron, pgaudit when installed). Default true. */
  preload?: boolean;
  /** Print one line on start and stop with the timings. Default false. */
  log?: boolean;
  /**
   * Start the SIGKILL backstop watchdog. Default true; tests turn it off to prove the in-process
   * handlers alone clean up.
   */
  watchdog?: boolean;
  /** Where to read PG15_BIN_DIR / PATH from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Serve TLS with this PEM certificate and key (copied into the data directory) and accept TCP connections
   * only over TLS (`hostssl` lines; an unencrypted TCP login is rejected). The unix socket stays open.
   */
  tls?: { certPem: string; keyPem: string };
  /** Extra postgresql.conf settings, written verbatim after the defaults (values already quoted). */
  settings?: Record<string, string | number>;
}

export interface ClusterTimings {
  initdbMs: number;
  startMs: number;
  /** Set once `stop()` has completed. */
  stopMs?: number;
}

export interface EphemeralCluster {
  /** Superuser `postgres` over TCP on 127.0.0.1 (trust auth, no password). */
  url: string;
  port: number;
  /** Root temp directory (data, socket, log); removed by stop(). */
  baseDir: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  binDir: string;
  /** server_version, e.g. "15.18 (Debian 15.18-0+deb12u1)". */
  version: string;
  /** shared_preload_libraries actually configured, e.g. ['pg_stat_statements','pg_cron','pgaudit']. */
  preloaded: string[];
  timings: ClusterTimings;
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Finding the binaries

const binDirCache = new Map<string, string | null>();

function majorOf(postgresBinary: string): number | null {
  try {
    const out = execFileSync(postgresBinary, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const m = /\(PostgreSQL\)\s+(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function hasServerBinaries(dir: string): boolean {
  return ['initdb', 'pg_ctl', 'postgres'].every((b) => isExecutable(join(dir, b)));
}

/**
 * Directory holding initdb, pg_ctl and postgres of major version 15, or null.
 * `PG15_BIN_DIR`, when set, is the only place looked at (also how tests simulate a machine without
 * PostgreSQL). Otherwise: Debian/Ubuntu, RHEL, Homebrew, then every PATH entry (symlinks resolved, so
 * /usr/local/bin/postgres → /usr/lib/postgresql/15/bin is found with its siblings).
 */
export function findPostgresBinaries(env: NodeJS.ProcessEnv = process.env): string | null {
  const override = env.PG15_BIN_DIR?.trim();
  const key = override ? `override:${override}` : `path:${env.PATH ?? ''}`;
  const cached = binDirCache.get(key);
  if (cached !== undefined) return cached;
  const candidates: string[] = [];
  if (override) {
    candidates.push(override);
  } else {
    candidates.push(
      `/usr/lib/postgresql/${REQUIRED_MAJOR}/bin`,
      `/usr/pgsql-${REQUIRED_MAJOR}/bin`,
      `/opt/homebrew/opt/postgresql@${REQUIRED_MAJOR}/bin`,
      `/usr/local/opt/postgresql@${REQUIRED_MAJOR}/bin`,
    );
    for (const dir of (env.PATH ?? '').split(delimiter)) {
      const bin = dir && join(dir, 'postgres');
      if (!bin || !existsSync(bin)) continue;
      try {
        candidates.push(join(realpathSync(bin), '..'));
      } catch {
        /* dangling symlink */
      }
    }
  }
  const found =
    candidates.find((dir) => hasServerBinaries(dir) && majorOf(join(dir, 'postgres')) === REQUIRED_MAJOR) ?? null;
  binDirCache.set(key, found);
  return found;
}

/** The server's library directory (where extension .so files live). */
export function pkgLibDir(binDir: string): string {
  const pgConfig = join(binDir, 'pg_config');
  if (isExecutable(pgConfig)) {
    try {
      return execFileSync(pgConfig, ['--pkglibdir'], { encoding: 'utf8' }).trim();
    } catch {
      /* fall through */
    }
  }
  return join(binDir, '..', 'lib');
}

/** Extensions that can go into shared_preload_libraries on this machine. */
export function availablePreloads(binDir: string): string[] {
  const lib = pkgLibDir(binDir);
  const ext = process.platform === 'darwin' ? ['.so', '.dylib'] : ['.so'];
  const present = (name: string) => ext.some((e) => existsSync(join(lib, name + e)));
  return ['pg_stat_statements', ...OPTIONAL_PRELOADS, ...CONTRIB_PRELOADS].filter(present);
}

// ---------------------------------------------------------------------------------------------------------
// Running commands as the right OS user

/** initdb and postgres refuse to run as root: when we are root, everything runs as the `postgres` user. */
const runAsPostgres = process.getuid?.() === 0;

function wrap(cmd: string, args: string[]): [string, string[]] {
  return runAsPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

async function run(cmd: string, args: string[]): Promise<string> {
  const [c, a] = wrap(cmd, args);
  try {
    const { stdout } = await execFileAsync(c, a, { encoding: 'utf8', env: childEnv() });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string; stdout?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err.stderr || err.stdout || err.message).trim()}`, {
      cause: err,
    });
  }
}

/** English messages and a predictable locale whatever the caller's environment says. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
  // A PGDATA/PGPORT from the caller must never redirect pg_ctl to another cluster.
  for (const k of ['PGDATA', 'PGPORT', 'PGHOST', 'PGUSER', 'PGDATABASE', 'PGOPTIONS']) delete env[k];
  return env;
}

function postgresIds(): { uid: number; gid: number } {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      'running as root but there is no `postgres` OS user to run the server as (apt-get install -y postgresql-15 creates it)',
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Ports

/** Ask the OS for a free loopback port. Racy by nature; startEphemeralCluster retries on a bind failure. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('OS returned no port'))));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Cleanup on process exit

interface LiveCluster {
  baseDir: string;
  dataDir: string;
  binDir: string;
  watchdogPid: number | undefined;
}

const live = new Set<LiveCluster>();
let handlersInstalled = false;

/** Synchronous: the only kind of work allowed in an 'exit' handler. Idempotent. */
function destroySync(c: LiveCluster): void {
  if (!live.delete(c)) return;
  if (c.watchdogPid) {
    try {
      process.kill(c.watchdogPid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  if (existsSync(join(c.dataDir, 'postmaster.pid'))) {
    const [cmd, args] = wrap(join(c.binDir, 'pg_ctl'), ['stop', '-D', c.dataDir, '-m', 'immediate', '-w', '-t', '30']);
    spawnSync(cmd, args, { stdio: 'ignore', env: childEnv() });
  }
  rmSync(c.baseDir, { recursive: true, force: true });
}

function destroyAllSync(): void {
  for (const c of [...live]) {
    try {
      destroySync(c);
    } catch {
      /* keep going: the next cluster must still be stopped */
    }
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', destroyAllSync);
  // Monitor, not 'uncaughtException': observing must not change Node's crash behaviour.
  process.on('uncaughtExceptionMonitor', destroyAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      destroyAllSync();
      // Our listener disabled the default "die on signal"; restore it when nobody else is handling the signal.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

/**
 * Backstop for deaths no handler sees (SIGKILL). A detached shell, outside our process group so a group
 * kill of the test runner does not take it down too, polls the owner pid once a second.
 */
function startWatchdog(c: LiveCluster): number | undefined {
  const script = [
    'owner=$1; base=$2; data=$3; pgctl=$4; asroot=$5',
    'while kill -0 "$owner" 2>/dev/null && [ -d "$base" ]; do sleep 1; done',
    '[ -d "$base" ] || exit 0',
    'if [ -f "$data/postmaster.pid" ]; then',
    '  if [ "$asroot" = 1 ]; then runuser -u postgres -- "$pgctl" stop -D "$data" -m immediate -w -t 30;',
    '  else "$pgctl" stop -D "$data" -m immediate -w -t 30; fi',
    'fi',
    'rm -rf "$base"',
  ].join('\n');
  const child = spawn(
    'sh',
    [
      '-c',
      script,
      'shipspeak-pg-watchdog',
      String(process.pid),
      c.baseDir,
      c.dataDir,
      join(c.binDir, 'pg_ctl'),
      runAsPostgres ? '1' : '0',
    ],
    { detached: true, stdio: 'ignore', env: childEnv() },
  );
  child.unref();
  return child.pid;
}

// ---------------------------------------------------------------------------------------------------------
// The cluster

/**
 * Logical-decoding output plugins to trust. Recent PostgreSQL 15 minor releases (15.20 in Debian) add the
 * `output_plugin_libraries` setting, default 'pgoutput, test_decoding': any other plugin — wal2json, which
 * Supabase Realtime decodes with — fails with 'library "wal2json" may not be used as an output plugin'
 * until it is listed. Older servers do not know the setting and must not be given it (they refuse to
 * start on an unknown parameter), so we ask the server binary which parameters it has.
 */
export function outputPluginLibraries(binDir: string): string[] | null {
  let described = '';
  try {
    const [c, a] = wrap(join(binDir, 'postgres'), ['--describe-config']);
    described = execFileSync(c, a, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      env: childEnv(),
      maxBuffer: 16 << 20,
    });
  } catch {
    return null;
  }
  if (!/^output_plugin_libraries\t/m.test(described)) return null;
  const lib = pkgLibDir(binDir);
  return ['pgoutput', 'test_decoding', 'wal2json'].filter(
    (name) => name === 'pgoutput' || existsSync(join(lib, `${name}.so`)),
  );
}

function clusterConf(
  port: number,
  socketDir: string,
  preloaded: string[],
  outputPlugins: string[] | null,
  extra: Record<string, string | number> = {},
): string {
  const settings: Record<string, string | number> = {
    port,
    listen_addresses: quote('127.0.0.1'),
    unix_socket_directories: quote(socketDir),
    max_connections: 200,
    shared_buffers: quote('256MB'),
    // Later suites: logical decoding (wal2json, realtime-like tests) and replication slots.
    wal_level: 'logical',
    max_wal_senders: 10,
    max_replication_slots: 10,
    shared_preload_libraries: quote(preloaded.join(',')),
    ...(outputPlugins ? { output_plugin_libraries: quote(outputPlugins.join(',')) } : {}),
    // Throw-away cluster: durability buys nothing, speed does. Note for logical-decoding tests: with
    // synchronous_commit=off a commit is decodable only once the WAL writer flushed it (≤ ~200 ms later),
    // or immediately if that transaction runs `set local synchronous_commit = on`.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    // Same as Supabase, and stable test output whatever the host's zone.
    timezone: quote('UTC'),
    log_timezone: quote('UTC'),
  };
  if (preloaded.includes('pg_cron')) {
    settings['cron.database_name'] = quote('postgres');
    // The scheduler connects through our private socket: no dependency on how "localhost" resolves.
    settings['cron.host'] = quote(socketDir);
  }
  Object.assign(settings, extra);
  return (
    '# written by src/db/ephemeral-cluster.ts\n' +
    Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') +
    '\n'
  );
}

// Loopback and the private socket only; replication lines let logical-decoding tests open walsenders.
const HBA = `# written by src/db/ephemeral-cluster.ts: trust, loopback only
local   all          all                  trust
host    all          all   127.0.0.1/32   trust
local   replication  all                  trust
host    replication  all   127.0.0.1/32   trust
`;

// TLS cluster: TCP only over TLS; the unencrypted attempt is rejected by an explicit line.
const HBA_TLS_ONLY = `# written by src/db/ephemeral-cluster.ts: trust, loopback only, TCP only over TLS
local     all          all                  trust
hostssl   all          all   127.0.0.1/32   trust
hostnossl all          all   127.0.0.1/32   reject
local     replication  all                  trust
hostssl   replication  all   127.0.0.1/32   trust
`;

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

const elapsed = (t0: bigint) => Number((process.hrtime.bigint() - t0) / 1_000_000n);

/** initdb + start a private PostgreSQL 15. Throws with the server log when it cannot. */
export async function startEphemeralCluster(opts: EphemeralClusterOptions = {}): Promise<EphemeralCluster> {
  const binDir = findPostgresBinaries(opts.env);
  if (!binDir) {
    throw new Error(
      `no PostgreSQL ${REQUIRED_MAJOR} server binaries found (apt-get install -y postgresql-${REQUIRED_MAJOR})`,
    );
  }
  installExitHandlers();

  const baseDir = await mkdtemp(join(tmpdir(), 'shipspeak-pg-'));
  const dataDir = join(baseDir, 'data');
  const socketDir = baseDir;
  const logFile = join(baseDir, 'postgres.log');
  const entry: LiveCluster = { baseDir, dataDir, binDir, watchdogPid: undefined };
  live.add(entry);

  try {
    if (runAsPostgres) {
      const { uid, gid } = postgresIds();
      await chown(baseDir, uid, gid);
    }
    if (opts.watchdog !== false) entry.watchdogPid = startWatchdog(entry);

    const t0 = process.hrtime.bigint();
    await run(join(binDir, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
      '--no-instructions',
    ]);
    const initdbMs = elapsed(t0);

    const preloaded = opts.preload === false ? [] : availablePreloads(binDir);
    const outputPlugins = outputPluginLibraries(binDir);
    const conf = join(dataDir, 'postgresql.conf');
    writeFileSync(join(dataDir, 'pg_hba.conf'), opts.tls ? HBA_TLS_ONLY : HBA);
    // The project's logging configuration, then the caller's overrides.
    const extra: Record<string, string | number> = { ...monitoringConf(preloaded), ...opts.settings };
    if (opts.tls) {
      // The server refuses a key readable by others or owned by another user.
      writeFileSync(join(dataDir, 'server.crt'), opts.tls.certPem, { mode: 0o644 });
      writeFileSync(join(dataDir, 'server.key'), opts.tls.keyPem, { mode: 0o600 });
      if (runAsPostgres) {
        const { uid, gid } = postgresIds();
        for (const f of ['server.crt', 'server.key']) await chown(join(dataDir, f), uid, gid);
      }
      Object.assign(extra, {
        ssl: 'on',
        ssl_cert_file: quote('server.crt'),
        ssl_key_file: quote('server.key'),
        ssl_min_protocol_version: quote('TLSv1.2'),
      });
    }
    writeFileSync(conf, `${readFileSync(conf, 'utf8')}\ninclude 'shipspeak.conf'\n`);

    const t1 = process.hrtime.bigint();
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = opts.port ?? (await freePort());
      writeFileSync(join(dataDir, 'shipspeak.conf'), clusterConf(port, socketDir, preloaded, outputPlugins, extra));
      try {
        await run(join(binDir, 'pg_ctl'), ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-s']);
        break;
      } catch (e) {
        // Another process took the port between our probe and the bind: pick another one.
        const lostRace = /could not (bind|create listen socket)|Address already in use/i.test(tail(logFile, 50));
        if (!lostRace || opts.port !== undefined || attempt >= 5) {
          throw new Error(`${(e as Error).message}\n--- server log (${logFile}) ---\n${tail(logFile)}`, { cause: e });
        }
      }
    }
    const startMs = elapsed(t1);

    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    // Over the private socket: works whether or not TCP demands TLS.
    const version = await serverVersion(`postgres://postgres@${encodeURIComponent(socketDir)}:${port}/postgres`);
    const timings: ClusterTimings = { initdbMs, startMs };

    let stopping: Promise<void> | undefined;
    const cluster: EphemeralCluster = {
      url,
      port,
      baseDir,
      dataDir,
      socketDir,
      logFile,
      binDir,
      version,
      preloaded,
      timings,
      stop() {
        stopping ??= (async () => {
          const t2 = process.hrtime.bigint();
          if (entry.watchdogPid) {
            try {
              process.kill(entry.watchdogPid, 'SIGKILL');
            } catch {
              /* gone */
            }
          }
          try {
            // fast = disconnect clients, no waiting for them; the checkpoint is cheap with fsync=off.
            await run(join(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60', '-s']);
          } finally {
            live.delete(entry);
            rmSync(baseDir, { recursive: true, force: true });
          }
          timings.stopMs = elapsed(t2);
          if (opts.log) console.error(`[ephemeral-cluster] stopped port ${port} in ${timings.stopMs} ms`);
        })();
        return stopping;
      },
    };
    if (opts.log) {
      console.error(
        `[ephemeral-cluster] PostgreSQL ${version} on ${url} (initdb ${initdbMs} ms, start ${startMs} ms, preloaded: ${preloaded.join(', ') || 'none'})`,
      );
    }
    return cluster;
  } catch (e) {
    destroySync(entry);
    throw e;
  }
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ server_version: string }>('show server_version');
    return r.rows[0]!.server_version;
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Scratch databases: one cluster, one database per test file

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

let scratchCounter = 0;

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

async function adminQuery(superuserUrl: string, sql: string): Promise<void> {
  const client = new pg.Client(connectionConfig(superuserUrl));
  await client.connect().catch((e: Error) => {
    throw new Error(`cannot connect to ${redactUrl(superuserUrl)}: ${e.message}`, { cause: e });
  });
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * CREATE DATABASE with a unique name (prefix_pid_time_counter) on the server behind `superuserUrl`,
 * optionally copied from `template` (which must have no other connections at that moment).
 * `drop()` uses WITH (FORCE) so open pools left behind by a failed test do not block it.
 */
export async function createScratchDatabase(
  superuserUrl: string,
  prefix = 't',
  options: { template?: string } = {},
): Promise<ScratchDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,30}$/.test(prefix))
    throw new Error(`scratch database prefix must match [a-z_][a-z0-9_]*: ${prefix}`);
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${++scratchCounter}`;
  const template = options.template ? ` template ${quoteIdent(options.template)}` : '';
  await adminQuery(superuserUrl, `create database ${quoteIdent(name)}${template}`);
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: withDatabase(superuserUrl, name),
    drop: () => (dropped ??= adminQuery(superuserUrl, `drop database if exists ${quoteIdent(name)} with (force)`)),
  };
}
