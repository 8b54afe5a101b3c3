import type { Database, Queryable, QueryResult } from '../../../src/db/database.js';

/** One statement as the gateway sent it: SQL text and bind parameters. */
export interface Recorded {
  sql: string;
  params: unknown[];
}

/**
 * Wraps a Database so the statements of one gateway request can be captured and replayed elsewhere
 * (gateway-overhead.ts replays them in process; the throughput benchmark serves them over node-postgres).
 * `begin`/`commit` are not recorded: they belong to Database.transaction (or .batch), not to the request.
 */
export function recording(db: Database): { db: Database; take(): Recorded[] } {
  let log: Recorded[] = [];
  const wrapQ = (q: Queryable): Queryable => ({
    query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
      log.push({ sql, params });
      return q.query<T>(sql, params);
    },
    exec: (sql) => q.exec(sql),
  });
  const batch = db.batch?.bind(db);
  return {
    db: {
      ...db,
      ...wrapQ(db),
      transaction: (fn) => db.transaction((tx) => fn(wrapQ(tx))),
      ...(batch
        ? {
            batch: (statements, end) => {
              for (const s of statements) log.push({ sql: s.sql, params: s.params ?? [] });
              return batch(statements, end);
            },
          }
        : {}),
    },
    take() {
      const out = log;
      log = [];
      return out;
    },
  };
}
