import type { Queryable } from '../db/database.js';
import { quoteIdent } from '../db/quote.js';

/**
 * What an operator looks at first on a PostgreSQL database (the `shipspeak-db stats` command): the top
 * statements from pg_stat_statements, the buffer cache hit ratio, connections by state, replication slots
 * and the WAL they hold back, and tables whose dead rows suggest bloat.
 *
 * Query text comes from pg_stat_statements, which stores it normalised (constants replaced by $1, $2 …):
 * parameter values never appear. It is further collapsed to one line and cut to {@link QUERY_TEXT_MAX}.
 */
export const QUERY_TEXT_MAX = 160;

export interface StatementStat {
  queryid: string;
  query: string;
  calls: number;
  rows: number;
  totalMs: number;
  meanMs: number;
}

export interface DatabaseStats {
  database: string;
  serverVersion: string;
  /** Null when pg_stat_statements is not installed in this database (see `statementsMissing`). */
  topByTotal: StatementStat[] | null;
  topByMean: StatementStat[] | null;
  statementsMissing: string | null;
  cacheHitRatio: number | null;
  connections: { state: string; count: number }[];
  maxConnections: number;
  replicationSlots: {
    slot: string;
    plugin: string | null;
    type: string;
    active: boolean;
    retainedWalBytes: number | null;
  }[];
  bloatHints: { table: string; liveRows: number; deadRows: number; deadRatio: number; lastAutovacuum: string | null }[];
}

/** A table is hinted when dead rows exceed this share of all its rows and {@link BLOAT_MIN_DEAD} rows. */
export const BLOAT_DEAD_RATIO = 0.2;
export const BLOAT_MIN_DEAD = 1000;

export function normaliseQueryText(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > QUERY_TEXT_MAX ? `${one.slice(0, QUERY_TEXT_MAX - 1)}…` : one;
}

async function statementsSchema(db: Queryable): Promise<string | null> {
  const r = await db.query<{ schema: string }>(
    `select n.nspname as schema from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace
      where e.extname = 'pg_stat_statements'`,
  );
  return r.rows[0]?.schema ?? null;
}

async function topStatements(
  db: Queryable,
  schema: string,
  order: 'total' | 'mean',
  top: number,
): Promise<StatementStat[]> {
  const ident = quoteIdent(schema);
  const column = order === 'total' ? 's.total_exec_time' : 's.mean_exec_time';
  const r = await db.query<{
    queryid: string;
    query: string;
    calls: string;
    rows: string;
    total_ms: number;
    mean_ms: number;
  }>(
    `select s.queryid::text as queryid, s.query, s.calls::text as calls, s.rows::text as rows,
            s.total_exec_time::float8 as total_ms, s.mean_exec_time::float8 as mean_ms
       from ${ident}.pg_stat_statements s
      where s.dbid = (select oid from pg_catalog.pg_database where datname = pg_catalog.current_database())
      order by ${column} desc
      limit $1`,
    [top],
  );
  return r.rows.map((x) => ({
    queryid: x.queryid,
    query: normaliseQueryText(x.query),
    calls: Number(x.calls),
    rows: Number(x.rows),
    totalMs: Math.round(x.total_ms * 100) / 100,
    meanMs: Math.round(x.mean_ms * 1000) / 1000,
  }));
}

