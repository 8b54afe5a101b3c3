import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { describePg, pgUrl } from '../support/pg.js';
import { sqlTree } from '../support/sql-tree.js';

// Each migration appends to a log table outside its own objects, so a migration applied twice leaves two
// rows; the sleep holds the lock long enough that the runners really overlap.
const root = sqlTree({
  'migrations/0001_log.sql': `create table public.apply_log (version text not null, at timestamptz default clock_timestamp());`,
  'down/0001_log.sql': `drop table public.apply_log;`,
  ...Object.fromEntries(
    ['0002', '0003', '0004', '0005'].flatMap((v) => [
      [
        `migrations/${v}_step.sql`.replace('step', `step${v}`),
        `select pg_sleep(0.2);\ninsert into public.apply_log (version) values ('${v}');\ncreate table public.t${v} (id int);`,
      ],
      [`down/${v}_step${v}.sql`, `drop table public.t${v};\ndelete from public.apply_log where version = '${v}';`],
    ]),
  ),
});

describePg('two runners at once on PostgreSQL 15', () => {
  let scratch: ScratchDatabase;
  beforeAll(async () => {
    scratch = await createScratchDatabase(pgUrl(), 'conc');
  });
  afterAll(async () => scratch?.drop());

  it('apply each migration exactly once, in order, and both finish without error', async () => {
    const runners = await Promise.all([1, 2, 3].map(() => openNodePostgres(scratch.url, { max: 2 })));
    try {
      const results = await Promise.all(runners.map((db) => migrateUp(db, { sqlDir: root })));
      const applied = results
        .flat()
        .map((s) => s.version)
        .sort();
      expect(applied).toEqual(['0001', '0002', '0003', '0004', '0005']);
      const log = await runners[0]!.query<{ version: string }>(`select version from public.apply_log order by at`);
      expect(log.rows.map((r) => r.version)).toEqual(['0002', '0003', '0004', '0005']);
      const history = await runners[0]!.query<{ n: string }>(
        `select count(*)::int as n from supabase_migrations.schema_migrations`,
      );
      expect(history.rows[0]!.n).toBe(5);
    } finally {
      await Promise.all(runners.map((db) => db.close()));
    }
  });
});
