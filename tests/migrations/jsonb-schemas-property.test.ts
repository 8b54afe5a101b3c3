/**
 * Property test: for every JSON Schema a 0034 constraint holds, private.jsonb_matches_schema (0037's body)
 * gives Ajv's verdict on generated documents — valid ones, valid ones with one node mutated, and arbitrary
 * JSON. jsonb-schemas.test.ts checks the same agreement on the seeded documents and fixed mutations of them.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { withoutAnnotations, type JsonSchema } from '../../src/schema/jsonb-schemas.js';
import { documentArbitrary } from '../support/json-schema-arbitrary.js';
import { checkedSchemas, validators } from '../support/jsonb-ajv.js';
import { pgliteAtHead } from '../support/pglite-head.js';

/** Documents per database round trip, and round trips per schema. */
const BATCH = 50;
const RUNS = 20;

describe('private.jsonb_matches_schema agrees with Ajv on generated documents', () => {
  let db: Database;
  beforeAll(async () => {
    db = await pgliteAtHead();
  });
  afterAll(async () => db?.close());

  const verdicts = async (schema: unknown, docs: unknown[]) =>
    (
      await db.query<{ ok: boolean }>(
        `select private.jsonb_matches_schema($1::jsonb, d.value) as ok
           from pg_catalog.jsonb_array_elements($2::jsonb) with ordinality as d (value, n) order by d.n`,
        [JSON.stringify(schema), JSON.stringify(docs)],
      )
    ).rows.map((r) => r.ok);

  it.each(checkedSchemas.map((s) => [s.name, s] as const))('%s', async (_name, s) => {
    const validate = validators.get(s.name)!;
    const schema = withoutAnnotations(s.schema);
    let valid = 0;
    let invalid = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(documentArbitrary(s.schema as JsonSchema), { minLength: BATCH / 2, maxLength: BATCH }),
        async (docs) => {
          const db = await verdicts(schema, docs);
          docs.forEach((doc, i) => {
            const expected = validate(doc);
            if (expected) valid++;
            else invalid++;
            if (db[i] !== expected)
              throw new Error(`database says ${db[i]}, Ajv ${expected}: ${JSON.stringify(doc).slice(0, 500)}`);
          });
        },
      ),
      { numRuns: RUNS },
    );
    console.log(`[figures] ${s.name}: agreed on ${valid} valid and ${invalid} invalid generated documents`);
    // The generator must reach both verdicts, or the comparison proves little.
    expect(valid).toBeGreaterThan(RUNS * 5);
    expect(invalid).toBeGreaterThan(RUNS * 5);
  });
});
