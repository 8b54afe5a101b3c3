/**
 * The only way the gateway makes SQL text. A `Sql` fragment is built from exactly three things:
 *   - sql`...` template literals (text written in this repository, never from a request),
 *   - ident(name)  — a name read from the catalog into the schema cache (a `CachedName`), always quoted,
 *   - bind(value)  — a value from the request, rendered as `$n` and passed as a parameter,
 * plus two narrow helpers for names the gateway itself chooses: internal(…) (its own aliases such as `t0`,
 * checked against a fixed pattern) and label(…) (an output key the client chose with `alias:col`, quoted).
 *
 * Interpolating anything but a `Sql` into sql`…` is a type error (the tag only accepts `Sql` values) and
 * turning a fragment into a string by accident (`${fragment}` in a plain template) throws at run time, so a
 * URL's text can only reach PostgreSQL as a quoted identifier or a bind parameter. render() numbers the binds.
 */
import { quoteIdent } from '../db/quote.js';

declare const cachedBrand: unique symbol;
/** A name that came from the catalog through the schema cache (schema-cache.ts is the only producer). */
export type CachedName = string & { readonly [cachedBrand]: true };

/** Marks catalog-read names; only the schema cache (and tests that build a cache from catalog rows) call it. */
export const cachedName = (s: string): CachedName => s as CachedName;

/** A bind slot: the same slot used twice renders as the same `$n` (a large body is sent once). */
interface Slot {
  value: unknown;
}

/** A fragment is a small tree, flattened once by render(): template, identifier, bind or join node. */
type Node =
  | { kind: 'template'; strings: readonly string[]; values: readonly Sql[] }
  | { kind: 'ident'; name: string }
  | { kind: 'bind'; slot: Slot }
  | { kind: 'join'; items: readonly Sql[]; separator: Sql };

export class Sql {
  /** @internal use sql``, ident(), bind(), internal(), label(), join() */
  constructor(
    readonly node: Node,
    token: symbol,
  ) {
    if (token !== CONSTRUCT) throw new Error('Sql fragments are built with sql``, ident(), bind() and join() only');
  }

  toString(): string {
    throw new Error('a Sql fragment was turned into a string; interpolate it with sql`…` and render() it instead');
  }
}

const CONSTRUCT = Symbol('sql');
const make = (node: Node): Sql => new Sql(node, CONSTRUCT);

export function sql(strings: TemplateStringsArray, ...values: Sql[]): Sql {
  if (!Array.isArray(strings) || !Array.isArray((strings as { raw?: unknown }).raw))
    throw new Error('sql must be used as a template tag');
  for (const v of values)
    if (!(v instanceof Sql)) throw new Error('sql`…` only interpolates Sql fragments (ident, bind, sql)');
  return make({ kind: 'template', strings, values });
}

/** A schema-cache name as a quoted identifier (`"a""b"`). */
export const ident = (name: CachedName): Sql => make({ kind: 'ident', name });

/** `schema.name` as two quoted identifiers. */
export const qualifiedIdent = (ref: { schema: CachedName; name: CachedName }): Sql =>
  sql`${ident(ref.schema)}.${ident(ref.name)}`;

/** A value from the request: always a `$n` parameter. */
export const bind = (value: unknown): Sql => make({ kind: 'bind', slot: { value } });

const INTERNAL = /^(t\d+|_pgrst_[a-z0-9_]+|pgrst_[a-z0-9_]+)$/;
/** The gateway's own aliases (`t0`, `_pgrst_t`, `pgrst_source` …): a fixed shape, quoted like any identifier. */
export function internal(name: string): Sql {
  if (!INTERNAL.test(name)) throw new Error(`not an internal alias: ${JSON.stringify(name)}`);
  return make({ kind: 'ident', name });
}

/** An output key the client chose (`alias:column`): quoted, so it can only ever name a result column. */
export const label = (name: string): Sql => make({ kind: 'ident', name });

export function join(fragments: readonly Sql[], separator: Sql): Sql {
  return make({ kind: 'join', items: fragments, separator });
}

export const empty = sql``;

// The one quoting function lives in src/db/quote.ts; re-exported for the gateway's renderer.
export { quoteIdent };

export interface Statement {
  sql: string;
  params: unknown[];
  /** See Statement.prepare in src/db/database.ts. */
  prepare?: boolean;
}

/** Fragment → text with `$1…$n` and the parameter list (the only place SQL text is assembled). */
export function render(fragment: Sql, params: unknown[] = []): Statement {
  const values = [...params];
  const numbers = new Map<Slot, number>();
  let out = '';
  const walk = (f: Sql): void => {
    const n = f.node;
    switch (n.kind) {
      case 'template':
        for (let i = 0; i < n.strings.length; i++) {
          out += n.strings[i];
          if (i < n.values.length) walk(n.values[i]!);
        }
        return;
      case 'ident':
        out += quoteIdent(n.name);
        return;
      case 'bind': {
        let k = numbers.get(n.slot);
        if (k === undefined) {
          values.push(n.slot.value);
          k = values.length;
          numbers.set(n.slot, k);
        }
        out += `$${k}`;
        return;
      }
      case 'join':
        for (let i = 0; i < n.items.length; i++) {
          if (i > 0) walk(n.separator);
          walk(n.items[i]!);
        }
        return;
    }
  };
  walk(fragment);
  return { sql: out, params: values };
}
