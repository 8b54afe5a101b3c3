import type { PGlite } from '@electric-sql/pglite';
import type { Database, Queryable, QueryResult } from './database.js';

type PGliteLike = Pick<PGlite, 'query' | 'exec'>;

function wrap(target: PGliteLike): Queryable {
  return {
    async query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
      const r = await target.query<T>(sql, params);
      return {
        rows: r.rows,
        rowCount: r.affectedRows ?? r.rows.length,
        fields: r.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
      };
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
  };
}

export interface PGliteOptions {
  /** Directory to persist the database in; omitted = in memory. */
  dataDir?: string;
  /** A dump made by `dumpPGlite` to start from (much faster than bootstrap + migrate each time). */
  loadDataDir?: Blob | File;
}

/**
 * PGlite's own start parameters plus a smaller buffer pool. PGlite's PostgreSQL keeps the stock 128MB
 * shared_buffers, and every start pays for setting that memory up inside the WASM heap: ~1.5 CPU s for a
 * start from a dump, against ~0.9 at 16MB (measured side by side, 2026-12-03). The embedded engine serves one
 * developer's or test's database of a few MB, whose pages a buffer miss copies from an in-memory (or page-
 * cached) file, so the larger pool bought nothing, while the test suites open PGlite hundreds of times and
 * the CLI once per command. PostgreSQL proper (ephemeral-cluster.ts, a real server) is not affected.
 */
export function pgliteStartParams(defaults: readonly string[]): string[] {
  return [...defaults, '-c', 'shared_buffers=16MB'];
}

/** Embedded PostgreSQL (WASM, in-process). Single connection: transactions are serialised by PGlite. */
export async function openPGlite(options: PGliteOptions = {}): Promise<Database & { pglite: PGlite }> {
  // Loaded on first use: every CLI command imports this module, `serve` runs PGlite on a worker thread instead
  // (pglite-isolated.ts), and PGlite's JavaScript costs ~60 ms of CPU to load (issue #17, PERF-2).
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create({
    startParams: pgliteStartParams(PGlite.defaultStartParams),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
  });
  const base = wrap(pglite);
  return {
    engine: 'pglite',
    description: options.dataDir ? `PGlite (${options.dataDir})` : 'PGlite (in memory)',
    pglite,
    ...base,
    transaction: (fn) => pglite.transaction((tx) => fn(wrap(tx))),
    // Idempotent, like pg.Pool#end after the first call: teardown code may close twice.
    close: async () => {
      if (!pglite.closed) await pglite.close();
    },
  };
}

/** Snapshot of a PGlite database, to start further instances from it in ~0.4 s instead of ~2 s. */
export async function dumpPGlite(db: Database & { pglite: PGlite }): Promise<Blob> {
  return db.pglite.dumpDataDir('none');
}
