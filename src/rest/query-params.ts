import { parseError } from './errors.js';

/**
 * The PostgREST query-string grammar our suites (and supabase-js) use, parsed into a small AST. Parsing knows
 * nothing about the database: names are checked against the schema cache later, in the SQL builder. Anything
 * the grammar does not cover is a PGRST100 error, never a guess.
 */
export interface JsonStep {
  op: '->' | '->>';
  key: string;
}

export interface Field {
  name: string;
  json: JsonStep[];
}

export type SelectItem =
  | { kind: 'star' }
  | { kind: 'column'; field: Field; alias?: string; cast?: string }
  | {
      kind: 'embed';
      name: string;
      alias?: string;
      hint?: string;
      inner: boolean;
      select: SelectItem[];
      spread?: boolean;
    };

export const OPERATORS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'like',
  'ilike',
  'match',
  'imatch',
  'is',
  'isdistinct',
  'in',
  'cs',
  'cd',
  'ov',
  'sl',
  'sr',
  'nxr',
  'nxl',
  'adj',
  'fts',
  'plfts',
  'phfts',
  'wfts',
] as const;
export type Operator = (typeof OPERATORS)[number];
/** Full-text search operators: `fts(config).query`, the optional text search configuration in parentheses. */
export const FTS_OPERATORS: ReadonlySet<Operator> = new Set<Operator>(['fts', 'plfts', 'phfts', 'wfts']);
const QUANTIFIABLE = new Set<Operator>(['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'like', 'ilike', 'match', 'imatch']);
export const IS_VALUES = ['null', 'not_null', 'true', 'false', 'unknown'] as const;

export interface OpExpr {
  negate: boolean;
  op: Operator;
  quantifier?: 'any' | 'all';
  /** fts family: the text search configuration (`fts(english)`), bound and cast to regconfig. */
  language?: string;
  /** `in` → list; everything else → the raw value. */
  value: string | string[];
}

export interface Filter {
  kind: 'filter';
  field: Field;
  expr: OpExpr;
}

export interface Logic {
  kind: 'logic';
  op: 'and' | 'or';
  negate: boolean;
  children: Condition[];
}

export type Condition = Filter | Logic;

export interface OrderTerm {
  field: Field;
  dir?: 'asc' | 'desc';
  nulls?: 'first' | 'last';
}

/** Filters, order and paging that apply at one level: '' = top level, 'child' / 'child.grandchild' = embeds. */
export interface LevelParams {
  conditions: Condition[];
  order: OrderTerm[];
  limit?: number;
  offset?: number;
}

export interface QueryParams {
  select: SelectItem[];
  levels: Map<string, LevelParams>;
  columns?: string[];
  onConflict?: string[];
  /** Parameters taken as function arguments (GET/HEAD rpc). */
  args: Map<string, string>;
}

// ---------------------------------------------------------------------------------------------- scanner

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

class Scanner {
  pos = 0;
  constructor(
    readonly src: string,
    readonly what: string,
  ) {}
  get done(): boolean {
    return this.pos >= this.src.length;
  }
  peek(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }
  eat(s: string): boolean {
    if (!this.peek(s)) return false;
    this.pos += s.length;
    return true;
  }
  fail(expected: string): never {
    const ch = this.src[this.pos];
    throw parseError(
      this.what,
      this.src,
      `${ch === undefined ? 'unexpected end of input' : `unexpected "${ch}"`} expecting ${expected}`,
    );
  }
  expect(s: string): void {
    if (!this.eat(s)) this.fail(`"${s}"`);
  }
  ident(): string {
    if (this.peek('"')) return this.quoted();
    const start = this.pos;
    while (!this.done && IDENT_CHAR.test(this.src[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail('field name');
    return this.src.slice(start, this.pos);
  }
  quoted(): string {
    this.expect('"');
    let out = '';
    while (!this.done) {
      const c = this.src[this.pos++]!;
      if (c === '\\' && !this.done) out += this.src[this.pos++];
      else if (c === '"') return out;
      else out += c;
    }
    this.fail('closing quote');
  }
}

/** A JSON path key after -> or ->>: a name, or a negative array index (`-1`). */
function jsonKey(sc: Scanner): string {
  if (!sc.peek('-')) return sc.ident();
  sc.eat('-');
  return `-${sc.ident()}`;
}

function parseField(sc: Scanner): Field {
  const name = sc.ident();
  const json: JsonStep[] = [];
  for (;;) {
    const op = sc.eat('->>') ? '->>' : sc.eat('->') ? '->' : null;
    if (!op) break;
    json.push({ op, key: jsonKey(sc) });
  }
  return { name, json };
}

// ---------------------------------------------------------------------------------------------- select

export function parseSelect(src: string): SelectItem[] {
  const sc = new Scanner(src, 'select parameter');
  if (src === '') return [{ kind: 'star' }];
  const items = parseItems(sc, false);
  if (!sc.done) sc.fail('"," or end of input');
  return items;
}

function parseItems(sc: Scanner, nested: boolean): SelectItem[] {
  const items: SelectItem[] = [];
  if (nested && sc.peek(')')) return items;
  for (;;) {
    items.push(parseItem(sc));
    if (!sc.eat(',')) break;
  }
  return items;
}

function parseItem(sc: Scanner): SelectItem {
  if (sc.eat('*')) return { kind: 'star' };
  const spread = sc.eat('...');
  let alias: string | undefined;
  let name = sc.ident();
  // `...rel(cols)`: a to-one embed whose columns join the parent's; no alias (the embed has no key of its own).
  if (spread && !(sc.peek('!') || sc.peek('('))) sc.fail('"(" after a spread relationship name');
  if (spread && sc.peek(':')) sc.fail('"(" (a spread embedding takes no alias)');
  if (sc.peek(':') && !sc.peek('::')) {
    sc.eat(':');
    alias = name;
    name = sc.ident();
  }
  if (sc.peek('!') || sc.peek('(')) {
    let hint: string | undefined;
    let inner = false;
    while (sc.eat('!')) {
      const h = sc.ident();
      if (h === 'inner') inner = true;
      else if (h === 'left') inner = false;
      else if (hint === undefined) hint = h;
      else sc.fail('"inner" or "left"');
    }
    sc.expect('(');
    const select = parseItems(sc, true);
    sc.expect(')');
    return {
      kind: 'embed',
      name,
      ...(alias !== undefined ? { alias } : {}),
      ...(hint !== undefined ? { hint } : {}),
      inner,
      select,
      ...(spread ? { spread } : {}),
    };
  }
  // JSON arrows attach to the column just read.
  const json: JsonStep[] = [];
  for (;;) {
    const op = sc.eat('->>') ? '->>' : sc.eat('->') ? '->' : null;
    if (!op) break;
    json.push({ op, key: jsonKey(sc) });
  }
  let cast: string | undefined;
  if (sc.eat('::')) {
    const start = sc.pos;
    while (!sc.done && /[A-Za-z0-9_ ]/.test(sc.src[sc.pos]!)) sc.pos++;
    sc.eat('[]');
    cast = sc.src.slice(start, sc.pos).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_ ]*(\[\])?$/.test(cast)) sc.fail('type name');
  }
  return {
    kind: 'column',
    field: { name, json },
    ...(alias !== undefined ? { alias } : {}),
    ...(cast !== undefined ? { cast } : {}),
  };
}

// ---------------------------------------------------------------------------------------------- filters

/** Splits at top-level commas, respecting double quotes and parentheses. */
function splitTopLevel(s: string, what: string, whole: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth < 0) throw parseError(what, whole, 'unbalanced ")"');
    } else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted || depth !== 0) throw parseError(what, whole, 'unbalanced quotes or parentheses');
  out.push(s.slice(start));
  return out;
}

