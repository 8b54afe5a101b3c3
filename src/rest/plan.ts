import { invalidJson, isJsonObject } from './body.js';
import { ApiError, columnNotFound, noRelationship, parseError, payloadColumnNotFound } from './errors.js';
import type { Condition, Field, JsonStep, LevelParams, Operator, OrderTerm, SelectItem } from './query-params.js';
import type { Column, ForeignKey, FunctionArg, RoutineInfo, SchemaCache, Table, TypeRef } from './schema-cache.js';
import { normaliseTypeName, qualified } from './schema-cache.js';
import type { CachedName } from './sql.js';

/**
 * The middle of PostgREST's ApiRequest → Plan → Query split. The parser (query-params.ts, preferences.ts, the
 * body reader) gives names as the client typed them; planning resolves every one against the schema cache and
 * keeps the cache's own objects (tables, columns, foreign keys, types, routines). What is not found is a 4xx
 * here, before any SQL exists. A plan holds no SQL and no name that did not come from the cache — only values
 * (filter operands, JSON keys, the body text) that the renderer (render.ts) binds as parameters, and the
 * labels a client chose for output keys (rendered quoted).
 */

/** A row source: a table/view, or the rows a function returns. */
export interface Rel {
  schema: CachedName;
  name: CachedName;
  columns: Map<string, Column>;
  columnOrder: CachedName[];
  /** The table used for relationship (embedding) lookups, if any. */
  table: Table | null;
}

export function relOfTable(t: Table): Rel {
  return { schema: t.schema, name: t.name, columns: t.columns, columnOrder: t.columnOrder, table: t };
}

export interface FieldRef {
  column: Column;
  /** A computed field: the function called with the row (`column` then only names it, for labels). */
  computed?: { routine: RoutineInfo; table: Table };
  /** `->`/`->>` steps; keys are values (bound), an all-digits key indexes an array. */
  json: JsonStep[];
}

export type SelectPlan =
  | { kind: 'column'; field: FieldRef; cast?: TypeRef; label: string }
  | {
      kind: 'embed';
      rel: Relationship;
      label: string;
      inner: boolean;
      level: LevelPlan;
      countLabel?: string;
      /** `child()` / `child!inner()`: no columns, so no key in the output; it only filters (PostgREST). */
      filterOnly?: boolean;
      /** `...child(cols)`: a to-one embed whose columns are written into the parent row. */
      spread?: boolean;
    };

export type Relationship =
  | {
      kind: 'fk';
      fk: ForeignKey;
      target: Table;
      /** many-to-one: the parent row holds the key; one-to-many: the embedded row does. */
      direction: 'many-to-one' | 'one-to-many';
      toOne: boolean;
    }
  | {
      /** Many-to-many through a junction table holding a foreign key to each side. */
      kind: 'm2m';
      junction: Table;
      /** junction → the parent's table, and junction → the embedded table. */
      fkSource: ForeignKey;
      fkTarget: ForeignKey;
      target: Table;
      toOne: false;
    }
  | {
      /** A computed relationship: the function called with the parent row gives the embedded rows. */
      kind: 'computed';
      routine: RoutineInfo;
      source: Table;
      target: Table;
      toOne: boolean;
    };

export type CondPlan =
  | {
      kind: 'filter';
      field: FieldRef;
      op: Operator;
      negate: boolean;
      quantifier?: 'any' | 'all';
      language?: string;
      value: string | string[];
    }
  | { kind: 'logic'; op: 'and' | 'or'; negate: boolean; children: CondPlan[] };

export interface OrderPlan {
  field: FieldRef;
  dir?: 'asc' | 'desc';
  nulls?: 'first' | 'last';
}

export interface LevelPlan {
  rel: Rel;
  select: SelectPlan[];
  where: CondPlan[];
  order: OrderPlan[];
  limit?: number;
  offset?: number;
}

/** How the body is written: a JSON array, one JSON object, CSV (`Accept: text/csv`), or nothing. */
export type BodyShape = 'array' | 'object' | 'csv' | 'none';

export interface Output {
  shape: BodyShape;
  stripNulls: boolean;
}

