import { existsSync, readdirSync } from 'node:fs';
import { isPgError } from '../db/database.js';
import { applyBootstrap } from '../migrate/bootstrap.js';
import { migrateUp } from '../migrate/runner.js';
import { loadSeed, seedPath } from '../seed/load.js';
import { loadScaleSeed, progressBar } from '../seed/scale.js';
import {
  DATA_DIR_HELP,
  DATA_DIR_OPTION,
  EXIT_FAILED,
  EXIT_OK,
  IN_MEMORY_NOTE,
  positiveIntArg,
  UsageError,
  withTarget,
  type Command,
  type Io,
  type Target,
} from './command.js';

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
  synopsis: 'seed [--name dev | --scale USERS [--random-seed S] [--no-audit]] [--data-dir DIR]',
  summary:
    'Migrate to head, then load fixtures/<name>-seed.sql, or a generated production-scale data set, in one transaction (all or nothing).',
  details: [
    '--name NAME        which fixture (default dev)',
    '--scale USERS      generate USERS users (~10 meetings and ~10 practice sessions each, skewed) instead of a fixture; meant for PostgreSQL (DATABASE_URL)',
    '--random-seed S    seed of the generator (default shipspeak); the same seed and scale give the same rows',
    '--no-audit         switch the audit capture triggers off during the load (to measure their cost); they are back on afterwards',
    DATA_DIR_HELP,
  ],
  options: {
    name: { type: 'string' },
    scale: { type: 'string' },
    'random-seed': { type: 'string' },
    'no-audit': { type: 'boolean' },
    ...DATA_DIR_OPTION,
  },
  async run({ values }, io) {
    const users = positiveIntArg('--scale', values.scale);
    if (values.scale !== undefined && users === undefined)
      throw new UsageError('--scale expects a number of users', seedCommand);
    if (users === undefined && (values['random-seed'] !== undefined || values['no-audit'] !== undefined)) {
      throw new UsageError('--random-seed and --no-audit go with --scale', seedCommand);
    }
    if (users !== undefined) {
      if (values.name !== undefined)
        throw new UsageError('--name and --scale exclude each other: a fixture or a generated data set', seedCommand);
      const randomSeed = typeof values['random-seed'] === 'string' ? values['random-seed'] : 'shipspeak';
      return withTarget(values, io, (target) => runScale(users, randomSeed, values['no-audit'] !== true, target, io));
    }
    const name = typeof values.name === 'string' ? values.name : 'dev';
    let path: string;
    try {
      path = seedPath(name);
    } catch (e) {
      throw new UsageError((e as Error).message, seedCommand);
    }
    // Checked before any database is opened or migrated.
    if (!existsSync(path))
      throw new UsageError(
        `no seed named "${name}" (${path} does not exist); available: ${availableSeeds().join(', ') || 'none'}`,
        seedCommand,
      );
    return withTarget(values, io, async (target) => {
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
      if (!target.persistent) io.out(IN_MEMORY_NOTE);
      return EXIT_OK;
    });
  },
};

async function runScale(users: number, randomSeed: string, audit: boolean, target: Target, io: Io): Promise<number> {
  if (target.db.engine !== 'postgres')
    io.err('note: the scale seed is meant for PostgreSQL (set DATABASE_URL); on PGlite keep --scale small');
  await applyBootstrap(target.db);
  await migrateUp(target.db, { log: io.out });
  io.out(
    `scale seed: ${users} users, random seed ${JSON.stringify(randomSeed)}, audit triggers ${audit ? 'on' : 'off'}`,
  );
  let result: Awaited<ReturnType<typeof loadScaleSeed>>;
  try {
    result = await loadScaleSeed(target.db, {
      users,
      randomSeed,
      audit,
      progress: (step, i, total) =>
        io.out(
          `${progressBar(i, total)} ${step.name}: ${step.rows} rows in ${(step.ms / 1000).toFixed(1)} s${step.rows ? ` (${Math.round(step.rows / (step.ms / 1000))} rows/s)` : ''}`,
        ),
    });
  } catch (e) {
    if (e instanceof Error && /needs an empty database/.test(e.message)) {
      io.err(e.message);
      return EXIT_FAILED;
    }
    throw e;
  }
  io.out(`triggers on during the load: ${result.triggers.on.join('; ')}`);
  io.out(`triggers off during the load: ${result.triggers.off.join('; ')}`);
  io.out(
    `loaded ${result.totalRows} rows in ${(result.totalMs / 1000).toFixed(1)} s (${Math.round(result.totalRows / (result.totalMs / 1000))} rows/s)`,
  );
  if (!target.persistent) io.out(IN_MEMORY_NOTE);
  return EXIT_OK;
}
