import { dumpPGlite, openPGlite } from '../../src/db/pglite.js';
import type { Database } from '../../src/db/database.js';

/**
 * Fresh PGlite databases for tests. A cold PGlite start costs ~2 s; restoring a dump ~0.4 s, so each
 * distinct starting state is built once per test file and then copied for every test.
 */
export function pgliteFactory(prepare: (db: Database) => Promise<void> = async () => undefined) {
  let dump: Promise<Blob> | undefined;
  return async function fresh(): Promise<Database> {
    dump ??= (async () => {
      const db = await openPGlite();
      await prepare(db);
      const blob = await dumpPGlite(db);
      await db.close();
      return blob;
    })();
    return openPGlite({ loadDataDir: await dump });
  };
}
