import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { loadSeed } from '../../src/seed/load.js';
import { pgliteFactory } from './pglite-template.js';

/**
 * A fresh, empty PGlite (initdb only), copied from a dump built once per run. A cold `openPGlite()` runs
 * PGlite's initdb: ~4.8 CPU s on the 2-core machine, against ~1.3 for a restore (measured, 16:40 UTC
 * 2026-12-03; ~0.45 since tests open a copy of an unpacked data directory, pglite-template.ts), and the dump's
 * data directory is exactly what that initdb left. For tests that need a database
 * with nothing in it (the bootstrap's own tests, migration runner tests on throw-away sql trees).
 */
export const pgliteEmpty = pgliteFactory(async () => undefined, { shareAs: 'pglite-empty' });

/**
 * The two PGlite starting states most PGlite-only files need, each built once per vitest run and restored
 * from its dump by every file that asks (pglite-template.ts `shareAs`): the real bootstrap + every migration
 * ("head"), and head + the dev seed. One definition here, so that the files share one build instead of each
 * building a copy from a prepare function of its own (a PGlite cold start + bootstrap + migrations is several
 * CPU seconds; a restore a fraction of that).
 */
export const pgliteAtHead = pgliteFactory(
  async (db) => {
    await applyBootstrap(db);
    await migrateUp(db);
  },
  { shareAs: 'pglite-head' },
);

export const pgliteAtHeadSeeded = pgliteFactory(
  async (db) => {
    await applyBootstrap(db);
    await migrateUp(db);
    await loadSeed(db, 'dev');
  },
  { shareAs: 'pglite-head-dev-seed' },
);
