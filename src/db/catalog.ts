import type { Queryable } from './database.js';

/**
 * The one reader of the PostgreSQL catalog as comparable data: a normalised, OID-free picture of the objects a
 * migration or the platform bootstrap can create, keyed by object identity, so two databases (or one database
 * before and after a step) can be compared with a deep equality and a readable diff. Covers schemas, tables,
 * columns (type, default, nullability, identity, generated), constraints, indexes, triggers, functions (body,
 * security, config, volatility), enums, domains and composite types, views, sequences, policies, grants,
 * comments, owners, RLS flags, publications and their members, default privileges, extensions and, for named
 * roles, their attributes and memberships.
 *
 * Two callers read it with different scopes: the migration proofs (every user schema: `USER_SCOPE`) and the
 * bootstrap's "did this file change anything?" fingerprint (src/migrate/bootstrap.ts: schema auth, the API
 * roles). One set of queries serves both, so an object kind added here is seen by both.
 */
export type CatalogSnapshot = Record<string, Record<string, unknown>>;

export interface CatalogScope {
  /** Schemas whose objects are read; 'user' = every schema except the system ones and the migration history. */
  schemas: 'user' | readonly string[];
  /** Further schemas whose own entry (owner, ACL, comment) is read, but not their objects. */
  schemaEntries?: readonly string[];
  /** Roles whose attributes and memberships are read. Roles are cluster-wide, so only ever a named few. */
  roles?: readonly string[];
}

/** Every schema a migration can create objects in; history rows (supabase_migrations) are not schema. */
export const USER_SCOPE: CatalogScope = { schemas: 'user' };

/**
 * Which schemas a query reads: every user schema, or (`$1`) the named ones. The names are bind parameters: no
 * scope text ever becomes SQL, only one of these two fixed conditions.
 */
const USER_SCHEMAS = `n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast', 'supabase_migrations')
  and n.nspname not like 'pg_temp_%' and n.nspname not like 'pg_toast_temp_%' and $1::text[] is null`;
const NAMED_SCHEMAS = `n.nspname = any($1::text[])`;

/** Sorted ACL items: the order PostgreSQL keeps them in is not part of what they grant. */
const sortedAcl = (col: string) =>
  `(select pg_catalog.array_agg(a order by a) from pg_catalog.unnest(${col}::text[]) a)`;

/**
 * Each kind of object: one query yielding (key, v jsonb), reading the schemas `inScope` (USER_SCHEMAS or
 * NAMED_SCHEMAS) chooses; `$2` entry-only schemas, `$3` roles.
 */
const queries = (inScope: string): Record<string, string> => ({
  schemas: `select n.nspname as key, pg_catalog.jsonb_build_object('owner', pg_catalog.pg_get_userbyid(n.nspowner), 'acl', n.nspacl::text[],
              'comment', pg_catalog.obj_description(n.oid, 'pg_namespace')) as v
              from pg_catalog.pg_namespace n where ${inScope} or n.nspname = any($2::text[])`,
  relations: `select n.nspname || '.' || c.relname as key, pg_catalog.jsonb_build_object('kind', c.relkind, 'rls', c.relrowsecurity,
              'force_rls', c.relforcerowsecurity, 'replica_identity', c.relreplident, 'owner', pg_catalog.pg_get_userbyid(c.relowner),
              'acl', ${sortedAcl('c.relacl')}, 'comment', pg_catalog.obj_description(c.oid, 'pg_class'),
              'view', case when c.relkind in ('v','m') then pg_catalog.pg_get_viewdef(c.oid) end, 'options', c.reloptions) as v
              from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
             where ${inScope} and c.relkind in ('r','p','v','m','S','f')`,
  columns: `select n.nspname || '.' || c.relname || '.' || a.attname as key, pg_catalog.jsonb_build_object(
              'position', a.attnum, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod), 'not_null', a.attnotnull,
              'default', pg_catalog.pg_get_expr(d.adbin, d.adrelid), 'identity', a.attidentity, 'generated', a.attgenerated,
              'acl', a.attacl::text[], 'comment', pg_catalog.col_description(c.oid, a.attnum)) as v
              from pg_catalog.pg_attribute a join pg_catalog.pg_class c on c.oid = a.attrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
              left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
             where ${inScope} and c.relkind in ('r','p','v','m','f') and a.attnum > 0 and not a.attisdropped`,
  constraints: `select n.nspname || '.' || c.relname || '.' || k.conname as key, pg_catalog.jsonb_build_object('type', k.contype,
              'def', pg_catalog.pg_get_constraintdef(k.oid), 'comment', pg_catalog.obj_description(k.oid, 'pg_constraint')) as v
              from pg_catalog.pg_constraint k join pg_catalog.pg_class c on c.oid = k.conrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
             where ${inScope}`,
  indexes: `select n.nspname || '.' || i.relname as key, pg_catalog.jsonb_build_object('def', pg_catalog.pg_get_indexdef(i.oid),
              'comment', pg_catalog.obj_description(i.oid, 'pg_class')) as v
              from pg_catalog.pg_index x join pg_catalog.pg_class i on i.oid = x.indexrelid join pg_catalog.pg_namespace n on n.oid = i.relnamespace
             where ${inScope}`,
  triggers: `select n.nspname || '.' || c.relname || '.' || t.tgname as key, pg_catalog.jsonb_build_object('def', pg_catalog.pg_get_triggerdef(t.oid),
              'enabled', t.tgenabled, 'comment', pg_catalog.obj_description(t.oid, 'pg_trigger')) as v
              from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
             where not t.tgisinternal and ${inScope}`,
  functions: `select n.nspname || '.' || p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')' as key,
              pg_catalog.jsonb_build_object('returns', pg_catalog.pg_get_function_result(p.oid), 'language', l.lanname, 'body', p.prosrc,
              'security_definer', p.prosecdef, 'volatility', p.provolatile, 'config', p.proconfig, 'kind', p.prokind,
              'owner', pg_catalog.pg_get_userbyid(p.proowner), 'acl', ${sortedAcl('p.proacl')},
              'comment', pg_catalog.obj_description(p.oid, 'pg_proc')) as v
              from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace join pg_catalog.pg_language l on l.oid = p.prolang
             where ${inScope}`,
  types: `select n.nspname || '.' || t.typname as key, pg_catalog.jsonb_build_object('kind', t.typtype,
              'labels', (select pg_catalog.array_agg(e.enumlabel order by e.enumsortorder) from pg_catalog.pg_enum e where e.enumtypid = t.oid),
              'acl', t.typacl::text[], 'comment', pg_catalog.obj_description(t.oid, 'pg_type')) as v
              from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
             where ${inScope} and t.typtype in ('e','d','c') and (t.typtype <> 'c' or
                   (select c.relkind from pg_catalog.pg_class c where c.oid = t.typrelid) = 'c')`,
  policies: `select p.schemaname || '.' || p.tablename || '.' || p.policyname as key, pg_catalog.jsonb_build_object('permissive', p.permissive,
              'roles', p.roles::text[], 'cmd', p.cmd, 'using', p.qual, 'check', p.with_check,
              'comment', (select pg_catalog.obj_description(pol.oid, 'pg_policy') from pg_catalog.pg_policy pol join pg_catalog.pg_class c on c.oid = pol.polrelid
                           where c.relnamespace = n.oid and c.relname = p.tablename and pol.polname = p.policyname)) as v
              from pg_catalog.pg_policies p join pg_catalog.pg_namespace n on n.nspname = p.schemaname
             where ${inScope}`,
  default_privileges: `select pg_catalog.pg_get_userbyid(d.defaclrole) || ':' || coalesce(n.nspname, '*') || ':' || d.defaclobjtype::text as key,
              pg_catalog.jsonb_build_object('acl', ${sortedAcl('d.defaclacl')}) as v
              from pg_catalog.pg_default_acl d left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace`,
  extensions: `select e.extname as key, pg_catalog.jsonb_build_object('schema', n.nspname, 'version', e.extversion) as v
              from pg_catalog.pg_extension e join pg_catalog.pg_namespace n on n.oid = e.extnamespace`,
});

