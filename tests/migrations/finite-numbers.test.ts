/**
 * Migration 0023: no numeric or floating-point column of public accepts NaN, Infinity or -Infinity.
 * Catalog-driven: the columns come from pg_attribute at test time, so a column added later without its
 * `<table>_<column>_finite` check fails here. Each value is written over a real dev-seed row (superuser,
 * so RLS is not what refuses it), on PGlite and on PostgreSQL 15.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isPgError, type Database } from '../../src/db/database.js';
import { quoteIdent as q } from '../../src/db/quote.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { loadSeed } from '../../src/seed/load.js';
import { enginesUnderTest } from '../support/engines.js';
import { describeRequiring } from '../support/pg.js';

const NON_FINITE = ['NaN', 'Infinity', '-Infinity'];
/**
 * A refusal: the check (23514), or, for ±Infinity in a numeric(p,s) column, the type modifier itself (22003
 * numeric field overflow: PostgreSQL stores NaN under any precision but not the infinities). An unconstrained
 * numeric or a float column lets the infinities through its type, and only the check stops them.
 */
const REFUSED = new Set(['23514', '22003']);

interface NumericColumn {
  table: string;
  column: string;
  type: string;
}

const COLUMNS_SQL = `
  select c.relname as table, a.attname as column, pg_catalog.format_type(a.atttypid, a.atttypmod) as type
  from pg_catalog.pg_attribute a
  join pg_catalog.pg_class c on c.oid = a.attrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
    and a.atttypid in ('pg_catalog.numeric'::pg_catalog.regtype, 'pg_catalog.float4'::pg_catalog.regtype, 'pg_catalog.float8'::pg_catalog.regtype)
  order by 1, 2`;

for (const engine of enginesUnderTest(async (db) => {
  await migrateUp(db);
  await loadSeed(db);
})) {
  describeRequiring(`finite numbers on ${engine.name}`, engine.missing, () => {
    let db: Database;
    let columns: NumericColumn[];
    beforeAll(async () => {
      db = await engine.fresh();
      columns = (await db.query<NumericColumn>(COLUMNS_SQL)).rows;
    });
    afterAll(() => db?.close());

    it('finds the numeric columns of public in the catalog (the enumeration is live)', () => {
      expect(columns.length).toBeGreaterThan(0);
      expect(columns).toContainEqual(expect.objectContaining({ table: 'usage_metrics', column: 'quantity' }));
    });

    it('every such column has a validated <table>_<column>_finite check naming that column', async () => {
      const missing: string[] = [];
      for (const { table, column } of columns) {
        const r = await db.query<{ def: string; validated: boolean }>(
          `select pg_catalog.pg_get_constraintdef(k.oid) as def, k.convalidated as validated
           from pg_catalog.pg_constraint k
           where k.conrelid = pg_catalog.format('public.%I', $1::text)::pg_catalog.regclass and k.contype = 'c' and k.conname = $2`,
          [table, `${table}_${column}_finite`],
        );
        const c = r.rows[0];
        if (!c?.validated || !c.def.includes(column)) missing.push(`${table}.${column}`);
      }
      expect(missing).toEqual([]);
    });

    it('every such column refuses NaN, Infinity and -Infinity (23514, or 22003 from numeric(p,s)) and keeps its value', async () => {
      const accepted: string[] = [];
      let tried = 0;
      for (const { table, column, type } of columns) {
        const sample = await db.query<{ ctid: string; before: string | null }>(
          `select ctid::text as ctid, ${q(column)}::text as before from public.${q(table)} limit 1`,
        );
        const row = sample.rows[0];
        if (!row) throw new Error(`the dev seed has no row in public.${table}: add one so ${column} can be tested`);
        for (const value of NON_FINITE) {
          tried++;
          const outcome = await db
            .transaction((tx) =>
              tx.query(`update public.${q(table)} set ${q(column)} = $1::text::${type} where ctid = $2::tid`, [
                value,
                row.ctid,
              ]),
            )
            .then(
              () => 'accepted',
              (e: unknown) => (isPgError(e) ? e.code : String(e)),
            );
          if (!REFUSED.has(outcome)) accepted.push(`${table}.${column} = '${value}' → ${outcome}`);
        }
        const after = await db.query<{ v: string | null }>(
          `select ${q(column)}::text as v from public.${q(table)} where ctid = $1::tid`,
          [row.ctid],
        );
        expect(after.rows[0]?.v, `${table}.${column} unchanged`).toBe(row.before);
      }
      expect(tried).toBe(columns.length * NON_FINITE.length);
      expect(accepted).toEqual([]);
    });
  });
}
