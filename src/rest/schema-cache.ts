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
  /**
   * Computed fields (PostgREST): non-set functions of the exposed schemas whose only parameter is this table's
   * row type, selectable, filterable and orderable like columns (`select=*,full_name`).
   */
  computedFields: Map<string, RoutineInfo>;
  /**
   * Computed relationships: functions whose only parameter is this table's row type and that return rows of a
   * table (`returns setof other` — to-one when not a set or declared `rows 1`), embeddable by function name.
   */
  computedRels: Map<string, RoutineInfo>;
}

export interface ForeignKey {
  name: CachedName;
  schema: CachedName;
  table: CachedName;
  columns: CachedName[];
  refSchema: CachedName;
  refTable: CachedName;
  refColumns: CachedName[];
  /**
   * Set when this key was carried over to a view (PostgREST: a view's columns resolved to their base table's
   * columns): such a key is found by the embedded table's name only, never as a constraint/column target.
   */
  viaView?: true;
}

/** One view column that is a plain base table column, as the view's rewrite rule records it. */
export interface ViewColumn {
  schema: CachedName;
  view: CachedName;
  column: CachedName;
  baseSchema: CachedName;
  baseTable: CachedName;
  baseColumn: CachedName;
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
  /** The planner's row estimate (`rows n`): `rows 1` makes a set-returning computed relationship to-one. */
  rows: number;
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

// PostgREST's reading of views: the target list of a view's `_RETURN` rule records, for each output column that
// is a plain column, its source table and attribute (resorigtbl/resorigcol). Only entries whose number and
// name are the view's own column are kept, and only columns of tables (a view over a view is not followed).
const VIEW_COLUMNS_SQL = `
select coalesce(json_agg(json_build_object(
  'schema', vn.nspname, 'view', vc.relname, 'column', va.attname,
  'baseSchema', bn.nspname, 'baseTable', bc.relname, 'baseColumn', ba.attname)), '[]')::text as doc
from pg_catalog.pg_class vc
join pg_catalog.pg_namespace vn on vn.oid = vc.relnamespace
join pg_catalog.pg_rewrite rw on rw.ev_class = vc.oid and rw.rulename = '_RETURN'
cross join lateral regexp_matches(rw.ev_action::text,
  ':resno (\\d+) :resname (\\S+) :ressortgroupref \\d+ :resorigtbl (\\d+) :resorigcol (\\d+) :resjunk false', 'g') m
join pg_catalog.pg_attribute va on va.attrelid = vc.oid and va.attnum = m[1]::int2 and va.attname = m[2]
join pg_catalog.pg_class bc on bc.oid = m[3]::oid and bc.relkind in ('r', 'p', 'f')
join pg_catalog.pg_namespace bn on bn.oid = bc.relnamespace
join pg_catalog.pg_attribute ba on ba.attrelid = bc.oid and ba.attnum = m[4]::int2
where vc.relkind in ('v', 'm') and vn.nspname = any($1::text[]) and bn.nspname = any($1::text[])`;

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
  'rows', p.prorows,
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
  /** pg_proc.prorows (absent in hand-built catalogs: 0, i.e. not `rows 1`). */
  rows?: number;
}

async function doc<T>(db: Queryable, sql: string, schemaArray: string): Promise<T> {
  const r = await db.query<{ doc: string }>(sql, [schemaArray]);
  return JSON.parse(r.rows[0]!.doc) as T;
}

/**
 * The text of every catalog query: a RawCatalog stored by one version of this file (serve's snapshot cache) is
 * only reused by code whose queries, hence whose row shapes, are the same.
 */
export const CATALOG_QUERIES = [TABLES_SQL, FKS_SQL, VIEW_COLUMNS_SQL, ROUTINES_SQL, ROLES_SQL, TYPES_SQL].join(
  '\n;\n',
);

export async function loadSchemaCache(db: Queryable, schemas: string[]): Promise<SchemaCache> {
  return buildSchemaCache(await loadRawCatalog(db, schemas));
}

