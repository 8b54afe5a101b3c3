import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertSecret, mintApiKey } from '../auth/tokens.js';
import type { Database } from '../db/database.js';
import { isPgError } from '../db/database.js';
import { openIsolatedPGlite, type IsolatedPGlite } from '../db/pglite-isolated.js';
import { applyBootstrap } from '../migrate/bootstrap.js';
import { migrateUp } from '../migrate/runner.js';
import { loadRawCatalog, type RawCatalog } from '../rest/schema-cache.js';
import { DEFAULT_LIMITS } from '../rest/limits.js';
import { loadSeed, seedPath } from '../seed/load.js';
import type { Services } from './services.js';
import type { RunningServer } from '../rest/http-server.js';
import { lockDataDir, type DataDirLock } from './lock.js';
import { startDiagnostics, type Diagnostics } from './diagnostics.js';
import {
  catalogKey,
  hasSnapshot,
  removeSnapshot,
  restoreSnapshot,
  SnapshotError,
  snapshotHash,
  writeSnapshot,
  type SnapshotKind,
} from './snapshot.js';

/**
 * How long SIGINT/SIGTERM lets in-flight requests finish beyond the statement timeout (which already ends
 * any statement still running), before dropping them.
 */
const SHUTDOWN_MARGIN_MS = 2_000;

/** Supabase's `authenticator` role: statement_timeout = 8s. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 8_000;
/** PostgREST's db-pool default. */
export const DEFAULT_DB_POOL = 10;
/** PostgREST's db-pool-acquisition-timeout default (10 s). */
export const DEFAULT_POOL_ACQUISITION_TIMEOUT_MS = 10_000;

/** Supabase's local API port (`supabase start` serves its API gateway there too). */
export const DEFAULT_PORT = 54321;
/** Supabase's well-known local development secret: public knowledge, for local use only. */
export const DEV_JWT_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';

export interface ServeConfig {
  port: number;
  /** Largest request body read (bytes); more is 413 PGRST413 and the connection is closed. */
  maxBodyBytes?: number;
  schemas: string[];
  anonRole: string;
  jwtSecret: string;
  /** Serve this PostgreSQL database instead of PGlite. */
  databaseUrl?: string;
  /** Persist PGlite here (default: in memory). */
  dataDir?: string;
  /** Load fixtures/dev-seed.sql (implies migrate). */
  seed: boolean;
  /** On DATABASE_URL: apply bootstrap + migrations (PGlite is always migrated: it is ours). */
  migrate: boolean;
  /** Use the migrated-PGlite snapshot cache. */
  cache: boolean;
  /** bcrypt cost for new password hashes (default 10, as GoTrue); test suites lower it to bcrypt's minimum. */
  bcryptCost?: number;
  /** Every request's statement timeout (PGlite: its worker is stopped and reopened past it). Default 8 s. */
  statementTimeoutMs?: number;
  /** db-max-rows (null = unbounded). Default 1000. */
  maxRows?: number | null;
  /** PostgreSQL pool size. Default 10. */
  dbPool?: number;
  /** How long a request waits for a pooled connection before 504 PGRST003. Default 10 s. */
  poolAcquisitionTimeoutMs?: number;
  /** node-postgres pipeline mode: one round trip per request (default on; src/db/node-postgres.ts). */
  dbPipeline?: boolean;
  /** Named prepared statements per connection (default on; off behind a pooler that cannot keep them). */
  dbPreparedStatements?: boolean;
  /** Host names answered besides the loopback names (DNS-rebinding guard). Default none. */
  allowedHosts?: string[];
  log: (line: string) => void;
  /** Opt-in access log: receives one JSON line per request (src/serve/request-log.ts). */
  requestLog?: (line: string) => void;
  /** Event-loop delay, GC pauses and pool queueing, logged on SIGUSR2 and at stop (src/serve/diagnostics.ts). */
  diagnostics?: boolean;
}

export interface Running {
  url: string;
  port: number;
  anonKey: string;
  serviceRoleKey: string;
  db: Database;
  /** Start-up steps and their durations, for the banner. */
  steps: { name: string; ms: number; note?: string }[];
  http: RunningServer;
  /** Drain HTTP, close the database, release the data-dir lock. Idempotent. */
  stop(): Promise<{ drained: boolean }>;
}

/**
 * The serving half — gateway, Auth, Realtime (ws, bcrypt), HTTP server — imported while the database opens: ~0.2 s
 * of module loading on the main thread that overlaps PGlite's start on its worker thread instead of preceding it
 * (issue #17, PERF-2).
 */
