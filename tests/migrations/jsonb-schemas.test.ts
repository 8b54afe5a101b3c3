/**
 * The JSONB columns' JSON Schemas (fixtures/schemas), three ways that must agree: the files themselves
 * (validated with Ajv, the reference implementation), the database's constraints from migration 0034
 * (private.jsonb_matches_schema), and the generated TypeScript types (types/jsonb.types.ts, drift-checked in
 * types.test.ts). Payloads sent by a client are tested through supabase-js in tests/rls/jsonb-payloads.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { withoutAnnotations } from '../../src/schema/jsonb-schemas.js';
import { ajv, checkedSchemas, columnName, EXACT_VALIDATORS, schemas, validators } from '../support/jsonb-ajv.js';
import { pgliteAtHeadSeeded } from '../support/pglite-head.js';

const seeded = pgliteAtHeadSeeded;

/** Wrong-shape variants of a valid document: every required key dropped, an unknown key added, each leaf's type flipped. */
function mutations(value: unknown): unknown[] {
  const out: unknown[] = [42, 'text', null, [], {}];
  const walk = (v: unknown, rebuild: (x: unknown) => unknown) => {
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) walk(item, (x) => rebuild(v.map((y, j) => (j === i ? x : y))));
      if (v.length) out.push(rebuild([...v, v[0]]));
    } else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      out.push(rebuild({ ...o, unexpected_key: true }));
      for (const k of Object.keys(o)) {
        const { [k]: _dropped, ...rest } = o;
        out.push(rebuild(rest));
        walk(o[k], (x) => rebuild({ ...o, [k]: x }));
      }
    } else {
      out.push(
        rebuild(typeof v === 'string' ? 7 : typeof v === 'number' ? String(v) : typeof v === 'boolean' ? 'yes' : 0),
      );
      if (typeof v === 'number') out.push(rebuild(-v - 1000), rebuild(v + 0.5), rebuild(v * 1000 + 1000));
      if (typeof v === 'string') out.push(rebuild(''), rebuild(`${v}-X Y`), rebuild('x'.repeat(5000)));
    }
  };
  walk(value, (x) => x);
  return out;
}

