import { createHash } from 'node:crypto';
import type { Database } from '../../src/db/database.js';
import { createScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
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

/** One scratch database per call on the suite's PostgreSQL 15, bootstrapped, dropped on close. */
export function postgresFactory(prepare: (db: Database) => Promise<void> = async () => undefined): FreshDatabase {
  return async () => {
    const a = pgAvailability();
    if (!('url' in a)) throw new Error(a.unavailable);
    const scratch = await createScratchDatabase(a.url, 'suite');
    const db = await openNodePostgres(scratch.url, { max: 4 });
    await applyBootstrap(db);
    await prepare(db);
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
 * Both engines every schema suite runs on: embedded PGlite and the real PostgreSQL 15. `shareAs`: the PGlite
 * state is built once per run and shared by every file using that name (see pgliteFactory).
 */
export function enginesUnderTest(
  prepare?: (db: Database) => Promise<void>,
  options: { shareAs?: string } = {},
): EngineUnderTest[] {
  const a = pgAvailability();
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
    { name: 'postgres', missing: 'url' in a ? null : a.unavailable, fresh: postgresFactory(prepare) },
  ];
}
