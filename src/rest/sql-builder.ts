import {
  ApiError,
  columnNotFound,
  noRelationship,
  parseError,
  payloadColumnNotFound,
} from './errors.js';
import type { Condition, Field, LevelParams, OpExpr, OrderTerm, SelectItem } from './query-params.js';
import type { Column, ForeignKey, RoutineInfo, SchemaCache, Table } from './schema-cache.js';
import { normaliseTypeName, qualified } from './schema-cache.js';

/**
 * Turns a parsed request into ONE SQL statement that returns the whole HTTP body, built the way PostgREST
 * builds it (`coalesce(json_agg(_pgrst_t), '[]')`), so JSON serialisation (numeric, timestamptz, jsonb …) is
 * PostgreSQL's own on every engine. Identifiers only come from the schema cache and are always quoted;
 * every value from the request is a bind parameter.
 */
export const ident = (s: string): string => `"${s.replace(/"/g, '""')}"`;

export class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** A row source: a table/view, or the rows a function returns. */
export interface Rel {
  schema: string;
  name: string;
  columns: Map<string, Column>;
  columnOrder: string[];
  /** The table used for relationship (embedding) lookups, if any. */
  table: Table | null;
}

export function relOfTable(t: Table): Rel {
  return { schema: t.schema, name: t.name, columns: t.columns, columnOrder: t.columnOrder, table: t };
}

/** Output of every builder: `n` = rows in the result, `body` = JSON text (null when not requested). */
export interface Statement {
  sql: string;
  params: unknown[];
}

export type BodyShape = 'array' | 'object' | 'none';

interface Ctx {
  cache: SchemaCache;
  schema: string;
  params: Params;
  levels: Map<string, LevelParams>;
  usedLevels: Set<string>;
  aliases: number;
}

function newCtx(cache: SchemaCache, schema: string, levels: Map<string, LevelParams>): Ctx {
  return { cache, schema, params: new Params(), levels, usedLevels: new Set(['']), aliases: 0 };
}

// ---------------------------------------------------------------------------------------------- fields

function column(rel: Rel, name: string): Column {
  const c = rel.columns.get(name);
  if (!c) throw columnNotFound(rel.name, name);
  return c;
}

function fieldSql(ctx: Ctx, rel: Rel, alias: string, f: Field): string {
  column(rel, f.name);
  let sql = `${ident(alias)}.${ident(f.name)}`;
  for (const step of f.json) {
    // An integer key indexes a JSON array; it is bound like any other value, never pasted into the SQL.
    const key = /^-?\d+$/.test(step.key) ? `${ctx.params.add(step.key)}::int` : `${ctx.params.add(step.key)}::text`;
    sql = `(${sql}${step.op}${key})`;
  }
  return sql;
}

/**
 * `col::type` → `cast(col as "schema"."type")`, the type resolved in the schema cache. The URL's text never
 * reaches SQL: an unknown type is a 400 PGRST100, a known one is emitted as two quoted identifiers.
 */
function castSql(ctx: Ctx, expr: string, cast: string): string {
  const t = ctx.cache.types.get(normaliseTypeName(cast));
  if (!t) throw parseError('select parameter', cast, `unknown type "${cast}" in cast: it must name a type of pg_catalog or an exposed schema`);
  return `cast(${expr} as ${ident(t.schema)}.${ident(t.name)})`;
}

function fieldName(f: Field): string {
  return f.json.length ? f.json[f.json.length - 1]!.key : f.name;
}

// ---------------------------------------------------------------------------------------------- filters

const BINARY: Record<string, string> = {
  eq: '=',
  neq: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  like: 'like',
  ilike: 'ilike',
  match: '~',
  imatch: '~*',
  cs: '@>',
  cd: '<@',
  ov: '&&',
  isdistinct: 'is distinct from',
};

