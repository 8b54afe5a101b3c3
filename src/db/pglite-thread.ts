/**
 * The worker_threads side of `openIsolatedPGlite` (pglite-isolated.ts): one PGlite instance on its own thread,
 * driven by messages, so a long statement blocks this thread only and the main thread can still answer other
 * requests, time the statement out and terminate this thread. Nothing here decides policy.
 */
import type { PgError } from './database.js';
import { cpSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pgliteStartParams } from './pglite.js';

export interface ThreadInit {
  dataDir: string;
  /** PGlite's WASM, compiled once by the main thread and shared with every worker (a reopen skips compiling). */
  pgliteWasmModule?: WebAssembly.Module;
  initdbWasmModule?: WebAssembly.Module;
}

export type ThreadRequest =
  | { id: 0; op: 'open'; init: ThreadInit }
  | { id: number; op: 'query'; sql: string; params: unknown[] }
  | { id: number; op: 'exec'; sql: string }
  /** Close the database cleanly, copy its data directory to `to`, reopen it (the snapshot cache). */
  | { id: number; op: 'snapshot'; to: string }
  | { id: number; op: 'close' };

/** A PostgreSQL error's fields, copied so they survive the structured clone (PgError's fields, one home). */
export type ThreadError = Pick<
  PgError,
  'message' | 'detail' | 'hint' | 'where' | 'position' | 'constraint' | 'table' | 'column' | 'schema'
> & { code?: string };

export type ThreadReply =
  | { id: 0; loaded: true }
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ThreadError }
  | { id: 0; ready: true }
  | { id: 0; failed: ThreadError };

const FIELDS = ['code', 'detail', 'hint', 'where', 'position', 'constraint', 'table', 'column', 'schema'] as const;

function toThreadError(e: unknown): ThreadError {
  const out: ThreadError = { message: e instanceof Error ? e.message : String(e) };
  if (e && typeof e === 'object') {
    for (const f of FIELDS) {
      const v = (e as Record<string, unknown>)[f];
      if (typeof v === 'string') out[f] = v;
    }
  }
  return out;
}

const port = parentPort!;

/**
 * The thread loads its modules, says `loaded` and waits for `open`: the main thread keeps one such spare ready,
 * so replacing a stopped worker costs only the database's own start, not loading code.
 */
const init = await new Promise<ThreadInit>((resolve) => {
  port.once('message', (m: ThreadRequest) => {
    if (m.op === 'open') resolve(m.init);
  });
  port.postMessage({ id: 0, loaded: true } satisfies ThreadReply);
});

const open = () =>
  PGlite.create({
    dataDir: init.dataDir,
    startParams: pgliteStartParams(PGlite.defaultStartParams),
    ...(init.pgliteWasmModule ? { pgliteWasmModule: init.pgliteWasmModule } : {}),
    ...(init.initdbWasmModule ? { initdbWasmModule: init.initdbWasmModule } : {}),
  });

try {
  let db = await open();
  port.on('message', (m: ThreadRequest) => {
    if (m.op === 'open') return;
    void (async () => {
      try {
        let value: unknown;
        if (m.op === 'query') {
          const r = await db.query(m.sql, m.params);
          value = {
            rows: r.rows,
            rowCount: r.affectedRows ?? r.rows.length,
            fields: r.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
          };
        } else if (m.op === 'exec') {
          await db.exec(m.sql);
        } else if (m.op === 'snapshot') {
          // A cleanly shut down copy: a start from it needs no crash recovery (a copy of a live directory
          // would), and no other call runs meanwhile (the main thread serialises them).
          await db.close();
          try {
            cpSync(init.dataDir, m.to, { recursive: true });
          } finally {
            db = await open();
          }
        } else {
          if (!db.closed) await db.close();
        }
        port.postMessage({ id: m.id, ok: true, value } satisfies ThreadReply);
      } catch (e) {
        port.postMessage({ id: m.id, ok: false, error: toThreadError(e) } satisfies ThreadReply);
      }
    })();
  });
  port.postMessage({ id: 0, ready: true } satisfies ThreadReply);
} catch (e) {
  port.postMessage({ id: 0, failed: toThreadError(e) } satisfies ThreadReply);
}