function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

/** `[not.]op[(any|all)].value` */
export function parseOpExpr(src: string, inTree = false): OpExpr {
  let rest = src;
  let negate = false;
  if (rest.startsWith('not.')) {
    negate = true;
    rest = rest.slice(4);
  }
  const m = /^([a-z]+)(?:\(([^()]*)\))?\./.exec(rest);
  const op = m?.[1] as Operator | undefined;
  if (!m || !op || !(OPERATORS as readonly string[]).includes(op)) {
    throw parseError(
      'filter',
      src,
      `unexpected "${rest.split('.')[0] ?? ''}" expecting "not" or operator (${OPERATORS.join(', ')})`,
    );
  }
  const modifier = m[2];
  if (FTS_OPERATORS.has(op)) {
    // A configuration name (`english`, `pg_catalog.simple`); it reaches SQL only as a bind parameter.
    if (modifier !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(modifier)) {
      throw parseError('filter', src, `unexpected "${modifier}" expecting a text search configuration name`);
    }
    const raw = rest.slice(m[0].length);
    return {
      negate,
      op,
      ...(modifier !== undefined ? { language: modifier } : {}),
      value: inTree ? unquote(raw) : raw,
    };
  }
  if (modifier !== undefined && modifier !== 'any' && modifier !== 'all')
    throw parseError('filter', src, `unexpected "(${modifier})" expecting "(any)" or "(all)"`);
  const quantifier = modifier as 'any' | 'all' | undefined;
  if (quantifier && !QUANTIFIABLE.has(op))
    throw parseError('filter', src, `operator ${op} does not take (${quantifier})`);
  const raw = rest.slice(m[0].length);
  if (op === 'in') {
    if (!raw.startsWith('(') || !raw.endsWith(')')) throw parseError('filter', src, 'expecting "(" list of values ")"');
    const inner = raw.slice(1, -1);
    const value = inner === '' ? [] : splitTopLevel(inner, 'filter', src).map(unquote);
    return { negate, op, value };
  }
  if (op === 'is') {
    const v = raw.toLowerCase();
    if (!(IS_VALUES as readonly string[]).includes(v))
      throw parseError('filter', src, `unexpected "${raw}" expecting null, not_null, true, false or unknown`);
    return { negate, op, value: v };
  }
  return { negate, op, ...(quantifier ? { quantifier } : {}), value: inTree ? unquote(raw) : raw };
}