function opSql(ctx: Ctx, lhs: string, e: OpExpr): string {
  let sql: string;
  if (e.op === 'is') {
    const v = e.value as string;
    sql = v === 'not_null' ? `${lhs} is not null` : `${lhs} is ${v}`;
  } else if (e.op === 'in') {
    const list = e.value as string[];
    sql = list.length === 0 ? 'false' : `${lhs} in (${list.map((v) => ctx.params.add(v)).join(', ')})`;
  } else {
    // PostgREST lets `*` stand for `%` in like patterns (URL-friendly).
    const raw = e.op === 'like' || e.op === 'ilike' ? (e.value as string).replace(/\*/g, '%') : (e.value as string);
    const p = ctx.params.add(raw);
    sql = e.quantifier ? `${lhs} ${BINARY[e.op]} ${e.quantifier}(${p})` : `${lhs} ${BINARY[e.op]} ${p}`;
  }
  return e.negate ? `not (${sql})` : sql;
}

function conditionSql(ctx: Ctx, rel: Rel, alias: string, c: Condition): string {
  if (c.kind === 'filter') return opSql(ctx, fieldSql(ctx, rel, alias, c.field), c.expr);
  const parts = c.children.map((ch) => `(${conditionSql(ctx, rel, alias, ch)})`);
  // Always parenthesised: the caller joins conditions with `and`, which binds tighter than `or`.
  const sql = `(${parts.join(c.op === 'and' ? ' and ' : ' or ')})`;
  return c.negate ? `not ${sql}` : sql;
}

function orderSql(ctx: Ctx, rel: Rel, alias: string, terms: OrderTerm[]): string {
  if (terms.length === 0) return '';
  const parts = terms.map(
    (t) => `${fieldSql(ctx, rel, alias, t.field)}${t.dir ? ` ${t.dir}` : ''}${t.nulls ? ` nulls ${t.nulls}` : ''}`,
  );
  return ` order by ${parts.join(', ')}`;
}

/** Limit and offset are bind parameters too: no number from the URL is pasted into the SQL text. */
function pagingSql(params: Params, limit: number | undefined, offset: number | undefined): string {
  return `${limit !== undefined ? ` limit ${params.add(String(limit))}::bigint` : ''}${offset ? ` offset ${params.add(String(offset))}::bigint` : ''}`;
}

// ---------------------------------------------------------------------------------------------- embedding

interface Embed {
  target: Table;
  /** Join condition between the parent alias and the child alias. */
  join: (parentAlias: string, childAlias: string) => string;
  toOne: boolean;
}

function fkMatchesHint(fk: ForeignKey, hint: string | undefined): boolean {
  return hint === undefined || fk.name === hint || (fk.columns.length === 1 && fk.columns[0] === hint);
}

function resolveEmbed(ctx: Ctx, rel: Rel, item: Extract<SelectItem, { kind: 'embed' }>): Embed {
  const here = rel.table;
  const schema = here?.schema ?? ctx.schema;
  if (!here) throw noRelationship(rel.name, item.name, schema, item.hint);
  const fks = ctx.cache.foreignKeys;
  const candidates: Embed[] = [];
  const sameCols = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));
  for (const fk of fks) {
    const fromHere = fk.schema === here.schema && fk.table === here.name;
    const toHere = fk.refSchema === here.schema && fk.refTable === here.name;
    // many-to-one: this row holds the foreign key (by target table name, FK column name or constraint name).
    if (fromHere && fk.refSchema === schema) {
      const byName = fk.refTable === item.name && fkMatchesHint(fk, item.hint);
      const byColumn = item.hint === undefined && fk.columns.length === 1 && fk.columns[0] === item.name;
      const byConstraint = item.hint === undefined && fk.name === item.name;
      if (byName || byColumn || byConstraint) {
        const target = ctx.cache.tables.get(qualified(fk.refSchema, fk.refTable));
        if (target) {
          candidates.push({
            target,
            toOne: true,
            join: (pa, ca) => fk.columns.map((c, i) => `${ident(ca)}.${ident(fk.refColumns[i]!)} = ${ident(pa)}.${ident(c)}`).join(' and '),
          });
        }
      }
    }
    // one-to-many (or one-to-one when the child's FK columns are unique): the target row holds the key.
    if (toHere && fk.schema === schema && fk.table === item.name && fkMatchesHint(fk, item.hint)) {
      const target = ctx.cache.tables.get(qualified(fk.schema, fk.table));
      if (target) {
        candidates.push({
          target,
          toOne: target.uniques.some((u) => sameCols(u, fk.columns)),
          join: (pa, ca) => fk.columns.map((c, i) => `${ident(ca)}.${ident(c)} = ${ident(pa)}.${ident(fk.refColumns[i]!)}`).join(' and '),
        });
      }
    }
  }
  if (candidates.length === 0) throw noRelationship(here.name, item.name, schema, item.hint);
  if (candidates.length > 1) {
    throw new ApiError(
      300,
      'PGRST201',
      `Could not embed because more than one relationship was found for '${here.name}' and '${item.name}'`,
      null,
      `Try changing '${item.name}' to one of the following: ${fks
        .filter((fk) => (fk.table === here.name && fk.refTable === item.name) || (fk.refTable === here.name && fk.table === item.name))
        .map((fk) => `'${item.name}!${fk.name}'`)
        .join(', ')}. Find the desired relationship in the 'details' key.`,
    );
  }
  return candidates[0]!;
}

