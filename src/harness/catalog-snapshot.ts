import type { Queryable } from '../db/database.js';

/**
 * A normalised, OID-free picture of everything a migration can create, keyed by object identity, so two
 * databases (or one database before and after up+down) can be compared with a deep equality and a
 * readable diff. Covers tables, columns (type, default, nullability, identity, generated), constraints,
 * indexes, triggers, functions (body, security, config, volatility), enums, views, sequences, policies,
 * grants, comments, RLS flags, publication membership, default privileges and extensions.
 * System schemas and the migration history schema are left out: history rows are not schema.
 */
export type CatalogSnapshot = Record<string, Record<string, unknown>>;

const USER_SCHEMAS = `n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'supabase_migrations')
  and n.nspname not like 'pg_temp_%' and n.nspname not like 'pg_toast_temp_%'`;

const QUERIES: Record<string, string> = {
  schemas: `select n.nspname as key, jsonb_build_object('owner', pg_get_userbyid(n.nspowner), 'acl', n.nspacl::text[],
              'comment', obj_description(n.oid, 'pg_namespace')) as v
              from pg_namespace n where ${USER_SCHEMAS}`,
  relations: `select n.nspname || '.' || c.relname as key, jsonb_build_object('kind', c.relkind, 'rls', c.relrowsecurity,
              'force_rls', c.relforcerowsecurity, 'replica_identity', c.relreplident, 'acl', (select array_agg(a order by a) from unnest(c.relacl::text[]) a),
              'comment', obj_description(c.oid, 'pg_class'), 'view', case when c.relkind in ('v','m') then pg_get_viewdef(c.oid) end,
              'options', c.reloptions) as v
              from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where ${USER_SCHEMAS} and c.relkind in ('r','p','v','m','S','f')`,
  columns: `select n.nspname || '.' || c.relname || '.' || a.attname as key, jsonb_build_object(
              'position', a.attnum, 'type', format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull,
              'default', pg_get_expr(d.adbin, d.adrelid), 'identity', a.attidentity, 'generated', a.attgenerated,
              'acl', a.attacl::text[], 'comment', col_description(c.oid, a.attnum)) as v
              from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
              left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
             where ${USER_SCHEMAS} and c.relkind in ('r','p','v','m','f') and a.attnum > 0 and not a.attisdropped`,
  constraints: `select n.nspname || '.' || c.relname || '.' || k.conname as key, jsonb_build_object('type', k.contype,
              'def', pg_get_constraintdef(k.oid), 'comment', obj_description(k.oid, 'pg_constraint')) as v
              from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
             where ${USER_SCHEMAS}`,
  indexes: `select n.nspname || '.' || i.relname as key, jsonb_build_object('def', pg_get_indexdef(i.oid),
              'comment', obj_description(i.oid, 'pg_class')) as v
              from pg_index x join pg_class i on i.oid = x.indexrelid join pg_namespace n on n.oid = i.relnamespace
             where ${USER_SCHEMAS}`,
  triggers: `select n.nspname || '.' || c.relname || '.' || t.tgname as key, jsonb_build_object('def', pg_get_triggerdef(t.oid),
              'enabled', t.tgenabled, 'comment', obj_description(t.oid, 'pg_trigger')) as v
              from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
             where not t.tgisinternal and (${USER_SCHEMAS} or n.nspname = 'auth')`,
  functions: `select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' as key,
              jsonb_build_object('returns', pg_get_function_result(p.oid), 'language', l.lanname, 'body', p.prosrc,
              'security_definer', p.prosecdef, 'volatility', p.provolatile, 'config', p.proconfig, 'kind', p.prokind,
              'owner', pg_get_userbyid(p.proowner), 'acl', (select array_agg(a order by a) from unnest(p.proacl::text[]) a),
              'comment', obj_description(p.oid, 'pg_proc')) as v
              from pg_proc p join pg_namespace n on n.oid = p.pronamespace join pg_language l on l.oid = p.prolang
             where ${USER_SCHEMAS}`,
  types: `select n.nspname || '.' || t.typname as key, jsonb_build_object('kind', t.typtype,
              'labels', (select array_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid),
              'acl', t.typacl::text[], 'comment', obj_description(t.oid, 'pg_type')) as v
              from pg_type t join pg_namespace n on n.oid = t.typnamespace
             where ${USER_SCHEMAS} and t.typtype in ('e','d','c') and (t.typtype <> 'c' or
                   (select c.relkind from pg_class c where c.oid = t.typrelid) = 'c')`,
  policies: `select p.schemaname || '.' || p.tablename || '.' || p.policyname as key, jsonb_build_object('permissive', p.permissive,
              'roles', p.roles::text[], 'cmd', p.cmd, 'using', p.qual, 'check', p.with_check,
              'comment', (select obj_description(pol.oid, 'pg_policy') from pg_policy pol join pg_class c on c.oid = pol.polrelid
                           join pg_namespace n on n.oid = c.relnamespace
                          where n.nspname = p.schemaname and c.relname = p.tablename and pol.polname = p.policyname)) as v
              from pg_policies p`,
  publications: `select p.pubname || ':' || n.nspname || '.' || c.relname as key, jsonb_build_object('member', true) as v
              from pg_publication_rel r join pg_publication p on p.oid = r.prpubid join pg_class c on c.oid = r.prrelid
              join pg_namespace n on n.oid = c.relnamespace`,
  default_privileges: `select pg_get_userbyid(d.defaclrole) || ':' || coalesce(n.nspname, '*') || ':' || d.defaclobjtype::text as key,
              jsonb_build_object('acl', (select array_agg(a order by a) from unnest(d.defaclacl::text[]) a)) as v
              from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace`,
  extensions: `select e.extname as key, jsonb_build_object('schema', n.nspname, 'version', e.extversion) as v
              from pg_extension e join pg_namespace n on n.oid = e.extnamespace`,
};

export async function catalogSnapshot(db: Queryable): Promise<CatalogSnapshot> {
  const snapshot: CatalogSnapshot = {};
  for (const [kind, sql] of Object.entries(QUERIES)) {
    const r = await db.query<{ key: string; v: unknown }>(`select key, v from (${sql}) s order by key`);
    snapshot[kind] = Object.fromEntries(r.rows.map((row) => [row.key, row.v]));
  }
  return snapshot;
}

/** Object keys present in one snapshot and not the other, or present in both with different definitions. */
export function diffSnapshots(before: CatalogSnapshot, after: CatalogSnapshot): string[] {
  const out: string[] = [];
  for (const kind of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[kind] ?? {};
    const b = after[kind] ?? {};
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!(key in a)) out.push(`+ ${kind} ${key}`);
      else if (!(key in b)) out.push(`- ${kind} ${key}`);
      else if (JSON.stringify(a[key]) !== JSON.stringify(b[key]))
        out.push(`~ ${kind} ${key}: ${JSON.stringify(a[key])} -> ${JSON.stringify(b[key])}`);
    }
  }
  return out;
}