/** What a mutation returns: the rows it touched through a select tree, or only their count. */
export interface Returning extends Output {
  level: LevelPlan | null;
}

export interface ReadPlan extends Output {
  kind: 'read';
  source: { kind: 'relation' } | { kind: 'call'; call: CallPlan };
  level: LevelPlan;
  limit?: number;
  offset?: number;
  count: boolean;
}

/** The request body, as the client sent it: PostgreSQL parses it (json_populate_record[set]). */
export interface BodyText {
  text: string;
  /** `array` of objects or one `object`. */
  kind: 'array' | 'object';
  /** For `missing=default`: per row, which of the insert columns it carries. */
  present?: boolean[][];
}

export interface InsertPlan {
  kind: 'insert';
  table: Table;
  columns: Column[];
  body: BodyText | null;
  onConflict?: { columns: Column[]; action: 'merge' | 'ignore' };
  /** merge upsert on a table: report how many rows were new (xmax = 0). */
  countInserted: boolean;
  returning: Returning;
}

export interface UpdatePlan {
  kind: 'update';
  table: Table;
  columns: Column[];
  body: BodyText;
  where: CondPlan[];
  returning: Returning;
}

export interface DeletePlan {
  kind: 'delete';
  table: Table;
  where: CondPlan[];
  returning: Returning;
}

export interface CallPlan {
  routine: RoutineInfo;
  given: FunctionArg[];
  /** The arguments as one JSON object text (bound), typed by json_to_record with the arguments' pg_types. */
  argsJson: string | null;
  /** A single unnamed json/jsonb/text parameter: the whole body, bound and cast to that parameter's type. */
  rawArg?: string;
}

export type RpcKind = 'void' | 'scalar' | 'scalar-set' | 'row' | 'row-set';

export type RpcPlan =
  | { kind: 'call-scalar'; call: CallPlan; isVoid: boolean }
  | ({ kind: 'call-scalar-set'; call: CallPlan; limit?: number; offset?: number; count: boolean } & Output)
  | ReadPlan;

export type Plan = ReadPlan | InsertPlan | UpdatePlan | DeletePlan | RpcPlan;

// ---------------------------------------------------------------------------------------------- resolution

interface Ctx {
  cache: SchemaCache;
  schema: string;
  levels: Map<string, LevelParams>;
  used: Set<string>;
}

function column(rel: Rel, name: string): Column {
  const c = rel.columns.get(name);
  if (!c) throw columnNotFound(rel.name, name);
  return c;
}

function field(rel: Rel, f: Field): FieldRef {
  if (rel.columns.has(f.name)) return { column: rel.columns.get(f.name)!, json: f.json };
  // A computed field is resolved only on a table's rows (or a function's rows of a table type), as PostgREST.
  const routine = rel.table?.computedFields.get(f.name);
  if (routine && rel.table) {
    const type = routine.returnColumns ? 'record' : 'unknown';
    return {
      column: { name: routine.name, type, notNull: false, hasDefault: false },
      computed: { routine, table: rel.table },
      json: f.json,
    };
  }
  throw columnNotFound(rel.name, f.name);
}

function castType(cache: SchemaCache, cast: string): TypeRef {
  const t = cache.types.get(normaliseTypeName(cast));
  if (!t)
    throw parseError(
      'select parameter',
      cast,
      `unknown type "${cast}" in cast: it must name a type of pg_catalog or an exposed schema`,
    );
  return t;
}

function condition(rel: Rel, c: Condition): CondPlan {
  if (c.kind === 'logic')
    return { kind: 'logic', op: c.op, negate: c.negate, children: c.children.map((ch) => condition(rel, ch)) };
  const e = c.expr;
  return {
    kind: 'filter',
    field: field(rel, c.field),
    op: e.op,
    negate: e.negate,
    ...(e.quantifier ? { quantifier: e.quantifier } : {}),
    ...(e.language !== undefined ? { language: e.language } : {}),
    value: e.value,
  };
}

function order(rel: Rel, terms: OrderTerm[]): OrderPlan[] {
  return terms.map((t) => ({
    field: field(rel, t.field),
    ...(t.dir ? { dir: t.dir } : {}),
    ...(t.nulls ? { nulls: t.nulls } : {}),
  }));
}

