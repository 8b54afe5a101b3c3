/**
 * The expected-outcome matrix must describe exactly the API surface: every relation in schema public (a new
 * table is exposed by PostgREST the moment it exists) and nothing that does not exist. Personas and
 * operations are validated by the loader against the fixed sets both suites know how to act out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { loadMatrix, matrixCells, OPERATIONS, parseMatrix, PERSONAS } from '../../src/harness/matrix.js';
import { pgliteAtHead } from '../support/pglite-head.js';
import { MATRIX_PATH } from '../paths.js';

const fresh = pgliteAtHead;

describe('tests/rls/matrix.json covers the public schema', () => {
  let db: Database;
  beforeAll(async () => {
    db = await fresh();
  });
  afterAll(async () => db?.close());

  it('loads, and names exactly the personas and operations the suites act out', () => {
    const m = loadMatrix(MATRIX_PATH);
    expect(Object.keys(m.personas).sort()).toEqual([...PERSONAS].sort());
    expect([...m.operations].sort()).toEqual([...OPERATIONS].sort());
    const cells = matrixCells(m);
    expect(cells.length).toBe(Object.keys(m.tables).length * PERSONAS.length * OPERATIONS.length);
    console.log(
      `[figures] matrix: ${Object.keys(m.tables).length} tables x ${PERSONAS.length} personas x ${OPERATIONS.length} operations = ${cells.length} cells`,
    );
  });

  it('covers every relation in schema public at head, and names no relation that does not exist', async () => {
    const m = loadMatrix(MATRIX_PATH);
    const r = await db.query<{ name: string }>(
      `select c.relname as name from pg_catalog.pg_class c
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'f')
        order by 1`,
    );
    const relations = r.rows.map((x) => x.name);
    const missing = relations.filter((t) => !(t in m.tables));
    const unknown = Object.keys(m.tables).filter((t) => !relations.includes(t));
    expect({ missing, unknown }).toEqual({ missing: [], unknown: [] });
  });

  it("every owner_column is a uuid column bound by a foreign key (to auth.users or to the owner's parent row)", async () => {
    const m = loadMatrix(MATRIX_PATH);
    for (const [table, entry] of Object.entries(m.tables)) {
      if (entry.owner_column === null) continue;
      const r = await db.query<{ ok: boolean }>(
        `select exists (
           select 1 from pg_catalog.pg_constraint k
             join pg_catalog.pg_attribute a on a.attrelid = k.conrelid and a.attnum = any (k.conkey)
            where k.conrelid = ('public.' || $1)::regclass and k.contype = 'f'
              and a.attname = $2 and a.atttypid = 'uuid'::regtype) as ok`,
        [table, entry.owner_column],
      );
      expect(r.rows[0]!.ok, `${table}.${entry.owner_column} is not a uuid foreign-key column`).toBe(true);
    }
  });

  it('rejects a matrix with an unknown persona, operation or outcome', () => {
    // biome-ignore lint/suspicious/noExplicitAny: the test plants arbitrary bad values into the matrix JSON
    const good = JSON.parse(JSON.stringify(loadMatrix(MATRIX_PATH))) as Record<string, any>;
    const withPersona = structuredClone(good);
    withPersona.tables.profiles.expected.hacker = withPersona.tables.profiles.expected.anon;
    expect(() => parseMatrix(withPersona)).toThrow(/expected must list exactly/);
    const withOutcome = structuredClone(good);
    withOutcome.tables.profiles.expected.free_a.insert = 'sometimes';
    expect(() => parseMatrix(withOutcome)).toThrow(/not one of/);
    const withOp = structuredClone(good);
    withOp.operations = [...good.operations, 'truncate'];
    expect(() => parseMatrix(withOp)).toThrow(/operations must be exactly/);
  });
});
