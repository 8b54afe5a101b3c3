import type { Database } from '../db/database.js';
import { createScratchDatabase, type ScratchDatabase } from '../db/ephemeral-cluster.js';
import { openNodePostgres } from '../db/node-postgres.js';
import { applyBootstrap } from './bootstrap.js';
import { migrateUp } from './runner.js';

/**
 * A fresh database on the server behind `superuserUrl` with the platform layer and every migration applied
 * — what the type generator, the advisors, pgTAP and the benchmarks all start from. `prepare` runs on it
 * (one connection) before it is handed back; on any failure the database is dropped again.
 */
export async function migratedScratchDatabase(
  superuserUrl: string,
  prefix: string,
  prepare: (db: Database) => Promise<void> = async () => undefined,
): Promise<ScratchDatabase> {
  const scratch = await createScratchDatabase(superuserUrl, prefix);
  try {
    const db = await openNodePostgres(scratch.url, { max: 1 });
    try {
      await applyBootstrap(db);
      await migrateUp(db);
      await prepare(db);
    } finally {
      await db.close();
    }
    return scratch;
  } catch (e) {
    await scratch.drop();
    throw e;
  }
}