function levelParams(ctx: Ctx, path: string): LevelParams {
  ctx.usedLevels.add(path);
  return ctx.levels.get(path) ?? { conditions: [], order: [] };
}

const childPath = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

/** The select list of one level: columns, casts, JSON paths and embedded subqueries. */
function selectList(ctx: Ctx, rel: Rel, alias: string, items: SelectItem[], path: string): string {
  const out: string[] = [];
  for (const item of items) {
    // `*` is expanded from the cache so helper columns of a CTE (e.g. `_pgrst_inserted`) never leak out.
    if (item.kind === 'star') out.push(...rel.columnOrder.map((c) => `${ident(alias)}.${ident(c)}`));
    else if (item.kind === 'column') {
      let sql = fieldSql(ctx, rel, alias, item.field);
      if (item.cast) sql = castSql(ctx, sql, item.cast);
      out.push(`${sql} as ${ident(item.alias ?? fieldName(item.field))}`);
    } else out.push(`${embedSql(ctx, rel, alias, item, path)} as ${ident(item.alias ?? item.name)}`);
  }
  // An empty select (`child()`) still needs a column for the row to exist.
  return out.length ? out.join(', ') : 'null as "_pgrst_empty"';
}

/** WHERE conditions of one level, including `!inner` embeds (a parent row needs a matching child). */
function whereList(ctx: Ctx, rel: Rel, alias: string, items: SelectItem[], path: string): string[] {
  const conds = levelParams(ctx, path).conditions.map((c) => conditionSql(ctx, rel, alias, c));
  for (const item of items) {
    if (item.kind !== 'embed' || !item.inner) continue;
    const embed = resolveEmbed(ctx, rel, item);
    const ca = `t${++ctx.aliases}`;
    const target = relOfTable(embed.target);
    const sub = whereList(ctx, target, ca, item.select, childPath(path, item.alias ?? item.name));
    conds.push(`exists (select 1 from ${ident(target.schema)}.${ident(target.name)} as ${ident(ca)} where ${[embed.join(alias, ca), ...sub].join(' and ')})`);
  }
  return conds;
}

function isCountAggregate(rel: Rel, items: SelectItem[]): boolean {
  const only = items.length === 1 ? items[0] : undefined;
  return only?.kind === 'column' && only.field.name === 'count' && only.field.json.length === 0 && !rel.columns.has('count');
}

function embedSql(ctx: Ctx, rel: Rel, alias: string, item: Extract<SelectItem, { kind: 'embed' }>, path: string): string {
  const embed = resolveEmbed(ctx, rel, item);
  const target = relOfTable(embed.target);
  const ca = `t${++ctx.aliases}`;
  const sub = `_pgrst_e${ctx.aliases}`;
  const myPath = childPath(path, item.alias ?? item.name);
  const lp = levelParams(ctx, myPath);
  const from = `${ident(target.schema)}.${ident(target.name)} as ${ident(ca)}`;
  const where = [embed.join(alias, ca), ...whereList(ctx, target, ca, item.select, myPath)].join(' and ');
  if (isCountAggregate(target, item.select)) {
    const only = item.select[0] as Extract<SelectItem, { kind: 'column' }>;
    const inner = `select count(*) as ${ident(only.alias ?? 'count')} from ${from} where ${where}`;
    return `(select coalesce(json_agg(${sub}), '[]') from (${inner}) ${sub})`;
  }
  const list = selectList(ctx, target, ca, item.select, myPath);
  if (embed.toOne) return `(select row_to_json(${sub}) from (select ${list} from ${from} where ${where} limit 1) ${sub})`;
  const inner = `select ${list} from ${from} where ${where}${orderSql(ctx, target, ca, lp.order)}${pagingSql(ctx.params, lp.limit, lp.offset)}`;
  return `(select coalesce(json_agg(${sub}), '[]') from (${inner}) ${sub})`;
}

