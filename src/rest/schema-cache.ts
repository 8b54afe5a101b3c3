import type { Queryable } from '../db/database.js';
import type { CachedName } from './sql.js';

/**
 * What PostgREST calls the schema cache: the tables, views, columns, foreign keys and functions of the exposed
 * schemas, read from the catalog once (and again on reload). Every identifier in a request is checked against
 * it before any SQL is built, so nothing from the URL reaches SQL except as a known, quoted identifier or a
 * bind parameter. Privileges are deliberately not consulted: the database decides (42501), as in PostgREST.
 */
export interface Column {
  name: CachedName;
  type: string;
  notNull: boolean;
  hasDefault: boolean;
}

export interface Table {
  schema: CachedName;
  name: CachedName;
  kind: 'table' | 'view';
  columns: Map<string, Column>;
  /** Column names in catalog order (`select=*` order). */
  columnOrder: CachedName[];
  pk: CachedName[];
  /** Column sets with a unique constraint or index (incl. the primary key): decides one-to-one. */
  uniques: CachedName[][];
}

export interface ForeignKey {
  name: CachedName;
  schema: CachedName;
  table: CachedName;
  columns: CachedName[];
  refSchema: CachedName;
  refTable: CachedName;
  refColumns: CachedName[];
}

export interface FunctionArg {
  name: CachedName;
  /** format_type() spelling, for messages. */
  type: string;
  /** The argument's pg_type, rendered as quoted identifiers (never the spelling above). */
  typeRef: TypeRef;
  hasDefault: boolean;
}

export interface RoutineInfo {
  schema: CachedName;
  name: CachedName;
  args: FunctionArg[];
  volatility: 'i' | 's' | 'v';
  returnsSet: boolean;
  returnsVoid: boolean;
  /** Output columns when the function returns a row type (table, composite, OUT/TABLE params). */
  returnColumns: Column[] | null;
  /** The table whose row type is returned, if any (allows embedding on RPC results). */
  returnTable: { schema: CachedName; name: CachedName } | null;
}

export interface SchemaCache {
  schemas: string[];
  tables: Map<string, Table>;
  foreignKeys: ForeignKey[];
  routines: Map<string, RoutineInfo[]>;
  /** Existing database roles: tells "role does not exist" (401) from "not allowed to become it" (403). */
  roles: Set<string>;
  /**
   * Types a `select=col::type` cast may name, by every spelling PostgreSQL prints or accepts for them
   * (`int4`, `integer`, `int4[]`, `integer[]`, …), each resolving to the catalog's schema and type name,
   * which the builder emits as quoted identifiers. A cast that is not a key here is refused: text from the
   * URL never becomes SQL syntax (PostgREST renders `CAST(expr AS type)` with a resolved type).
   */
  types: Map<string, TypeRef>;
}

export interface TypeRef {
  schema: CachedName;
  name: CachedName;
}

export const qualified = (schema: string, name: string): string => `${schema}.${name}`;

const TABLES_SQL = `
select coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'name', c.relname,
  'kind', case when c.relkind in ('r', 'p', 'f') then 'table' else 'view' end,
  'columns', (select coalesce(json_agg(json_build_object(
                 'name', a.attname,
                 'type', format_type(a.atttypid, a.atttypmod),
                 'notNull', a.attnotnull,
                 'hasDefault', a.atthasdef or a.attidentity <> '' or a.attgenerated <> '') order by a.attnum), '[]')
              from pg_catalog.pg_attribute a
              where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped),
  'uniques', (select coalesce(json_agg(cols), '[]') from (
                select (select json_agg(a.attname order by k.i)
                        from unnest(i.indkey::int2[]) with ordinality k(attnum, i)
                        join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum) as cols,
                       i.indisprimary
                from pg_catalog.pg_index i
                where i.indrelid = c.oid and i.indisunique and i.indpred is null and i.indexprs is null
                order by i.indisprimary desc) u),
  'pk', (select json_agg(a.attname order by k.i)
         from pg_catalog.pg_index i
         cross join unnest(i.indkey::int2[]) with ordinality k(attnum, i)
         join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
         where i.indrelid = c.oid and i.indisprimary)
)), '[]')::text as doc
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1::text[]) and c.relkind in ('r', 'p', 'f', 'v', 'm')`;

