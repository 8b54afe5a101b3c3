import type { Database, Queryable } from '../../src/db/database.js';
import { PERSONA_USERS } from '../../src/auth/signup.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { loadSeed } from '../../src/seed/load.js';
import { enginesUnderTest, type EngineUnderTest } from '../support/engines.js';
import { actAs } from '../../src/db/act-as.js';

/** Seeded users of fixtures/dev-seed.sql (alice, bob, carol, dave), as the CLI personas define them. */
export const SEEDED_USERS = PERSONA_USERS.map(({ id, email }) => ({ id, email }));
export const [ALICE, BOB] = SEEDED_USERS as [(typeof SEEDED_USERS)[number], (typeof SEEDED_USERS)[number]];

/** Both engines, each fresh database migrated to head (and, with `seed`, loaded with the dev seed). */
export function migratedEngines(options: { seed?: boolean } = {}): EngineUnderTest[] {
  return enginesUnderTest(
    async (db) => {
      await migrateUp(db);
      if (options.seed) await loadSeed(db);
    },
    // One PGlite build per run for each variant (the name carries the captured option).
    { shareAs: options.seed ? 'migrated-seeded' : 'migrated' },
  );
}

/**
 * Runs `fn` the way PostgREST runs a request: one transaction, `set local role`, the JWT claims in
 * request.jwt.claims. `sub` null = anon without a user.
 */
export async function asRole<T>(
  db: Database,
  role: 'anon' | 'authenticated' | 'service_role',
  sub: string | null,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  return actAs(db, role, sub ? { sub, role } : { role }, fn);
}

/** The SQLSTATE and message a promise rejects with (fails the test if it resolves). */
export async function pgFailure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { code: err.code ?? '', message: err.message };
  }
  throw new Error('expected the statement to fail, it succeeded');
}

/** Public base tables and their uuid columns, from the catalog. */
export async function publicUuidColumns(db: Queryable): Promise<Map<string, string[]>> {
  const r = await db.query<{ t: string; cols: string[] }>(`
    select c.relname as t, array_agg(a.attname::text order by a.attnum) as cols
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
     where n.nspname = 'public' and c.relkind in ('r', 'p') and a.atttypid = 'uuid'::regtype
     group by 1 order by 1`);
  return new Map(r.rows.map((x) => [x.t, x.cols]));
}

/** Every row (as JSON) of public.<table> in which any uuid column equals `id`, read as superuser. */
export async function rowsReferencing(
  db: Queryable,
  table: string,
  cols: string[],
  id: string,
): Promise<Record<string, unknown>[]> {
  const where = cols.map((c) => `x."${c}" = $1`).join(' or ');
  const r = await db.query<{ j: Record<string, unknown> }>(
    `select to_jsonb(x) as j from public."${table}" x where ${where}`,
    [id],
  );
  return r.rows.map((row) => row.j);
}

export const sortJson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
