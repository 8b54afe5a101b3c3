/**
 * The bench's backend-CPU figure (src/bench/capture.ts timeCaptured): the CPU time the PostgreSQL backend spent
 * on a statement, read from /proc/<backend pid>/schedstat. What must hold: a statement that waits uses almost no
 * CPU however long it takes, a statement that computes uses CPU, and the prelude is not counted. Ratios and wide
 * bounds only: the machine may be busy.
 */
import { expect, it } from 'vitest';
import { timeCaptured } from '../../src/bench/capture.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { describePg, pgUrl } from '../support/pg.js';

describePg('timeCaptured: backend CPU beside wall time', () => {
  it('counts the CPU a statement burns, not the time it waits or the prelude', async () => {
    const db = await openNodePostgres(pgUrl(), { max: 1 });
    try {
      const none = { sql: 'select 1', params: [] };
      const burn = { sql: 'select count(*) from pg_catalog.generate_series(1, $1::int)', params: [3_000_000] };
      const sleep = await timeCaptured(db, burn, { sql: 'select pg_catalog.pg_sleep(0.2)', params: [] });
      const work = await timeCaptured(db, none, burn);
      expect(sleep.cpuUs).not.toBeNull();
      expect(work.cpuUs).not.toBeNull();
      // 200 ms asleep: wall time at least that, backend CPU a small fraction (the burning prelude not counted).
      expect(sleep.ms).toBeGreaterThanOrEqual(195);
      expect(sleep.cpuUs!).toBeLessThan(sleep.ms * 1000 * 0.25);
      // Three million rows counted: tens of ms of CPU on any machine, far more than the sleeping statement.
      expect(work.cpuUs!).toBeGreaterThan(5 * sleep.cpuUs!);
      expect(work.cpuUs!).toBeLessThanOrEqual(work.ms * 1000 * 1.05);
    } finally {
      await db.close();
    }
  });
});
