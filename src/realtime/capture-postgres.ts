import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectionConfig } from '../db/node-postgres.js';
import { isoTimestamp, type Change, type ChangeSource } from './changes.js';

/**
 * Change capture on PostgreSQL the way Supabase Realtime does it: logical decoding of the WAL with the
 * wal2json output plugin (format-version 2: one JSON document per change, B/C marking transactions). A
 * temporary slot on a dedicated connection — dropped by the server when the connection ends, so a killed
 * serve leaves no slot retaining WAL — is read with pg_logical_slot_get_changes every POLL_MS. Only
 * committed transactions are decoded; the commit's timestamp is the change's commit_timestamp.
 * Needs wal_level=logical, wal2json allowed as an output plugin, and a role with REPLICATION (or superuser).
 */
const POLL_MS = 20;

interface Wal2JsonColumn {
  name: string;
  value: unknown;
}

interface Wal2Json {
  action: 'B' | 'C' | 'I' | 'U' | 'D' | 'T' | 'M';
  schema?: string;
  table?: string;
  timestamp?: string;
  columns?: Wal2JsonColumn[];
  identity?: Wal2JsonColumn[];
}

const toRecord = (cols: Wal2JsonColumn[] | undefined) =>
  cols ? Object.fromEntries(cols.map((c) => [c.name, c.value])) : null;
const TYPES = { I: 'INSERT', U: 'UPDATE', D: 'DELETE' } as const;

export function postgresChangeSource(url: string): ChangeSource {
  const client = new pg.Client(connectionConfig(url));
  const slot = `shipspeak_realtime_${process.pid}_${randomBytes(4).toString('hex')}`;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let stopped = false;
  return {
    kind: `wal2json logical decoding (temporary slot ${slot})`,
    async start(deliver) {
      client.on('error', () => undefined);
      await client.connect();
      try {
        await client.query(`select pg_catalog.pg_create_logical_replication_slot($1, 'wal2json', true)`, [slot]);
      } catch (e) {
        await client.end().catch(() => undefined);
        throw new Error(
          `cannot decode changes with wal2json: ${e instanceof Error ? e.message : String(e)} (needs wal_level=logical, postgresql-15-wal2json and a REPLICATION role)`,
        );
      }
      const poll = async () => {
        const r = await client.query<{ data: string }>(
          `select data from pg_catalog.pg_logical_slot_get_changes($1, null, null, 'format-version', '2', 'include-timestamp', '1', 'include-transaction', '1')`,
          [slot],
        );
        const out: Change[] = [];
        let pending: Change[] = [];
        for (const { data } of r.rows) {
          const m = JSON.parse(data) as Wal2Json;
          if (m.action === 'B') pending = [];
          else if (m.action === 'C') {
            const ts = isoTimestamp(m.timestamp);
            for (const c of pending) c.commit_timestamp = ts;
            out.push(...pending);
            pending = [];
          } else if (m.action === 'I' || m.action === 'U' || m.action === 'D') {
            pending.push({
              schema: m.schema!,
              table: m.table!,
              type: TYPES[m.action],
              record: m.action === 'D' ? null : toRecord(m.columns),
              old_record: m.action === 'I' ? null : toRecord(m.identity),
              commit_timestamp: '',
            });
          }
        }
        if (out.length) deliver(out);
      };
      const tick = () => {
        if (stopped || polling) return;
        polling = poll()
          .catch(() => undefined)
          .finally(() => (polling = undefined));
      };
      timer = setInterval(tick, POLL_MS);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await polling;
      await client.end().catch(() => undefined);
    },
  };
}