function loadServing() {
  return Promise.all([
    import('../rest/index.js'),
    import('./services.js'),
    import('../rest/http-server.js'),
    import('./request-log.js'),
    import('./hosts.js'),
  ]);
}

/** A one-line, user-facing start-up error (the CLI prints it and exits non-zero). */
export class ServeError extends Error {}

async function timed<T>(
  steps: Running['steps'],
  name: string,
  fn: () => Promise<T>,
  note?: (r: T) => string | undefined,
): Promise<T> {
  const t = performance.now();
  const r = await fn();
  const n = note?.(r);
  steps.push({ name, ms: performance.now() - t, ...(n ? { note: n } : {}) });
  return r;
}

interface Opened {
  db: Database | IsolatedPGlite;
  lock?: DataDirLock;
  /** The database was empty before this start (in memory, or a new data directory). */
  fresh: boolean;
  /** Which snapshot it was loaded from, if any. */
  loaded?: SnapshotKind;
  /** The gateway's catalog rows stored with that snapshot (for the exposed schemas), if it holds them. */
  catalog?: RawCatalog;
  /** Snapshots to write after the matching step, keyed by kind (only for fresh PGlite with the cache on). */
  hashes: Partial<Record<SnapshotKind, string>>;
}

const SEEDED: SnapshotKind = 'seeded-dev';

async function openEngine(cfg: ResolvedServeConfig, steps: Running['steps']): Promise<Opened> {
  if (cfg.databaseUrl) {
    // node-postgres (and pg) load only when a PostgreSQL database is opened: ~0.1 s of CPU at every start otherwise.
    const { openNodePostgres } = await import('../db/node-postgres.js');
    const db = await timed(steps, 'connect', () =>
      openNodePostgres(cfg.databaseUrl!, {
        max: cfg.dbPool,
        acquisitionTimeoutMs: cfg.poolAcquisitionTimeoutMs,
        pipeline: cfg.dbPipeline ?? true,
        preparedStatements: cfg.dbPreparedStatements ?? true,
      }),
    );
    return { db, fresh: false, hashes: {} };
  }
  const lock = cfg.dataDir ? lockDataDir(cfg.dataDir, 'serve') : undefined;
  try {
    const fresh = !cfg.dataDir || !existsSync(join(cfg.dataDir, 'PG_VERSION'));
    const hashes: Opened['hashes'] = {};
    let loaded: SnapshotKind | undefined;
    if (cfg.cache && fresh) {
      hashes.migrated = snapshotHash('migrated');
      if (cfg.seed) {
        hashes[SEEDED] = snapshotHash(SEEDED, seedPath('dev'));
        if (hasSnapshot(SEEDED, hashes[SEEDED])) loaded = SEEDED;
      }
      if (!loaded && hasSnapshot('migrated', hashes.migrated)) loaded = 'migrated';
    }
    let catalog: RawCatalog | undefined;
    const open = (from: SnapshotKind | undefined) =>
      openIsolatedPGlite({
        ...(cfg.dataDir ? { dataDir: cfg.dataDir } : {}),
        ...(from
          ? {
              fill: (dir: string) => {
                catalog = restoreSnapshot(from, hashes[from]!, dir, catalogKey(cfg.schemas));
              },
            }
          : {}),
      });
    const db = await timed(
      steps,
      'open PGlite',
      () =>
        open(loaded).catch((e: unknown) => {
          if (!(e instanceof SnapshotError) || !loaded) throw e;
          // Nothing was written from it: drop the bad copy, build from the migrations (which caches a new one).
          cfg.log(`warning: ${e.message}; removed it, building the database from the migrations instead`);
          removeSnapshot(loaded, hashes[loaded]!);
          loaded = undefined;
          catalog = undefined;
          return open(undefined);
        }),
      () => (loaded ? `from the ${loaded} snapshot ${hashes[loaded]}` : fresh ? 'new database' : 'existing database'),
    );
    return {
      db,
      ...(lock ? { lock } : {}),
      fresh,
      ...(loaded ? { loaded } : {}),
      ...(loaded && catalog ? { catalog } : {}),
      hashes,
    };
  } catch (e) {
    lock?.release();
    throw e;
  }
}

