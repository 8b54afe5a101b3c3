import { describe, expect, it } from 'vitest';
import { MigrationError } from '../../src/migrate/errors.js';
import { migrateUp, migrationStatus } from '../../src/migrate/runner.js';
import { statusRows } from '../../src/commands/migrate.js';
import { pgliteEmpty } from '../support/pglite-head.js';
import { sqlTree, tablePair } from '../support/sql-tree.js';
import { appliedCount, cliInProcess, dataDirs } from './support.js';

const dataDir = dataDirs();

describe('migrate on a persistent PGlite (in-process: the same runCli the process calls)', () => {
  it('a second seed is a clear message that changes nothing', async () => {
    const d = dataDir();
    expect((await cliInProcess(['seed', '--data-dir', d])).code).toBe(0);
    const again = await cliInProcess(['seed', '--data-dir', d]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already holds rows it would insert.*Nothing was changed/);
  });

  it('policies diff refuses a database that is not at head and migrates nothing', async () => {
    const d = dataDir();
    expect((await cliInProcess(['migrate', 'up', '--to', '0005', '--data-dir', d])).code).toBe(0);
    const before = await appliedCount(d);
    const r = await cliInProcess(['policies', 'diff', '--data-dir', d]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not at head .*never migrates it/);
    expect(await appliedCount(d)).toBe(before);
  });

  it('without DATABASE_URL or --data-dir, says the database is in memory', async () => {
    const r = await cliInProcess(['migrate', 'up', '--to', '0001']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/in-memory PGlite that vanishes/);
  });

  it('status reports an out-of-order pending migration that up would refuse', async () => {
    const root = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0003', 'c') });
    const db = await pgliteEmpty();
    try {
      await migrateUp(db, { sqlDir: root });
      const late = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0002', 'b'), ...tablePair('0003', 'c') });
      const rows = statusRows(await migrationStatus(db, { sqlDir: late }));
      expect(rows.map((r) => `${r.version}:${r.state}`)).toEqual(['0001:applied', '0002:out-of-order', '0003:applied']);
      expect(rows[0]!.appliedAt).toMatch(/^\d{4}-\d\d-\d\d/);
      expect(rows[1]!.problem).toMatch(/migrate up will refuse it/);
      const err = await migrateUp(db, { sqlDir: late }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as Error).message).toMatch(
        /0002_b\.sql is pending but a later migration \(0003\) is already applied/,
      );
    } finally {
      await db.close();
    }
  });
});
