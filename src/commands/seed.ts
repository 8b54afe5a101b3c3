import type { Database } from '../db/database.js';
import { applyBootstrap } from '../migrate/bootstrap.js';
import { migrateUp } from '../migrate/runner.js';
import { loadSeed } from '../seed/load.js';

/** `shipspeak-db seed`: bootstrap + migrate to head, then load the named fixture on the same code path as tests. */
export async function seedCommand(db: Database, name: string, out: (line: string) => void): Promise<number> {
  await applyBootstrap(db);
  await migrateUp(db, { log: out });
  const { rows } = await loadSeed(db, name);
  for (const [table, count] of Object.entries(rows)) out(`${table.padEnd(24)} ${count}`);
  return 0;
}
