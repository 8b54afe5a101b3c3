/**
 * A migration runner in its own process, for drills that kill it (SIGKILL) or run ten at once:
 *   node --import tsx tests/reliability/support/migrate-child.ts <database-url> <sql-dir>
 * Prints one JSON line {"applied":[versions]} and exits 0, or prints the error and exits 1.
 */
import { openNodePostgres } from '../../../src/db/node-postgres.js';
import { migrateUp } from '../../../src/migrate/runner.js';

const [url, sqlDir] = process.argv.slice(2);
if (!url || !sqlDir) {
  console.error('usage: migrate-child.ts <database-url> <sql-dir>');
  process.exit(2);
}
const db = await openNodePostgres(url, { max: 1 });
try {
  const steps = await migrateUp(db, { sqlDir });
  console.log(JSON.stringify({ applied: steps.map((s) => s.version) }));
} catch (e) {
  console.error((e as Error).message);
  process.exitCode = 1;
} finally {
  await db.close();
}
