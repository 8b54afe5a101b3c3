import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { catalogSnapshot, diffSnapshots, type CatalogSnapshot } from '../../src/db/catalog.js';
import { loadMigrations } from '../../src/migrate/files.js';
import { migrateDown, migrateUp } from '../../src/migrate/runner.js';
import { loadSeed } from '../../src/seed/load.js';
import { enginesUnderTest } from '../support/engines.js';
import { describeRequiring } from '../support/pg.js';

const migrations = loadMigrations();
const versions = migrations.map((m) => m.version);

function expectSameCatalog(actual: CatalogSnapshot, expected: CatalogSnapshot, what: string) {
  const diff = diffSnapshots(expected, actual);
  expect(diff, `${what}: catalog differs\n${diff.join('\n')}`).toEqual([]);
}

/** Every row of every public table as sorted JSON, for "nothing lost" comparisons. */
async function publicRows(db: Database): Promise<Record<string, Record<string, unknown>[]>> {
  const tables = await db.query<{ t: string }>(
    `select tablename as t from pg_tables where schemaname = 'public' order by 1`,
  );
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const { t } of tables.rows) {
    const r = await db.query<{ r: Record<string, unknown> }>(`select to_jsonb(x) as r from public.${t} x`);
    out[t] = r.rows.map((row) => row.r).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  }
  return out;
}

/** The rows restricted to the columns both sides still have (a down may legitimately drop a column it added). */
function project(rows: Record<string, unknown>[], columns: string[]) {
  return rows
    .map((r) => Object.fromEntries(columns.filter((c) => c in r).map((c) => [c, r[c]])))
    .map((r) => JSON.stringify(r))
    .sort();
}

for (const engine of enginesUnderTest()) {
  describeRequiring(`migration round trips on ${engine.name}`, engine.missing, () => {
    let db: Database;
    let bootstrapOnly: CatalogSnapshot;
    beforeAll(async () => {
      db = await engine.fresh();
      bootstrapOnly = await catalogSnapshot(db);
    });
    afterAll(async () => db?.close());

    it(`has a migration set to test (${versions.length} migrations)`, () => {
      expect(versions.length).toBeGreaterThanOrEqual(5);
    });

    it('for every step N: up to N, down one, equals the catalog after up to N-1', async () => {
      let before = await catalogSnapshot(db);
      for (const version of versions) {
        await migrateUp(db, { to: version });
        const after = await catalogSnapshot(db);
        expect(diffSnapshots(before, after).length, `${version} changed nothing in the catalog`).toBeGreaterThan(0);
        await migrateDown(db, { steps: 1 });
        expectSameCatalog(await catalogSnapshot(db), before, `up ${version} then down`);
        await migrateUp(db, { to: version });
        const reapplied = await catalogSnapshot(db);
        expectSameCatalog(reapplied, after, `re-applying ${version}`);
        // The catalog the next step starts from, read at that very state (one snapshot per state, not two).
        before = reapplied;
      }
    });

    it('full down leaves only the bootstrap, and full up again reaches the same head', async () => {
      const head = await catalogSnapshot(db);
      const started = performance.now();
      await migrateDown(db, { to: '0000' });
      expectSameCatalog(await catalogSnapshot(db), bootstrapOnly, 'full down');
      const tables = await db.query(`select 1 from pg_tables where schemaname = 'public'`);
      expect(tables.rowCount).toBe(0);
      await migrateUp(db);
      expectSameCatalog(await catalogSnapshot(db), head, 'full up after full down');
      console.log(
        `[figures] ${engine.name}: full down + full up of ${versions.length} migrations: ${(performance.now() - started).toFixed(0)} ms`,
      );
    });

    it('with the dev seed loaded, every down keeps the rows of the tables it does not drop, and down+up of each data-preserving step keeps every row', async () => {
      const { rows: counts } = await loadSeed(db);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
      const seeded = await publicRows(db);
      let preserving = 0;
      for (const version of [...versions].reverse()) {
        await migrateDown(db, { steps: 1 });
        const now = await publicRows(db);
        const dropped = Object.keys(seeded).filter((t) => !(t in now));
        for (const [table, rows] of Object.entries(now)) {
          const cols = Object.keys(rows[0] ?? seeded[table]?.[0] ?? {});
          expect(project(rows, cols), `${version} down changed rows of ${table}`).toEqual(
            project(seeded[table] ?? [], cols),
          );
        }
        if (dropped.length > 0) {
          // Data loss is only acceptable from the down of the migration that created the table.
          const down = migrations.find((m) => m.version === version)!.down;
          for (const t of dropped)
            expect(down, `${version} down lost ${t} without dropping it`).toMatch(
              new RegExp(`drop table (if exists )?public\\.${t}\\b`),
            );
          break;
        }
        await migrateUp(db);
        expect(await publicRows(db), `down+up from ${version} lost or changed rows`).toEqual(seeded);
        preserving++;
        await migrateDown(db, { to: versions[versions.indexOf(version) - 1] ?? '0000' });
      }
      console.log(`[figures] ${engine.name}: ${preserving} data-preserving steps proved with the dev seed loaded`);
      await migrateUp(db);
    });
  });
}
