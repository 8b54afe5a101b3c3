import type {
  BodyShape,
  BodyText,
  CallPlan,
  CondPlan,
  DeletePlan,
  FieldRef,
  InsertPlan,
  LevelPlan,
  OrderPlan,
  Plan,
  ReadPlan,
  Rel,
  Relationship,
  Returning,
  SelectPlan,
  UpdatePlan,
} from './plan.js';
import type { Operator } from './query-params.js';
import type { ForeignKey, Table } from './schema-cache.js';
import {
  bind,
  empty,
  ident,
  internal,
  join,
  label,
  qualifiedIdent,
  quoteIdent,
  render,
  sql,
  type Sql,
  type Statement,
} from './sql.js';

/**
 * The renderer: plan → ONE SQL statement that returns the whole HTTP body, built the way PostgREST builds it
 * (`coalesce(json_agg(_pgrst_t), '[]')`), so JSON serialisation (numeric, timestamptz, jsonb …) is
 * PostgreSQL's own on every engine. This is the only module of the gateway that makes SQL, and it makes it
 * only through sql.ts: literals written here, identifiers of schema-cache objects, bind parameters.
 */

const comma = sql`, `;
const and = sql` and `;

// ---------------------------------------------------------------------------------------------- fields

class Aliases {
  private n = 0;
  next(): { alias: Sql; n: number } {
    this.n += 1;
    return { alias: internal(`t${this.n}`), n: this.n };
  }
}

/**
 * The row of `alias` as a value of its table's row type, spelled column by column (`row(a.x, a.y)::tbl`) so it
 * is that type whatever `alias` ranges over: the table, a function's rows of it, or a mutation's CTE.
 */
function rowValue(alias: Sql, table: Table): Sql {
  const cols = join(
    table.columnOrder.map((c) => sql`${alias}.${ident(c)}`),
    comma,
  );
  return sql`row(${cols})::${qualifiedIdent(table)}`;
}