/**
 * PostgREST's hint: the constraint name, or the single column of a one-column key on either side
 * (`clients!client_id`, `clients!id`).
 */
function fkMatchesHint(fk: ForeignKey, hint: string | undefined): boolean {
  return (
    hint === undefined ||
    fk.name === hint ||
    (fk.columns.length === 1 && (fk.columns[0] === hint || fk.refColumns[0] === hint))
  );
}

const sameCols = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
const within = (cols: string[], set: string[]) => cols.every((c) => set.includes(c));

/**
 * A junction for many-to-many (PostgREST): a table with two different foreign keys, one to each side, whose
 * columns together lie within its primary key or one unique key (so a pair appears at most once).
 */
function junctions(ctx: Ctx, here: Table, targetName: string, schema: string): Relationship[] {
  const out: Relationship[] = [];
  const fks = ctx.cache.foreignKeys;
  for (const a of fks) {
    if (a.refSchema !== here.schema || a.refTable !== here.name || a.schema !== schema) continue;
    const junction = ctx.cache.tables.get(qualified(a.schema, a.table));
    if (junction?.kind !== 'table') continue;
    for (const b of fks) {
      if (b === a || b.schema !== a.schema || b.table !== a.table) continue;
      if (b.refSchema !== schema || b.refTable !== targetName) continue;
      const both = [...a.columns, ...b.columns];
      const keyed = [junction.pk, ...junction.uniques].some((k) => k.length > 0 && within(both, k));
      if (!keyed) continue;
      const target = ctx.cache.tables.get(qualified(b.refSchema, b.refTable));
      if (target) out.push({ kind: 'm2m', junction, fkSource: a, fkTarget: b, target, toOne: false });
    }
  }
  return out;
}

function relationship(ctx: Ctx, rel: Rel, item: Extract<SelectItem, { kind: 'embed' }>): Relationship {
  const here = rel.table;
  const schema = here?.schema ?? ctx.schema;
  if (!here) throw noRelationship(rel.name, item.name, schema, item.hint);
  // A computed relationship is found by its function's name, hint or not (PostgREST).
  const computed = here.computedRels.get(item.name);
  if (computed?.returnTable) {
    const target = ctx.cache.tables.get(qualified(computed.returnTable.schema, computed.returnTable.name));
    if (target)
      return {
        kind: 'computed',
        routine: computed,
        source: here,
        target,
        toOne: !computed.returnsSet || computed.rows === 1,
      };
  }
  const candidates: Relationship[] = [];
  const hint = item.hint;
  for (const fk of ctx.cache.foreignKeys) {
    const fromHere = fk.schema === here.schema && fk.table === here.name;
    const toHere = fk.refSchema === here.schema && fk.refTable === here.name;
    const single = fk.columns.length === 1 ? fk.columns[0] : undefined;
    if (fromHere && toHere) {
      // A self-reference is one key read both ways; PostgREST's convention: the table's name (with a hint, the
      // key's column) is the one-to-many side, the key's column alone is the many-to-one side.
      const o2m = item.name === here.name && (hint === undefined || (single !== undefined && single === hint));
      const m2o = hint === undefined && single !== undefined && single === item.name;
      if (o2m)
        candidates.push({
          kind: 'fk',
          fk,
          target: here,
          direction: 'one-to-many',
          toOne: here.uniques.some((u) => sameCols(u, fk.columns)),
        });
      if (m2o) candidates.push({ kind: 'fk', fk, target: here, direction: 'many-to-one', toOne: true });
      continue;
    }
    // many-to-one: this row holds the foreign key (by target table name, FK column name or constraint name).
    if (fromHere && fk.refSchema === schema) {
      const byName = fk.refTable === item.name && fkMatchesHint(fk, hint);
      const byColumn = hint === undefined && single === item.name;
      const byConstraint = hint === undefined && fk.name === item.name;
      const target = ctx.cache.tables.get(qualified(fk.refSchema, fk.refTable));
      // A constraint or column names a table, never a view carrying the key (PostgREST).
      const byKey = (byColumn || byConstraint) && target?.kind === 'table';
      if (target && (byName || byKey))
        candidates.push({ kind: 'fk', fk, target, direction: 'many-to-one', toOne: true });
    }
    // one-to-many (or one-to-one when the child's FK columns are unique): the target row holds the key.
    if (toHere && fk.schema === schema) {
      const byName = fk.table === item.name && fkMatchesHint(fk, hint);
      const target = ctx.cache.tables.get(qualified(fk.schema, fk.table));
      const byConstraint = hint === undefined && fk.name === item.name && target?.kind === 'table';
      if (byName || byConstraint) {
        if (target)
          candidates.push({
            kind: 'fk',
            fk,
            target,
            direction: 'one-to-many',
            toOne: target.uniques.some((u) => sameCols(u, fk.columns)),
          });
      }
    }
  }
  // Many-to-many: by the embedded table's name; a hint names the junction table.
  for (const m of junctions(ctx, here, item.name, schema)) {
    if (m.kind === 'm2m' && (hint === undefined || m.junction.name === hint)) candidates.push(m);
  }
  if (candidates.length === 0) throw noRelationship(here.name, item.name, schema, hint);
  if (candidates.length > 1) throw ambiguousEmbed(here, item.name, candidates);
  return candidates[0]!;
}

