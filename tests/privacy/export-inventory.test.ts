import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database, Queryable } from '../../src/db/database.js';
import { dataInventory } from '../../src/privacy/inventory.js';
import { attachEvidence } from '../../src/report/test-evidence.js';
import { describeRequiring } from '../support/pg.js';
import {
  SEEDED_USERS,
  asRole,
  migratedEngines,
  pgFailure,
  publicUuidColumns,
  rowsReferencing,
  sortJson,
} from './support.js';

/** Free-text / structured types that could carry text or PII: never allowed in usage_metrics. */
async function usageMetricsTextColumns(db: Queryable): Promise<string[]> {
  const r = await db.query<{ c: string }>(`
    select a.attname || ' ' || format_type(a.atttypid, a.atttypmod) as c
      from pg_attribute a join pg_type t on t.oid = a.atttypid
     where a.attrelid = 'public.usage_metrics'::regclass and a.attnum > 0 and not a.attisdropped
       and not (t.typcategory in ('N', 'D', 'E', 'B') or a.atttypid = 'uuid'::regtype)`);
  return r.rows.map((x) => x.c);
}

for (const engine of migratedEngines({ seed: true })) {
  describeRequiring(`export and inventory on ${engine.name}`, engine.missing, () => {
    let db: Database;
    beforeAll(async () => {
      db = await engine.fresh();
    });
    afterAll(async () => db?.close());

    it('export_my_data holds every row that references the caller in every public table, and nothing else (catalog-driven)', async () => {
      const uuidColumns = await publicUuidColumns(db);
      expect(uuidColumns.size).toBeGreaterThanOrEqual(9);
      for (const user of SEEDED_USERS) {
        const doc = (
          await asRole(db, 'authenticated', user.id, (tx) =>
            // biome-ignore lint/suspicious/noExplicitAny: the export document is walked by path below
            tx.query<{ d: any }>('select public.export_my_data() as d'),
          )
        ).rows[0]!.d;
        expect(doc.user_id).toBe(user.id);
        expect(doc.account.email).toBe(user.email);
        let total = 0;
        for (const [table, cols] of uuidColumns) {
          const expected = await rowsReferencing(db, table, cols, user.id);
          // JSON round trip on both sides: the same serialisation whatever the engine's type parsers do.
          const exported = ((doc.tables[table] ?? []) as unknown[]).map((r) => JSON.parse(JSON.stringify(r)));
          expect(sortJson(exported), `${user.email}: ${table}`).toEqual(sortJson(expected));
          for (const row of exported as Record<string, unknown>[]) {
            expect(
              cols.some((c) => row[c] === user.id),
              `${table} row of someone else in ${user.email}'s export`,
            ).toBe(true);
          }
          total += exported.length;
        }
        expect(total, `${user.email} owns rows`).toBeGreaterThan(5);
        for (const other of SEEDED_USERS.filter((u) => u.id !== user.id)) {
          expect(JSON.stringify(doc.tables)).not.toContain(other.id);
        }
        expect(Array.isArray(doc.audit_events)).toBe(true);
      }
    });

    it('export_my_data refuses anon and a request without a user', async () => {
      const anon = await pgFailure(asRole(db, 'anon', null, (tx) => tx.query('select public.export_my_data()')));
      expect(anon.code).toBe('42501');
      const nobody = await pgFailure(
        asRole(db, 'authenticated', null, (tx) => tx.query('select public.export_my_data()')),
      );
      expect(nobody.message).toMatch(/no signed-in user/);
    });

    it('usage_metrics stays ID-only, and the check notices a free-text column', async () => {
      expect(await usageMetricsTextColumns(db)).toEqual([]);
      await db
        .transaction(async (tx) => {
          for (const type of ['text', 'varchar(20)', 'jsonb', 'json', 'bytea', 'text[]', 'inet']) {
            await tx.exec(`alter table public.usage_metrics add column probe ${type}`);
            expect(await usageMetricsTextColumns(tx), type).toHaveLength(1);
            await tx.exec('alter table public.usage_metrics drop column probe');
          }
          throw new Error('rollback');
        })
        .catch((e: Error) => expect(e.message).toBe('rollback'));
    });

    it('the data inventory covers every column of every public table, classified, with retention from the policies', async ({
      task,
    }) => {
      const inventory = await dataInventory(db);
      attachEvidence(task, {
        figures: {
          columns: inventory.length,
          contentColumns: inventory.filter((c) => c.category === 'content').length,
        },
        evidence: { kind: 'data-inventory', columns: inventory },
      });
      const columns = await db.query<{ n: number }>(`
        select count(*)::int as n from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace s on s.oid = c.relnamespace
         where s.nspname = 'public' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped`);
      expect(inventory).toHaveLength(columns.rows[0]!.n);
      expect(inventory.filter((c) => c.category === 'unclassified')).toEqual([]);
      for (const c of inventory)
        expect(['identifier', 'content', 'metric', 'personal', 'operational']).toContain(c.category);
      const byTable = (t: string) => inventory.filter((c) => c.table === t);
      expect(byTable('meeting_transcripts').every((c) => c.retentionDays === 90)).toBe(true);
      expect(byTable('user_progress').every((c) => c.retentionDays === null)).toBe(true);
      expect(inventory.find((c) => c.table === 'meeting_transcripts' && c.column === 'segments')).toMatchObject({
        category: 'content',
        auditTreatment: 'redact',
      });
      expect(inventory.filter((c) => c.category === 'content').every((c) => c.auditTreatment === 'redact')).toBe(true);
    });
  });
}
