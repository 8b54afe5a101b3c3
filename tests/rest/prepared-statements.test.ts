/**
 * Named prepared statements per connection (issue #17 item 5, PostgREST `db-prepared-statements`): the
 * gateway's prelude and each URL shape's statement are parsed and planned once per connection
 * (src/db/pg-batch.ts). What must hold: a statement prepared while one identity ran it answers every other
 * identity with its own rows (PostgreSQL re-plans per role; claims are read at execution), a table change is
 * seen by the next request, a failed exchange records nothing that does not exist on the server, and the
 * number kept per connection is bounded. Each request's rows are compared with the same gateway with prepared
 * statements off, on the same database.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { connectionConfig, openNodePostgres } from '../../src/db/node-postgres.js';
import { queryBatch } from '../../src/db/pg-batch.js';
import { describePg, pgUrl } from '../support/pg.js';
import { clients, prepareFixture, USER_A, USER_B, type Clients } from './support/fixture.js';

interface Prepared {
  name: string;
  statement: string;
}
const PREPARED_SQL = `select name, statement from pg_catalog.pg_prepared_statements where name like 'shipspeak\\_%'`;

describePg('named prepared statements per connection', () => {
  let scratch: ScratchDatabase;
  let admin: Database;
  let prepared: Database;
  let unprepared: Database;
  let p: Clients;
  let u: Clients;

  beforeAll(async () => {
    scratch = await createScratchDatabase(pgUrl(), 'prepared');
    admin = await openNodePostgres(scratch.url, { max: 1 });
    await prepareFixture(admin);
    // One connection each, so every request reuses (or not) the same server session's statements.
    prepared = await openNodePostgres(scratch.url, { max: 1 });
    unprepared = await openNodePostgres(scratch.url, { max: 1, preparedStatements: false });
    p = await clients(prepared);
    u = await clients(unprepared);
  }, 120_000);

  afterAll(async () => {
    await prepared?.close();
    await unprepared?.close();
    await admin?.close();
    await scratch?.drop();
  });

  it('one statement prepared on one connection answers each identity, interleaved, with its own rows', async () => {
    const shape = '/parents?select=id,owner_id,name,children(label)&order=id';
    const who = [
      ['user A', (c: Clients) => c.userA],
      ['user B', (c: Clients) => c.userB],
      ['anon', (c: Clients) => c.anonKey],
      ['service_role', (c: Clients) => c.serviceKey],
    ] as const;
    // More rounds than PostgreSQL's five custom plans before it may switch to a generic one.
    for (let round = 0; round < 8; round++) {
      for (const [label, tokenOf] of who) {
        const got = await p.raw(shape, { token: tokenOf(p) });
        const want = await u.raw(shape, { token: tokenOf(u) });
        expect(got.status, label).toBe(200);
        const rows = (await got.json()) as { owner_id: string }[];
        expect(rows, `${label}, round ${round}`).toEqual(await want.json());
        if (label === 'user A') expect(rows.length > 0 && rows.every((r) => r.owner_id === USER_A)).toBe(true);
        if (label === 'user B') expect(rows.length > 0 && rows.every((r) => r.owner_id === USER_B)).toBe(true);
        if (label === 'anon') expect(rows).toEqual([]);
      }
    }
    // The prelude and the statement are the connection's named statements: the path above really reused them.
    const names = (await prepared.query<Prepared>(PREPARED_SQL)).rows;
    expect(names.some((n) => n.statement.includes("set_config('role'"))).toBe(true);
    expect(names.some((n) => n.statement.includes('"public"."parents"'))).toBe(true);
    // …and the pool without them keeps none.
    expect((await unprepared.query<Prepared>(PREPARED_SQL)).rows).toEqual([]);
  });

  it('a policy or table change after a statement was prepared holds for the very next request', async () => {
    const shape = '/items?select=id&order=id&limit=5';
    const ids = async (c: Clients) => {
      const res = await c.raw(shape, { token: c.userA });
      expect(res.status).toBe(200);
      return ((await res.json()) as { id: number }[]).map((r) => r.id);
    };
    for (let i = 0; i < 7; i++) expect(await ids(p)).toEqual([1, 2, 3, 4, 5]);
    // PostgreSQL invalidates the cached plan when a policy of the table changes: no stale RLS.
    await admin.query(
      `create policy items_hide_low on public.items as restrictive for select to authenticated using (id > 3)`,
    );
    try {
      expect(await ids(p)).toEqual([4, 5, 6, 7, 8]);
      expect(await ids(p)).toEqual(await ids(u));
    } finally {
      await admin.query(`drop policy items_hide_low on public.items`);
    }
    expect(await ids(p)).toEqual([1, 2, 3, 4, 5]);
    // A column the statement reads changing type is re-planned too, not answered from the old plan.
    await admin.query(`alter table public.items alter column id type bigint`);
    try {
      expect(await ids(p)).toEqual([1, 2, 3, 4, 5]);
    } finally {
      await admin.query(`alter table public.items alter column id type int`);
    }
  });

  it('a failed exchange records nothing that does not exist; a bound keeps at most N per connection', async () => {
    const client = new pg.Client(connectionConfig(scratch.url));
    await client.connect();
    try {
      const names = async () => (await client.query<Prepared>(PREPARED_SQL)).rows;
      const s = (n: number) => ({ sql: `select ${n}::int + $1::int as v`, params: [1], prepare: true });
      // A new named statement, then a failure behind it in the same exchange: the statement exists (its Parse
      // completed) and the next exchange binds it without parsing it again — no "already exists".
      await expect(queryBatch(client as unknown as pg.PoolClient, [s(1), { sql: 'select 1 / 0' }], 4)).rejects.toThrow(
        /division by zero/,
      );
      expect((await names()).map((n) => n.statement)).toEqual([s(1).sql]);
      // A statement that fails to parse is never recorded: it is parsed (and refused) again, not bound by name.
      const broken = { sql: 'selec 1', prepare: true };
      for (let i = 0; i < 2; i++)
        await expect(queryBatch(client as unknown as pg.PoolClient, [broken], 4)).rejects.toThrow(/syntax error/);
      // A failure before a new statement's Parse: it never reached the server, so it is parsed next time.
      await expect(queryBatch(client as unknown as pg.PoolClient, [{ sql: 'select 1 / 0' }, s(2)], 4)).rejects.toThrow(
        /division by zero/,
      );
      expect((await names()).map((n) => n.statement)).toEqual([s(1).sql]);
      // Bounded: six statements through a bound of four leave the four most recently used, each answering.
      for (let n = 1; n <= 6; n++) {
        const [r] = await queryBatch(client as unknown as pg.PoolClient, [s(n)], 4);
        expect(r!.rows).toEqual([{ v: n + 1 }]);
      }
      expect((await names()).map((n) => n.statement).sort()).toEqual([3, 4, 5, 6].map((n) => s(n).sql).sort());
      // An evicted one comes back by being parsed again.
      const [again] = await queryBatch(client as unknown as pg.PoolClient, [s(1), s(6)], 4);
      expect(again!.rows).toEqual([{ v: 2 }]);
      expect(await names()).toHaveLength(4);
    } finally {
      await client.end();
    }
  });
});
