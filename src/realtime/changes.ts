import type { Queryable } from '../db/database.js';

/** One committed row change of a published table, in Supabase Realtime's postgres_changes terms. */
export interface Change {
  schema: string;
  table: string;
  type: 'INSERT' | 'UPDATE' | 'DELETE';
  record: Record<string, unknown> | null;
  old_record: Record<string, unknown> | null;
  commit_timestamp: string;
}

/** Where changes come from: wal2json on PostgreSQL, a trigger-fed queue on PGlite. */
export interface ChangeSource {
  readonly kind: string;
  start(deliver: (changes: Change[]) => void): Promise<void>;
  stop(): Promise<void>;
}

export interface PublishedColumn {
  name: string;
  /** pg_type.typname, what Realtime sends in `columns` (realtime-js converts values by it). */
  type: string;
  /** format_type(): a catalog-rendered type name for casts in the RLS check. */
  sqlType: string;
}

export interface PublishedTable {
  schema: string;
  name: string;
  columns: PublishedColumn[];
  pk: string[];
}

/** The tables of the supabase_realtime publication, with columns and primary key, keyed "schema.table". */
export async function loadPublishedTables(q: Queryable): Promise<Map<string, PublishedTable>> {
  const r = await q.query<{ schema: string; name: string; columns: PublishedColumn[]; pk: string[] | null }>(`
    select pt.schemaname as schema, pt.tablename as name,
      (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', a.attname::text, 'type', t.typname::text,
                'sqlType', pg_catalog.format_type(a.atttypid, a.atttypmod)) order by a.attnum)
       from pg_catalog.pg_attribute a join pg_catalog.pg_type t on t.oid = a.atttypid
       where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns,
      (select pg_catalog.array_agg(a.attname::text order by k.n)
       from pg_catalog.pg_index i
       cross join lateral pg_catalog.unnest(i.indkey) with ordinality as k(attnum, n)
       join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
       where i.indrelid = c.oid and i.indisprimary) as pk
    from pg_catalog.pg_publication_tables pt
    join pg_catalog.pg_namespace n on n.nspname = pt.schemaname
    join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = pt.tablename
    where pt.pubname = 'supabase_realtime'`);
  return new Map(
    r.rows.map((t) => [
      `${t.schema}.${t.name}`,
      { schema: t.schema, name: t.name, columns: t.columns, pk: t.pk ?? [] },
    ]),
  );
}

export function isoTimestamp(v: unknown): string {
  const d = new Date(typeof v === 'string' ? v.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00') : Date.now());
  return Number.isNaN(d.getTime()) ? new Date().toISOString() : d.toISOString();
}
