import { createHash } from 'node:crypto';
import type { Database } from '../../src/db/database.js';
import { createScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { sharedTemplate } from './pg-template.js';
import { pgliteFactory } from './pglite-template.js';
import { pgAvailability } from './pg.js';

/** Opens a fresh, bootstrapped database; `close()` also removes it (scratch database on PostgreSQL). */
export type FreshDatabase = () => Promise<Database>;

export interface EngineUnderTest {
  name: 'pglite' | 'postgres';
  /** Null when the engine can run here, otherwise why not (for describeRequiring). */
  missing: string | null;
  fresh: FreshDatabase;
}

/**
 * One scratch database per call on the suite's PostgreSQL 15, bootstrapped, dropped on close. `shareAs`:
 * copied from a template database built once per run (tests/support/pg-template.ts) instead.
 */
export function postgresFactory(
  prepare: (db: Database) => Promise<void> = async () => undefined,
  options: { shareAs?: string } = {},
): FreshDatabase {
  const build = async (db: Database) => {
    await applyBootstrap(db);
    await prepare(db);
  };
  let template: Promise<string | null> | undefined;
  return async () => {
    const a = pgAvailability();
    if (!('url' in a)) throw new Error(a.unavailable);
    if (options.shareAs) template ??= sharedTemplate(a.url, options.shareAs, build);
    const from = template ? await template : null;
    const scratch = await createScratchDatabase(a.url, 'suite', from ? { template: from } : {});
    const db = await openNodePostgres(scratch.url, { max: 4 });
    if (!from) await build(db);
    return {
      ...db,
      close: async () => {
        await db.close();
        await scratch.drop();
      },
    };
  };
}

/**
 * Both engines every schema suite runs on: embedded PGlite and the real PostgreSQL 15. `shareAs`: each
 * engine's starting state is built once per run and copied for every file using that name (a PGlite dump,
 * a PostgreSQL template database; see pglite-template.ts and pg-template.ts).
 */
export function enginesUnderTest(
  prepare?: (db: Database) => Promise<void>,
  options: { shareAs?: string } = {},
): EngineUnderTest[] {
  const a = pgAvailability();
  // Bootstrap-only (no `prepare`) is the same state for every caller: share it by default.
  if (!prepare && !options.shareAs) options = { shareAs: 'bootstrap-only' };
  // The wrapper's text is the same for every caller: the key carries the caller's own `prepare` text.
  const shareAs =
    options.shareAs &&
    `${options.shareAs}-${createHash('sha256')
      .update(prepare?.toString() ?? '')
      .digest('hex')
      .slice(0, 16)}`;
  return [
    {
      name: 'pglite',
      missing: null,
      fresh: pgliteFactory(
        async (db) => {
          await applyBootstrap(db);
          await prepare?.(db);
        },
        { shareAs },
      ),
    },
    { name: 'postgres', missing: 'url' in a ? null : a.unavailable, fresh: postgresFactory(prepare, { shareAs }) },
  ];
}