/**
 * PGRST201 as PostgREST words it: every candidate relationship in `details` (cardinality, which embedding,
 * which constraint over which columns) and a hint naming each `target!constraint` that would resolve it.
 */
function ambiguousEmbed(here: Table, target: string, candidates: Relationship[]): ApiError {
  const cols = (t: string, c: string[]) => `${t}(${c.join(', ')})`;
  const details = candidates.map((rs) => {
    const embedding = `${here.name} with ${rs.target.name}`;
    if (rs.kind === 'm2m') {
      const { junction, fkSource: a, fkTarget: b } = rs;
      return {
        cardinality: 'many-to-many',
        embedding,
        relationship: `${junction.name} using ${cols(a.name, a.columns)} and ${cols(b.name, b.columns)}`,
      };
    }
    if (rs.kind === 'computed') return { cardinality: 'computed', embedding, relationship: rs.routine.name };
    const { fk } = rs;
    const cardinality = rs.direction === 'many-to-one' ? 'many-to-one' : rs.toOne ? 'one-to-one' : 'one-to-many';
    const sides =
      rs.direction === 'many-to-one'
        ? `${cols(fk.table, fk.columns)} and ${cols(fk.refTable, fk.refColumns)}`
        : `${cols(fk.refTable, fk.refColumns)} and ${cols(fk.table, fk.columns)}`;
    return { cardinality, embedding, relationship: `${fk.name} using ${sides}` };
  });
  const hintOf = (rs: Relationship) =>
    rs.kind === 'm2m' ? rs.junction.name : rs.kind === 'fk' ? rs.fk.name : rs.routine.name;
  return new ApiError(
    300,
    'PGRST201',
    `Could not embed because more than one relationship was found for '${here.name}' and '${target}'`,
    details,
    `Try changing '${target}' to one of the following: ${candidates.map((rs) => `'${target}!${hintOf(rs)}'`).join(', ')}. Find the desired relationship in the 'details' key.`,
  );
}

const childPath = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

function levelParams(ctx: Ctx, path: string): LevelParams {
  ctx.used.add(path);
  return ctx.levels.get(path) ?? { conditions: [], order: [] };
}

function isCountAggregate(rel: Rel, items: SelectItem[]): Extract<SelectItem, { kind: 'column' }> | null {
  const only = items.length === 1 ? items[0] : undefined;
  return only?.kind === 'column' &&
    only.field.name === 'count' &&
    only.field.json.length === 0 &&
    !rel.columns.has('count')
    ? only
    : null;
}

