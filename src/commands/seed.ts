import { existsSync, readdirSync } from 'node:fs';
import { isPgError } from '../db/database.js';
import { applyBootstrap } from '../migrate/bootstrap.js';
import { migrateUp } from '../migrate/runner.js';
import { loadSeed, seedPath } from '../seed/load.js';
import { DATA_DIR_HELP, DATA_DIR_OPTION, EXIT_FAILED, EXIT_OK, openTarget, UsageError, type Command } from './command.js';

/** Seeds that exist: fixtures/<name>-seed.sql. */
function availableSeeds(): string[] {
  const dir = seedPath('dev').replace(/dev-seed\.sql$/, '');
  return readdirSync(dir)
    .map((f) => /^([a-z0-9][a-z0-9_-]*)-seed\.sql$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined);
}

/** `shipspeak-db seed`: bootstrap + migrate to head, then load the named fixture on the same code path as tests. */
export const seedCommand: Command = {
  name: 'seed',
  synopsis: 'seed [--name dev] [--data-dir DIR]',
  summary: 'Migrate to head, then load fixtures/<name>-seed.sql in one transaction (all or nothing).',
  details: ['--name NAME     which fixture (default dev)', DATA_DIR_HELP],
  options: { name: { type: 'string' }, ...DATA_DIR_OPTION },
  async run({ values }, io) {
    const name = typeof values.name === 'string' ? values.name : 'dev';
    let path: string;
    try {
      path = seedPath(name);
    } catch (e) {
      throw new UsageError((e as Error).message, seedCommand);
    }
    // Checked before any database is opened or migrated.
    if (!existsSync(path)) throw new UsageError(`no seed named "${name}" (${path} does not exist); available: ${availableSeeds().join(', ') || 'none'}`, seedCommand);
    const target = await openTarget(values, io);
    try {
      await applyBootstrap(target.db);
      await migrateUp(target.db, { log: io.out });
      let rows: Record<string, number>;
      try {
        ({ rows } = await loadSeed(target.db, name));
      } catch (e) {
        if (isPgError(e) && e.code === '23505') {
          io.err(
            `seed "${name}" was not loaded: the database already holds rows it would insert (${e.detail ?? e.message}). ` +
              'The seed is for an empty database: start from one (e.g. `migrate down --to 0 --yes`, then `seed`). Nothing was changed.',
          );
          return EXIT_FAILED;
        }
        throw e;
      }
      for (const [table, count] of Object.entries(rows)) io.out(`${table.padEnd(24)} ${count}`);
      if (!target.persistent) io.out('(in-memory database: these rows are gone when this command exits)');
      return EXIT_OK;
    } finally {
      await target.close();
    }
  },
};
