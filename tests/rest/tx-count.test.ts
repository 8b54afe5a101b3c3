import { expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/rest/index.js';
import type { TxEnd } from '../../src/rest/preferences.js';
import { describeEachEngine } from './support/engines.js';
import { JWT_SECRET, SUPABASE_URL, sqlValue } from './support/fixture.js';

/**
 * `Prefer: tx=commit|rollback` as PostgREST's `db-tx-end` settings define it, and `count=planned|estimated`
 * as PostgREST computes them (EXPLAIN's row estimate; exact below the threshold). Expected figures come from
 * the same database: the row's presence after the request, and EXPLAIN run directly under the same role.
 */
describeEachEngine('Prefer: tx and count=planned|estimated', (ctx) => {
  const exists = (id: number) =>
    sqlValue<boolean>(ctx().db, 'select exists (select 1 from public.items where id = $1)', [id]);
  const newItem = (id: number) => ({
    id,
    name: `tx-${id}`,
    category: 'z',
    price: 1,
    created_at: '2024-01-01T00:00:00Z',
  });
  const gatewayWith = (txEnd: TxEnd, extra: { estimatedCountThreshold?: number } = {}): Gateway =>
    createGateway({ db: ctx().db, jwtSecret: JWT_SECRET, txEnd, ...extra });
  const rawOn = (g: Gateway, path: string, init: RequestInit & { token?: string } = {}) => {
    const { token: t, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (t) headers.set('Authorization', `Bearer ${t}`);
    return g.handle(new Request(`${SUPABASE_URL}/rest/v1${path}`, { ...rest, headers }));
  };
  /** EXPLAIN's estimate for the same rows, as the gateway's role sees them (RLS quals included). */
  const planned = async (role: string, sql: string): Promise<number> =>
    ctx().db.transaction(async (tx) => {
      await tx.query(`select set_config('role', $1, true)`, [role]);
      const r = await tx.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${sql}`);
      const raw = r.rows[0]!['QUERY PLAN'];
      const doc = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: { 'Plan Rows': number } }[];
      return Math.round(doc[0]!.Plan['Plan Rows']);
    });

  it('supabase-js .rollback(): the insert answers with its row, and the row is not kept', async () => {
    const { data, error, status } = await ctx().c.a.from('items').insert(newItem(9001)).select('id, name').rollback();
    expect(error).toBeNull();
    expect(status).toBe(201);
    expect(data).toEqual([{ id: 9001, name: 'tx-9001' }]);
    expect(await exists(9001)).toBe(false);
    const raw = await ctx().c.raw('/items', {
      method: 'POST',
      token: ctx().c.userA,
      body: JSON.stringify(newItem(9002)),
      headers: { 'Content-Type': 'application/json', Prefer: 'return=minimal, tx=rollback' },
    });
    expect(raw.status).toBe(201);
    expect(raw.headers.get('preference-applied')).toBe('return=minimal, tx=rollback');
    expect(await exists(9002)).toBe(false);
  });

  it('tx=rollback undoes PATCH, DELETE and a volatile rpc; tx=commit keeps them and is echoed', async () => {
    const before = await sqlValue<string | null>(ctx().db, 'select note from public.items where id = 11');
    const patched = await ctx()
      .c.a.from('items')
      .update({ note: 'rolled back' })
      .eq('id', 11)
      .select('note')
      .rollback();
    expect(patched.data).toEqual([{ note: 'rolled back' }]);
    expect(await sqlValue(ctx().db, 'select note from public.items where id = 11')).toBe(before);
    // items_delete lets authenticated users delete category 'd' only.
    const victim = await sqlValue<number>(ctx().db, `select min(id) from public.items where category = 'd'`);
    const deleted = await ctx().c.a.from('items').delete().eq('id', victim).select('id').rollback();
    expect(deleted.data).toEqual([{ id: victim }]);
    expect(await exists(victim)).toBe(true);
    const rpc = await ctx().c.raw('/rpc/bump_note', {
      method: 'POST',
      token: ctx().c.userA,
      body: JSON.stringify({ item_id: 13, note: 'rpc rolled back' }),
      headers: { 'Content-Type': 'application/json', Prefer: 'tx=rollback' },
    });
    expect(rpc.status).toBe(200);
    expect(rpc.headers.get('preference-applied')).toBe('tx=rollback');
    expect(await sqlValue(ctx().db, 'select note from public.items where id = 13')).not.toBe('rpc rolled back');
    const committed = await ctx().c.raw('/items', {
      method: 'POST',
      token: ctx().c.userA,
      body: JSON.stringify(newItem(9003)),
      headers: { 'Content-Type': 'application/json', Prefer: 'tx=commit' },
    });
    expect(committed.status).toBe(201);
    expect(committed.headers.get('preference-applied')).toBe('tx=commit');
    expect(await exists(9003)).toBe(true);
  });

  it('a failing request under tx=rollback answers its error and keeps nothing', async () => {
    const dup = await ctx()
      .c.a.from('items')
      .insert([newItem(9004), newItem(9004)])
      .rollback();
    expect(dup.status).toBe(409);
    expect(dup.error?.code).toBe('23505');
    expect(await exists(9004)).toBe(false);
  });

  it('db-tx-end = commit: tx=rollback is ignored (not applied, the row is kept) and refused under handling=strict', async () => {
    const g = gatewayWith('commit');
    const lenient = await rawOn(g, '/items', {
      method: 'POST',
      token: ctx().c.userA,
      body: JSON.stringify(newItem(9005)),
      headers: { 'Content-Type': 'application/json', Prefer: 'tx=rollback' },
    });
    expect(lenient.status).toBe(201);
    expect(lenient.headers.get('preference-applied')).toBeNull();
    expect(await exists(9005)).toBe(true);
    const strict = await rawOn(g, '/items', {
      method: 'POST',
      token: ctx().c.userA,
      body: JSON.stringify(newItem(9006)),
      headers: { 'Content-Type': 'application/json', Prefer: 'handling=strict, tx=rollback' },
    });
    expect(strict.status).toBe(400);
    expect(await strict.json()).toMatchObject({ code: 'PGRST122', details: 'Invalid preferences: tx=rollback' });
    expect(await exists(9006)).toBe(false);
  });

  it('db-tx-end = rollback-allow-override: rolls back by default, commits on tx=commit', async () => {
    const g = gatewayWith('rollback-allow-override');
    const post = (id: number, prefer?: string) =>
      rawOn(g, '/items', {
        method: 'POST',
        token: ctx().c.userA,
        body: JSON.stringify(newItem(id)),
        headers: { 'Content-Type': 'application/json', ...(prefer ? { Prefer: prefer } : {}) },
      });
    expect((await post(9007)).status).toBe(201);
    expect(await exists(9007)).toBe(false);
    expect((await post(9008, 'tx=commit')).status).toBe(201);
    expect(await exists(9008)).toBe(true);
  });

  it('refuses an unknown db-tx-end setting when the gateway is created', () => {
    expect(() => createGateway({ db: ctx().db, jwtSecret: JWT_SECRET, txEnd: 'maybe' as TxEnd })).toThrow(/txEnd/);
  });

  it('count=planned is the planner estimate (not an exact count): an empty result still estimates ≥ 1 row', async () => {
    // Fresh statistics first: PostgreSQL's autovacuum could otherwise re-analyze between two EXPLAINs.
    await ctx().db.exec('analyze public.items');
    const exact = await sqlValue<number>(ctx().db, 'select count(*)::int from public.items where id < 0');
    const est = await planned('anon', 'select 1 from public.items where id < 0');
    expect(exact).toBe(0);
    expect(est).toBeGreaterThanOrEqual(1);
    const r = await ctx().c.raw('/items?select=id&id=lt.0', { headers: { Prefer: 'count=planned' } });
    // PostgREST's range status: no rows of an (estimated) total ≥ 1 is a partial answer, 206.
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe(`*/${est}`);
    expect(r.headers.get('preference-applied')).toBe('count=planned');
    const sb = await ctx().c.anon.from('items').select('id', { count: 'planned' }).eq('category', 'c').range(0, 2);
    expect(sb.error).toBeNull();
    expect(sb.count).toBe(await planned('anon', `select 1 from public.items where category = 'c'`));
    const fn = await ctx().c.raw('/rpc/item_names?max_id=3', { headers: { Prefer: 'count=planned' } });
    // The rpc's estimate depends on how the call is planned (a bound argument, not a constant): checked for shape.
    const fnRows = await sqlValue<number>(ctx().db, 'select count(*)::int from public.item_names(3)');
    const m = /^0-(\d+)\/(\d+)$/.exec(fn.headers.get('content-range') ?? '');
    expect(Number(m?.[1])).toBe(fnRows - 1);
    const fnEst = Number(m?.[2]);
    expect(fnEst).toBeGreaterThanOrEqual(1);
    expect(fn.status).toBe(fnRows < fnEst ? 206 : 200);
    expect(fn.headers.get('preference-applied')).toBe('count=planned');
  });

  it('count=estimated is exact up to the threshold and the planner estimate above it', async () => {
    await ctx().db.exec('analyze public.items');
    const exact = await sqlValue<number>(ctx().db, `select count(*)::int from public.items where category = 'b'`);
    const est = await planned('anon', `select 1 from public.items where category = 'b'`);
    const at = await rawOn(
      gatewayWith('commit-allow-override', { estimatedCountThreshold: exact }),
      '/items?select=id&category=eq.b&limit=1',
      { headers: { Prefer: 'count=estimated' } },
    );
    expect(at.headers.get('content-range')).toBe(`0-0/${exact}`);
    expect(at.headers.get('preference-applied')).toBe('count=estimated');
    const below = await rawOn(
      gatewayWith('commit-allow-override', { estimatedCountThreshold: exact - 1 }),
      '/items?select=id&category=eq.b&limit=1',
      { headers: { Prefer: 'count=estimated' } },
    );
    expect(below.headers.get('content-range')).toBe(`0-0/${est}`);
    // Without a threshold (no db-max-rows), estimated is exact, as PostgREST.
    const sb = await ctx().c.anon.from('items').select('id', { count: 'estimated' }).eq('category', 'b').limit(1);
    expect(sb.count).toBe(exact);
  });

  it('Prefer: timezone=<zone> writes timestamptz in that zone and is echoed; an unknown zone is not applied', async () => {
    const inZone = async (zone: string | null) =>
      ctx().db.transaction(async (tx) => {
        if (zone) await tx.query(`select set_config('timezone', $1, true)`, [zone]);
        const r = await tx.query<{ v: string }>('select to_json(created_at)::text as v from public.items where id = 1');
        return JSON.parse(r.rows[0]!.v) as string;
      });
    const tokyo = await ctx().c.raw('/items?select=created_at&id=eq.1', { headers: { Prefer: 'timezone=Asia/Tokyo' } });
    expect(tokyo.headers.get('preference-applied')).toBe('timezone=Asia/Tokyo');
    const expected = await inZone('Asia/Tokyo');
    expect(expected).not.toBe(await inZone('UTC'));
    expect(await tokyo.json()).toEqual([{ created_at: expected }]);
    const unknown = await ctx().c.raw('/items?select=created_at&id=eq.1', {
      headers: { Prefer: 'timezone=Mars/Olympus' },
    });
    expect(unknown.status).toBe(200);
    expect(unknown.headers.get('preference-applied')).toBeNull();
    expect(await unknown.json()).toEqual([{ created_at: await inZone(null) }]);
  });
});
