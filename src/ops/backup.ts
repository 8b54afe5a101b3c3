import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Queryable } from '../db/database.js';
import { quoteQualified } from '../db/quote.js';

const run = promisify(execFile);

/**
 * Logical backup and restore with PostgreSQL's own tools — the procedure docs/operations.md describes,
 * and the one tests/reliability/backup-restore.test.ts proves:
 *   1. roles:    pg_dumpall --roles-only     (cluster-wide: anon, authenticated, service_role, …)
 *   2. database: pg_dump --format=custom     (schema, data, policies, grants, triggers, comments)
 *   3. restore:  psql roles.sql into the new cluster (skipped when the roles exist), then
 *                pg_restore --exit-on-error --single-transaction into an empty database.
 * `binDir` holds the client binaries matching the server's major version.
 */
async function tool(binDir: string, name: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(join(binDir, name), args, {
      maxBuffer: 256 << 20,
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    });
    return stdout;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`${name} failed: ${(err.stderr || err.message).trim()}`, { cause: err });
  }
}

export async function dumpRoles(binDir: string, superuserUrl: string, file: string): Promise<void> {
  await tool(binDir, 'pg_dumpall', ['--roles-only', '--no-role-passwords', '--dbname', superuserUrl, '--file', file]);
}

export async function dumpDatabase(binDir: string, url: string, file: string): Promise<void> {
  await tool(binDir, 'pg_dump', ['--format=custom', '--file', file, url]);
}

/** Runs the roles script; a role that already exists is reported by psql and skipped (ON_ERROR_STOP off). */
export async function restoreRoles(binDir: string, superuserUrl: string, file: string): Promise<void> {
  await tool(binDir, 'psql', ['--no-psqlrc', '--quiet', '--dbname', superuserUrl, '--file', file]);
}

/** All or nothing: one transaction, stopping at the first error. The target database must be empty. */
export async function restoreDatabase(binDir: string, url: string, file: string): Promise<void> {
  await tool(binDir, 'pg_restore', ['--exit-on-error', '--single-transaction', '--dbname', url, file]);
}

export interface TableFingerprint {
  rows: number;
  /** md5 over the rows' text forms in sorted order: equal content ⇔ equal fingerprint. */
  md5: string;
}

/** Row count and content hash of every table in the given schemas, by schema.table. */
export async function tableFingerprints(
  db: Queryable,
  schemas = ['public', 'private', 'audit', 'auth', 'supabase_migrations'],
): Promise<Record<string, TableFingerprint>> {
  const tables = await db.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname = any ($1::text[])
      order by 1, 2`,
    [schemas],
  );
  const out: Record<string, TableFingerprint> = {};
  for (const t of tables.rows) {
    const ident = quoteQualified(t.schema, t.name);
    const r = await db.query<{ n: string; h: string }>(
      `select count(*)::text as n, coalesce(md5(string_agg(x.r, E'\\n' order by x.r)), '') as h from (select t::text as r from ${ident} t) x`,
    );
    out[`${t.schema}.${t.name}`] = { rows: Number(r.rows[0]!.n), md5: r.rows[0]!.h };
  }
  return out;
}
