/**
 * Applies the Supabase platform layer (sql/bootstrap/*.sql) on engines that lack it: PGlite and vanilla
 * PostgreSQL. Every file is idempotent ("create only what is missing") and runs in its own transaction.
 * A file counts as applied only if it changed the catalog objects the bootstrap is responsible for;
 * the second run over the same database therefore reports every file skipped.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { catalogSnapshot, type CatalogScope } from '../db/catalog.js';
import type { Database, Queryable } from '../db/database.js';

/** Absolute path of sql/bootstrap/ (ordered NNNN_name.sql files). */
export const BOOTSTRAP_DIR = fileURLToPath(new URL('../../sql/bootstrap/', import.meta.url));

const FILE_NAME = /^\d{4}_[a-z0-9_]+\.sql$/;

export interface BootstrapResult {
  /** Files that changed the catalog, in order. */
  applied: string[];
  /** Files that found everything already in place, or were not run (see `reasons`). */
  skipped: string[];
  /** Why a skipped file was not run at all (engine lacks a feature, real Supabase database). */
  reasons: Record<string, string>;
  /** True when the database is a real Supabase one: then nothing is run. */
  supabase: boolean;
}

export interface BootstrapOptions {
  /** Directory of the bootstrap files; defaults to BOOTSTRAP_DIR. */
  dir?: string;
}

interface BootstrapFile {
  name: string;
  sql: string;
  /** `-- bootstrap:skip-unless: <select returning one boolean>`: run the file only when it is true. */
  precondition?: string;
  reason?: string;
}

export async function listBootstrapFiles(dir: string = BOOTSTRAP_DIR): Promise<BootstrapFile[]> {
  const names = (await readdir(dir)).filter((n) => FILE_NAME.test(n)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(`${dir.replace(/\/?$/, '/')}${name}`, 'utf8');
      const precondition = /^-- bootstrap:skip-unless:\s*(.+)$/m.exec(sql)?.[1]?.trim();
      const reason = /^-- bootstrap:skip-reason:\s*(.+)$/m.exec(sql)?.[1]?.trim();
      return { name, sql, ...(precondition ? { precondition } : {}), ...(reason ? { reason } : {}) };
    }),
  );
}

/**
 * A real Supabase database has auth.users owned by supabase_auth_admin (Auth's migrations run as that
 * role), and its auth schema is owned by supabase_admin. Either means "the platform layer is Supabase's
 * own": we do not touch it, even though every file would only create what is missing.
 */
export async function isSupabaseDatabase(db: Queryable): Promise<boolean> {
  const r = await db.query<{ supabase: boolean }>(`
    select exists (
      select
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'auth' and c.relname = 'users'
        and pg_catalog.pg_get_userbyid(c.relowner) = 'supabase_auth_admin'
    ) or exists (
      select
      from pg_catalog.pg_namespace n
      where n.nspname = 'auth' and pg_catalog.pg_get_userbyid(n.nspowner) = 'supabase_admin'
    ) as supabase`);
  return r.rows[0]?.supabase === true;
}

/**
 * What the bootstrap creates or grants, as the catalog reader's scope: the four API roles (attributes and
 * memberships), everything in schema auth (relations, columns, constraints, indexes, triggers, functions,
 * types, policies, comments, owners, ACLs), the entries of schemas public and extensions (owner, ACL,
 * comment), and — read whatever the scope — default privileges, publications and extensions.
 */
const BOOTSTRAP_SCOPE: CatalogScope = {
  schemas: ['auth'],
  schemaEntries: ['public', 'extensions'],
  roles: ['anon', 'authenticated', 'service_role', 'authenticator'],
};

/**
 * A deterministic text fingerprint of that scope: equal fingerprints before and after a file = the file changed
 * nothing. Only ever compared within one transaction (before and after a file), never stored, so its text may
 * change between versions of the reader.
 */
async function bootstrapFingerprint(db: Queryable): Promise<string> {
  return JSON.stringify(await catalogSnapshot(db, BOOTSTRAP_SCOPE));
}

/** Runs the bootstrap files in order, each in one transaction; see BootstrapResult. */
export async function applyBootstrap(db: Database, options: BootstrapOptions = {}): Promise<BootstrapResult> {
  const files = await listBootstrapFiles(options.dir);
  const result: BootstrapResult = { applied: [], skipped: [], reasons: {}, supabase: false };

  if (await isSupabaseDatabase(db)) {
    result.supabase = true;
    for (const f of files) {
      result.skipped.push(f.name);
      result.reasons[f.name] =
        'real Supabase database (auth owned by supabase_auth_admin/supabase_admin): its platform layer is left alone';
    }
    return result;
  }

  for (const f of files) {
    const changed = await db.transaction(async (tx) => {
      if (f.precondition) {
        const pre = await tx.query<Record<string, unknown>>(f.precondition);
        const value = pre.rows[0] ? Object.values(pre.rows[0])[0] : undefined;
        if (value !== true) return 'precondition' as const;
      }
      const before = await bootstrapFingerprint(tx);
      try {
        await tx.exec(f.sql);
      } catch (e) {
        if (e instanceof Error) e.message = `bootstrap ${f.name}: ${e.message}`;
        throw e;
      }
      return before !== (await bootstrapFingerprint(tx));
    });
    if (changed === true) {
      result.applied.push(f.name);
    } else {
      result.skipped.push(f.name);
      if (changed === 'precondition') result.reasons[f.name] = f.reason ?? `precondition false: ${f.precondition}`;
    }
  }
  return result;
}