const FKS_SQL = `
select coalesce(json_agg(json_build_object(
  'name', con.conname,
  'schema', ns.nspname, 'table', cs.relname,
  'refSchema', nf.nspname, 'refTable', cf.relname,
  'columns', (select json_agg(a.attname order by k.i) from unnest(con.conkey) with ordinality k(attnum, i)
              join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum),
  'refColumns', (select json_agg(a.attname order by k.i) from unnest(con.confkey) with ordinality k(attnum, i)
                 join pg_catalog.pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum)
) order by con.conname), '[]')::text as doc
from pg_catalog.pg_constraint con
join pg_catalog.pg_class cs on cs.oid = con.conrelid
join pg_catalog.pg_namespace ns on ns.oid = cs.relnamespace
join pg_catalog.pg_class cf on cf.oid = con.confrelid
join pg_catalog.pg_namespace nf on nf.oid = cf.relnamespace
where con.contype = 'f' and ns.nspname = any($1::text[]) and nf.nspname = any($1::text[])`;

const ROUTINES_SQL = `
select coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'name', p.proname,
  'volatility', p.provolatile,
  'returnsSet', p.proretset,
  'returnsVoid', p.prorettype = 'pg_catalog.void'::regtype,
  'allArgs', (select coalesce(json_agg(json_build_object(
                 'name', coalesce(p.proargnames[i], ''),
                 'type', format_type(coalesce(p.proallargtypes[i], p.proargtypes[i - 1]), null),
                 'typeSchema', (select tn.nspname from pg_catalog.pg_type ty join pg_catalog.pg_namespace tn on tn.oid = ty.typnamespace
                                where ty.oid = coalesce(p.proallargtypes[i], p.proargtypes[i - 1])),
                 'typeName', (select ty.typname from pg_catalog.pg_type ty where ty.oid = coalesce(p.proallargtypes[i], p.proargtypes[i - 1])),
                 'mode', coalesce(p.proargmodes[i], 'i')) order by i), '[]')
              from generate_series(1, coalesce(array_length(p.proallargtypes, 1), p.pronargs)) i),
  'nDefaults', p.pronargdefaults,
  'retRelSchema', rn.nspname,
  'retRelName', rc.relname,
  'retRelKind', rc.relkind,
  'retColumns', (select json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
                   'notNull', false, 'hasDefault', false) order by a.attnum)
                 from pg_catalog.pg_attribute a where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped)
)), '[]')::text as doc
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
join pg_catalog.pg_type t on t.oid = p.prorettype
left join pg_catalog.pg_class rc on rc.oid = t.typrelid
left join pg_catalog.pg_namespace rn on rn.oid = rc.relnamespace
where n.nspname = any($1::text[]) and p.prokind = 'f'`;

// Base, composite, domain, enum, range and multirange types of pg_catalog and the exposed schemas (no
// pseudo-types), with the name of each one's array type.
const TYPES_SQL = `
select coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'name', t.typname,
  'display', format_type(t.oid, null),
  'arrayName', a.typname)), '[]')::text as doc
from pg_catalog.pg_type t
join pg_catalog.pg_namespace n on n.oid = t.typnamespace
left join pg_catalog.pg_type a on a.oid = t.typarray
where (n.nspname = 'pg_catalog' or n.nspname = any($1::text[]))
  and t.typisdefined and t.typtype in ('b', 'c', 'd', 'e', 'r', 'm')`;

/** SQL-standard spellings PostgreSQL's grammar accepts that are neither a type's name nor its format_type. */
const TYPE_ALIASES: Record<string, string> = { int: 'int4', float: 'float8', decimal: 'numeric', char: 'bpchar' };

/** How a cast is looked up: lower case, single spaces, no space before `[]`. */
export function normaliseTypeName(s: string): string {
  return s
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/\s*\[\]$/, '[]');
}

const ROLES_SQL = `select coalesce(json_agg(rolname), '[]')::text as doc from pg_catalog.pg_roles where $1::text is not null`;

export interface RawTable {
  schema: CachedName;
  name: CachedName;
  kind: 'table' | 'view';
  columns: Column[];
  uniques: (CachedName[] | null)[];
  pk: CachedName[] | null;
}

export interface RawRoutine {
  schema: CachedName;
  name: CachedName;
  volatility: 'i' | 's' | 'v';
  returnsSet: boolean;
  returnsVoid: boolean;
  allArgs: { name: CachedName; type: string; typeSchema: CachedName; typeName: CachedName; mode: string }[];
  nDefaults: number;
  retRelSchema: CachedName | null;
  retRelName: CachedName | null;
  retRelKind: string | null;
  retColumns: Column[] | null;
}

async function doc<T>(db: Queryable, sql: string, schemaArray: string): Promise<T> {
  const r = await db.query<{ doc: string }>(sql, [schemaArray]);
  return JSON.parse(r.rows[0]!.doc) as T;
}

