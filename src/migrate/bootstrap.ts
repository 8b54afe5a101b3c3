/**
 * Applies the Supabase platform layer (sql/bootstrap/*.sql) on engines that lack it: PGlite and vanilla
 * PostgreSQL. Every file is idempotent ("create only what is missing") and runs in its own transaction.
 * A file counts as applied only if it changed the catalog objects the bootstrap is responsible for;
 * the second run over the same database therefore reports every file skipped.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
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
 * A deterministic text fingerprint of every catalog object the bootstrap creates or grants: the four
 * roles and authenticator's memberships, the three schemas and their ACLs, everything in schema auth
 * (relations, columns, constraints, indexes, functions, comments, ACLs), all default ACLs and the
 * supabase_realtime publication. Equal fingerprints before and after a file = the file changed nothing.
 */
export async function bootstrapFingerprint(db: Queryable): Promise<string> {
  const hasPublications = (
    await db.query<{ ok: boolean }>(`select pg_catalog.to_regclass('pg_catalog.pg_publication') is not null as ok`)
  ).rows[0]?.ok;
  const r = await db.query<{ fp: string }>(`
    select pg_catalog.jsonb_build_object(
      'roles', (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(rolname, rolsuper, rolinherit, rolcreaterole,
                  rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconfig) order by rolname)
                from pg_catalog.pg_roles
                where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')),
      'members', (select pg_catalog.jsonb_agg(g.rolname order by g.rolname)
                  from pg_catalog.pg_auth_members am
                  join pg_catalog.pg_roles g on g.oid = am.roleid
                  join pg_catalog.pg_roles m on m.oid = am.member
                  where m.rolname = 'authenticator'),
      'schemas', (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(n.nspname, pg_catalog.pg_get_userbyid(n.nspowner),
                    n.nspacl::text[], pg_catalog.obj_description(n.oid, 'pg_namespace')) order by n.nspname)
                  from pg_catalog.pg_namespace n
                  where n.nspname in ('public', 'auth', 'extensions')),
      'relations', (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(c.relname, c.relkind, c.relrowsecurity,
                      pg_catalog.pg_get_userbyid(c.relowner), c.relacl::text[], pg_catalog.obj_description(c.oid, 'pg_class'))
                      order by c.relname)
                    from pg_catalog.pg_class c
                    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'auth'),
      'indexes', (select pg_catalog.jsonb_agg(i.indexdef order by i.indexname)
                  from pg_catalog.pg_indexes i where i.schemaname = 'auth'),
      'columns', (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(c.relname, a.attnum, a.attname,
                    pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attgenerated,
                    pg_catalog.pg_get_expr(d.adbin, d.adrelid), pg_catalog.col_description(c.oid, a.attnum))
                    order by c.relname, a.attnum)
                  from pg_catalog.pg_attribute a
                  join pg_catalog.pg_class c on c.oid = a.attrelid
                  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                  left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
                  where n.nspname = 'auth' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped),
      'constraints', (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(co.conname, pg_catalog.pg_get_constraintdef(co.oid))
                        order by co.conname)
                      from pg_catalog.pg_constraint co
                      join pg_catalog.pg_namespace n on n.oid = co.connamespace
                      where n.nspname = 'auth'),
      'functions', (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(p.proname,
                      pg_catalog.pg_get_function_identity_arguments(p.oid), pg_catalog.pg_get_function_result(p.oid),
                      p.prosrc, p.proconfig, p.provolatile, p.prosecdef, pg_catalog.pg_get_userbyid(p.proowner),
                      p.proacl::text[], pg_catalog.obj_description(p.oid, 'pg_proc')) order by p.proname)
                    from pg_catalog.pg_proc p
                    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
                    where n.nspname = 'auth'),
      'default_acl', (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(pg_catalog.pg_get_userbyid(d.defaclrole),
                        n.nspname, d.defaclobjtype, d.defaclacl::text[])
                        order by pg_catalog.pg_get_userbyid(d.defaclrole), n.nspname, d.defaclobjtype)
                      from pg_catalog.pg_default_acl d
                      left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace),
      'publications', ${
        hasPublications
          ? `(select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(p.pubname, pg_catalog.pg_get_userbyid(p.pubowner),
               p.puballtables, p.pubinsert, p.pubupdate, p.pubdelete, p.pubtruncate)) from pg_catalog.pg_publication p
               where p.pubname = 'supabase_realtime')`
          : `'"unsupported"'::jsonb`
      }
    )::text as fp`);
  return r.rows[0]?.fp ?? '';
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
