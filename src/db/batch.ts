import type { BatchEnd, Database, QueryResult, Statement } from './database.js';

/** Carries the results out of a transaction that ends in a rollback on purpose. */
class Undone {
  constructor(readonly results: QueryResult[]) {}
}

/**
 * Runs a batch (Database.batch) on any engine: the engine's own when it has one (node-postgres pipelines it),
 * else the statements one by one inside `transaction`, which rolls back on any throw.
 */
export async function runBatch(db: Database, statements: Statement[], end: BatchEnd): Promise<QueryResult[]> {
  if (db.batch) return db.batch(statements, end);
  try {
    return await db.transaction(async (tx) => {
      const results: QueryResult[] = [];
      for (const s of statements) results.push(await tx.query(s.sql, s.params ?? []));
      const verdict = typeof end === 'function' ? end(results) : end;
      if (verdict === 'rollback') throw new Undone(results);
      return results;
    });
  } catch (e) {
    if (e instanceof Undone) return e.results;
    throw e;
  }
}
