/**
 * What 0037 bought (issue #17): the per-row cost of meeting_analyses' three schema constraints with 0034's
 * body of private.jsonb_matches_schema beside 0037's, on the same PostgreSQL 15 database, interleaved so both
 * see the same machine. Only ratios are gated, and widely (the machine is shared and noisy); the figures go
 * to the log. 0034's body is taken from its migration file, so nothing here restates it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { loadSeed } from '../../src/seed/load.js';
import { postgresFactory } from '../support/engines.js';
import { describePg } from '../support/pg.js';

/** Rows per insert (override: JSONB_COST_ROWS, e.g. 20000 for a report) and interleaved rounds. */
const ROWS = Number(process.env.JSONB_COST_ROWS ?? 2000);
const ROUNDS = 3;
/** A long array is where 0034's sliced work list was quadratic. */
const LONG_SEGMENTS = 400;
const LONG_ROWS = 20;
/** Wide gates: measured ~0.25 (small documents) and ~0.1 (long arrays) on a loaded 2-core machine. */
const MAX_RATIO_SMALL = 0.8;
const MAX_RATIO_LONG = 0.5;

const MIGRATION_0034 = fileURLToPath(new URL('../../sql/migrations/0034_jsonb_schemas.sql', import.meta.url));
const OLD = 'jsonb_cost_0034';

/** 0034's function, created under schema jsonb_cost_0034 instead of private. */
function oldFunctionSql(): string {
  const text = readFileSync(MIGRATION_0034, 'utf8');
  const start = text.indexOf('create function private.jsonb_matches_schema(');
  const end = text.indexOf('$$;', start);
  if (start < 0 || end < 0) throw new Error('0034 no longer holds create function private.jsonb_matches_schema');
  return text.slice(start, end + 3).replace('private.jsonb_matches_schema(', `${OLD}.jsonb_matches_schema(`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describePg('cost of the JSONB schema checks: 0037 beside 0034 (PostgreSQL 15)', () => {
  const fresh = postgresFactory(
    async (db) => {
      await migrateUp(db);
      await loadSeed(db, 'dev');
    },
    { shareAs: 'jsonb-cost' },
  );
  let db: Database;

  beforeAll(async () => {
    db = await fresh();
    await db.query(`create schema ${OLD}`);
    await db.query(oldFunctionSql());
    // Two copies of meeting_analyses' three schema constraints, exactly as the catalog holds them: one
    // calling 0037's private.jsonb_matches_schema, one calling 0034's copy.
    const defs = await db.query<{ def: string }>(
      `select pg_catalog.pg_get_constraintdef(oid) as def from pg_catalog.pg_constraint
        where conrelid = 'public.meeting_analyses'::regclass and conname like '%\\_matches\\_schema' order by conname`,
    );
    expect(defs.rows).toHaveLength(3);
    for (const [table, fn] of [
      ['analyses_new', 'private.jsonb_matches_schema('],
      ['analyses_old', `${OLD}.jsonb_matches_schema(`],
    ] as const) {
      const checks = defs.rows.map((r) => r.def.replace('private.jsonb_matches_schema(', fn)).join(', ');
      await db.query(`create table ${OLD}.${table} (insights jsonb, recommendations jsonb, sampling jsonb, ${checks})`);
    }
  });
  afterAll(async () => db?.close());

  /** Median milliseconds of `rounds` inserts of `source` into each table, old and new alternating. */
  async function timeInserts(source: string, rounds: number) {
    const ms = { old: [] as number[], new: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      for (const side of i % 2 ? (['new', 'old'] as const) : (['old', 'new'] as const)) {
        const t0 = performance.now();
        const r = await db.query(`insert into ${OLD}.analyses_${side} (insights, recommendations, sampling) ${source}`);
        ms[side].push(performance.now() - t0);
        expect(r.rowCount, `${side}: every row inserted (the checks accept them)`).toBeGreaterThan(0);
        await db.query(`truncate ${OLD}.analyses_${side}`);
      }
    }
    return { old: median(ms.old), new: median(ms.new) };
  }

  it(`the seeded analyses documents cost at most ${MAX_RATIO_SMALL}x 0034 per row`, async () => {
    // The dev seed's analyses, repeated up to ROWS rows.
    const source = `select a.insights, a.recommendations, a.sampling
        from public.meeting_analyses as a cross join pg_catalog.generate_series(1, ${ROWS}) limit ${ROWS}`;
    const t = await timeInserts(source, ROUNDS);
    const ratio = t.new / t.old;
    console.log(
      `[figures] meeting_analyses checks, ${ROWS} rows: 0034 ${((t.old * 1000) / ROWS).toFixed(1)} µs/row, 0037 ${((t.new * 1000) / ROWS).toFixed(1)} µs/row (ratio ${ratio.toFixed(3)})`,
    );
    expect(ratio).toBeLessThan(MAX_RATIO_SMALL);
  });

  it(`a ${LONG_SEGMENTS}-segment sampling document costs at most ${MAX_RATIO_LONG}x 0034 (no quadratic work list)`, async () => {
    const source = `select '{}'::jsonb, '[]'::jsonb, pg_catalog.jsonb_build_object('strategy', 'uniform', 'segments',
          (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('index', k, 'reason', 'uniform_fill'))
             from pg_catalog.generate_series(0, ${LONG_SEGMENTS - 1}) as k))
        from pg_catalog.generate_series(1, ${LONG_ROWS})`;
    const t = await timeInserts(source, ROUNDS);
    const ratio = t.new / t.old;
    console.log(
      `[figures] sampling with ${LONG_SEGMENTS} segments, ${LONG_ROWS} rows: 0034 ${(t.old / LONG_ROWS).toFixed(2)} ms/row, 0037 ${(t.new / LONG_ROWS).toFixed(2)} ms/row (ratio ${ratio.toFixed(3)})`,
    );
    expect(ratio).toBeLessThan(MAX_RATIO_LONG);
  });
});
