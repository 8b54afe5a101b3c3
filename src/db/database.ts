/**
 * The one small interface every engine implements. Everything above this line (runner, gateway, tests,
 * report) talks to a `Database` and never to PGlite or node-postgres directly, so each suite can run on
 * either engine unchanged.
 */
export type Engine = 'pglite' | 'postgres';

export interface QueryResult<T = Record<string, unknown>> {
  rows: T[];
  /** Rows affected by INSERT/UPDATE/DELETE, or rows returned by SELECT. */
  rowCount: number;
  fields: { name: string; dataTypeID: number }[];
}

/** One statement and its bind parameters. */
export interface Statement {
  sql: string;
  params?: unknown[];
  /**
   * The text is one of a bounded family the caller sends again and again (the gateway's prelude and rendered
   * plans): an engine that supports it may keep it as a named prepared statement on the connection, parsed
   * and planned once instead of on every request (node-postgres: pg-batch.ts). Parameters stay bind values.
   */
  prepare?: boolean;
}

/**
 * How a batch's transaction ends: fixed before any result is seen (a pipelining engine then sends it with the
 * statements, one round trip in all), or decided from the results (one more round trip). The decision may
 * throw: the transaction is rolled back and the throw re-thrown.
 */
export type BatchEnd = 'commit' | 'rollback' | ((results: QueryResult[]) => 'commit' | 'rollback');

/** What can run SQL: the database itself or an open transaction. */
export interface Queryable {
  /** One statement with `$1…$n` bind parameters. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** A multi-statement script (simple protocol, no parameters). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly engine: Engine;
  /** Human-readable description for logs and reports (never contains a password). */
  readonly description: string;
  /**
   * Runs `fn` inside BEGIN … COMMIT on one connection; any throw rolls back and is re-thrown.
   * Transactions on one Database may run concurrently (node-postgres pool) or serialised (PGlite).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs `statements` in order in one transaction that ends as `end` says, and answers their results. Any
   * failing statement rolls the transaction back and rejects with the first failure. Optional: engines
   * without it get the same semantics from `transaction` (runBatch in ./batch.ts), one statement at a time.
   */
  batch?(statements: Statement[], end: BatchEnd): Promise<QueryResult[]>;
  close(): Promise<void>;
}

/** A PostgreSQL error as both engines report it (SQLSTATE plus the server's fields). */
export interface PgError extends Error {
  code: string;
  detail?: string;
  hint?: string;
  where?: string;
  position?: string;
  constraint?: string;
  table?: string;
  column?: string;
  schema?: string;
}

export function isPgError(e: unknown): e is PgError {
  return (
    e instanceof Error &&
    typeof (e as { code?: unknown }).code === 'string' &&
    /^[0-9A-Z]{5}$/.test((e as PgError).code)
  );
}

/** No pooled connection became free (or could be opened) within the acquisition timeout. */
export class PoolTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`Timed out acquiring connection from connection pool (waited ${timeoutMs} ms).`);
    this.name = 'PoolTimeoutError';
  }
}
