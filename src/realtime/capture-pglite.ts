import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Database } from '../db/database.js';
import { isoTimestamp, type Change, type ChangeSource } from './changes.js';

/**
 * PGlite has no logical decoding: sql/realtime/pglite_capture.sql queues each change of a published table
 * from a row trigger; this drains the queue (delete … returning, in id order) when pg_notify wakes it, and
 * on a slow timer as a safety net. In-process, so "wake" is a function call after the writer commits.
 */
const CAPTURE_SQL = fileURLToPath(new URL('../../sql/realtime/pglite_capture.sql', import.meta.url));
const BATCH = 1000;
const SAFETY_POLL_MS = 250;

interface Row {
  schema_name: string;
  table_name: string;
  action: Change['type'];
  record: Record<string, unknown> | null;
  old_record: Record<string, unknown> | null;
  commit_timestamp: string;
}

type Listener = { listen(channel: string, cb: (payload: string) => void): Promise<() => Promise<void>> };

export function pgliteChangeSource(db: Database & { pglite?: unknown }): ChangeSource {
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let draining: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  return {
    kind: 'PGlite trigger queue (realtime.shipspeak_changes)',
    async start(deliver) {
      await db.exec(readFileSync(CAPTURE_SQL, 'utf8'));
      const drainOnce = async () => {
        for (;;) {
          const r = await db.query<Row>(
            `with d as (delete from realtime.shipspeak_changes where id in (select id from realtime.shipspeak_changes order by id limit $1)
                        returning id, schema_name, table_name, action, record, old_record, commit_timestamp::text as commit_timestamp)
             select * from d order by id`,
            [BATCH],
          );
          if (r.rows.length) {
            deliver(
              r.rows.map((x) => ({
                schema: x.schema_name,
                table: x.table_name,
                type: x.action,
                record: x.record,
                old_record: x.old_record,
                commit_timestamp: isoTimestamp(x.commit_timestamp),
              })),
            );
          }
          if (r.rows.length < BATCH) return;
        }
      };
      const wake = () => {
        if (stopped) return;
        if (draining) {
          again = true;
          return;
        }
        draining = drainOnce()
          .catch(() => undefined)
          .finally(() => {
            draining = undefined;
            if (again) {
              again = false;
              wake();
            }
          });
      };
      const pglite = db.pglite as Partial<Listener> | undefined;
      if (pglite && typeof pglite.listen === 'function') unlisten = await pglite.listen('shipspeak_realtime', wake);
      timer = setInterval(wake, SAFETY_POLL_MS);
      timer.unref();
      wake();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await unlisten?.().catch(() => undefined);
      await draining;
    },
  };
}
