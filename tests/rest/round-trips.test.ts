/**
 * Database round trips per gateway request (issue #17 item 5): one request's begin, role/claims prelude,
 * statement and commit travel together as one extended-protocol exchange (src/db/pg-batch.ts). Counted on the wire by a TCP relay
 * (tests/support/round-trip-proxy.ts: a flight starts whenever the client sends after the server answered),
 * never by timing. The same requests on a pool with pipelining off show the count the relay sees without it,
 * so the relay can tell the two apart. Each case also checks what must not change: what commits, what rolls
 * back, and that the next request on the same single connection starts clean.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { queryBatch } from '../../src/db/pg-batch.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { startRoundTripProxy, type RoundTripProxy } from '../support/round-trip-proxy.js';
import { describePg, pgUrl } from '../support/pg.js';
import { clients, prepareFixture, sqlValue, USER_A, type Clients } from './support/fixture.js';

interface Probe {
  usr: string;
  role: string;
  claims: string | null;
}
const PROBE_SQL = `select current_user as usr, current_setting('role') as role,
  nullif(current_setting('request.jwt.claims', true), '') as claims`;

describePg('gateway round trips per request (one exchange per transaction)', () => {
  let scratch: ScratchDatabase;
  let admin: Database;
  let proxy: RoundTripProxy;
  let piped: Database;
  let plain: Database;
  let p: Clients;
  let q: Clients;
  let baseline: Probe;

  beforeAll(async () => {
    scratch = await createScratchDatabase(pgUrl(), 'roundtrips');
    admin = await openNodePostgres(scratch.url, { max: 1 });
    await applyBootstrap(admin);
    await prepareFixture(admin);
    baseline = (await admin.query<Probe>(PROBE_SQL)).rows[0]!;
    proxy = await startRoundTripProxy(scratch.url);
    // One connection each, so every statement of a request shares the relay's one socket.
    piped = await openNodePostgres(proxy.url, { max: 1 });
    plain = await openNodePostgres(proxy.url, { max: 1, pipeline: false });
    p = await clients(piped);
    q = await clients(plain);
    // The first request loads the schema cache.
    for (const c of [p, q]) expect((await c.a.from('parents').select('id')).error).toBeNull();
  }, 120_000);

  afterAll(async () => {
    await piped?.close();
    await plain?.close();
    await proxy?.close();
    await admin?.close();
    await scratch?.drop();
  });

  /** Flights on the wire for `request`; the pooled connection is made live first, so no handshake is counted. */
  async function trips<T>(db: Database, request: () => PromiseLike<T>): Promise<{ result: T; flights: number }> {
    await db.query('select 1');
    proxy.reset();
    const result = await request();
    const flights = proxy.flights();
    // Whatever the request did, the connection it leaves behind carries no identity.
    expect((await db.query<Probe>(PROBE_SQL)).rows[0]).toEqual(baseline);
    return { result, flights };
  }

  const newParent = (name: string) => ({ name, owner_id: USER_A });
  const count = (name: string) =>
    sqlValue<number>(admin, 'select count(*)::int from public.parents where name = $1', [name]);

  it('with --no-db-pipeline the relay counts begin, prelude, statement and commit apart: four flights', async () => {
    const r = await trips(plain, () => q.a.from('parents').select('id, name'));
    expect(r.result.error).toBeNull();
    expect(r.flights).toBe(4);
  });

  it('reads take one round trip: list, singular, exact and planned counts, a time zone', async () => {
    const list = await trips(piped, () => p.a.from('parents').select('id, name, children(label)'));
    expect(list.result.error).toBeNull();
    expect(list.flights).toBe(1);
    const id = (list.result.data as { id: number }[])[0]!.id;
    const single = await trips(piped, () => p.a.from('parents').select('id').eq('id', id).single());
    expect([single.result.data, single.flights]).toEqual([{ id }, 1]);
    // A singular read that finds no row fails (406) after its read-only transaction ended: nothing to undo.
    const none = await trips(piped, () => p.a.from('parents').select('id').eq('id', -1).single());
    expect([none.result.error?.code, none.flights]).toEqual(['PGRST116', 1]);
    for (const mode of ['exact', 'planned'] as const) {
      const counted = await trips(piped, () => p.a.from('parents').select('id', { count: mode }));
      expect(counted.result.error).toBeNull();
      expect(typeof counted.result.count).toBe('number');
      expect(counted.flights).toBe(1);
    }
    const tz = await trips(piped, () =>
      p.raw('/parents?select=created_at&limit=1', { token: p.userA, headers: { Prefer: 'timezone=Asia/Tokyo' } }),
    );
    expect(tz.result.status).toBe(200);
    expect(tz.result.headers.get('preference-applied')).toBe('timezone=Asia/Tokyo');
    expect(tz.flights).toBe(1);
  });

  it('a write whose answer cannot undo it commits in the same round trip; tx=rollback rolls back in it', async () => {
    const minimal = await trips(piped, () => p.a.from('parents').insert(newParent('rt-minimal')));
    expect([minimal.result.status, minimal.flights]).toEqual([201, 1]);
    expect(await count('rt-minimal')).toBe(1);
    const undone = await trips(piped, () =>
      p.a.from('parents').insert(newParent('rt-rolled-back')).select('name').rollback(),
    );
    expect([undone.result.data, undone.flights]).toEqual([[{ name: 'rt-rolled-back' }], 1]);
    expect(await count('rt-rolled-back')).toBe(0);
  });

  it('a write whose answer is checked before commit (body size, singular) takes two, and a failed check commits nothing', async () => {
    const represented = await trips(piped, () =>
      p.a.from('parents').insert(newParent('rt-represented')).select('name'),
    );
    expect([represented.result.data, represented.flights]).toEqual([[{ name: 'rt-represented' }], 2]);
    expect(await count('rt-represented')).toBe(1);
    await admin.query(`insert into public.parents (name, owner_id) values ('rt-twin', $1), ('rt-twin', $1)`, [USER_A]);
    const singular = await trips(piped, () =>
      p.a.from('parents').update({ score: 7 }).eq('name', 'rt-twin').select('id').single(),
    );
    expect(singular.result.error?.code).toBe('PGRST116');
    expect(singular.flights).toBe(2);
    expect(
      await sqlValue<number>(admin, `select count(*)::int from public.parents where name = 'rt-twin' and score = 7`),
    ).toBe(0);
  });

  it('a statement that fails is rolled back in a second round trip; the commit sent behind it never runs', async () => {
    // name is not null: the insert fails, PostgreSQL skips the commit written behind it, the gateway rolls back.
    const failed = await trips(piped, () => p.a.from('parents').insert({ owner_id: USER_A, score: 1 }));
    expect([failed.result.error?.code, failed.flights]).toEqual(['23502', 2]);
    const failedRep = await trips(piped, () => p.a.from('parents').insert({ owner_id: USER_A }).select('id'));
    expect([failedRep.result.error?.code, failedRep.flights]).toEqual(['23502', 2]);
    // A policy refusal (another owner) commits nothing either.
    const refused = await trips(piped, () =>
      p.a.from('parents').insert({ name: 'rt-not-mine', owner_id: '22222222-2222-4222-8222-222222222222' }),
    );
    expect([refused.result.error?.code, refused.flights]).toEqual(['42501', 2]);
    expect(await count('rt-not-mine')).toBe(0);
    // The connection is healthy afterwards.
    const after = await trips(piped, () => p.a.from('parents').select('id').limit(1));
    expect([after.result.error, after.flights]).toEqual([null, 1]);
  });

  it('one Sync per batch: nothing written behind a failed statement runs, even outside a transaction block', async () => {
    // Had `begin` failed, the statements behind it would be outside any transaction, without role or claims.
    // With one Sync for the whole batch PostgreSQL skips them; with a Sync each (node-postgres pipeline mode)
    // the insert below would run and commit on its own.
    await admin.exec(
      `create table public.rt_probe (n int); comment on table public.rt_probe is 'round-trip test probe'`,
    );
    const pool = new pg.Pool({ connectionString: scratch.url, max: 1 });
    try {
      const c = await pool.connect();
      try {
        await expect(
          queryBatch(c, [{ sql: 'select 1 / 0' }, { sql: 'insert into public.rt_probe values ($1)', params: [1] }]),
        ).rejects.toMatchObject({ code: '22012' });
        expect(c.getTransactionStatus()).toBe('I');
        const ok = await queryBatch(c, [
          { sql: 'insert into public.rt_probe values ($1)', params: [2] },
          { sql: 'select count(*)::int as n from public.rt_probe' },
        ]);
        expect(ok.map((r) => r.command)).toEqual(['INSERT', 'SELECT']);
        expect(ok[1]!.rows).toEqual([{ n: 1 }]);
      } finally {
        c.release();
      }
    } finally {
      await pool.end();
    }
    expect(await sqlValue<number[]>(admin, 'select array_agg(n) from public.rt_probe')).toEqual([2]);
  });
});