/** `(cond,cond,…)` as used by `or=` / `and=` and nested `and(…)`, `not.or(…)`. */
export function parseLogic(op: 'and' | 'or', negate: boolean, src: string): Logic {
  if (!src.startsWith('(') || !src.endsWith(')')) throw parseError('logic tree', src, 'expecting "(" conditions ")"');
  const parts = splitTopLevel(src.slice(1, -1), 'logic tree', src);
  const children = parts.map((p): Condition => {
    const m = /^(not\.)?(and|or)(\(.*\))$/s.exec(p);
    if (m) return parseLogic(m[2] as 'and' | 'or', Boolean(m[1]), m[3]!);
    const sc = new Scanner(p, 'logic tree');
    const field = parseField(sc);
    if (!sc.eat('.')) sc.fail('"." and an operator');
    return { kind: 'filter', field, expr: parseOpExpr(p.slice(sc.pos), true) };
  });
  if (children.length === 0 || parts.some((p) => p === '')) throw parseError('logic tree', src, 'empty condition');
  return { kind: 'logic', op, negate, children };
}

// ---------------------------------------------------------------------------------------------- order

export function parseOrder(src: string): OrderTerm[] {
  return splitTopLevel(src, 'order', src).map((term) => {
    const sc = new Scanner(term, 'order');
    const field = parseField(sc);
    const t: OrderTerm = { field };
    const mods = sc.src.slice(sc.pos);
    if (mods !== '' && !mods.startsWith('.'))
      throw parseError('order', src, `unexpected "${mods[0]}" expecting "." or ","`);
    for (const mod of mods.split('.').slice(1)) {
      if ((mod === 'asc' || mod === 'desc') && !t.dir && !t.nulls) t.dir = mod;
      else if ((mod === 'nullsfirst' || mod === 'nullslast') && !t.nulls)
        t.nulls = mod === 'nullsfirst' ? 'first' : 'last';
      else throw parseError('order', src, `unexpected "${mod}" expecting "asc", "desc", "nullsfirst" or "nullslast"`);
    }
    return t;
  });
}

// ---------------------------------------------------------------------------------------------- whole query

function nonNegativeInt(key: string, v: string): number {
  if (!/^\d+$/.test(v)) throw parseError(key, v, 'expecting a non-negative integer');
  return Number(v);
}

function nameList(src: string): string[] {
  return splitTopLevel(src, 'columns', src).map((c) => {
    const sc = new Scanner(c, 'columns');
    const name = sc.ident();
    if (!sc.done) sc.fail('"," or end of input');
    return name;
  });
}

function splitKey(key: string): string[] {
  return key.split('.');
}

/**
 * @param isArg for GET/HEAD RPC: which plain parameters are function arguments rather than filters.
 */
export function parseQueryParams(search: URLSearchParams, isArg: (name: string) => boolean = () => false): QueryParams {
  const q: QueryParams = { select: [{ kind: 'star' }], levels: new Map(), args: new Map() };
  const level = (path: string): LevelParams => {
    let l = q.levels.get(path);
    if (!l) {
      l = { conditions: [], order: [] };
      q.levels.set(path, l);
    }
    return l;
  };
  level('');
  for (const [key, value] of search) {
    if (key === 'select') q.select = parseSelect(value);
    else if (key === 'columns') q.columns = nameList(value);
    else if (key === 'on_conflict') q.onConflict = nameList(value);
    else if (isArg(key)) q.args.set(key, value);
    else {
      const segs = splitKey(key);
      const last = segs[segs.length - 1]!;
      if (segs.length === 1 && !['order', 'limit', 'offset', 'and', 'or'].includes(last)) {
        const sc = new Scanner(key, 'filter');
        const field = parseField(sc);
        if (!sc.done) sc.fail('field name');
        level('').conditions.push({ kind: 'filter', field, expr: parseOpExpr(value) });
        continue;
      }
      if (last === 'order' || last === 'limit' || last === 'offset') {
        const l = level(segs.slice(0, -1).join('.'));
        if (last === 'order') l.order = parseOrder(value);
        else l[last] = nonNegativeInt(last, value);
      } else if (last === 'and' || last === 'or') {
        const negate = segs[segs.length - 2] === 'not';
        const path = segs.slice(0, negate ? -2 : -1).join('.');
        level(path).conditions.push(parseLogic(last, negate, value));
      } else {
        // `child.col=op.value`: a filter on an embedded resource's column.
        const sc = new Scanner(last, 'filter');
        const field = parseField(sc);
        if (!sc.done) sc.fail('field name');
        level(segs.slice(0, -1).join('.')).conditions.push({ kind: 'filter', field, expr: parseOpExpr(value) });
      }
    }
  }
  return q;
}
