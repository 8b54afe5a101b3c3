import type { Database } from '../db/database.js';
import { applyBootstrap } from '../migrate/bootstrap.js';
import { policyDrift, renderPolicy, writePolicyMigration } from '../migrate/policies.js';
import { migrateUp } from '../migrate/runner.js';

/**
 * `shipspeak-db policies diff` shows how the database's policies differ from sql/policies;
 * `shipspeak-db policies migration <name>` writes the migration pair that closes the gap.
 * Both first bring the database to head (an in-memory PGlite unless DATABASE_URL is set).
 */
export async function policiesCommand(db: Database, action: string | undefined, name: string | undefined, out: (l: string) => void): Promise<number> {
  await applyBootstrap(db);
  await migrateUp(db);
  if (action === 'diff') {
    const drift = await policyDrift(db);
    for (const d of drift) {
      out(`public.${d.table}: database has ${d.current.length} policies, sql/policies/${d.table}.sql describes ${d.expected.length}`);
      for (const p of d.current) if (!d.expected.some((e) => JSON.stringify(e) === JSON.stringify(p))) out(`  - ${renderPolicy(d.table, p).split('\n')[0]}`);
      for (const p of d.expected) if (!d.current.some((e) => JSON.stringify(e) === JSON.stringify(p))) out(`  + ${renderPolicy(d.table, p).split('\n')[0]}`);
    }
    out(drift.length ? `${drift.length} table(s) differ: run \`npm run db -- policies migration <name>\`` : 'policies in sync with sql/policies');
    return drift.length ? 1 : 0;
  }
  if (action === 'migration') {
    if (!name) throw new Error('policies migration needs a name: shipspeak-db policies migration <lower_snake_name>');
    const written = await writePolicyMigration(db, name);
    out(written ? `wrote ${written.up}\nwrote ${written.down}` : 'policies already in sync: nothing written');
    return 0;
  }
  throw new Error(`policies needs an action: diff | migration <name> (got "${action ?? ''}")`);
}