function selectItems(ctx: Ctx, rel: Rel, items: SelectItem[], path: string): SelectPlan[] {
  const out: SelectPlan[] = [];
  const embedKeys = new Set<string>();
  for (const item of items) {
    if (item.kind === 'embed' && !item.spread) {
      // Two embeds under one key would give an object with duplicate keys; PostgREST refuses it with 42712.
      const key = item.alias ?? item.name;
      if (embedKeys.has(key)) throw new ApiError(400, '42712', `table name "${key}" specified more than once`);
      embedKeys.add(key);
    }
    // `*` is expanded from the cache so helper columns of a CTE (e.g. `_pgrst_inserted`) never leak out.
    if (item.kind === 'star') {
      for (const name of rel.columnOrder)
        out.push({ kind: 'column', field: { column: rel.columns.get(name)!, json: [] }, label: name });
    } else if (item.kind === 'column') {
      const f = field(rel, item.field);
      const last = item.field.json.length ? item.field.json[item.field.json.length - 1]!.key : item.field.name;
      out.push({
        kind: 'column',
        field: f,
        ...(item.cast ? { cast: castType(ctx.cache, item.cast) } : {}),
        label: item.alias ?? last,
      });
    } else {
      const rs = relationship(ctx, rel, item);
      const target = relOfTable(rs.target);
      const myPath = childPath(path, item.alias ?? item.name);
      const countOnly = isCountAggregate(target, item.select);
      if (item.spread && !rs.toOne) {
        throw new ApiError(
          400,
          'PGRST119',
          `A spread operation on '${item.name}' is not possible`,
          `'${rel.name}' and '${item.name}' do not form a many-to-one or one-to-one relationship`,
        );
      }
      if (item.spread && countOnly)
        throw new ApiError(
          400,
          'PGRST127',
          'Feature not implemented',
          'count() inside a spread embedding is not supported by this gateway',
        );
      const level = countOnly ? levelPlan(ctx, target, [], myPath) : levelPlan(ctx, target, item.select, myPath);
      out.push({
        kind: 'embed',
        rel: rs,
        label: item.alias ?? item.name,
        inner: item.inner,
        level,
        ...(countOnly ? { countLabel: countOnly.alias ?? 'count' } : {}),
        ...(item.select.length === 0 ? { filterOnly: true } : {}),
        ...(item.spread ? { spread: true } : {}),
      });
    }
  }
  return out;
}

function levelPlan(ctx: Ctx, rel: Rel, items: SelectItem[], path: string): LevelPlan {
  const lp = levelParams(ctx, path);
  return {
    rel,
    select: selectItems(ctx, rel, items, path),
    where: lp.conditions.map((c) => condition(rel, c)),
    order: order(rel, lp.order),
    ...(lp.limit !== undefined ? { limit: lp.limit } : {}),
    ...(lp.offset !== undefined ? { offset: lp.offset } : {}),
  };
}

function checkAllLevelsUsed(ctx: Ctx): void {
  for (const path of ctx.levels.keys()) {
    if (!ctx.used.has(path)) {
      throw new ApiError(
        400,
        'PGRST108',
        `'${path}' is not an embedded resource in this request`,
        null,
        `Verify that '${path}' is included in the 'select' query parameter.`,
      );
    }
  }
}

/** The top level of a request: its select tree, and the filters/order/paging of every level. */
function topLevel(
  cache: SchemaCache,
  schema: string,
  rel: Rel,
  select: SelectItem[],
  levels: Map<string, LevelParams>,
  withSelect = true,
): LevelPlan {
  const ctx: Ctx = { cache, schema, levels, used: new Set(['']) };
  const level = levelPlan(ctx, rel, withSelect ? select : [], '');
  checkAllLevelsUsed(ctx);
  return level;
}

// ---------------------------------------------------------------------------------------------- plans

export interface ReadRequest extends Output {
  select: SelectItem[];
  levels: Map<string, LevelParams>;
  limit?: number;
  offset?: number;
  count: boolean;
}

export function planRead(cache: SchemaCache, schema: string, table: Table, r: ReadRequest): ReadPlan {
  return readPlan(cache, schema, relOfTable(table), r, { kind: 'relation' });
}

function readPlan(cache: SchemaCache, schema: string, rel: Rel, r: ReadRequest, source: ReadPlan['source']): ReadPlan {
  const level = topLevel(cache, schema, rel, r.select, r.levels);
  return {
    kind: 'read',
    source,
    level,
    count: r.count,
    shape: r.shape,
    stripNulls: r.stripNulls,
    ...(r.limit !== undefined ? { limit: r.limit } : {}),
    ...(r.offset !== undefined ? { offset: r.offset } : {}),
  };
}

