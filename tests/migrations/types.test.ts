import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { generateTypes, TYPES_FILE } from '../../src/commands/types.js';
import { describePg, pgUrl } from '../support/pg.js';

describePg('generated TypeScript types (supabase gen types on PostgreSQL 15)', () => {
  it('types/database.types.ts matches the schema at head', async () => {
    const generated = await generateTypes(pgUrl());
    expect(generated).toContain('export type Database');
    expect(readFileSync(TYPES_FILE, 'utf8'), 'stale types: run `npm run db -- types` and commit the result').toBe(generated);
  });
});
