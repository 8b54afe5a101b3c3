import { fileURLToPath } from 'node:url';
import { openPGlite } from '../db/pglite.js';
import { syncDocs } from '../docs/generate.js';
import { applyBootstrap } from '../migrate/bootstrap.js';
import { migrateUp } from '../migrate/runner.js';
import { EXIT_FAILED, EXIT_OK, type Command } from './command.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The CLI's overview text for the docs' --help block. The dispatcher provides it (provideCliHelp) when it
 * loads, because the dispatcher imports this command: importing the dispatcher here would be an import cycle.
 */
let cliHelp: (() => string) | undefined;
export function provideCliHelp(overview: () => string): void {
  cliHelp = overview;
}

/**
 * `docs` regenerates docs/schema.md and the generated figures of README.md and docs/*.md from a scratch
 * in-memory PGlite migrated to head (never a database of yours); `--check` only says which files are stale.
 */
export const docsCommand: Command = {
  name: 'docs',
  synopsis: 'docs [--check]',
  summary:
    'Regenerate docs/schema.md (ERD and table reference from the catalog) and the generated figures in README.md and docs/*.md, from an in-memory PGlite at head.',
  details: ['--check   write nothing; exit 1 when a file is stale'],
  options: { check: { type: 'boolean' } },
  async run({ values }, io) {
    const db = await openPGlite();
    try {
      await applyBootstrap(db);
      await migrateUp(db);
      if (!cliHelp) throw new Error('docs: the CLI overview was not provided (load the command through dispatch.ts)');
      const stale = await syncDocs(db, ROOT, { check: values.check === true, cliHelp: cliHelp() });
      if (values.check) {
        io.out(stale.length ? `stale: ${stale.join(', ')} (run \`npm run db -- docs\`)` : 'docs up to date');
        return stale.length ? EXIT_FAILED : EXIT_OK;
      }
      io.out(stale.length ? `wrote ${stale.join(', ')}` : 'docs up to date: nothing written');
      return EXIT_OK;
    } finally {
      await db.close();
    }
  },
};