function fieldSql(alias: Sql, f: FieldRef): Sql {
  let out = f.computed
    ? sql`${qualifiedIdent(f.computed.routine)}(${rowValue(alias, f.computed.table)})`
    : sql`${alias}.${ident(f.column.name)}`;
  for (const step of f.json) {
    // An integer key indexes a JSON array; it is bound like any other value, never pasted into the SQL.
    const key = /^-?\d+$/.test(step.key) ? sql`${bind(step.key)}::int` : sql`${bind(step.key)}::text`;
    out = step.op === '->' ? sql`(${out}->${key})` : sql`(${out}->>${key})`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- filters

type FtsOperator = 'fts' | 'plfts' | 'phfts' | 'wfts';

/** The tsquery constructor of each full-text operator (PostgREST: to_tsquery, plainto_, phraseto_, websearch_to_). */
const FTS: Record<FtsOperator, (args: Sql) => Sql> = {
  fts: (a) => sql`to_tsquery(${a})`,
  plfts: (a) => sql`plainto_tsquery(${a})`,
  phfts: (a) => sql`phraseto_tsquery(${a})`,
  wfts: (a) => sql`websearch_to_tsquery(${a})`,
};

const BINARY: Record<Exclude<Operator, 'is' | 'in' | FtsOperator>, Sql> = {
  eq: sql`=`,
  neq: sql`<>`,
  gt: sql`>`,
  gte: sql`>=`,
  lt: sql`<`,
  lte: sql`<=`,
  like: sql`like`,
  ilike: sql`ilike`,
  match: sql`~`,
  imatch: sql`~*`,
  cs: sql`@>`,
  cd: sql`<@`,
  ov: sql`&&`,
  isdistinct: sql`is distinct from`,
  sl: sql`<<`,
  sr: sql`>>`,
  nxr: sql`&<`,
  nxl: sql`&>`,
  adj: sql`-|-`,
};

const IS: Record<string, Sql> = {
  null: sql`is null`,
  not_null: sql`is not null`,
  true: sql`is true`,
  false: sql`is false`,
  unknown: sql`is unknown`,
};

function filterSql(alias: Sql, c: Extract<CondPlan, { kind: 'filter' }>): Sql {
  const lhs = fieldSql(alias, c.field);
  let out: Sql;
  if (c.op === 'is') {
    const kw = IS[c.value as string];
    if (!kw) throw new Error(`unplanned is-value ${String(c.value)}`);
    out = sql`${lhs} ${kw}`;
  } else if (c.op === 'in') {
    const list = c.value as string[];
    out =
      list.length === 0
        ? sql`false`
        : sql`${lhs} in (${join(
            list.map((v) => bind(v)),
            comma,
          )})`;
  } else if (c.op === 'fts' || c.op === 'plfts' || c.op === 'phfts' || c.op === 'wfts') {
    // The configuration is a value like any other: bound, cast to regconfig (an unknown one is PostgreSQL's 42704).
    const args =
      c.language !== undefined
        ? sql`${bind(c.language)}::regconfig, ${bind(c.value as string)}`
        : bind(c.value as string);
    out = sql`${lhs} @@ ${FTS[c.op](args)}`;
  } else {
    // PostgREST lets `*` stand for `%` in like patterns (URL-friendly).
    const raw = c.op === 'like' || c.op === 'ilike' ? (c.value as string).replace(/\*/g, '%') : (c.value as string);
    const op = BINARY[c.op];
    out =
      c.quantifier === 'any'
        ? sql`${lhs} ${op} any(${bind(raw)})`
        : c.quantifier === 'all'
          ? sql`${lhs} ${op} all(${bind(raw)})`
          : sql`${lhs} ${op} ${bind(raw)}`;
  }
  return c.negate ? sql`not (${out})` : out;
}

function conditionSql(alias: Sql, c: CondPlan): Sql {
  if (c.kind === 'filter') return filterSql(alias, c);
  const parts = c.children.map((ch) => sql`(${conditionSql(alias, ch)})`);
  // Always parenthesised: the caller joins conditions with `and`, which binds tighter than `or`.
  const out = sql`(${join(parts, c.op === 'and' ? and : sql` or `)})`;
  return c.negate ? sql`not ${out}` : out;
}

function orderSql(alias: Sql, terms: OrderPlan[]): Sql {
  if (terms.length === 0) return empty;
  const parts = terms.map((t) => {
    const dir = t.dir === 'asc' ? sql` asc` : t.dir === 'desc' ? sql` desc` : empty;
    const nulls = t.nulls === 'first' ? sql` nulls first` : t.nulls === 'last' ? sql` nulls last` : empty;
    return sql`${fieldSql(alias, t.field)}${dir}${nulls}`;
  });
  return sql` order by ${join(parts, comma)}`;
}

/** Limit and offset are bind parameters too: no number from the URL is pasted into the SQL text. */
function pagingSql(limit: number | undefined, offset: number | undefined): Sql {
  const l = limit !== undefined ? sql` limit ${bind(String(limit))}::bigint` : empty;
  const o = offset ? sql` offset ${bind(String(offset))}::bigint` : empty;
  return sql`${l}${o}`;
}

// ---------------------------------------------------------------------------------------------- embedding

function fkJoin(fk: ForeignKey, direction: 'many-to-one' | 'one-to-many', parent: Sql, child: Sql): Sql[] {
  return fk.columns.map((c, i) => {
    const ref = fk.refColumns[i]!;
    return direction === 'many-to-one'
      ? sql`${child}.${ident(ref)} = ${parent}.${ident(c)}`
      : sql`${child}.${ident(c)} = ${parent}.${ident(ref)}`;
  });
}

/**
 * Where an embedded level's rows come from, as `child`, and the conditions tying them to the `parent` row:
 * the foreign key's columns; for many-to-many, a junction row pairing the two (`exists`, so a pair never
 * repeats a row); for a computed relationship, the function called with the parent row.
 */
function relSource(aliases: Aliases, rs: Relationship, parent: Sql, child: Sql): { from: Sql; conds: Sql[] } {
  if (rs.kind === 'computed')
    return { from: sql`${qualifiedIdent(rs.routine)}(${rowValue(parent, rs.source)}) as ${child}`, conds: [] };
  const from = sql`${tableSql(rs.target)} as ${child}`;
  if (rs.kind === 'fk') return { from, conds: fkJoin(rs.fk, rs.direction, parent, child) };
  const { alias: j } = aliases.next();
  const pairs = [...fkJoin(rs.fkSource, 'one-to-many', parent, j), ...fkJoin(rs.fkTarget, 'one-to-many', child, j)];
  return { from, conds: [sql`exists (select 1 from ${tableSql(rs.junction)} as ${j} where ${join(pairs, and)})`] };
}

const whereClause = (conds: Sql[]): Sql => (conds.length ? sql` where ${join(conds, and)}` : empty);

const tableSql = (t: Table | Rel): Sql => qualifiedIdent(t);

/** One output column of a level: its expression over `alias` and its key. Spreads give several. */
function outputs(aliases: Aliases, alias: Sql, item: SelectPlan): { expr: Sql; key: Sql }[] {
  if (item.kind === 'column') {
    let expr = fieldSql(alias, item.field);
    if (item.cast) expr = sql`cast(${expr} as ${qualifiedIdent(item.cast)})`;
    return [{ expr, key: label(item.label) }];
  }
  if (item.filterOnly) return [];
  if (!item.spread) return [{ expr: embedSql(aliases, alias, item), key: label(item.label) }];
  // `...rel(cols)` (to-one): each column is a scalar subquery over the one related row, so types stay PostgreSQL's.
  return item.level.select.flatMap((sub) => {
    const { alias: ca } = aliases.next();
    const src = relSource(aliases, item.rel, alias, ca);
    const where = whereClause([...src.conds, ...whereList(aliases, ca, item.level)]);
    return outputs(aliases, ca, sub).map((o) => ({
      expr: sql`(select ${o.expr} from ${src.from}${where} limit 1)`,
      key: o.key,
    }));
  });
}

/** The select list of one level: columns, casts, JSON paths and embedded subqueries. */
function selectList(aliases: Aliases, alias: Sql, items: SelectPlan[]): Sql {
  const out = items.flatMap((item) => outputs(aliases, alias, item)).map((o) => sql`${o.expr} as ${o.key}`);
  // No columns (`child()`, or only filter-only embeds): a zero-column row, which json_agg writes as `{}`.
  return join(out, comma);
}

/** WHERE conditions of one level, including `!inner` embeds (a parent row needs a matching child). */
function whereList(aliases: Aliases, alias: Sql, level: LevelPlan): Sql[] {
  const conds = level.where.map((c) => conditionSql(alias, c));
  for (const item of level.select) {
    if (item.kind !== 'embed' || !item.inner) continue;
    const { alias: ca } = aliases.next();
    const src = relSource(aliases, item.rel, alias, ca);
    const sub = whereList(aliases, ca, item.level);
    conds.push(sql`exists (select 1 from ${src.from}${whereClause([...src.conds, ...sub])})`);
  }
  return conds;
}

function embedSql(aliases: Aliases, alias: Sql, item: Extract<SelectPlan, { kind: 'embed' }>): Sql {
  const { alias: ca, n } = aliases.next();
  const sub = internal(`_pgrst_e${n}`);
  const src = relSource(aliases, item.rel, alias, ca);
  const from = src.from;
  const where = whereClause([...src.conds, ...whereList(aliases, ca, item.level)]);
  if (item.countLabel !== undefined) {
    const inner = sql`select count(*) as ${label(item.countLabel)} from ${from}${where}`;
    return sql`(select coalesce(json_agg(${sub}), '[]') from (${inner}) ${sub})`;
  }
  const list = selectList(aliases, ca, item.level.select);
  if (item.rel.toOne)
    return sql`(select row_to_json(${sub}) from (select ${list} from ${from}${where} limit 1) ${sub})`;
  const inner = sql`select ${list} from ${from}${where}${orderSql(ca, item.level.order)}${pagingSql(item.level.limit, item.level.offset)}`;
  return sql`(select coalesce(json_agg(${sub}), '[]') from (${inner}) ${sub})`;
}

// ---------------------------------------------------------------------------------------------- result wrapper

/**
 * `text/csv` as PostgREST writes it: a header of the first row's keys, then each row's record text without its
 * parentheses (PostgreSQL's own quoting of commas, quotes and NULLs), one per line.
 */
const CSV_BODY = sql`coalesce((select string_agg(_pgrst_k, ',') from json_object_keys(json_agg(_pgrst_t)->0) as _pgrst_k), '') || chr(10) || coalesce(string_agg(substring(_pgrst_t::text, 2, length(_pgrst_t::text) - 2), chr(10)), '')`;

function bodySql(shape: BodyShape, stripNulls: boolean, agg = sql`json_agg(_pgrst_t)`): Sql {
  const wrap = (s: Sql) => (stripNulls ? sql`json_strip_nulls(${s})` : s);
  if (shape === 'none') return sql`null::text`;
  if (shape === 'csv') return CSV_BODY;
  if (shape === 'object') return sql`(${wrap(sql`${agg}->0`)})::text`;
  return sql`${wrap(sql`coalesce(${agg}, '[]')`)}::text`;
}

const T0 = internal('t0');

/** The FROM and WHERE of a read's top level (shared by the read itself, its exact count and its planned count). */
function readSource(p: ReadPlan, aliases: Aliases): { fromSql: Sql; whereSql: Sql } {
  const fromSql = p.source.kind === 'call' ? callSource(p.source.call, false) : sql`${tableSql(p.level.rel)} as ${T0}`;
  const where = whereList(aliases, T0, p.level);
  return { fromSql, whereSql: where.length ? sql` where ${join(where, and)}` : empty };
}

function renderRead(p: ReadPlan): Sql {
  const aliases = new Aliases();
  const list = selectList(aliases, T0, p.level.select);
  const { fromSql, whereSql } = readSource(p, aliases);
  const inner = sql`select ${list} from ${fromSql}${whereSql}${orderSql(T0, p.level.order)}${pagingSql(p.limit, p.offset)}`;
  const total = p.count ? sql`, (select count(*) from ${fromSql}${whereSql})::int as total` : empty;
  return sql`select count(*)::int as n, ${bodySql(p.shape, p.stripNulls)} as body${total} from (${inner}) _pgrst_t`;
}

/**
 * `Prefer: count=planned`: the planner's row estimate of the unpaged rows, read from EXPLAIN's JSON like
 * PostgREST does (no rows are counted). The statement is the same FROM/WHERE with the same bind parameters.
 */
export function renderPlannedCount(p: ReadPlan | Extract<Plan, { kind: 'call-scalar-set' }>): Statement {
  if (p.kind === 'call-scalar-set') return render(sql`explain (format json) select 1 from ${callSource(p.call, true)}`);
  const { fromSql, whereSql } = readSource(p, new Aliases());
  return render(sql`explain (format json) select 1 from ${fromSql}${whereSql}`);
}

// ---------------------------------------------------------------------------------------------- mutations

function returningSql(r: Returning, cte: Sql, inserted: boolean): Sql {
  const ins = inserted ? sql`, (select count(*) from pgrst_source where _pgrst_inserted)::int as inserted` : empty;
  if (r.shape === 'none' || !r.level)
    return sql`${cte} select count(*)::int as n, null::text as body${ins} from pgrst_source`;
  const list = selectList(new Aliases(), T0, r.level.select);
  return sql`${cte} select count(*)::int as n, ${bodySql(r.shape, r.stripNulls)} as body${ins} from (select ${list} from pgrst_source as "t0") _pgrst_t`;
}

/** The body's rows, parsed by PostgreSQL into the table's row type: numbers are never JavaScript's. */
function bodyRows(target: Sql, body: BodyText, b: Sql): Sql {
  return body.kind === 'array'
    ? sql`json_populate_recordset(null::${target}, ${b}::json)`
    : sql`json_populate_record(null::${target}, ${b}::json)`;
}

function renderInsert(p: InsertPlan): Sql {
  const target = tableSql(p.table);
  const cols = join(
    p.columns.map((c) => ident(c.name)),
    comma,
  );
  let insert: Sql;
  if (p.columns.length === 0 || !p.body) {
    insert = sql`insert into ${target} as "t0" default values`;
  } else if (p.body.present) {
    // `missing=default`: one VALUES row per object; present keys are read from that row's JSON, absent ones are DEFAULT.
    const b = bind(p.body.text);
    const isArray = p.body.kind === 'array';
    const values = p.body.present.map((present, i) => {
      const row = isArray ? sql`(${b}::json -> ${bind(String(i))}::int)` : sql`${b}::json`;
      const cells = p.columns.map((c, j) =>
        present[j] ? sql`(json_populate_record(null::${target}, ${row})).${ident(c.name)}` : sql`default`,
      );
      return sql`(${join(cells, comma)})`;
    });
    insert = sql`insert into ${target} as "t0" (${cols}) values ${join(values, comma)}`;
  } else {
    insert = sql`insert into ${target} as "t0" (${cols}) select ${cols} from ${bodyRows(target, p.body, bind(p.body.text))} _pgrst_body`;
  }
  if (p.onConflict) {
    const conflictNames = p.onConflict.columns.map((c) => c.name);
    const conflict = join(
      conflictNames.map((c) => ident(c)),
      comma,
    );
    const updatable = p.columns.filter((c) => !conflictNames.includes(c.name)).map((c) => c.name);
    const setCols = updatable.length === 0 ? conflictNames : updatable;
    insert =
      p.onConflict.action === 'ignore' || p.columns.length === 0
        ? sql`${insert} on conflict (${conflict}) do nothing`
        : sql`${insert} on conflict (${conflict}) do update set ${join(
            setCols.map((c) => sql`${ident(c)} = excluded.${ident(c)}`),
            comma,
          )}`;
  }
  // xmax = 0 marks a freshly inserted tuple: lets a merge upsert answer 200 when it only updated (as PostgREST).
  const flag = p.countInserted ? sql`, ("t0".xmax::text = '0') as _pgrst_inserted` : empty;
  const cte = sql`with pgrst_source as (${insert} returning "t0".*${flag})`;
  return returningSql(p.returning, cte, p.countInserted);
}

function renderUpdate(p: UpdatePlan): Sql {
  const target = tableSql(p.table);
  const where = p.where.map((c) => conditionSql(T0, c));
  if (p.columns.length === 0) {
    // PostgREST answers an empty PATCH without touching any row.
    const cte = sql`with pgrst_source as (select "t0".* from ${target} as "t0" where ${join([sql`false`, ...where], and)})`;
    return returningSql(p.returning, cte, false);
  }
  const set = join(
    p.columns.map((c) => sql`${ident(c.name)} = _pgrst_body.${ident(c.name)}`),
    comma,
  );
  const whereSql = where.length ? sql` where ${join(where, and)}` : empty;
  const cte = sql`with pgrst_source as (update ${target} as "t0" set ${set} from (select * from ${bodyRows(target, p.body, bind(p.body.text))}) _pgrst_body${whereSql} returning "t0".*)`;
  return returningSql(p.returning, cte, false);
}

function renderDelete(p: DeletePlan): Sql {
  const where = p.where.map((c) => conditionSql(T0, c));
  const whereSql = where.length ? sql` where ${join(where, and)}` : empty;
  const cte = sql`with pgrst_source as (delete from ${tableSql(p.table)} as "t0"${whereSql} returning "t0".*)`;
  return returningSql(p.returning, cte, false);
}

// ---------------------------------------------------------------------------------------------- rpc

/** `json_to_record` turns the JSON arguments into values of the arguments' own pg_types (arrays, json, …). */
function callParts(c: CallPlan): { from: Sql | null; call: Sql } {
  const fn = qualifiedIdent(c.routine);
  const only = c.routine.args[0];
  if (c.rawArg !== undefined && only)
    return { from: null, call: sql`${fn}(${bind(c.rawArg)}::${qualifiedIdent(only.typeRef)})` };
  if (c.given.length === 0 || c.argsJson === null) return { from: null, call: sql`${fn}()` };
  const defs = join(
    c.given.map((a) => sql`${ident(a.name)} ${qualifiedIdent(a.typeRef)}`),
    comma,
  );
  const from = sql`json_to_record(${bind(c.argsJson)}::json) as _pgrst_args(${defs})`;
  return {
    from,
    call: sql`${fn}(${join(
      c.given.map((a) => sql`${ident(a.name)} => _pgrst_args.${ident(a.name)}`),
      comma,
    )})`,
  };
}

function callSource(c: CallPlan, scalar: boolean): Sql {
  const { from, call } = callParts(c);
  return sql`${from ? sql`${from} cross join lateral ` : empty}${call} as "t0"${scalar ? sql`("pgrst_scalar")` : empty}`;
}

// ---------------------------------------------------------------------------------------------- entry points

/** Marked `prepare`: one text per URL shape, values bound, so PostgreSQL can keep its plan per connection. */
export function renderPlan(p: Plan): Statement {
  return { ...render(planSql(p)), prepare: true };
}

function planSql(p: Plan): Sql {
  switch (p.kind) {
    case 'read':
      return renderRead(p);
    case 'insert':
      return renderInsert(p);
    case 'update':
      return renderUpdate(p);
    case 'delete':
      return renderDelete(p);
    case 'call-scalar': {
      const { from, call } = callParts(p.call);
      const value = p.isVoid ? sql`(${call})::text` : sql`to_json(${call})::text`;
      return sql`select 1 as n, ${value} as body${from ? sql` from ${from}` : empty}`;
    }
    case 'call-scalar-set': {
      const source = callSource(p.call, true);
      const total = p.count ? sql`, (select count(*) from ${source})::int as total` : empty;
      const inner = sql`select "t0"."pgrst_scalar" from ${source}${pagingSql(p.limit, p.offset)}`;
      return sql`select count(*)::int as n, ${bodySql(p.shape, false, sql`json_agg(_pgrst_t.pgrst_scalar)`)} as body${total} from (${inner}) _pgrst_t`;
    }
  }
}

/**
 * `Prefer: timezone=…`: sets the transaction's TimeZone only when the zone is one PostgreSQL lists, so an
 * unknown zone is not applied (no error, as PostgREST's lenient handling); the row count says which happened.
 */
export function renderTimezone(zone: string): Statement {
  return render(
    sql`select set_config('timezone', name, true) from pg_catalog.pg_timezone_names where name = ${bind(zone)}`,
  );
}

/**
 * The per-request prelude (PostgREST's): search path, claims, method, path, headers, statement timeout,
 * read-only, role — all bind parameters of one fixed statement, rendered once.
 */
const PRELUDE = render(
  sql`select set_config('search_path', ${bind(0)}, true), set_config('request.jwt.claims', ${bind(1)}, true),
  set_config('request.method', ${bind(2)}, true), set_config('request.path', ${bind(3)}, true), set_config('request.headers', ${bind(4)}, true),
  set_config('statement_timeout', ${bind(5)}, true), set_config('transaction_read_only', ${bind(6)}, true), set_config('role', ${bind(7)}, true)`,
).sql;

export function renderPrelude(v: {
  searchPath: string[];
  claims: string;
  method: string;
  path: string;
  headers: string;
  statementTimeoutMs: number;
  readOnly: boolean;
  role: string;
}): Statement {
  const searchPath = v.searchPath.map(quoteIdent).join(', ');
  return {
    sql: PRELUDE,
    prepare: true,
    params: [
      searchPath,
      v.claims,
      v.method,
      v.path,
      v.headers,
      String(v.statementTimeoutMs),
      v.readOnly ? 'on' : 'off',
      v.role,
    ],
  };
}