describe('JSON Schemas of the JSONB columns', () => {
  let db: Database;
  beforeAll(async () => {
    db = await seeded();
  });
  afterAll(async () => db?.close());

  it('are draft-07 and map one-to-one onto the jsonb columns of public', async () => {
    for (const s of schemas) {
      expect(s.schema.$schema, s.file).toBe('http://json-schema.org/draft-07/schema#');
      expect(s.schema.$id, s.file).toMatch(new RegExp(`/${s.name}\\.schema\\.json$`));
    }
    const r = await db.query<{ col: string }>(
      `select 'public.' || c.relname || '.' || a.attname as col
         from pg_catalog.pg_class c join pg_catalog.pg_attribute a on a.attrelid = c.oid
        where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and a.atttypid = 'jsonb'::regtype and not a.attisdropped
        order by 1`,
    );
    expect(schemas.flatMap((s) => s.columns.map(columnName)).sort()).toEqual(r.rows.map((x) => x.col));
  });

  it('every seeded value is valid (Ajv), and every column has seeded values', async () => {
    for (const s of schemas) {
      for (const c of s.columns) {
        const r = await db.query<{ v: unknown }>(
          `select "${c.column}" as v from "${c.schema}"."${c.table}" where "${c.column}" is not null`,
        );
        expect(r.rows.length, `${columnName(c)} has seeded values`).toBeGreaterThan(0);
        for (const { v } of r.rows)
          expect(
            validators.get(s.name)!(v),
            `${s.name} ← ${columnName(c)}: ${ajv.errorsText(validators.get(s.name)!.errors)}`,
          ).toBe(true);
      }
    }
  });

  it("every column's default satisfies its schema (an insert that omits the column must not fail the check)", async () => {
    let withDefault = 0;
    for (const s of schemas) {
      for (const c of s.columns) {
        const d = await db.query<{ expr: string | null }>(
          `select pg_catalog.pg_get_expr(d.adbin, d.adrelid) as expr
             from pg_catalog.pg_attrdef d join pg_catalog.pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
            where d.adrelid = pg_catalog.format('%I.%I', $1::text, $2::text)::regclass and a.attname = $3`,
          [c.schema, c.table, c.column],
        );
        const expr = d.rows[0]?.expr;
        if (!expr) continue;
        withDefault++;
        // The default is an expression from the catalog (e.g. '{}'::jsonb): evaluate it, then judge it as a payload.
        const value = (await db.query<{ v: unknown }>(`select ${expr} as v`)).rows[0]!.v;
        const validate = validators.get(s.name)!;
        expect(validate(value), `${columnName(c)} default ${expr}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      }
    }
    expect(withDefault).toBeGreaterThan(5);
  });

  it('each column is guarded by the constraint holding exactly its file (or by its named exact validator)', async () => {
    const r = await db.query<{ conname: string; def: string; validated: boolean }>(
      `select conname, pg_catalog.pg_get_constraintdef(oid) as def, convalidated as validated
         from pg_catalog.pg_constraint where connamespace = 'public'::regnamespace and contype = 'c'`,
    );
    const byName = new Map(r.rows.map((x) => [x.conname, x]));
    for (const s of schemas) {
      for (const c of s.columns) {
        const exact = EXACT_VALIDATORS[columnName(c)];
        if (exact) {
          expect(byName.has(exact), `${columnName(c)}: ${exact}`).toBe(true);
          continue;
        }
        const con = byName.get(`${c.table}_${c.column}_matches_schema`);
        expect(con, `${columnName(c)} has a ${c.table}_${c.column}_matches_schema constraint`).toBeDefined();
        expect(con!.validated, `${con!.conname} is validated`).toBe(true);
        const literal = /jsonb_matches_schema\('((?:[^']|'')*)'::jsonb, /.exec(con!.def);
        expect(literal, con!.def).not.toBeNull();
        expect(
          JSON.parse(literal![1]!.replace(/''/g, "'")),
          `${con!.conname} holds fixtures/schemas/${s.name}.schema.json: a changed file needs a new migration`,
        ).toEqual(withoutAnnotations(s.schema));
      }
    }
  });

  it('the database agrees with Ajv on every seeded document and hundreds of wrong-shape variants of them', async () => {
    let checked = 0;
    let rejected = 0;
    for (const s of checkedSchemas) {
      const c = s.columns[0]!;
      const seeded = (
        await db.query<{ v: unknown }>(
          `select "${c.column}" as v from "${c.schema}"."${c.table}" where "${c.column}" is not null limit 3`,
        )
      ).rows.map((x) => x.v);
      const docs = [...seeded, ...seeded.flatMap(mutations)];
      const verdicts = await db.query<{ ok: boolean }>(
        `select private.jsonb_matches_schema($1::jsonb, d.value) as ok from pg_catalog.jsonb_array_elements($2::jsonb) with ordinality as d (value, n) order by d.n`,
        [JSON.stringify(withoutAnnotations(s.schema)), JSON.stringify(docs)],
      );
      docs.forEach((doc, i) => {
        // JSON null is a document here, not SQL null: both must judge it by the schema's type.
        const expected = validators.get(s.name)!(doc);
        expect(verdicts.rows[i]!.ok, `${s.name}: ${JSON.stringify(doc).slice(0, 300)}`).toBe(expected);
        checked++;
        if (!expected) rejected++;
      });
    }
    console.log(`[figures] jsonb_matches_schema agreed with Ajv on ${checked} documents (${rejected} invalid)`);
    expect(rejected).toBeGreaterThan(100);
  });

  it('an unknown schema keyword raises instead of being ignored', async () => {
    await expect(
      db.query(`select private.jsonb_matches_schema('{"type":"object","patternProperties":{}}'::jsonb, '{}'::jsonb)`),
    ).rejects.toThrow(/unsupported JSON Schema keyword "patternProperties"/);
  });
});
