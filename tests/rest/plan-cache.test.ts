/**
 * Read plans remembered per URL (src/rest/plan-cache.ts, issue #17 item 5): a GET the gateway has planned is
 * not parsed, planned and rendered again. What must hold, against real PostgreSQL through the gateway: a plan
 * made for one user answers every other identity with its own rows (RLS is applied by the database per
 * request, never baked into a plan); a schema cache reload drops every plan made from the old schema; the
 * number kept is bounded and an evicted URL is planned anew with the same answer; a request that fails to
 * plan is never remembered; and every answer equals the same gateway's with the cache off.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { PlanCache } from '../../src/rest/plan-cache.js';
import { createGateway, type Gateway } from '../../src/rest/index.js';
import { describePg, pgUrl } from '../support/pg.js';
import { JWT_SECRET, prepareFixture, token, USER_A, USER_B } from './support/fixture.js';

describePg('read plans remembered per URL', () => {
  let scratch: ScratchDatabase;
  let db: Database;
  let userA: string;
  let userB: string;
  let anon: string;
  let service: string;

  const gatewayWith = (planCacheSize?: number): Gateway =>
    createGateway({
      db,
      jwtSecret: JWT_SECRET,
      maxRows: null,
      ...(planCacheSize === undefined ? {} : { planCacheSize }),
    });
  const get = async (g: Gateway, path: string, tok: string, headers: Record<string, string> = {}) => {
    const res = await g.handle(
      new Request(`http://gateway.test/rest/v1${path}`, { headers: { authorization: `Bearer ${tok}`, ...headers } }),
    );
    return { status: res.status, range: res.headers.get('content-range'), body: await res.text() };
  };

  beforeAll(async () => {
    scratch = await createScratchDatabase(pgUrl(), 'plancache');
    db = await openNodePostgres(scratch.url, { max: 4 });
    await prepareFixture(db);
    [userA, userB, anon, service] = await Promise.all([
      token({ sub: USER_A, role: 'authenticated' }),
      token({ sub: USER_B, role: 'authenticated' }),
      token({ role: 'anon', expiresIn: null }),
      token({ role: 'service_role', expiresIn: null }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('one remembered plan answers each identity, interleaved, with its own rows — as the gateway without the cache', async () => {
    const cached = gatewayWith();
    const uncached = gatewayWith(0);
    const path = '/parents?select=id,owner_id,name,children(label)&order=id';
    for (let round = 0; round < 4; round++) {
      for (const [label, tok] of [
        ['user A', userA],
        ['user B', userB],
        ['anon', anon],
        ['service_role', service],
      ] as const) {
        const got = await get(cached, path, tok);
        expect(got.status, label).toBe(200);
        expect(got, `${label}, round ${round}`).toEqual(await get(uncached, path, tok));
        const rows = JSON.parse(got.body) as { owner_id: string }[];
        if (label === 'user A') expect(rows.length > 0 && rows.every((r) => r.owner_id === USER_A)).toBe(true);
        if (label === 'user B') expect(rows.length > 0 && rows.every((r) => r.owner_id === USER_B)).toBe(true);
        if (label === 'anon') expect(rows).toEqual([]);
        if (label === 'service_role') expect(new Set(rows.map((r) => r.owner_id))).toEqual(new Set([USER_A, USER_B]));
      }
    }
    // All of that was one plan; the uncached gateway keeps none.
    expect(await cached.rememberedPlans()).toBe(1);
    expect(await uncached.rememberedPlans()).toBe(0);
  });

  it('the inputs a plan is made of are its key: Accept, Range, count and the query string each plan anew', async () => {
    const cached = gatewayWith();
    const uncached = gatewayWith(0);
    const path = '/items?select=id,name&order=id&limit=3';
    const variants: [string, Record<string, string>][] = [
      [path, {}],
      [path, { accept: 'application/vnd.pgrst.object+json' }],
      [path, { accept: 'text/csv' }],
      [path, { range: '1-2' }],
      [path, { prefer: 'count=exact' }],
      ['/items?select=id&order=id&limit=3', {}],
      ['/items?select=id,name&order=id.desc&limit=3', {}],
    ];
    for (let round = 0; round < 2; round++)
      for (const [p, h] of variants)
        expect(await get(cached, p, userA, h), `${p} ${JSON.stringify(h)}`).toEqual(await get(uncached, p, userA, h));
    // A singular request for three rows is an error (406), never a plan worth keeping wrong: same answer both ways.
    expect((await get(cached, path, userA, { accept: 'application/vnd.pgrst.object+json' })).status).toBe(406);
    expect(await cached.rememberedPlans()).toBe(variants.length);
  });

  it('a request that fails to plan is not remembered and fails the same way again', async () => {
    const cached = gatewayWith();
    for (let i = 0; i < 2; i++) {
      const bad = await get(cached, '/items?select=no_such_column', userA);
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body)).toMatchObject({ code: '42703' });
    }
    expect(await cached.rememberedPlans()).toBe(0);
  });

  it('a schema cache reload drops the plans made from the old schema (select=* sees a new column)', async () => {
    const cached = gatewayWith();
    await db.exec(`create table public.plan_cache_probe (id int primary key, a text);
      grant select on public.plan_cache_probe to authenticated;
      insert into public.plan_cache_probe values (1, 'x');`);
    try {
      await cached.reloadSchemaCache();
      const path = '/plan_cache_probe?select=*';
      expect(JSON.parse((await get(cached, path, userA)).body)).toEqual([{ id: 1, a: 'x' }]);
      expect(await cached.rememberedPlans()).toBe(1);
      await db.exec(`alter table public.plan_cache_probe add column b int not null default 7`);
      await cached.reloadSchemaCache();
      expect(await cached.rememberedPlans()).toBe(0);
      expect(JSON.parse((await get(cached, path, userA)).body)).toEqual([{ id: 1, a: 'x', b: 7 }]);
    } finally {
      await db.exec(`drop table public.plan_cache_probe`);
      await cached.reloadSchemaCache();
    }
  });

  it('is bounded: past its size the least recently used plan is dropped, and that URL is planned anew', async () => {
    const cached = gatewayWith(3);
    const uncached = gatewayWith(0);
    const paths = [1, 2, 3, 4, 5].map((n) => `/items?select=id,price&id=lte.${n}&order=id`);
    for (const p of paths) expect(await get(cached, p, userA)).toEqual(await get(uncached, p, userA));
    expect(await cached.rememberedPlans()).toBe(3);
    // The first two were dropped; asked again they are planned anew, with the same answers.
    for (const p of paths) expect(await get(cached, p, userB)).toEqual(await get(uncached, p, userB));
    expect(await cached.rememberedPlans()).toBe(3);
  });

  it('refuses a size that is not a non-negative integer', () => {
    expect(() => new PlanCache(-1)).toThrow(/non-negative integer/);
    expect(() => new PlanCache(1.5)).toThrow(/non-negative integer/);
    expect(() => gatewayWith(-2)).toThrow(/non-negative integer/);
  });
});