async function checkExposed(db: Database, cfg: ServeConfig): Promise<void> {
  const missing = await db.query<{ name: string }>(
    `select s as name from unnest($1::text[]) as s where not exists (select from pg_catalog.pg_namespace n where n.nspname = s)`,
    [cfg.schemas],
  );
  if (missing.rows.length) {
    const names = missing.rows.map((r) => `"${r.name}"`).join(', ');
    throw new ServeError(`schema ${names} does not exist in ${db.description} (check --schemas)`);
  }
  const role = await db.query(`select from pg_catalog.pg_roles where rolname = $1`, [cfg.anonRole]);
  if (role.rows.length === 0)
    throw new ServeError(
      `anon role "${cfg.anonRole}" does not exist in ${db.description} (check --anon-role; Supabase's roles come from the bootstrap: --migrate)`,
    );
  const api = await db.query<{ rolname: string }>(
    `select rolname from pg_catalog.pg_roles where rolname in ('authenticated', 'service_role')`,
  );
  for (const r of ['authenticated', 'service_role']) {
    if (!api.rows.some((x) => x.rolname === r))
      cfg.log(`warning: role "${r}" does not exist in ${db.description}: JWTs asking for it get 401`);
  }
}

/** The configuration with every default filled in. */
export type ResolvedServeConfig = ServeConfig &
  Required<
    Pick<ServeConfig, 'statementTimeoutMs' | 'maxRows' | 'dbPool' | 'poolAcquisitionTimeoutMs' | 'allowedHosts'>
  >;

export function withDefaults(cfg: ServeConfig): ResolvedServeConfig {
  return {
    ...cfg,
    statementTimeoutMs: cfg.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    maxRows: cfg.maxRows === undefined ? DEFAULT_LIMITS.maxRows : cfg.maxRows,
    dbPool: cfg.dbPool ?? DEFAULT_DB_POOL,
    poolAcquisitionTimeoutMs: cfg.poolAcquisitionTimeoutMs ?? DEFAULT_POOL_ACQUISITION_TIMEOUT_MS,
    allowedHosts: cfg.allowedHosts ?? [],
  };
}