export async function loadSchemaCache(db: Queryable, schemas: string[]): Promise<SchemaCache> {
  // A text[] literal keeps the parameter portable across both engines' array serialisers.
  const schemaArray = `{${schemas.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
  const [rawTables, foreignKeys, rawRoutines, roles, rawTypes] = await Promise.all([
    doc<RawTable[]>(db, TABLES_SQL, schemaArray),
    doc<ForeignKey[]>(db, FKS_SQL, schemaArray),
    doc<RawRoutine[]>(db, ROUTINES_SQL, schemaArray),
    doc<string[]>(db, ROLES_SQL, schemaArray),
    doc<RawType[]>(db, TYPES_SQL, schemaArray),
  ]);
  return buildSchemaCache({ schemas, tables: rawTables, foreignKeys, routines: rawRoutines, roles, types: rawTypes });
}

/** The catalog's rows as the loader reads them; unit tests build a cache from such rows without a database. */
export interface RawCatalog {
  schemas: string[];
  tables: RawTable[];
  foreignKeys: ForeignKey[];
  routines: RawRoutine[];
  roles: string[];
  types: RawType[];
}

export function buildSchemaCache(raw: RawCatalog): SchemaCache {
  const { schemas, foreignKeys, roles } = raw;
  const rawTables = raw.tables;
  const rawRoutines = raw.routines;
  const rawTypes = raw.types;
  const tables = new Map<string, Table>();
  for (const t of rawTables) {
    tables.set(qualified(t.schema, t.name), {
      schema: t.schema,
      name: t.name,
      kind: t.kind,
      columns: new Map(t.columns.map((c) => [c.name, c])),
      columnOrder: t.columns.map((c) => c.name),
      pk: t.pk ?? [],
      uniques: t.uniques.filter((u): u is CachedName[] => Array.isArray(u)),
    });
  }
  const routines = new Map<string, RoutineInfo[]>();
  for (const r of rawRoutines) {
    const inputs = r.allArgs.filter((a) => a.mode === 'i' || a.mode === 'b' || a.mode === 'v');
    const outputs = r.allArgs.filter((a) => a.mode === 'o' || a.mode === 'b' || a.mode === 't');
    const firstDefault = inputs.length - r.nDefaults;
    let returnColumns: Column[] | null = r.retColumns;
    if (!returnColumns && outputs.length > 1) {
      returnColumns = outputs.map((o) => ({ name: o.name, type: o.type, notNull: false, hasDefault: false }));
    }
    // RETURNS TABLE with one column or a single OUT param is a record of one named column.
    if (!returnColumns && r.allArgs.some((a) => a.mode === 't')) {
      returnColumns = outputs.map((o) => ({ name: o.name, type: o.type, notNull: false, hasDefault: false }));
    }
    const info: RoutineInfo = {
      schema: r.schema,
      name: r.name,
      args: inputs.map((a, i) => ({
        name: a.name,
        type: a.type,
        typeRef: { schema: a.typeSchema, name: a.typeName },
        hasDefault: i >= firstDefault,
      })),
      volatility: r.volatility,
      returnsSet: r.returnsSet,
      returnsVoid: r.returnsVoid,
      returnColumns,
      returnTable:
        r.retRelName && r.retRelSchema && r.retRelKind !== 'c' ? { schema: r.retRelSchema, name: r.retRelName } : null,
    };
    const key = qualified(r.schema, r.name);
    routines.set(key, [...(routines.get(key) ?? []), info]);
  }
  return { schemas, tables, foreignKeys, routines, roles: new Set(roles), types: typeMap(rawTypes) };
}

export interface RawType {
  schema: CachedName;
  name: CachedName;
  display: string;
  arrayName: CachedName | null;
}

function typeMap(raw: RawType[]): Map<string, TypeRef> {
  const types = new Map<string, TypeRef>();
  // pg_catalog first so that an exposed schema's type of the same name never shadows a built-in spelling.
  const ordered = [...raw].sort((a, b) => Number(b.schema === 'pg_catalog') - Number(a.schema === 'pg_catalog'));
  const add = (key: string, ref: TypeRef) => {
    const k = normaliseTypeName(key);
    if (!types.has(k)) types.set(k, ref);
  };
  for (const t of ordered) {
    const spellings = [t.name, t.display, t.schema === 'pg_catalog' ? t.name : `${t.schema}.${t.name}`];
    for (const sp of spellings) add(sp, { schema: t.schema, name: t.name });
    if (t.arrayName) for (const sp of spellings) add(`${sp}[]`, { schema: t.schema, name: t.arrayName });
  }
  for (const [alias, target] of Object.entries(TYPE_ALIASES)) {
    const ref = types.get(target);
    const arr = types.get(`${target}[]`);
    if (ref) add(alias, ref);
    if (arr) add(`${alias}[]`, arr);
  }
  return types;
}