/** The catalog rows of the exposed schemas, as JSON-safe data (buildSchemaCache turns them into the cache). */
export async function loadRawCatalog(db: Queryable, schemas: string[]): Promise<RawCatalog> {
  // A text[] literal keeps the parameter portable across both engines' array serialisers.
  const schemaArray = `{${schemas.map((s) => `"${s.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;
  const [rawTables, foreignKeys, viewColumns, rawRoutines, roles, rawTypes] = await Promise.all([
    doc<RawTable[]>(db, TABLES_SQL, schemaArray),
    doc<ForeignKey[]>(db, FKS_SQL, schemaArray),
    doc<ViewColumn[]>(db, VIEW_COLUMNS_SQL, schemaArray),
    doc<RawRoutine[]>(db, ROUTINES_SQL, schemaArray),
    doc<string[]>(db, ROLES_SQL, schemaArray),
    doc<RawType[]>(db, TYPES_SQL, schemaArray),
  ]);
  return { schemas, tables: rawTables, foreignKeys, viewColumns, routines: rawRoutines, roles, types: rawTypes };
}

/** The catalog's rows as the loader reads them; unit tests build a cache from such rows without a database. */
export interface RawCatalog {
  schemas: string[];
  tables: RawTable[];
  foreignKeys: ForeignKey[];
  /** View columns that are base table columns (absent: no view takes part in embedding). */
  viewColumns?: ViewColumn[];
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
      computedFields: new Map(),
      computedRels: new Map(),
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
      rows: r.rows ?? 0,
    };
    addComputed(tables, info);
    const key = qualified(r.schema, r.name);
    routines.set(key, [...(routines.get(key) ?? []), info]);
  }
  return {
    schemas,
    tables,
    foreignKeys: [...foreignKeys, ...viewForeignKeys(foreignKeys, raw.viewColumns ?? [])],
    routines,
    roles: new Set(roles),
    types: typeMap(rawTypes),
  };
}

/**
 * Foreign keys carried over to views, as PostgREST does: a view exposing every column of a key's side (each
 * view column one base column, unambiguously) stands in for that side's table, so each key also joins
 * view → table, table → view and view → view.
 */
function viewForeignKeys(fks: ForeignKey[], viewColumns: ViewColumn[]): ForeignKey[] {
  // view → base table → base column → view columns showing it
  const byView = new Map<string, ViewColumn[]>();
  for (const vc of viewColumns) {
    const key = qualified(vc.schema, vc.view);
    byView.set(key, [...(byView.get(key) ?? []), vc]);
  }
  /** Every view showing all of `cols` of `schema.table`, with the view's name for each. */
  const sides = (schema: string, table: string, cols: CachedName[]) => {
    const out: { schema: CachedName; name: CachedName; cols: CachedName[] }[] = [];
    for (const vcs of byView.values()) {
      const mapped = cols.map((c) => {
        const hits = vcs.filter((v) => v.baseSchema === schema && v.baseTable === table && v.baseColumn === c);
        return hits.length === 1 ? hits[0]!.column : null;
      });
      if (mapped.every((m): m is CachedName => m !== null))
        out.push({ schema: vcs[0]!.schema, name: vcs[0]!.view, cols: mapped });
    }
    return out;
  };
  const out: ForeignKey[] = [];
  for (const fk of fks) {
    const from = [{ schema: fk.schema, name: fk.table, cols: fk.columns }, ...sides(fk.schema, fk.table, fk.columns)];
    const to = [
      { schema: fk.refSchema, name: fk.refTable, cols: fk.refColumns },
      ...sides(fk.refSchema, fk.refTable, fk.refColumns),
    ];
    for (const [i, f] of from.entries())
      for (const [j, t] of to.entries()) {
        if (i === 0 && j === 0) continue;
        out.push({
          name: fk.name,
          schema: f.schema,
          table: f.name,
          columns: f.cols,
          refSchema: t.schema,
          refTable: t.name,
          refColumns: t.cols,
          viaView: true,
        });
      }
  }
  return out;
}

/**
 * A function with exactly one parameter, of a cached table's row type, is a computed field of that table (a
 * scalar or composite result) or a computed relationship (rows of a table), as PostgREST reads them. The first
 * one found under a name wins; a real column of the same name always shadows a computed field (planning
 * looks columns up first, like PostgreSQL's `t.name` notation).
 */
function addComputed(tables: Map<string, Table>, r: RoutineInfo): void {
  const only = r.args.length === 1 ? r.args[0]! : undefined;
  if (!only || r.returnsVoid) return;
  const owner = tables.get(qualified(only.typeRef.schema, only.typeRef.name));
  if (!owner) return;
  if (r.returnTable && tables.has(qualified(r.returnTable.schema, r.returnTable.name))) {
    if (!owner.computedRels.has(r.name)) owner.computedRels.set(r.name, r);
  } else if (!r.returnsSet && !owner.computedFields.has(r.name)) {
    owner.computedFields.set(r.name, r);
  }
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
