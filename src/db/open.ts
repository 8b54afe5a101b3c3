import type { Database } from './database.js';
import { openNodePostgres } from './node-postgres.js';
import { openPGlite } from './pglite.js';

/**
 * The engine a command or suite runs on: `DATABASE_URL` when set (node-postgres), otherwise embedded
 * PGlite, so a fresh clone works with no server.
 */
export async function openDatabase(url: string | undefined = process.env.DATABASE_URL): Promise<Database> {
  return url ? openNodePostgres(url) : openPGlite();
}
