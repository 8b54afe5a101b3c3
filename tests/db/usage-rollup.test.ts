/**
 * Migration 0025: the anonymous usage rollup behind public.admin_usage_monthly(). It must agree exactly with
 * the raw aggregate (public.admin_usage_summary) for a month, count a user once per month and kind however
 * many events and statements, keep no user id in what it returns, refuse bad input with a clear error, and
 * forget who was counted when a user is erased while the anonymous counts stay. PGlite, real SQL.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../src/db/database.js';
import { isPgError } from '../../src/db/database.js';
import { pgliteAtHeadSeeded } from '../support/pglite-head.js';
import { actAs } from '../../src/db/act-as.js';

const fresh = pgliteAtHeadSeeded;

const ALICE = '00000000-0000-4000-8000-00000000000a'; // free member
const BOB = '00000000-0000-4000-8000-00000000000b'; // free member
const CAROL = '00000000-0000-4000-8000-00000000000c'; // pro member
const DAVE = '00000000-0000-4000-8000-00000000000d'; // admin

const now = new Date();
const MONTH = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
const NEXT = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
const monthDate = MONTH.toISOString().slice(0, 10);

async function as<T>(
  db: Database,
  role: 'service_role' | 'authenticated' | 'anon',
  sub: string | null,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  return actAs(db, role, { role, ...(sub ? { sub } : {}) }, fn);
}

const monthly = (db: Database) =>
  as(
    db,
    'service_role',
    null,
    async (tx) =>
      (
        await tx.query(
          'select kind, tier, users::text, events::text, total_quantity::text from public.admin_usage_monthly($1::date) order by 1, 2',
          [monthDate],
        )
      ).rows,
  );
const raw = (db: Database) =>
  as(
    db,
    'service_role',
    null,
    async (tx) =>
      (
        await tx.query(
          'select kind, tier, users::text, events::text, total_quantity::text from public.admin_usage_summary($1, $2) order by 1, 2',
          [MONTH.toISOString(), NEXT.toISOString()],
        )
      ).rows,
  );

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isPgError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected an error');
}

describe('usage rollup (0025)', () => {
  let db: Database;
  beforeEach(async () => {
    db = await fresh();
  });
  afterEach(async () => db?.close());

  it('agrees with the raw aggregate, counting each user once per month and kind across rows and statements', async () => {
    // One multi-row statement with a user twice, then more statements for the same users, plus a pro user.
    await db.query(
      `insert into public.usage_metrics (user_id, kind, quantity, occurred_at) values
         ($1, 'minutes_transcribed', 12, $4), ($1, 'minutes_transcribed', 3, $4), ($2, 'minutes_transcribed', 7, $4), ($3, 'analysis_tokens', 900, $4)`,
      [ALICE, BOB, CAROL, MONTH.toISOString()],
    );
    await db.query(`insert into public.usage_metrics (user_id, kind, quantity) values ($1, 'minutes_transcribed', 5)`, [
      ALICE,
    ]);
    await db.query(`insert into public.usage_metrics (user_id, kind, quantity) values ($1, 'minutes_transcribed', 5)`, [
      CAROL,
    ]);
    const rollup = await monthly(db);
    expect(rollup).toEqual(await raw(db));
    expect(rollup).toContainEqual({
      kind: 'minutes_transcribed',
      tier: 'free',
      users: '2',
      events: '4',
      total_quantity: '27.000',
    });
    expect(rollup).toContainEqual({
      kind: 'minutes_transcribed',
      tier: 'pro',
      users: '1',
      events: '1',
      total_quantity: '5.000',
    });
  });

  it('counts meetings uploaded through the quota trigger (usage inserted by another trigger)', async () => {
    const proUploads = (rows: Record<string, unknown>[]) =>
      Number(rows.find((r) => r.kind === 'meeting_uploaded' && r.tier === 'pro')?.events ?? 0);
    const before = proUploads(await monthly(db));
    await as(db, 'authenticated', CAROL, (tx) =>
      tx.query(
        `insert into public.meetings (user_id, title, storage_object_path) values ($1::uuid, 'Rollup', $1::text || '/rollup.m4a')`,
        [CAROL],
      ),
    );
    const rollup = await monthly(db);
    expect(rollup).toEqual(await raw(db));
    expect(proUploads(rollup)).toBe(before + 1);
    expect(rollup).toContainEqual(expect.objectContaining({ kind: 'meeting_uploaded', tier: 'pro', users: '1' }));
  });

  it('an admin may read it, a member and anon may not', async () => {
    await db.query(`insert into public.usage_metrics (user_id, kind, quantity) values ($1, 'minutes_transcribed', 5)`, [
      ALICE,
    ]);
    const asAdmin = await as(
      db,
      'authenticated',
      DAVE,
      async (tx) => (await tx.query('select * from public.admin_usage_monthly($1::date)', [monthDate])).rows,
    );
    expect(asAdmin.length).toBeGreaterThan(0);
    expect(
      await errorOf(
        as(db, 'authenticated', ALICE, (tx) =>
          tx.query('select * from public.admin_usage_monthly($1::date)', [monthDate]),
        ),
      ),
    ).toEqual({
      code: '42501',
      message: 'admin_usage_monthly is for admins only',
    });
    expect(
      (
        await errorOf(
          as(db, 'anon', null, (tx) => tx.query('select * from public.admin_usage_monthly($1::date)', [monthDate])),
        )
      ).code,
    ).toBe('42501');
  });

  it.each([
    ['a day that is not the first of a month', '2026-03-15'],
    ['null', null],
  ])('refuses %s with 22023 and a hint', async (_, month) => {
    const e = await errorOf(
      as(db, 'service_role', null, (tx) => tx.query('select * from public.admin_usage_monthly($1::date)', [month])),
    );
    expect(e).toEqual({ code: '22023', message: 'admin_usage_monthly needs the first day of a month' });
  });

  it("returns no user id, and the tables behind it are out of the API roles' reach", async () => {
    const r = await db.query<{ result: string; grants: number }>(
      `select pg_get_function_result('public.admin_usage_monthly(date)'::regprocedure) as result,
              (select count(*)::int from information_schema.role_table_grants g
                where g.table_schema = 'private' and g.table_name in ('usage_daily_rollup', 'usage_month_users')
                  and g.grantee in ('anon', 'authenticated', 'service_role')) as grants`,
    );
    expect(r.rows[0]!.result).not.toMatch(/user_id/);
    expect(r.rows[0]!.grants).toBe(0);
  });

  it('erasing a user forgets that they were counted and keeps the anonymous counts', async () => {
    await db.query(
      `insert into public.usage_metrics (user_id, kind, quantity) values ($1, 'minutes_transcribed', 5), ($2, 'minutes_transcribed', 5)`,
      [ALICE, BOB],
    );
    const before = await monthly(db);
    await db.query('delete from auth.users where id = $1', [BOB]);
    const left = await db.query<{ n: number }>(
      'select count(*)::int as n from private.usage_month_users where user_id = $1',
      [BOB],
    );
    expect(left.rows[0]!.n).toBe(0);
    expect(await monthly(db)).toEqual(before);
  });
});