export async function collectStats(db: Queryable, top = 10): Promise<DatabaseStats> {
  const head = await db.query<{ database: string; version: string; max: string }>(
    `select pg_catalog.current_database() as database, pg_catalog.current_setting('server_version') as version,
            pg_catalog.current_setting('max_connections') as max`,
  );
  const schema = await statementsSchema(db);
  const cache = await db.query<{ ratio: number | null }>(
    `select case when sum(blks_hit + blks_read) > 0 then (sum(blks_hit)::float8 / sum(blks_hit + blks_read)) end as ratio
       from pg_catalog.pg_stat_database where datname = pg_catalog.current_database()`,
  );
  const connections = await db.query<{ state: string; count: number }>(
    `select coalesce(state, backend_type) as state, count(*)::int as count
       from pg_catalog.pg_stat_activity group by 1 order by 2 desc, 1`,
  );
  const slots = await db.query<{
    slot: string;
    plugin: string | null;
    type: string;
    active: boolean;
    retained: string | null;
  }>(
    `select slot_name::text as slot, plugin::text as plugin, slot_type as type, active,
            pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::text as retained
       from pg_catalog.pg_replication_slots order by 1`,
  );
  const bloat = await db.query<{ tbl: string; live: string; dead: string; last: string | null }>(
    `select schemaname || '.' || relname as tbl, n_live_tup::text as live, n_dead_tup::text as dead,
            coalesce(last_autovacuum, last_vacuum)::text as last
       from pg_catalog.pg_stat_user_tables
      where n_dead_tup >= $1::bigint and n_dead_tup > $2::float8 * (n_live_tup + n_dead_tup)
      order by n_dead_tup desc`,
    [BLOAT_MIN_DEAD, BLOAT_DEAD_RATIO],
  );
  return {
    database: head.rows[0]!.database,
    serverVersion: head.rows[0]!.version,
    topByTotal: schema ? await topStatements(db, schema, 'total', top) : null,
    topByMean: schema ? await topStatements(db, schema, 'mean', top) : null,
    statementsMissing: schema
      ? null
      : 'pg_stat_statements is not installed in this database (create extension pg_stat_statements; it must also be in shared_preload_libraries)',
    cacheHitRatio: cache.rows[0]?.ratio ?? null,
    connections: connections.rows,
    maxConnections: Number(head.rows[0]!.max),
    replicationSlots: slots.rows.map((s) => ({
      slot: s.slot,
      plugin: s.plugin,
      type: s.type,
      active: s.active,
      retainedWalBytes: s.retained === null ? null : Number(s.retained),
    })),
    bloatHints: bloat.rows.map((b) => {
      const live = Number(b.live);
      const dead = Number(b.dead);
      return {
        table: b.tbl,
        liveRows: live,
        deadRows: dead,
        deadRatio: Math.round((dead / (live + dead)) * 1000) / 1000,
        lastAutovacuum: b.last,
      };
    }),
  };
}

/** Plain-text rendering for a terminal. */
export function formatStats(s: DatabaseStats): string[] {
  const lines = [`database ${s.database} (PostgreSQL ${s.serverVersion})`];
  const table = (title: string, rows: StatementStat[] | null) => {
    lines.push('', title);
    if (!rows) return void lines.push(`  ${s.statementsMissing}`);
    if (rows.length === 0) return void lines.push('  (no statements recorded yet)');
    lines.push(
      `  ${'calls'.padStart(8)} ${'rows'.padStart(9)} ${'total ms'.padStart(11)} ${'mean ms'.padStart(10)}  query`,
    );
    for (const r of rows) {
      lines.push(
        `  ${String(r.calls).padStart(8)} ${String(r.rows).padStart(9)} ${r.totalMs.toFixed(1).padStart(11)} ${r.meanMs.toFixed(3).padStart(10)}  ${r.query}`,
      );
    }
  };
  table('top statements by total time', s.topByTotal);
  table('top statements by mean time', s.topByMean);
  lines.push(
    '',
    `cache hit ratio: ${s.cacheHitRatio === null ? 'n/a (no block reads yet)' : `${(s.cacheHitRatio * 100).toFixed(2)} %`}`,
  );
  lines.push(
    '',
    `connections (max_connections ${s.maxConnections}):`,
    ...s.connections.map((c) => `  ${c.state.padEnd(28)} ${c.count}`),
  );
  lines.push('', 'replication slots:');
  if (s.replicationSlots.length === 0) lines.push('  (none)');
  for (const r of s.replicationSlots) {
    lines.push(
      `  ${r.slot} ${r.type}${r.plugin ? ` (${r.plugin})` : ''} ${r.active ? 'active' : 'INACTIVE'} retains ${r.retainedWalBytes ?? 'n/a'} bytes of WAL`,
    );
  }
  lines.push('', `bloat hints (dead rows > ${BLOAT_DEAD_RATIO * 100} % and ≥ ${BLOAT_MIN_DEAD}):`);
  if (s.bloatHints.length === 0) lines.push('  (none)');
  for (const b of s.bloatHints)
    lines.push(
      `  ${b.table}: ${b.deadRows} dead / ${b.liveRows} live (${(b.deadRatio * 100).toFixed(1)} %), last vacuum ${b.lastAutovacuum ?? 'never'}`,
    );
  return lines;
}
