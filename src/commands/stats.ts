import { checkDatabaseUrl, EXIT_FAILED, EXIT_OK, positiveIntArg, UsageError, type Command } from './command.js';
import { collectStats, formatStats } from '../monitoring/stats.js';

/**
 * `shipspeak-db stats [--top N] [--json]`: what the database is doing, from the statistics views
 * (src/monitoring/stats.ts). PostgreSQL only: it reads DATABASE_URL and changes nothing.
 */
export const statsCliCommand: Command = {
  name: 'stats',
  synopsis: 'stats [--top N] [--json]',
  summary:
    'Top statements (pg_stat_statements), cache hit ratio, connections, replication slots and bloat hints of DATABASE_URL. Reads only.',
  details: [
    '--top N   statements per list (default 10)',
    '--json    one JSON document instead of text',
    'Exit 1 when pg_stat_statements is not installed in the database (the other sections are still printed).',
  ],
  options: { top: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    const top = positiveIntArg('--top', values.top) ?? 10;
    const url = process.env.DATABASE_URL;
    if (!url)
      throw new UsageError(
        'stats reads PostgreSQL statistics views: set DATABASE_URL (PGlite keeps none)',
        statsCliCommand,
      );
    const { openNodePostgres } = await import('../db/node-postgres.js');
    const db = await openNodePostgres(checkDatabaseUrl(url), { max: 1 });
    try {
      const stats = await collectStats(db, top);
      if (values.json) io.out(JSON.stringify(stats, null, 2));
      else for (const line of formatStats(stats)) io.out(line);
      if (stats.statementsMissing) io.err(`stats: ${stats.statementsMissing}`);
      return stats.statementsMissing ? EXIT_FAILED : EXIT_OK;
    } finally {
      await db.close();
    }
  },
};
