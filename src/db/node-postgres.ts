import pg from 'pg';
import {
  PoolTimeoutError,
  type BatchEnd,
  type Database,
  type Queryable,
  type QueryResult,
  type Statement,
} from './database.js';
import { PREPARED_PER_CONNECTION, queryBatch } from './pg-batch.js';

// node-postgres already returns int8 and numeric as strings (exact, as PostgREST keeps them); only the date
// types need overriding, so they stay the server's text and both engines serialise alike.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (v) => v);
pg.types.setTypeParser(pg.types.builtins.TIMESTAMP, (v) => v);
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

const LOCAL_HOSTS = new Set(['localhost', '::1', '[::1]', '']);
// Only a literal loopback address counts: a DNS name such as 127.example.com must still use TLS.
const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** True when the URL points at this machine (loopback or a unix socket directory). */
export function isLocalUrl(url: string): boolean {
  const u = new URL(url);
  const host = decodeURIComponent(u.hostname || u.searchParams.get('host') || '');
  return LOCAL_HOSTS.has(host) || host.startsWith('/') || IPV4_LOOPBACK.test(host);
}

/**
 * Encryption in transit: a non-local database must use TLS with certificate verification. An explicit
 * `sslmode=disable` towards a remote host is refused rather than silently honoured.
 */
export function connectionConfig(url: string): pg.PoolConfig {
  const u = new URL(url);
  const sslmode = u.searchParams.get('sslmode');
  const connectionTimeoutMillis = connectTimeoutSeconds(url) * 1000;
  if (isLocalUrl(url)) return { connectionString: url, connectionTimeoutMillis };
  if (sslmode === 'disable' || sslmode === 'allow' || sslmode === 'prefer') {
    throw new Error(
      `DATABASE_URL points at remote host ${u.hostname} with sslmode=${sslmode}: TLS is required for non-local databases (use sslmode=verify-full or require)`,
    );
  }
  u.searchParams.delete('sslmode');
  return {
    connectionString: u.toString(),
    ssl: { rejectUnauthorized: sslmode !== 'require' },
    connectionTimeoutMillis,
  };
}

/** Default seconds to wait for a server to accept a connection: a host that never answers must not hang a command. */
export const DEFAULT_CONNECT_TIMEOUT_S = 10;

/**
 * libpq's `connect_timeout` (seconds, in the URL) or PGCONNECT_TIMEOUT, else 10 s. node-postgres waits forever
 * by default, so a firewalled host made `migrate up` hang with no message.
 */
export function connectTimeoutSeconds(url: string, env: NodeJS.ProcessEnv = process.env): number {
  const raw = new URL(url).searchParams.get('connect_timeout') ?? env.PGCONNECT_TIMEOUT;
  if (raw === undefined || raw === '') return DEFAULT_CONNECT_TIMEOUT_S;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`connect_timeout must be a positive number of seconds, got "${raw}"`);
  return n;
}

export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  if (u.searchParams.has('password')) u.searchParams.set('password', '***');
  return u.toString();
}

function result<T>(r: pg.QueryResult): QueryResult<T> {
  return {
    rows: r.rows as T[],
    rowCount: r.rowCount ?? r.rows.length,
    fields: r.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
  };
}

function wrap(target: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
      return result<T>(await target.query(sql, params));
    },
    async exec(sql: string): Promise<void> {
      await target.query(sql);
    },
  };
}

export interface NodePostgresOptions {
  max?: number;
  /**
   * How long a transaction waits for a pooled connection (pg-pool `connectionTimeoutMillis`, which covers both
   * the queue and a new connection); past it, PoolTimeoutError. Default: wait forever (pg's default).
   */
  acquisitionTimeoutMs?: number;
  /** Runs once on every new pooled connection (e.g. `set search_path`). */
  onConnect?: (client: pg.PoolClient) => Promise<void>;
  /**
   * Default on: `batch` sends begin, its statements and (when known up front) commit/rollback in one exchange —
   * one round trip instead of one per statement (pg-batch.ts). Off: `batch` is absent and runBatch runs the
   * statements one by one in `transaction` (for a pooler that cannot take several statements before a Sync).
   */
  pipeline?: boolean;
  /**
   * Default on: in a batch, statements marked `prepare` are kept as named prepared statements per connection
   * (at most PREPARED_PER_CONNECTION, least recently used closed first), so PostgreSQL parses and plans the
   * gateway's prelude and each URL shape's statement once per connection instead of on every request
   * (PostgREST `db-prepared-statements`). Off for a pooler in transaction mode that does not track named
   * statements across its server connections (PgBouncer < 1.21, or ≥ 1.21 without max_prepared_statements).
   */
  preparedStatements?: boolean;
}

