import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Database, Queryable } from '../db/database.js';
import { quoteIdent } from '../db/quote.js';

/** fixtures/ at the repository root, found from this module so the CLI and tests work from any cwd. */
const FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));

export interface SeedResult {
  /** Row count of every table in schema public after the seed ran (table name → rows). */
  rows: Record<string, number>;
}

/** Path of fixtures/<name>-seed.sql; the name is restricted so it can never leave fixtures/. */
export function seedPath(name: string): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    throw new Error(`invalid seed name ${JSON.stringify(name)} (expected [a-z0-9][a-z0-9_-]*)`);
  }
  return `${FIXTURES_DIR}${name}-seed.sql`;
}

/**
 * Runs fixtures/<name>-seed.sql in one transaction (all or nothing) and returns the row count of every
 * public table. The same code path serves PGlite and PostgreSQL: the seed is plain SQL run as the owner.
 */
export async function loadSeed(db: Database, name = 'dev'): Promise<SeedResult> {
  const script = await readFile(seedPath(name), 'utf8');
  return db.transaction(async (tx) => {
    await tx.exec(script);
    return { rows: await countPublicRows(tx) };
  });
}

/** Exact row counts of every ordinary or partitioned table in schema public, by table name. */
export async function countPublicRows(q: Queryable): Promise<Record<string, number>> {
  const tables = await q.query<{ name: string }>(
    `select c.relname as name
       from pg_catalog.pg_class c
      where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
      order by c.relname`,
  );
  const rows: Record<string, number> = {};
  for (const { name } of tables.rows) {
    const r = await q.query<{ n: string | number }>(`select count(*) as n from public.${quoteIdent(name)}`);
    rows[name] = Number(r.rows[0]?.n ?? 0);
  }
  return rows;
}
