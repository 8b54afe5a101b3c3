import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { describePg, describeRequiring } from '../support/pg.js';
import { postgresFactory } from '../support/engines.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { attachEvidence } from '../../src/report/test-evidence.js';
import { loadSeed } from '../../src/seed/load.js';
import { ALICE, BOB, asRole, migratedEngines, pgFailure, publicUuidColumns, rowsReferencing } from './support.js';

const AUDITED = [
  'profiles',
  'user_progress',
  'usage_metrics',
  'meetings',
  'meeting_transcripts',
  'meeting_analyses',
  'modules',
  'practice_sessions',
  'session_feedback',
];

for (const engine of migratedEngines({ seed: true })) {
  describeRequiring(`audit trail on ${engine.name}`, engine.missing, () => {
    let db: Database;
    beforeAll(async () => {
      db = await engine.fresh();
    });
    afterAll(async () => db?.close());

    it('every public table is audited (insert, update, delete, truncate triggers) and every one of its columns is classified', async () => {
      const tables = await db.query<{ t: string }>(
        `select tablename as t from pg_tables where schemaname = 'public' order by 1`,
      );
      expect(tables.rows.map((r) => r.t).sort()).toEqual([...AUDITED].sort());
      const triggers = await db.query<{ t: string; n: number }>(`
        select c.relname as t, count(*)::int as n from pg_trigger g join pg_class c on c.oid = g.tgrelid
         join pg_namespace s on s.oid = c.relnamespace
         where s.nspname = 'public' and g.tgname in ('audit_insert', 'audit_update', 'audit_delete', 'audit_truncate') group by 1`);
      for (const t of AUDITED) expect(triggers.rows.find((r) => r.t === t)?.n, t).toBe(4);
      const unclassified = await db.query(`
        select c.relname, a.attname from pg_class c join pg_namespace n on n.oid = c.relnamespace
          join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
         where n.nspname = 'public' and c.relkind = 'r'
           and not exists (select from audit.column_classification k where k.table_name = c.relname and k.column_name = a.attname)`);
      expect(unclassified.rows, 'columns without an audit classification').toEqual([]);
    });

    it('the seed wrote one INSERT entry per row of every audited table, and the chain verifies', async ({ task }) => {
      for (const t of AUDITED) {
        const rows = await db.query<{ n: number }>(`select count(*)::int as n from public.${t}`);
        const entries = await db.query<{ n: number }>(
          `select count(*)::int as n from audit.log where table_name = $1 and operation = 'INSERT'`,
          [t],
        );
        // usage_metrics also receives rows from the meetings quota trigger, all of them audited.
        expect(entries.rows[0]!.n, t).toBeGreaterThanOrEqual(rows.rows[0]!.n);
        expect(rows.rows[0]!.n, `${t} has seed rows`).toBeGreaterThan(0);
      }
      expect((await db.query(`select audit.verify_chain() as v`)).rows[0]).toEqual({ v: null });
      // The published chain head and the verdict, as evidence for the compliance report.
      const head = await db.query<{ seq: string; hash: string; entries: number }>(
        `select h.last_seq::text as seq, encode(h.last_hash, 'hex') as hash, (select count(*)::int from audit.log) as entries from audit.chain_head h`,
      );
      const h = head.rows[0]!;
      attachEvidence(task, {
        figures: { verifyChain: 'intact', chainHeadSeq: h.seq, chainHeadHash: h.hash, logEntries: h.entries },
      });
    });

    it('content and personal columns never appear in clear; user ids appear only as pseudonyms', async () => {
      const redacted = await db.query<{ table_name: string; column_name: string }>(
        `select table_name, column_name from audit.column_classification where audit_treatment = 'redact'`,
      );
      let checked = 0;
      for (const { table_name, column_name } of redacted.rows) {
        const values = await db.query<{ v: string }>(
          `select x::text as v from (select "${column_name}" as x from public."${table_name}") s where x is not null and length(x::text) >= 8`,
        );
        for (const { v } of values.rows) {
          const leak = await db.query(`select id from audit.log l where strpos(l::text, $1) > 0 limit 1`, [
            v.slice(0, 40),
          ]);
          expect(leak.rows, `${table_name}.${column_name} value leaked into audit.log`).toEqual([]);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(20);
      const raw = await db.query(
        `select id from audit.log l where strpos(l::text, $1) > 0 or strpos(l::text, $2) > 0 limit 1`,
        [ALICE.id, ALICE.email],
      );
      expect(raw.rows).toEqual([]);
      const sample = await db.query<{ title: string; subject: string; user_id: string }>(
        `select new_values->>'title' as title, subject::text, new_values->>'user_id' as user_id from audit.log where table_name = 'meetings' and operation = 'INSERT' limit 1`,
      );
      expect(sample.rows[0]!.title).toMatch(/^redacted:[0-9a-f]{32}$/);
      expect(sample.rows[0]!.user_id).toBe(sample.rows[0]!.subject);
    });

    it('records actor pseudonym, database role, JWT role, record id and changed columns of an API update', async () => {
      await asRole(db, 'authenticated', ALICE.id, (tx) =>
        tx.query(`update public.profiles set display_name = 'Alice Renamed' where id = $1`, [ALICE.id]),
      );
      const r = await db.query<Record<string, unknown>>(
        `
        select l.actor = k.pseudonym as actor_is_alice, l.subject = k.pseudonym as subject_is_alice, l.db_role, l.jwt_role,
               l.record_id = jsonb_build_object('id', k.pseudonym) as record_is_alice, l.changed_columns, l.operation,
               l.new_values->>'display_name' like 'redacted:%' as redacted
          from audit.log l, audit.subject_keys k where k.user_id = $1 order by l.id desc limit 1`,
        [ALICE.id],
      );
      expect(r.rows[0]).toEqual({
        actor_is_alice: true,
        subject_is_alice: true,
        db_role: 'authenticated',
        jwt_role: 'authenticated',
        record_is_alice: true,
        changed_columns: ['display_name', 'updated_at'],
        operation: 'UPDATE',
        redacted: true,
      });
    });

    it('the API roles cannot reach schema audit at all', async () => {
      for (const role of ['anon', 'authenticated', 'service_role'] as const) {
        const priv = await db.query<{ u: boolean }>(`select has_schema_privilege($1, 'audit', 'usage') as u`, [role]);
        expect(priv.rows[0]!.u, role).toBe(false);
        for (const sql of [
          'select count(*) from audit.log',
          'select * from audit.subject_keys',
          "insert into audit.log (txid, db_role, table_name, operation) values (1, 'x', 'x', 'INSERT')",
          'select audit.verify_chain()',
          'select audit.seal()',
        ]) {
          const f = await pgFailure(asRole(db, role, ALICE.id, (tx) => tx.query(sql)));
          expect(f.code, `${role}: ${sql}`).toBe('42501');
          expect(f.message).toMatch(/permission denied for schema audit/);
        }
      }
    });

    it('UPDATE, DELETE and TRUNCATE of the log and of its seals are refused with a clear error, even for the owner', async () => {
      await db.query('select audit.seal(null)');
      for (const sql of [
        "update audit.log set db_role = 'forged' where id = (select min(id) from audit.log)",
        'delete from audit.log',
        'truncate audit.log',
        "update audit.seals set hash = sha256('x') where seq = 1",
        'delete from audit.seals',
        'truncate audit.seals',
      ]) {
        const f = await pgFailure(db.query(sql));
        expect(f.code, sql).toBe('42501');
        expect(f.message, sql).toMatch(/audit\.(log|seals) is append-only: (UPDATE|DELETE|TRUNCATE) is not allowed/);
      }
      // Setting the purge variable by hand authorises nothing without the owner-written token.
      const f = await pgFailure(
        db.transaction(async (tx) => {
          await tx.query(`select set_config('audit.purge_txid', pg_current_xact_id()::text, true)`);
          await tx.query('delete from audit.log');
        }),
      );
      expect(f.message).toMatch(/append-only/);
    });

    it('an entry not sealed yet cannot be changed either', async () => {
      await db.query(`insert into public.usage_metrics (user_id, kind, quantity) values ($1, 'analysis_tokens', 7)`, [
        ALICE.id,
      ]);
      const e = await db.query<{ id: string; sealed: boolean }>(
        `select l.id::text, exists (select from audit.seals s where s.entry_id = l.id) as sealed from audit.log l order by l.id desc limit 1`,
      );
      expect(e.rows[0]!.sealed).toBe(false);
      for (const sql of [
        `update audit.log set new_values = '{}' where id = $1`,
        `delete from audit.log where id = $1`,
      ]) {
        const f = await pgFailure(db.query(sql, [e.rows[0]!.id]));
        expect(f.code, sql).toBe('42501');
        expect(f.message).toMatch(/append-only/);
      }
    });

    it("every capture function is what audit.capture_source generates from today's catalog and classification", async () => {
      const r = await db.query<{ t: string; current: boolean }>(`
        select a.table_name as t,
               p.prosrc = substring(audit.capture_source(a.table_name) from '\\$capture\\$(.*)\\$capture\\$') as current
          from audit.audited_tables a
          left join pg_proc p on p.oid = to_regprocedure(format('audit.%I()', 'capture_' || a.table_name))`);
      expect(r.rows.length).toBe(AUDITED.length);
      for (const row of r.rows)
        expect(row.current, `audit.capture_${row.t} is stale: run audit.refresh_capture('${row.t}')`).toBe(true);
      // The check is live: a column added without regenerating makes it fail.
      const stale = await db
        .transaction(async (tx) => {
          await tx.exec(`alter table public.usage_metrics add column note_for_test integer`);
          const x = await tx.query<{ current: boolean }>(`
          select p.prosrc = substring(audit.capture_source('usage_metrics') from '\\$capture\\$(.*)\\$capture\\$') as current
            from pg_proc p where p.oid = 'audit.capture_usage_metrics()'::regprocedure`);
          throw Object.assign(new Error('rollback'), { current: x.rows[0]!.current });
        })
        .catch((e: Error & { current?: boolean }) => e.current);
      expect(stale).toBe(false);
    });

    it('a user without a subject key (created before the signup trigger) gets one on demand, and the entry is pseudonymised', async () => {
      const id = '00000000-0000-4000-8000-0000000000e1';
      await db.transaction(async (tx) => {
        await tx.exec('alter table auth.users disable trigger audit_create_subject_key');
        await tx.query(`insert into auth.users (id, email) values ($1, 'late-key@example.test')`, [id]);
        await tx.exec('alter table auth.users enable trigger audit_create_subject_key');
      });
      const key = await db.query<{ pseudonym: string }>(
        'select pseudonym::text from audit.subject_keys where user_id = $1',
        [id],
      );
      expect(key.rows.length).toBe(1);
      const entries = await db.query<{ n: number }>(
        `select count(*)::int as n from audit.log where subject = $1 and table_name = 'profiles'`,
        [key.rows[0]!.pseudonym],
      );
      expect(entries.rows[0]!.n).toBe(1);
      const raw = await db.query(`select id from audit.log l where strpos(l::text, $1) > 0 limit 1`, [id]);
      expect(raw.rows).toEqual([]);
      await db.query('delete from auth.users where id = $1', [id]);
    });

    it('a user reads their own audit entries through my_audit_events, and only those', async () => {
      const mine = await asRole(db, 'authenticated', BOB.id, (tx) =>
        tx.query<{ table_name: string; by_me: boolean; record_id: unknown }>(
          'select * from public.my_audit_events(500)',
        ),
      );
      expect(mine.rows.length).toBeGreaterThan(5);
      const expected = await db.query<{ n: number }>(
        `select count(*)::int as n from audit.log l join audit.subject_keys k on k.pseudonym = l.subject where k.user_id = $1`,
        [BOB.id],
      );
      expect(mine.rows.length).toBe(expected.rows[0]!.n);
      expect(JSON.stringify(mine.rows)).not.toContain(ALICE.id);
      const anon = await pgFailure(
        asRole(db, 'anon', null, (tx) => tx.query('select * from public.my_audit_events(10)')),
      );
      expect(anon.code).toBe('42501');
    });
  });
}

for (const engine of migratedEngines({ seed: true })) {
  describeRequiring(`audit tamper evidence and erasure on ${engine.name}`, engine.missing, () => {
    let db: Database;
    beforeAll(async () => {
      db = await engine.fresh();
    });
    afterAll(async () => db?.close());

    it('a sealed entry edited or deleted by a superuser (guard trigger disabled) is found by verify_chain', async () => {
      expect((await db.query(`select audit.verify_chain() as v`)).rows[0]).toEqual({ v: null });
      // Chain order is seal order: the tenth link and the one after it.
      const target = await db.query<{ id: string; next: string }>(
        `select entry_id::text as id, lead(entry_id) over (order by seq)::text as next from audit.seals order by seq offset 10 limit 1`,
      );
      const { id, next } = target.rows[0]!;
      const tampered = async (edit: string) =>
        db
          .transaction(async (tx) => {
            await tx.exec('alter table audit.log disable trigger refuse_update_delete');
            await tx.exec('alter table audit.seals disable trigger refuse_update_delete');
            await tx.query(edit, [id]);
            const v = await tx.query<{ v: string | null }>(`select audit.verify_chain()::text as v`);
            throw Object.assign(new Error('rollback'), { v: v.rows[0]!.v });
          })
          .catch((e: Error & { v?: string | null }) => (e.message === 'rollback' ? e.v : Promise.reject(e)));
      expect(
        await tampered(
          `update audit.log set new_values = jsonb_set(coalesce(new_values, '{}'), '{quantity}', '999') where id = $1`,
        ),
      ).toBe(id);
      expect(await tampered(`update audit.log set occurred_at = occurred_at - interval '1 day' where id = $1`)).toBe(
        id,
      );
      // The entry gone, its link left: the link names the missing entry.
      expect(await tampered(`delete from audit.log where id = $1`)).toBe(id);
      // Entry and link both gone: the next link no longer follows from the previous one.
      expect(
        await tampered(
          `with s as (delete from audit.seals where entry_id = $1 returning entry_id) delete from audit.log where id in (select entry_id from s)`,
        ),
      ).toBe(next);
      // A link whose hash was replaced: it no longer matches the entry and its predecessor.
      expect(await tampered(`update audit.seals set hash = sha256(hash) where entry_id = $1`)).toBe(id);
      expect((await db.query(`select audit.verify_chain() as v`)).rows[0]).toEqual({ v: null });
    });

    it('erasure: deleting the auth user removes every row referencing them, audits the cascade under their pseudonym, then shreds the pseudonym', async () => {
      const before = await db.query<{ n: number }>('select count(*)::int as n from audit.log');
      const key = await db.query<{ pseudonym: string }>(
        'select pseudonym::text from audit.subject_keys where user_id = $1',
        [ALICE.id],
      );
      const pseudonym = key.rows[0]!.pseudonym;
      const uuidColumns = await publicUuidColumns(db);
      const owned: Record<string, number> = {};
      for (const [t, cols] of uuidColumns) owned[t] = (await rowsReferencing(db, t, cols, ALICE.id)).length;
      expect(Object.values(owned).reduce((a, b) => a + b, 0)).toBeGreaterThan(10);

      await db.query('delete from auth.users where id = $1', [ALICE.id]);

      for (const [t, cols] of uuidColumns) {
        expect(await rowsReferencing(db, t, cols, ALICE.id), `${t} still references the erased user`).toEqual([]);
      }
      // Nothing of the log was deleted; the cascade's deletes were logged with the (now unlinkable) pseudonym.
      const after = await db.query<{ n: number }>('select count(*)::int as n from audit.log');
      expect(after.rows[0]!.n).toBeGreaterThan(before.rows[0]!.n);
      const cascade = await db.query<{ table_name: string; n: number }>(
        `select table_name, count(*)::int as n from audit.log where operation = 'DELETE' and subject = $1 group by 1`,
        [pseudonym],
      );
      const deleted = Object.fromEntries(cascade.rows.map((r) => [r.table_name, r.n]));
      for (const t of [
        'profiles',
        'user_progress',
        'usage_metrics',
        'meetings',
        'meeting_transcripts',
        'meeting_analyses',
        'practice_sessions',
        'session_feedback',
      ]) {
        expect(deleted[t], `DELETE entries for ${t}`).toBe(owned[t]);
      }
      const erase = await db.query(`select 1 from audit.log where operation = 'ERASE' and subject = $1`, [pseudonym]);
      expect(erase.rows.length).toBe(1);
      expect((await db.query('select 1 from audit.subject_keys where user_id = $1', [ALICE.id])).rows.length).toBe(0);
      const trace = await db.query(
        `select 1 from (select l::text as t from audit.log l union all select k::text from audit.subject_keys k
                        union all select r::text from audit.retention_policies r union all select p::text from audit.purge_runs p) s
          where strpos(s.t, $1) > 0 or strpos(lower(s.t), $2) > 0`,
        [ALICE.id, ALICE.email],
      );
      expect(trace.rows, 'raw id or email of the erased user left in schema audit').toEqual([]);
      expect((await db.query(`select audit.verify_chain() as v`)).rows[0]).toEqual({ v: null });
    });

    it('the pseudonym is shredded at commit: the ERASE entry follows every cascaded DELETE entry of the same transaction', async () => {
      const r = await db.query<{ tgname: string; deferred: boolean }>(
        `select tgname, tgdeferrable and tginitdeferred as deferred from pg_trigger where tgrelid = 'auth.users'::regclass and tgname = 'zz_audit_forget_subject'`,
      );
      expect(r.rows).toEqual([{ tgname: 'zz_audit_forget_subject', deferred: true }]);
      await db.query('delete from auth.users where id = $1', [BOB.id]);
      const order = await db.query<{ operation: string }>(
        `select operation from audit.log where txid = (select txid from audit.log where operation = 'ERASE' order by id desc limit 1) order by id`,
      );
      const ops = order.rows.map((x) => x.operation);
      expect(ops.at(-1)).toBe('ERASE');
      expect(ops.filter((o) => o === 'DELETE').length).toBeGreaterThan(5);
      expect((await db.query(`select audit.verify_chain() as v`)).rows[0]).toEqual({ v: null });
    });
  });
}

describePg('audit sealing with concurrent writers on PostgreSQL 15', () => {
  let db: Database;
  beforeAll(async () => {
    db = await postgresFactory(async (d) => {
      await migrateUp(d);
      await loadSeed(d);
    })();
  });
  afterAll(async () => db?.close());

  // The second writer is another seeded user whose usage-rollup shard (0025: hashtext(user_id) & 15) differs
  // from Alice's: the rollup row of one (day, kind, tier, shard) is a counter, so two writers on the same shard
  // do queue on it for the length of the first transaction — a lock of the rollup, not of the audit trail,
  // which is what these tests are about.
  let otherWriter = '';
  beforeAll(async () => {
    otherWriter = (
      await db.query<{ id: string }>(
        `select id::text from auth.users where (pg_catalog.hashtext(id::text) & 15) <> (pg_catalog.hashtext($1::text) & 15) order by id limit 1`,
        [ALICE.id],
      )
    ).rows[0]!.id;
  });
  const insertUsage = (tx: { query: Database['query'] }, quantity: number, userId: string = ALICE.id) =>
    tx.query(`insert into public.usage_metrics (user_id, kind, quantity) values ($1, 'analysis_tokens', $2)`, [
      userId,
      quantity,
    ]);
  const entryOf = async (quantity: number) =>
    (
      await db.query<{ id: string; sealed: boolean }>(
        `select l.id::text, exists (select from audit.seals s where s.entry_id = l.id) as sealed
         from audit.log l where l.table_name = 'usage_metrics' and (l.new_values->>'quantity')::numeric = $1`,
        [quantity],
      )
    ).rows;

  it('two audited writers do not wait for each other (no shared lock on the write path)', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let firstWrote!: () => void;
    const wrote = new Promise<void>((r) => (firstWrote = r));
    // Writer A: audited insert, then keeps its transaction open.
    const a = db.transaction(async (tx) => {
      await insertUsage(tx, 1001);
      firstWrote();
      await held;
    });
    await wrote;
    // Writer B, on another connection, while A is open: with a shared chain lock it would block here.
    const started = performance.now();
    await db.transaction(async (tx) => {
      await tx.query(`set local lock_timeout = '2s'`);
      await insertUsage(tx, 1002, otherWriter);
    });
    const waited = performance.now() - started;
    release();
    await a;
    // No wall-clock bound: A holds its transaction until B has finished, so had B waited on A's lock it would
    // have failed with lock_timeout (55P03) instead of reaching this line.
    console.log(`[figures] second audited writer finished in ${Math.round(waited)} ms while the first was open`);
    expect((await entryOf(1001)).length).toBe(1);
    expect((await entryOf(1002)).length).toBe(1);
  });

  it('an entry committed late (lower id, later commit) is sealed by a later run, and the chain verifies', async () => {
    expect((await db.query(`select audit.verify_chain() as v`)).rows[0]).toEqual({ v: null });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let firstWrote!: () => void;
    const wrote = new Promise<void>((r) => (firstWrote = r));
    const late = db.transaction(async (tx) => {
      await insertUsage(tx, 2001);
      firstWrote();
      await held;
    });
    await wrote;
    await insertUsage(db, 2002, otherWriter);
    // While the early transaction runs, the sealer leaves it (and everything after it) for later.
    await db.query('select audit.seal()');
    const during = await db.query<{ id: string; sealed: boolean }>(
      `select l.id::text, exists (select from audit.seals s where s.entry_id = l.id) as sealed
         from audit.log l where l.table_name = 'usage_metrics' and (l.new_values->>'quantity')::numeric = 2002`,
    );
    expect(during.rows[0]!.sealed).toBe(false);
    release();
    await late;
    const [early] = await entryOf(2001);
    const [later] = await entryOf(2002);
    expect(BigInt(early!.id)).toBeLessThan(BigInt(later!.id));
    expect(early!.sealed).toBe(false);
    const sealed = await db.query<{ n: string }>('select audit.seal()::text as n');
    expect(Number(sealed.rows[0]!.n)).toBeGreaterThanOrEqual(2);
    expect((await entryOf(2001))[0]!.sealed).toBe(true);
    expect((await entryOf(2002))[0]!.sealed).toBe(true);
    expect((await db.query(`select audit.verify_chain() as v`)).rows[0]).toEqual({ v: null });
    // Tampering with the late entry after sealing is found like any other.
    const found = await db
      .transaction(async (tx) => {
        await tx.exec('alter table audit.log disable trigger refuse_update_delete');
        await tx.query(`update audit.log set new_values = jsonb_set(new_values, '{quantity}', '1') where id = $1`, [
          early!.id,
        ]);
        const v = await tx.query<{ v: string | null }>(`select audit.verify_chain()::text as v`);
        throw Object.assign(new Error('rollback'), { v: v.rows[0]!.v });
      })
      .catch((e: Error & { v?: string | null }) => e.v);
    expect(found).toBe(early!.id);
  });
});

describe('audit trail facts independent of the engine', () => {
  it('lists nine audited tables', () => expect(AUDITED).toHaveLength(9));
});
