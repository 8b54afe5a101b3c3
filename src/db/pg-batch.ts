import { createRequire } from 'node:module';
import pg from 'pg';
import type { Statement } from './database.js';

// node-postgres's own conversion of JavaScript values to bind parameters (arrays, dates, JSON, buffers), so a
// batch binds exactly as `client.query(sql, params)` does.
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue: (v: unknown) => unknown;
};

/** The parts of node-postgres's protocol writer a batch uses (pg/lib/connection.js). */
interface Wire {
  stream: { cork?: () => void; uncork?: () => void };
  parse(m: { text: string; name: string; types: unknown[] }): void;
  bind(m: { portal: string; statement: string; values: unknown[]; binary: boolean; valueMapper: unknown }): void;
  describe(m: { type: 'P'; name: string }): void;
  execute(m: { portal: string; rows: number }): void;
  sync(): void;
}

/**
 * Several statements written as ONE extended-protocol exchange: Parse/Bind/Describe/Execute for each, then a
 * single Sync — one write, one round trip. With a single Sync, an error anywhere makes PostgreSQL skip every
 * message after it up to the Sync: a statement never runs after a failed one (in particular never outside the
 * transaction, without its role and claims, had `begin` failed), and a `commit` behind a failed statement is
 * never executed. (node-postgres's pipeline mode gives each statement its own Sync, so each later statement
 * would run on its own — which is why it is not used here.) A subclass of pg.Query, so the client matches the
 * answers with its usual handlers: one result per statement, in order; the first error rejects.
 */
export function queryBatch(client: pg.PoolClient, statements: Statement[]): Promise<pg.QueryResult[]> {
  return new Promise((resolve, reject) => {
    const q = new pg.Query('batch');
    (q as unknown as { callback: (err: Error | null, res: unknown) => void }).callback = (err, res) => {
      if (err) return reject(err);
      const all = (Array.isArray(res) ? res : [res]) as pg.QueryResult[];
      // A statement that returns nothing still completes with a command tag, so there is one result each.
      if (all.length !== statements.length)
        return reject(new Error(`batch of ${statements.length} statements answered ${all.length} results`));
      resolve(all);
    };
    q.submit = (connection) => {
      const wire = connection as unknown as Wire;
      wire.stream.cork?.();
      try {
        for (const s of statements) {
          wire.parse({ text: s.sql, name: '', types: [] });
          wire.bind({ portal: '', statement: '', values: s.params ?? [], binary: false, valueMapper: prepareValue });
          wire.describe({ type: 'P', name: '' });
          wire.execute({ portal: '', rows: 0 });
        }
        wire.sync();
      } finally {
        wire.stream.uncork?.();
      }
    };
    void client.query(q);
  });
}
