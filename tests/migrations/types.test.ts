import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { generateTypes, TYPES_FILE } from '../../src/commands/gen-types.js';
import { describePg, pgUrl } from '../support/pg.js';
import { generateJsonbTypes, JSONB_TYPES_FILE } from '../../src/schema/jsonb-types.js';

describePg('generated TypeScript types (supabase gen types on PostgreSQL 15)', () => {
  it('types/database.types.ts matches the schema at head', async () => {
    const generated = await generateTypes(pgUrl());
    expect(generated).toContain('export type Database');
    expect(readFileSync(TYPES_FILE, 'utf8'), 'stale types: run `npm run db -- types` and commit the result').toBe(
      generated,
    );
  });
});

it('types/jsonb.types.ts matches fixtures/schemas (json-schema-to-typescript)', async () => {
  const generated = await generateJsonbTypes();
  expect(generated).toContain('export interface JsonbColumnTypes');
  expect(
    readFileSync(JSONB_TYPES_FILE, 'utf8'),
    'stale JSONB types: run `npm run db -- types` and commit the result',
  ).toBe(generated);
});