function checkAllLevelsUsed(ctx: Ctx): void {
  for (const path of ctx.levels.keys()) {
    if (!ctx.usedLevels.has(path)) {
      throw new ApiError(400, 'PGRST108', `'${path}' is not an embedded resource in this request`, null, `Verify that '${path}' is included in the 'select' query parameter.`);
    }
  }
}

// ---------------------------------------------------------------------------------------------- result wrapper

function bodySql(shape: BodyShape, stripNulls: boolean, agg = 'json_agg(_pgrst_t)'): string {
  const wrap = (s: string) => (stripNulls ? `json_strip_nulls(${s})` : s);
  if (shape === 'none') return 'null::text';
  if (shape === 'object') return `(${wrap(`${agg}->0`)})::text`;
  return `${wrap(`coalesce(${agg}, '[]')`)}::text`;
}

export interface ReadOptions {
  select: SelectItem[];
  levels: Map<string, LevelParams>;
  limit?: number;
  offset?: number;
  count: boolean;
  shape: BodyShape;
  stripNulls: boolean;
}

/** Reads rows of a table/view, or of a function's result when `from` is given. */
export function buildRead(cache: SchemaCache, schema: string, rel: Rel, o: ReadOptions, from?: { sql: string; params: Params }): Statement {
  const ctx = newCtx(cache, schema, o.levels);
  if (from) ctx.params.values.push(...from.params.values);
  const fromSql = from?.sql ?? `${ident(rel.schema)}.${ident(rel.name)} as "t0"`;
  const list = selectList(ctx, rel, 't0', o.select, '');
  const where = whereList(ctx, rel, 't0', o.select, '');
  const whereSql = where.length ? ` where ${where.join(' and ')}` : '';
  const lp = levelParams(ctx, '');
  checkAllLevelsUsed(ctx);
  const inner = `select ${list} from ${fromSql}${whereSql}${orderSql(ctx, rel, 't0', lp.order)}${pagingSql(ctx.params, o.limit, o.offset)}`;
  const total = o.count ? `, (select count(*) from ${fromSql}${whereSql})::int as total` : '';
  return {
    sql: `select count(*)::int as n, ${bodySql(o.shape, o.stripNulls)} as body${total} from (${inner}) _pgrst_t`,
    params: ctx.params.values,
  };
}

// ---------------------------------------------------------------------------------------------- mutations

export interface MutationOptions {
  select: SelectItem[];
  levels: Map<string, LevelParams>;
  shape: BodyShape;
  stripNulls: boolean;
}

function returning(ctx: Ctx, rel: Rel, cte: string, o: MutationOptions, inserted = false): string {
  const ins = inserted ? ', (select count(*) from pgrst_source where _pgrst_inserted)::int as inserted' : '';
  if (o.shape === 'none') {
    checkAllLevelsUsed(ctx);
    return `${cte} select count(*)::int as n, null::text as body${ins} from pgrst_source`;
  }
  const list = selectList(ctx, rel, 't0', o.select, '');
  checkAllLevelsUsed(ctx);
  return `${cte} select count(*)::int as n, ${bodySql(o.shape, o.stripNulls)} as body${ins} from (select ${list} from pgrst_source as "t0") _pgrst_t`;
}

export interface InsertOptions extends MutationOptions {
  rows: Record<string, unknown>[];
  columns: string[];
  onConflict?: { columns: string[]; action: 'merge' | 'ignore' };
  /** `Prefer: missing=default`: a key absent from a row takes the column default instead of NULL. */
  missingDefault?: boolean;
}