/** Publications exist on every engine we run today; the bootstrap still allows an engine without them. */
const publicationQueries = (inScope: string): Record<string, string> => ({
  publication_options: `select p.pubname as key, pg_catalog.jsonb_build_object('owner', pg_catalog.pg_get_userbyid(p.pubowner),
              'all_tables', p.puballtables, 'insert', p.pubinsert, 'update', p.pubupdate, 'delete', p.pubdelete,
              'truncate', p.pubtruncate) as v
              from pg_catalog.pg_publication p`,
  publications: `select p.pubname || ':' || n.nspname || '.' || c.relname as key, pg_catalog.jsonb_build_object('member', true) as v
              from pg_catalog.pg_publication_rel r join pg_catalog.pg_publication p on p.oid = r.prpubid join pg_catalog.pg_class c on c.oid = r.prrelid
              join pg_catalog.pg_namespace n on n.oid = c.relnamespace
             where ${inScope}`,
});

const ROLE_QUERIES: Record<string, string> = {
  roles: `select r.rolname as key, pg_catalog.jsonb_build_object('superuser', r.rolsuper, 'inherit', r.rolinherit,
              'create_role', r.rolcreaterole, 'create_db', r.rolcreatedb, 'login', r.rolcanlogin,
              'replication', r.rolreplication, 'bypass_rls', r.rolbypassrls, 'config', r.rolconfig) as v
              from pg_catalog.pg_roles r where r.rolname = any($3::text[])`,
  role_members: `select m.rolname || ' in ' || g.rolname as key, pg_catalog.jsonb_build_object('admin', am.admin_option) as v
              from pg_catalog.pg_auth_members am join pg_catalog.pg_roles g on g.oid = am.roleid join pg_catalog.pg_roles m on m.oid = am.member
             where m.rolname = any($3::text[])`,
};

/**
 * Reads the catalog within `scope` in one statement (so one round trip, and one consistent view of it). Keys
 * within each kind come back in jsonb's canonical order, so equal catalogs give equal JSON text too.
 */
export async function catalogSnapshot(db: Queryable, scope: CatalogScope = USER_SCOPE): Promise<CatalogSnapshot> {
  const hasPublications = (
    await db.query<{ ok: boolean }>(`select pg_catalog.to_regclass('pg_catalog.pg_publication') is not null as ok`)
  ).rows[0]?.ok;
  const inScope = scope.schemas === 'user' ? USER_SCHEMAS : NAMED_SCHEMAS;
  const all = {
    ...queries(inScope),
    ...(hasPublications ? publicationQueries(inScope) : {}),
    // Always asked (empty without scope.roles): every bind parameter must appear in the statement.
    ...ROLE_QUERIES,
  };
  const parts = Object.entries(all).map(
    ([kind, sql]) =>
      `'${kind}', (select coalesce(pg_catalog.jsonb_object_agg(s.key, s.v), '{}'::jsonb) from (${sql}) s)`,
  );
  const r = await db.query<{ snapshot: CatalogSnapshot }>(
    `select pg_catalog.jsonb_build_object(${parts.join(',\n')}) as snapshot`,
    [scope.schemas === 'user' ? null : [...scope.schemas], [...(scope.schemaEntries ?? [])], [...(scope.roles ?? [])]],
  );
  return r.rows[0]!.snapshot;
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
