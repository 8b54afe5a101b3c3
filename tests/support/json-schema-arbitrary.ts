import fc from 'fast-check';
import type { JsonSchema } from '../../src/schema/jsonb-schemas.js';

/**
 * fast-check arbitraries for the JSON Schema subset of fixtures/schemas: documents that mostly satisfy a
 * schema (then mutated at a random node, or replaced by any JSON) so that a comparison of two validators sees
 * both verdicts near the boundaries. The generator only aims; the verdict always comes from Ajv.
 */

/** Long enough to cross the small limits (40, 80, 200); the 4000-character ones are crossed by mutations. */
const GENERATED_LENGTH_CAP = 90;
const GENERATED_ITEMS_CAP = 6;

const num = (s: JsonSchema, k: string) => (typeof s[k] === 'number' ? (s[k] as number) : undefined);

function stringArb(s: JsonSchema): fc.Arbitrary<string> {
  if (typeof s.pattern === 'string') {
    // The fixtures' patterns mean the same in JavaScript and PostgreSQL (ASCII classes, anchors, groups).
    return fc.stringMatching(new RegExp(s.pattern));
  }
  const minLength = num(s, 'minLength') ?? 0;
  const maxLength = Math.min(num(s, 'maxLength') ?? GENERATED_LENGTH_CAP, Math.max(minLength, GENERATED_LENGTH_CAP));
  return fc.oneof(
    fc.string({ minLength, maxLength }),
    // Several UTF-16 units per character: both sides must count characters (code points), not bytes or units.
    fc.string({ unit: 'grapheme', minLength, maxLength }),
  );
}

function numberArb(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const min = num(s, 'minimum');
  const max = num(s, 'maximum');
  if (integer) return fc.integer({ min: min ?? -1_000_000, max: max ?? 1_000_000 });
  const bounded = fc.double({ min: min ?? -1e9, max: max ?? 1e9, noNaN: true, noDefaultInfinity: true });
  // Exact bounds and whole numbers are where "integer", "minimum" and "maximum" are decided.
  return fc.oneof(bounded, fc.constantFrom(...[min, max].filter((x): x is number => x !== undefined), 0, 1, 2.5));
}

/** Documents that satisfy `schema` (the subset our fixtures use; an unknown keyword throws). */
export function validArbitrary(schema: JsonSchema): fc.Arbitrary<unknown> {
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const type = schema.type;
  if (Array.isArray(type)) return fc.oneof(...type.map((t) => validArbitrary({ ...schema, type: t })));
  switch (type) {
    case 'string':
      return stringArb(schema);
    case 'integer':
      return numberArb(schema, true);
    case 'number':
      return numberArb(schema, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const items = schema.items ? validArbitrary(schema.items as JsonSchema) : fc.jsonValue();
      const minLength = num(schema, 'minItems') ?? 0;
      const maxLength = Math.min(
        num(schema, 'maxItems') ?? GENERATED_ITEMS_CAP,
        Math.max(minLength, GENERATED_ITEMS_CAP),
      );
      return schema.uniqueItems
        ? fc.uniqueArray(items, { minLength, maxLength, selector: (x) => JSON.stringify(x) })
        : fc.array(items, { minLength, maxLength });
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required ?? []) as string[]);
      const known = fc.record(Object.fromEntries(Object.entries(properties).map(([k, p]) => [k, validArbitrary(p)])), {
        requiredKeys: [...required].filter((k) => k in properties),
      });
      const extra = schema.additionalProperties;
      if (extra === undefined || extra === false) return known;
      const extraValues = extra === true ? fc.jsonValue() : validArbitrary(extra as JsonSchema);
      const extraKeys = fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in properties));
      return fc.tuple(known, fc.dictionary(extraKeys, extraValues, { maxKeys: 4 })).map(([k, e]) => ({ ...e, ...k }));
    }
    default:
      throw new Error(`validArbitrary: unsupported schema ${JSON.stringify(schema).slice(0, 200)}`);
  }
}

type Mutation = { at: number; kind: 'replace' | 'delete' | 'add' | 'duplicate' | 'stretch'; value: unknown };

/** `doc` with one node (counted depth-first, the root included) changed the way `m` says. */
function mutate(doc: unknown, m: Mutation): unknown {
  let counter = 0;
  const walk = (v: unknown): unknown => {
    const here = counter++ === m.at;
    if (here) {
      if (m.kind === 'replace') return m.value;
      if (m.kind === 'stretch' && typeof v === 'string') return v.repeat(1 + Math.ceil(4001 / Math.max(1, v.length)));
      if (Array.isArray(v)) {
        if (m.kind === 'duplicate' && v.length) return [...v, v[0]];
        if (m.kind === 'delete' && v.length) return v.slice(1);
        if (m.kind === 'add') return [...v, m.value];
      } else if (v !== null && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        const keys = Object.keys(o);
        if (m.kind === 'delete' && keys.length) {
          const { [keys[0]!]: _dropped, ...rest } = o;
          return rest;
        }
        if (m.kind === 'add') return { ...o, [`extra_${keys.length}`]: m.value };
      }
      return m.value;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(doc);
}

/** JSON the database can store: jsonb rejects \u0000 in strings (and in keys). */
const storable = (doc: unknown) => !JSON.stringify(doc).includes('\\u0000');

/** A mix: valid documents, valid ones with one node mutated, and any JSON at all. */
export function documentArbitrary(schema: JsonSchema): fc.Arbitrary<unknown> {
  const valid = validArbitrary(schema);
  const mutation: fc.Arbitrary<Mutation> = fc.record({
    at: fc.nat({ max: 40 }),
    kind: fc.constantFrom('replace', 'delete', 'add', 'duplicate', 'stretch'),
    value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 0, 0.5, 1e21, '', 'x', true, null)),
  });
  return fc
    .oneof(
      { arbitrary: valid, weight: 2 },
      { arbitrary: fc.tuple(valid, mutation).map(([d, m]) => mutate(d, m)), weight: 3 },
      { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
    )
    .filter(storable);
}