export function buildInsert(cache: SchemaCache, schema: string, table: Table, o: InsertOptions): Statement {
  const ctx = newCtx(cache, schema, o.levels);
  const rel = relOfTable(table);
  for (const c of o.columns) if (!table.columns.has(c)) throw payloadColumnNotFound(table.name, c);
  const target = `${ident(table.schema)}.${ident(table.name)}`;
  let insert: string;
  if (o.columns.length === 0) {
    insert = `insert into ${target} as "t0" default values`;
  } else if (o.missingDefault) {
    // One VALUES row per object: present keys are read from that row's JSON, absent ones are DEFAULT.
    const values = o.rows.map((r) => {
      const p = ctx.params.add(JSON.stringify(r));
      const cells = o.columns.map((c) => (Object.prototype.hasOwnProperty.call(r, c) ? `(json_populate_record(null::${target}, ${p}::json)).${ident(c)}` : 'default'));
      return `(${cells.join(', ')})`;
    });
    insert = `insert into ${target} as "t0" (${o.columns.map(ident).join(', ')}) values ${values.join(', ')}`;
  } else {
    const cols = o.columns.map(ident).join(', ');
    const body = ctx.params.add(JSON.stringify(o.rows));
    insert = `insert into ${target} as "t0" (${cols}) select ${cols} from json_populate_recordset(null::${target}, ${body}::json) _pgrst_body`;
  }
  if (o.onConflict) {
    for (const c of o.onConflict.columns) column(rel, c);
    const conflict = o.onConflict.columns.map(ident).join(', ');
    const updatable = o.columns.filter((c) => !o.onConflict!.columns.includes(c));
    insert +=
      o.onConflict.action === 'ignore' || o.columns.length === 0
        ? ` on conflict (${conflict}) do nothing`
        : updatable.length === 0
          ? ` on conflict (${conflict}) do update set ${o.onConflict.columns.map((c) => `${ident(c)} = excluded.${ident(c)}`).join(', ')}`
          : ` on conflict (${conflict}) do update set ${updatable.map((c) => `${ident(c)} = excluded.${ident(c)}`).join(', ')}`;
  }
  // xmax = 0 marks a freshly inserted tuple: lets a merge upsert answer 200 when it only updated (as PostgREST).
  const inserted = o.onConflict?.action === 'merge' && table.kind === 'table';
  const cte = `with pgrst_source as (${insert} returning "t0".*${inserted ? `, ("t0".xmax::text = '0') as _pgrst_inserted` : ''})`;
  return { sql: returning(ctx, rel, cte, o, inserted), params: ctx.params.values };
}

export interface UpdateOptions extends MutationOptions {
  patch: Record<string, unknown>;
}

export function buildUpdate(cache: SchemaCache, schema: string, table: Table, o: UpdateOptions): Statement {
  const ctx = newCtx(cache, schema, o.levels);
  const rel = relOfTable(table);
  const cols = Object.keys(o.patch);
  for (const c of cols) if (!table.columns.has(c)) throw payloadColumnNotFound(table.name, c);
  const target = `${ident(table.schema)}.${ident(table.name)}`;
  const where = levelParams(ctx, '').conditions.map((c) => conditionSql(ctx, rel, 't0', c));
  if (cols.length === 0) {
    // PostgREST answers an empty PATCH without touching any row.
    const cte = `with pgrst_source as (select "t0".* from ${target} as "t0" where ${['false', ...where].join(' and ')})`;
    return { sql: returning(ctx, rel, cte, o), params: ctx.params.values };
  }
  const body = ctx.params.add(JSON.stringify(o.patch));
  const set = cols.map((c) => `${ident(c)} = _pgrst_body.${ident(c)}`).join(', ');
  const cte =
    `with pgrst_source as (update ${target} as "t0" set ${set} ` +
    `from (select * from json_populate_record(null::${target}, ${body}::json)) _pgrst_body` +
    `${where.length ? ` where ${where.join(' and ')}` : ''} returning "t0".*)`;
  return { sql: returning(ctx, rel, cte, o), params: ctx.params.values };
}

export function buildDelete(cache: SchemaCache, schema: string, table: Table, o: MutationOptions): Statement {
  const ctx = newCtx(cache, schema, o.levels);
  const rel = relOfTable(table);
  const where = levelParams(ctx, '').conditions.map((c) => conditionSql(ctx, rel, 't0', c));
  const cte = `with pgrst_source as (delete from ${ident(table.schema)}.${ident(table.name)} as "t0"${where.length ? ` where ${where.join(' and ')}` : ''} returning "t0".*)`;
  return { sql: returning(ctx, rel, cte, o), params: ctx.params.values };
}