export interface MutationRequest extends Output {
  select: SelectItem[];
  levels: Map<string, LevelParams>;
}

function returning(cache: SchemaCache, schema: string, table: Table, r: MutationRequest): Returning {
  // Levels are checked even when nothing is returned (an unknown `child.col=` filter is still an error).
  const level = topLevel(cache, schema, relOfTable(table), r.select, r.levels, r.shape !== 'none');
  return { shape: r.shape, stripNulls: r.stripNulls, level: r.shape === 'none' ? null : level };
}

function payloadColumns(table: Table, names: string[]): Column[] {
  return names.map((c) => {
    const col = table.columns.get(c);
    if (!col) throw payloadColumnNotFound(table.name, c);
    return col;
  });
}

export interface InsertRequest extends MutationRequest {
  columns: string[];
  body: BodyText | null;
  onConflict?: { columns: string[]; action: 'merge' | 'ignore' };
}

/**
 * How PostgREST reads a POST body for an insert: one object or an array of objects; the insert columns from
 * `columns=`, else the first object's keys, which every object must then share; the body as sent; which
 * columns each row carries (only for `Prefer: missing=default`, where an absent key means the column
 * default); and the upsert target (`on_conflict=` columns, else the primary key) when `Prefer: resolution=`
 * asks for one. The handler and the renderer's tests build every insert through it.
 */
export function insertParts(
  table: Table,
  payload: { text: string; value: unknown },
  params: { columns?: string[]; onConflict?: string[] },
  prefs: { resolution?: 'merge-duplicates' | 'ignore-duplicates'; missing?: 'default' | 'null' },
): Pick<InsertRequest, 'columns' | 'body' | 'onConflict'> & { rows: number } {
  const rows = Array.isArray(payload.value) ? payload.value : [payload.value];
  if (!rows.every(isJsonObject)) throw invalidJson();
  let columns: string[];
  if (params.columns) columns = params.columns;
  else {
    // Without `columns=`, PostgREST requires every object of a bulk insert to carry the same keys.
    const keys = Object.keys(rows[0] ?? {});
    const same = (o: Record<string, unknown>) => Object.keys(o).length === keys.length && keys.every((c) => c in o);
    if (!rows.every(same)) throw new ApiError(400, 'PGRST102', 'All object keys must match');
    columns = keys;
  }
  if (columns.length === 0 && rows.length > 1)
    throw new ApiError(
      400,
      'PGRST102',
      'All object keys must match',
      'This gateway inserts an empty object only one at a time',
    );
  const body: BodyText = {
    text: payload.text,
    kind: Array.isArray(payload.value) ? 'array' : 'object',
    ...(prefs.missing === 'default' ? { present: rows.map((o) => columns.map((c) => Object.hasOwn(o, c))) } : {}),
  };
  const parts = { rows: rows.length, columns, body };
  const conflictCols = params.onConflict ?? (prefs.resolution ? table.pk : undefined);
  if (!prefs.resolution || !conflictCols?.length) return parts;
  const action = prefs.resolution === 'ignore-duplicates' ? ('ignore' as const) : ('merge' as const);
  return { ...parts, onConflict: { columns: conflictCols, action } };
}

export function planInsert(cache: SchemaCache, schema: string, table: Table, r: InsertRequest): InsertPlan {
  const columns = payloadColumns(table, r.columns);
  const rel = relOfTable(table);
  const onConflict = r.onConflict
    ? { columns: r.onConflict.columns.map((c) => column(rel, c)), action: r.onConflict.action }
    : undefined;
  return {
    kind: 'insert',
    table,
    columns,
    body: columns.length ? r.body : null,
    ...(onConflict ? { onConflict } : {}),
    countInserted: onConflict?.action === 'merge' && table.kind === 'table',
    returning: returning(cache, schema, table, r),
  };
}

export interface UpdateRequest extends MutationRequest {
  columns: string[];
  body: BodyText;
}