/**
 * A batch in one round trip (pg-batch.ts): begin, the statements and — when known up front — commit or
 * rollback, in one exchange with a single Sync. A failure skips everything behind it, so the transaction is
 * left aborted: it is rolled back here, and a client that cannot be is discarded by onClient.
 */
async function batchOn(
  c: pg.PoolClient,
  statements: Statement[],
  end: BatchEnd,
  maxPrepared: number,
): Promise<QueryResult[]> {
  const fixed = typeof end === 'string' ? end : undefined;
  const all: Statement[] = [{ sql: 'begin' }, ...statements, ...(fixed ? [{ sql: fixed }] : [])];
  let answered: pg.QueryResult[];
  try {
    answered = await queryBatch(c, all, maxPrepared);
  } catch (e) {
    // Always, not only when the status says so: node-postgres reports the error before the ReadyForQuery that
    // tells the transaction's state has arrived. Queued behind it; outside a transaction it is a no-op warning.
    await c.query('rollback').catch(() => undefined);
    throw e;
  }
  const results = answered.slice(1, 1 + statements.length).map((r) => result<Record<string, unknown>>(r));
  if (fixed) return results;
  let verdict: 'commit' | 'rollback';
  try {
    verdict = (end as Exclude<BatchEnd, string>)(results);
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  }
  await c.query(verdict);
  return results;
}

/** node-postgres pool for DATABASE_URL or the ephemeral cluster. Transactions run concurrently. */
export async function openNodePostgres(
  url: string,
  options: NodePostgresOptions = {},
): Promise<Database & { pool: pg.Pool }> {
  const pipeline = options.pipeline ?? true;
  const maxPrepared = (options.preparedStatements ?? true) ? PREPARED_PER_CONNECTION : 0;
  const pool = new pg.Pool({
    ...connectionConfig(url),
    max: options.max ?? 10,
    ...(options.acquisitionTimeoutMs ? { connectionTimeoutMillis: options.acquisitionTimeoutMs } : {}),
  });
  // An idle client losing its server (cluster stopped) must not crash the process.
  pool.on('error', () => undefined);
  if (options.onConnect) pool.on('connect', (c) => void options.onConnect!(c));
  const client = await pool.connect().catch((e: Error) => {
    void pool.end();
    const timedOut = /timeout/i.test(e.message);
    const hint = timedOut
      ? ` (no answer within ${connectTimeoutSeconds(url)} s; is the host reachable? raise connect_timeout=N in the URL to wait longer)`
      : '';
    throw new Error(`cannot connect to ${redactUrl(url)}: ${e.message}${hint}`, { cause: e });
  });
  client.release();
  const base = wrap(pool);
  const acquire = () =>
    pool.connect().catch((e: Error) => {
      if (options.acquisitionTimeoutMs && /timeout exceeded when trying to connect/i.test(e.message))
        throw new PoolTimeoutError(options.acquisitionTimeoutMs);
      throw e;
    });
  /** Runs `work` on a checked-out client; a client left inside a transaction is discarded, never reused. */
  async function onClient<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await acquire();
    // A connection the server ends mid-transaction (pg_terminate_backend, restart) also emits 'error' on
    // the checked-out client, which the pool does not listen for: without this the process crashes with an
    // uncaught exception instead of the failing query rejecting (tests/reliability/runner-faults.test.ts).
    const onError = () => undefined;
    c.on('error', onError);
    try {
      return await work(c);
    } finally {
      c.off('error', onError);
      // Claims and role are transaction-local: a client not back to idle (a failed rollback, a dead socket)
      // must not serve the next request.
      c.release(c.getTransactionStatus() !== 'I');
    }
  }
  return {
    engine: 'postgres',
    description: `PostgreSQL (${redactUrl(url)})`,
    pool,
    ...base,
    transaction: (fn) =>
      onClient(async (c) => {
        try {
          await c.query('begin');
          const result = await fn(wrap(c));
          await c.query('commit');
          return result;
        } catch (e) {
          await c.query('rollback').catch(() => undefined);
          throw e;
        }
      }),
    ...(pipeline
      ? { batch: (statements: Statement[], end: BatchEnd) => onClient((c) => batchOn(c, statements, end, maxPrepared)) }
      : {}),
    close: () => pool.end(),
  };
}