export async function startServer(input: ServeConfig): Promise<Running> {
  const cfg = withDefaults(input);
  try {
    assertSecret(cfg.jwtSecret);
  } catch (e) {
    throw new ServeError((e as Error).message);
  }
  if (!Number.isInteger(cfg.port) || cfg.port < 0 || cfg.port > 65535)
    throw new ServeError(`--port must be an integer from 0 to 65535 (got ${cfg.port})`);
  if (cfg.schemas.length === 0 || cfg.schemas.some((s) => s === ''))
    throw new ServeError('--schemas must name at least one schema (comma-separated)');
  if (cfg.databaseUrl && cfg.dataDir)
    throw new ServeError('--data-dir is for PGlite: unset DATABASE_URL to use it, or drop --data-dir');
  if (!Number.isInteger(cfg.statementTimeoutMs) || cfg.statementTimeoutMs < 1)
    throw new ServeError(`--statement-timeout must be a positive duration (got ${cfg.statementTimeoutMs} ms)`);
  if (cfg.maxRows !== null && (!Number.isInteger(cfg.maxRows) || cfg.maxRows < 1))
    throw new ServeError(`--max-rows must be a positive integer or "none" (got ${cfg.maxRows})`);
  if (!Number.isInteger(cfg.dbPool) || cfg.dbPool < 1)
    throw new ServeError(`--db-pool must be a positive integer (got ${cfg.dbPool})`);
  if (!Number.isInteger(cfg.poolAcquisitionTimeoutMs) || cfg.poolAcquisitionTimeoutMs < 1)
    throw new ServeError(
      `--db-pool-acquisition-timeout must be a positive duration (got ${cfg.poolAcquisitionTimeoutMs} ms)`,
    );

  const steps: Running['steps'] = [];
  const serving = loadServing();
  // Awaited below; a failure is reported there, not as an unhandled rejection while the database opens.
  serving.catch(() => undefined);
  const { db, lock, fresh, loaded, hashes, ...opened } = await openEngine(cfg, steps);
  // The gateway's catalog rows while they still describe the database: from the snapshot, or read for the
  // latest snapshot written; dropped as soon as a migration or the seed changes the database.
  let catalog = opened.catalog;
  let http: RunningServer | undefined;
  let services: Services | undefined;
  let diagnostics: Diagnostics | undefined;
  let stopped: Promise<{ drained: boolean }> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      diagnostics?.stop();
      // WebSockets first: an upgraded socket is no longer an HTTP request the drain could finish.
      await services?.stop();
      const r = http ? await http.close(cfg.statementTimeoutMs + SHUTDOWN_MARGIN_MS) : { drained: true };
      await db.close();
      lock?.release();
      return r;
    })());
  const cacheAs = async (kind: SnapshotKind) => {
    const hash = hashes[kind];
    // Only in-memory databases are dumped: a data directory also holds our lock file, which must not travel.
    if (db.engine === 'pglite' && !cfg.dataDir && fresh && hash && loaded !== kind) {
      await timed(
        steps,
        'snapshot',
        async () => {
          const rows = await loadRawCatalog(db, cfg.schemas);
          await writeSnapshot(db as IsolatedPGlite, kind, hash, { key: catalogKey(cfg.schemas), rows });
          catalog = rows;
        },
        () => `${kind}, cached for the next start`,
      );
    }
  };
  try {
    const pglite = db.engine === 'pglite';
    if (pglite || cfg.migrate || cfg.seed) {
      if (!loaded) {
        await timed(
          steps,
          'bootstrap',
          () => applyBootstrap(db),
          (r) => (r.supabase ? 'real Supabase database: left alone' : `${r.applied.length} file(s) applied`),
        );
      }
      // Always run: on a loaded snapshot it verifies history and checksums and applies nothing.
      const applied = await timed(
        steps,
        'migrate',
        () => migrateUp(db),
        (r) => (r.length ? `${r.length} migration(s) applied` : 'up to date'),
      );
      if (applied.length) catalog = undefined;
      if (!loaded) await cacheAs('migrated');
    }
    if (cfg.seed && loaded === SEEDED) {
      steps.push({ name: 'seed', ms: 0, note: 'in the seeded snapshot' });
    } else if (cfg.seed) {
      catalog = undefined;
      await timed(
        steps,
        'seed',
        () =>
          loadSeed(db, 'dev').then(
            (r) => `${Object.values(r.rows).reduce((a, b) => a + b, 0)} rows`,
            (e: unknown) => {
              // The seed has fixed ids: on a kept data directory it is already there. All or nothing, so nothing changed.
              if (isPgError(e) && e.code === '23505') return `skipped: already loaded (${e.constraint ?? e.message})`;
              throw e;
            },
          ),
        (note) => note,
      );
      await cacheAs(SEEDED);
    }
    await checkExposed(db, cfg);
    const [{ createGateway }, { startServices }, { listen }, { withRequestLog }, { guardHost, hostAllowed }] =
      await serving;
    const rows = catalog;
    const gateway = await timed(
      steps,
      'schema cache',
      async () => {
        const g = createGateway({
          db,
          jwtSecret: cfg.jwtSecret,
          schemas: cfg.schemas,
          anonRole: cfg.anonRole,
          allowedRoles: [...new Set([cfg.anonRole, 'anon', 'authenticated', 'service_role'])],
          ...(cfg.maxBodyBytes !== undefined ? { maxBodyBytes: cfg.maxBodyBytes } : {}),
          statementTimeoutMs: cfg.statementTimeoutMs,
          maxRows: cfg.maxRows,
          ...(rows ? { catalog: rows } : {}),
        });
        if (!rows) await g.reloadSchemaCache();
        return g;
      },
      () => (rows ? (loaded ? 'catalog rows from the snapshot' : 'catalog rows read for the snapshot') : undefined),
    );
    services = await timed(
      steps,
      'auth + realtime',
      () =>
        startServices({
          db,
          jwtSecret: cfg.jwtSecret,
          ...(cfg.databaseUrl ? { databaseUrl: cfg.databaseUrl } : {}),
          ...(cfg.bcryptCost !== undefined ? { bcryptCost: cfg.bcryptCost } : {}),
          log: cfg.log,
        }),
      (s) => `changes from ${s.capture}`,
    );
    // Start-up work ran without a timeout; from here on every statement is bounded.
    if ('setStatementTimeout' in db) db.setStatementTimeout(cfg.statementTimeoutMs);
    const realtime = services.realtime;
    // The Host allow-list guards WebSocket upgrades (Realtime) as well as requests.
    const route = guardHost(services.route(gateway.handle), cfg.allowedHosts);
    const handler = cfg.requestLog
      ? withRequestLog(route, { jwtKey: assertSecret(cfg.jwtSecret), anonRole: cfg.anonRole, write: cfg.requestLog })
      : route;
    http = await listen(handler, cfg.port, {
      upgrade: (req, socket, head) =>
        hostAllowed(req.headers.host ?? null, cfg.allowedHosts) ? realtime.handleUpgrade(req, socket, head) : false,
      ...(cfg.maxBodyBytes !== undefined ? { maxBodyBytes: cfg.maxBodyBytes } : {}),
    });
    lock?.update({ url: http.url });
    if (cfg.diagnostics)
      diagnostics = startDiagnostics(cfg.log, 'pool' in db ? (db.pool as { waitingCount: number }) : undefined);
    const [anonKey, serviceRoleKey] = await Promise.all([
      mintApiKey(cfg.jwtSecret, 'anon'),
      mintApiKey(cfg.jwtSecret, 'service_role'),
    ]);
    return { url: http.url, port: http.port, anonKey, serviceRoleKey, db, steps, http, stop };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}