export function planUpdate(cache: SchemaCache, schema: string, table: Table, r: UpdateRequest): UpdatePlan {
  const columns = payloadColumns(table, r.columns);
  const rel = relOfTable(table);
  const where = (r.levels.get('')?.conditions ?? []).map((c) => condition(rel, c));
  return { kind: 'update', table, columns, body: r.body, where, returning: returning(cache, schema, table, r) };
}

export function planDelete(cache: SchemaCache, schema: string, table: Table, r: MutationRequest): DeletePlan {
  const rel = relOfTable(table);
  const where = (r.levels.get('')?.conditions ?? []).map((c) => condition(rel, c));
  return { kind: 'delete', table, where, returning: returning(cache, schema, table, r) };
}

// ---------------------------------------------------------------------------------------------- rpc

/** Picks the overload whose required arguments are given and whose arguments cover every given name. */
export function resolveRoutine(
  cache: SchemaCache,
  schema: string,
  name: string,
  argNames: string[],
  viaPost: boolean,
): RoutineInfo {
  const overloads = cache.routines.get(qualified(schema, name)) ?? [];
  const matches = overloads.filter(
    (r) =>
      argNames.every((a) => r.args.some((x) => x.name === a)) &&
      r.args.every((x) => x.hasDefault || argNames.includes(x.name)),
  );
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new ApiError(
      300,
      'PGRST203',
      `Could not choose the best candidate function between: ${matches.map((r) => `${schema}.${name}(${r.args.map((a) => `${a.name} => ${a.type}`).join(', ')})`).join(', ')}`,
      null,
      'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
    );
  }
  const sorted = [...argNames].sort();
  const prms = sorted.length ? `(${sorted.join(', ')})` : ' without parameters';
  const detPrms = sorted.length
    ? ` with parameter${sorted.length > 1 ? 's' : ''} ${sorted.join(', ')}`
    : ' without parameters';
  throw new ApiError(
    404,
    'PGRST202',
    `Could not find the function ${schema}.${name}${prms} in the schema cache`,
    `Searched for the function ${schema}.${name}${detPrms}${viaPost ? ' or with a single unnamed json/jsonb parameter' : ''}, but no matches were found in the schema cache.`,
  );
}

export function rpcKind(r: RoutineInfo): RpcKind {
  if (r.returnsVoid) return 'void';
  if (r.returnColumns) return r.returnsSet ? 'row-set' : 'row';
  return r.returnsSet ? 'scalar-set' : 'scalar';
}

export interface RpcRequest extends ReadRequest {
  argNames: string[];
  /** The arguments object as JSON text (the POST body as sent, or the query arguments serialised). */
  argsJson: string;
  /** The body as the single unnamed parameter's value (see CallPlan.rawArg). */
  rawArg?: string;
}

export function planRpc(cache: SchemaCache, schema: string, r: RoutineInfo, req: RpcRequest): RpcPlan {
  const given = r.args.filter((a) => req.argNames.includes(a.name));
  const call: CallPlan = {
    routine: r,
    given,
    argsJson: given.length ? req.argsJson : null,
    ...(req.rawArg !== undefined ? { rawArg: req.rawArg } : {}),
  };
  const kind = rpcKind(r);
  if (kind === 'void' || kind === 'scalar') return { kind: 'call-scalar', call, isVoid: kind === 'void' };
  if (kind === 'scalar-set') {
    return {
      kind: 'call-scalar-set',
      call,
      count: req.count,
      shape: req.shape,
      stripNulls: false,
      ...(req.limit !== undefined ? { limit: req.limit } : {}),
      ...(req.offset !== undefined ? { offset: req.offset } : {}),
    };
  }
  const table = r.returnTable ? (cache.tables.get(qualified(r.returnTable.schema, r.returnTable.name)) ?? null) : null;
  const rel: Rel = {
    schema: r.schema,
    name: r.name,
    columns: new Map(r.returnColumns!.map((c) => [c.name, c])),
    columnOrder: r.returnColumns!.map((c) => c.name),
    table,
  };
  // A function returning one row answers with an object, like PostgREST.
  const shape = kind === 'row' && req.shape === 'array' ? 'object' : req.shape;
  return readPlan(cache, schema, rel, { ...req, shape }, { kind: 'call', call });
}
