import type { Database } from '../db/database.js';
import { openPGlite } from '../db/pglite.js';
import { applyBootstrap } from '../migrate/bootstrap.js';
import { policyDrift, renderPolicy, writePolicyMigration } from '../migrate/policies.js';
import { migrateUp, migrationStatus } from '../migrate/runner.js';
import { DATA_DIR_HELP, DATA_DIR_OPTION, EXIT_FAILED, EXIT_OK, openTarget, type Command } from './command.js';

/**
 * `policies diff` shows how a database's RLS policies differ from sql/policies; `policies migration <name>`
 * writes the migration pair that closes the gap. Neither ever writes to the database it inspects: the policy
 * files are applied to a scratch database at head (an in-memory PGlite, or a scratch database on the same
 * PostgreSQL server), and a target that is not at head is refused rather than migrated.
 */
async function scratchAtHead(): Promise<{ db: Database; drop(): Promise<void> }> {
  const db = await openPGlite();
  await applyBootstrap(db);
  await migrateUp(db);
  return { db, drop: () => db.close() };
}

export const policiesDiffCommand: Command = {
  name: 'policies diff',
  synopsis: 'policies diff [--data-dir DIR]',
  summary:
    "Compare a database's RLS policies with sql/policies, read-only. The database must be at head (a target with pending migrations is refused, never migrated).",
  details: [DATA_DIR_HELP, 'Exit 1 when they differ or the database is not at head.'],
  options: { ...DATA_DIR_OPTION },
  async run({ values }, io) {
    const target = await openTarget(values, io);
    let scratch: { db: Database; drop(): Promise<void> } | undefined;
    try {
      if (target.persistent) {
        const planned = await migrationStatus(target.db);
        const behind = planned.filter((p) => p.state !== 'applied');
        if (behind.length) {
          io.err(
            `the database is not at head (${behind.map((p) => `${p.version}_${p.name} ${p.state}`).join(', ')}): ` +
              '`policies diff` compares a database at head with sql/policies and never migrates it; run `migrate up` first. Nothing was changed.',
          );
          return EXIT_FAILED;
        }
        if (process.env.DATABASE_URL) {
          // PostgreSQL's client loads only when used: every command (serve too) imports this module (issue #17).
          const [{ migratedScratchDatabase }, { openNodePostgres }] = await Promise.all([
            import('../migrate/scratch.js'),
            import('../db/node-postgres.js'),
          ]);
          const s = await migratedScratchDatabase(process.env.DATABASE_URL, 'policies');
          const db = await openNodePostgres(s.url, { max: 1 });
          scratch = {
            db,
            drop: async () => {
              await db.close();
              await s.drop();
            },
          };
        } else scratch = await scratchAtHead();
      } else {
        // An in-memory target starts empty: bring it to head; it is a scratch database itself.
        await applyBootstrap(target.db);
        await migrateUp(target.db);
      }
      const drift = await policyDrift(target.db, undefined, scratch?.db ?? target.db);
      for (const d of drift) {
        io.out(
          `public.${d.table}: database has ${d.current.length} policies, sql/policies/${d.table}.sql describes ${d.expected.length}`,
        );
        for (const p of d.current)
          if (!d.expected.some((e) => JSON.stringify(e) === JSON.stringify(p)))
            io.out(`  - ${renderPolicy(d.table, p).split('\n')[0]}`);
        for (const p of d.expected)
          if (!d.current.some((e) => JSON.stringify(e) === JSON.stringify(p)))
            io.out(`  + ${renderPolicy(d.table, p).split('\n')[0]}`);
      }
      io.out(
        drift.length
          ? `${drift.length} table(s) differ: run \`npm run db -- policies migration <name>\``
          : 'policies in sync with sql/policies',
      );
      return drift.length ? EXIT_FAILED : EXIT_OK;
    } finally {
      await scratch?.drop();
      await target.close();
    }
  },
};

export const policiesMigrationCommand: Command = {
  name: 'policies migration',
  synopsis: 'policies migration <name>',
  summary:
    'Write the next migration pair that brings a database at head to sql/policies (computed on an in-memory PGlite at head; no database of yours is touched).',
  options: {},
  positionals: ['name'],
  async run({ positionals }, io) {
    const scratch = await scratchAtHead();
    try {
      const written = await writePolicyMigration(scratch.db, positionals[0]!);
      io.out(
        written
          ? `wrote ${written.up}\nwrote ${written.down}\nthen: \`migrate hash\` once the pair is final`
          : 'policies already in sync: nothing written',
      );
      return EXIT_OK;
    } finally {
      await scratch.drop();
    }
  },
};