// ---------------------------------------------------------------------------------------------- rpc

/** Picks the overload whose required arguments are given and whose arguments cover every given name. */
export function resolveRoutine(cache: SchemaCache, schema: string, name: string, argNames: string[], viaPost: boolean): RoutineInfo {
  const overloads = cache.routines.get(qualified(schema, name)) ?? [];
  const matches = overloads.filter(
    (r) => argNames.every((a) => r.args.some((x) => x.name === a)) && r.args.every((x) => x.hasDefault || argNames.includes(x.name)),
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
  const detPrms = sorted.length ? ` with parameter${sorted.length > 1 ? 's' : ''} ${sorted.join(', ')}` : ' without parameters';
  throw new ApiError(
    404,
    'PGRST202',
    `Could not find the function ${schema}.${name}${prms} in the schema cache`,
    `Searched for the function ${schema}.${name}${detPrms}${viaPost ? ' or with a single unnamed json/jsonb parameter' : ''}, but no matches were found in the schema cache.`,
  );
}

export type RpcKind = 'void' | 'scalar' | 'scalar-set' | 'row' | 'row-set';

export function rpcKind(r: RoutineInfo): RpcKind {
  if (r.returnsVoid) return 'void';
  if (r.returnColumns) return r.returnsSet ? 'row-set' : 'row';
  return r.returnsSet ? 'scalar-set' : 'scalar';
}

/** `json_to_record` turns the JSON arguments into typed values exactly like a table row (arrays, json, …). */
function callSql(r: RoutineInfo, args: Record<string, unknown>, params: Params): { from: string; call: string } {
  const given = r.args.filter((a) => Object.prototype.hasOwnProperty.call(args, a.name));
  const fn = `${ident(r.schema)}.${ident(r.name)}`;
  if (given.length === 0) return { from: '', call: `${fn}()` };
  const p = params.add(JSON.stringify(args));
  const from = `json_to_record(${p}::json) as _pgrst_args(${given.map((a) => `${ident(a.name)} ${a.type}`).join(', ')})`;
  return { from, call: `${fn}(${given.map((a) => `${ident(a.name)} => _pgrst_args.${ident(a.name)}`).join(', ')})` };
}

export interface RpcOptions extends ReadOptions {
  args: Record<string, unknown>;
}

export function buildRpc(cache: SchemaCache, schema: string, r: RoutineInfo, o: RpcOptions): Statement {
  const params = new Params();
  const { from, call } = callSql(r, o.args, params);
  const kind = rpcKind(r);
  if (kind === 'void' || kind === 'scalar') {
    const value = kind === 'void' ? `(${call})::text` : `to_json(${call})::text`;
    return { sql: `select 1 as n, ${value} as body${from ? ` from ${from}` : ''}`, params: params.values };
  }
  const source = `${from ? `${from} cross join lateral ` : ''}${call} as "t0"${kind === 'scalar-set' ? '("pgrst_scalar")' : ''}`;
  if (kind === 'scalar-set') {
    const total = o.count ? `, (select count(*) from ${source})::int as total` : '';
    const inner = `select "t0"."pgrst_scalar" from ${source}${pagingSql(params, o.limit, o.offset)}`;
    return {
      sql: `select count(*)::int as n, ${bodySql(o.shape, false, 'json_agg(_pgrst_t.pgrst_scalar)')} as body${total} from (${inner}) _pgrst_t`,
      params: params.values,
    };
  }
  const table = r.returnTable ? cache.tables.get(qualified(r.returnTable.schema, r.returnTable.name)) ?? null : null;
  const rel: Rel = {
    schema: r.schema,
    name: r.name,
    columns: new Map(r.returnColumns!.map((c) => [c.name, c])),
    columnOrder: r.returnColumns!.map((c) => c.name),
    table,
  };
  // A function returning one row answers with an object, like PostgREST.
  const shape = kind === 'row' && o.shape === 'array' ? 'object' : o.shape;
  return buildRead(cache, schema, rel, { ...o, shape }, { sql: source, params });
}
