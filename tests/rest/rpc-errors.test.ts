import { expect, it } from 'vitest';
import { createGateway } from '../../src/rest/index.js';
import { describeEachEngine } from './support/engines.js';
import { JWT_SECRET, SUPABASE_URL, sqlJson, sqlValue } from './support/fixture.js';

describeEachEngine('rpc', (ctx) => {
  it('POST with named JSON arguments returns a scalar', async () => {
    const { data, error, status } = await ctx().c.anon.rpc('add', { a: 20, b: 22 });
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(data).toBe(await sqlValue(ctx().db, 'select public.add(20, 22)'));
  });

  it('GET with query-string arguments, including an array argument', async () => {
    const names = await ctx().c.anon.rpc('item_names', { max_id: 3 }, { get: true });
    expect(names.data).toEqual(
      (await sqlJson<{ n: string }[]>(ctx().db, 'select n from public.item_names(3) n')).map((r) => r.n),
    );
    const defaults = await ctx().c.anon.rpc('item_names', {}, { get: true });
    expect(defaults.data).toEqual(
      (await sqlJson<{ n: string }[]>(ctx().db, 'select n from public.item_names() n')).map((r) => r.n),
    );
    const len = await ctx().c.anon.rpc('tags_len', { tags: ['a', 'b', 'c'] }, { get: true });
    expect(len.data).toBe(3);
  });

  it('returns sets of rows that take select, filters, order, limit and count', async () => {
    const { data, count } = await ctx()
      .c.anon.rpc('cheap_items', { max_price: 20 }, { count: 'exact' })
      .select('id, price')
      .neq('category', 'a')
      .order('id', { ascending: false })
      .limit(3);
    expect(data).toEqual(
      await sqlJson(
        ctx().db,
        `select id, price from public.cheap_items(20) where category <> 'a' order by id desc limit 3`,
      ),
    );
    expect(count).toBe(
      await sqlValue(ctx().db, `select count(*)::int from public.cheap_items(20) where category <> 'a'`),
    );
  });

  it('returns a single composite as an object and void as 204', async () => {
    const row = await ctx().c.anon.rpc('item_by_id', { item_id: 7 });
    expect(row.data).toEqual(((await sqlJson(ctx().db, 'select * from public.items where id = 7')) as unknown[])[0]);
    const v = await ctx().c.a.rpc('touch_item', { item_id: 8 });
    expect(v.status).toBe(204);
    expect(await sqlValue(ctx().db, 'select note from public.items where id = 8')).toBe('touched');
  });

  it('runs volatile functions read-write on POST and read-only on GET (405)', async () => {
    const post = await ctx().c.a.rpc('bump_note', { item_id: 11, note: 'bumped' });
    expect(post.data).toBe(11);
    const get = await ctx().c.a.rpc('bump_note', { item_id: 12, note: 'bumped' }, { get: true });
    expect(get.status).toBe(405);
    expect(get.error?.code).toBe('25006');
    expect(await sqlValue(ctx().db, 'select note from public.items where id = 12')).not.toBe('bumped');
  });

  it('maps RAISE (P0001) to 400 with message, details and hint, and 57014 to 500', async () => {
    const fail = await ctx().c.a.rpc('fail', { msg: 'boom' });
    expect(fail.status).toBe(400);
    expect(fail.error).toEqual({
      code: 'P0001',
      message: 'boom',
      details: 'raised on purpose',
      hint: 'do not call fail()',
    });
    const cancelled = await ctx().c.a.rpc('cancelled');
    expect(cancelled.status).toBe(500);
    expect(cancelled.error?.code).toBe('57014');
  });

  it('answers an unknown function or argument set with 404 PGRST202', async () => {
    const missing = await ctx().c.anon.rpc('nope', { x: 1 });
    expect(missing.status).toBe(404);
    expect(missing.error).toEqual({
      code: 'PGRST202',
      message: 'Could not find the function public.nope(x) in the schema cache',
      details:
        'Searched for the function public.nope with parameter x or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.',
      hint: null,
    });
    const wrongArgs = await ctx().c.anon.rpc('add', { a: 1, c: 2 });
    expect(wrongArgs.status).toBe(404);
    expect(wrongArgs.error?.code).toBe('PGRST202');
    const put = await ctx().c.raw('/rpc/add', { method: 'PUT', body: '{}' });
    expect(put.status).toBe(405);
    expect((await put.json()).code).toBe('PGRST101');
  });

  it('statementTimeoutMs: PostgreSQL stops the statement (57014 → 500); PGlite cannot, a pinned limitation', async () => {
    // PGlite runs single-threaded WASM without the timer that enforces statement_timeout, so a runaway query
    // there holds the whole (single-connection) database. If PGlite ever enforces it, this test says so.
    await ctx().db.exec(
      `create or replace function public.sleepy() returns void language sql as $$ select pg_sleep(0.4) $$`,
    );
    const gw = createGateway({ db: ctx().db, jwtSecret: JWT_SECRET, statementTimeoutMs: 100 });
    const started = performance.now();
    const res = await gw.handle(new Request(`${SUPABASE_URL}/rest/v1/rpc/sleepy`, { method: 'POST' }));
    if (ctx().engine === 'postgres') {
      expect(res.status).toBe(500);
      expect((await res.json()).code).toBe('57014');
    } else {
      expect(res.status).toBe(204);
      expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    }
  });
});

describeEachEngine('errors and hostile input', (ctx) => {
  const raw = (path: string, init?: RequestInit & { token?: string }) => ctx().c.raw(path, init);
  const body = async (res: Response) => {
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const b = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(b).sort()).toEqual(['code', 'details', 'hint', 'message']);
    return b;
  };

  it('unknown table → 404 PGRST205 with a suggestion for a near miss', async () => {
    const res = await raw('/item');
    expect(res.status).toBe(404);
    expect(await body(res)).toEqual({
      code: 'PGRST205',
      message: "Could not find the table 'public.item' in the schema cache",
      details: null,
      hint: "Perhaps you meant the table 'public.items'",
    });
    const far = await raw('/zzz_nothing');
    expect((await body(far)).hint).toBeNull();
  });

  it('objects outside the exposed schemas are unreachable (auth.users, schema profiles)', async () => {
    expect((await raw('/users')).status).toBe(404);
    const res = await raw('/items', { headers: { 'Accept-Profile': 'auth' } });
    expect(res.status).toBe(406);
    expect(await body(res)).toMatchObject({ code: 'PGRST106', message: 'Invalid schema: auth' });
  });

  it('unknown columns in select, filters and order → 400 42703', async () => {
    for (const q of ['select=nope', 'nope=eq.1', 'order=nope.desc', 'select=id,children(nope)']) {
      const res = await raw(`/items?${q}`);
      expect(res.status).toBe(400);
      expect((await body(res)).code).toBe(q.includes('children') ? 'PGRST200' : '42703');
    }
    expect(await body(await raw('/items?select=nope'))).toMatchObject({ message: 'column items.nope does not exist' });
  });

  it('grammar errors → 400 PGRST100 (operator, select, order, logic tree, limit)', async () => {
    for (const q of [
      'id=foo.1',
      'id=1',
      'select=id,(',
      'select=id::text;drop',
      'order=id.sideways',
      'or=(id.eq.1',
      'or=id.eq.1',
      'limit=-1',
      'id=in.1,2',
      'note=is.maybe',
    ]) {
      const res = await raw(`/items?${q}`);
      expect(res.status, q).toBe(400);
      expect((await body(res)).code, q).toBe('PGRST100');
    }
  });

  it('a value of the wrong type → 400 22P02; an unsupported media type → 406', async () => {
    const res = await raw('/items?id=eq.abc');
    expect(res.status).toBe(400);
    expect((await body(res)).code).toBe('22P02');
    // text/csv is served now (search-range-csv-spread.test.ts); GeoJSON is not.
    const geo = await raw('/items', { headers: { Accept: 'application/geo+json' } });
    expect(geo.status).toBe(406);
    expect((await body(geo)).code).toBe('PGRST107');
  });

  it('SQL injection through identifiers is refused and through values is inert', async () => {
    const before = await sqlValue<number>(ctx().db, 'select count(*)::int from public.items');
    const attempts = [
      '/items?select=id;drop table public.items',
      '/items?select=id,"name;drop table public.items--"',
      '/items?id);drop table public.items;--=eq.1',
      '/items?order=id;drop table public.items',
      '/items?select=id::text);drop table public.items;--',
      '/items%3Bdrop%20table%20public.items',
    ];
    for (const a of attempts) expect((await raw(a)).status, a).toBeGreaterThanOrEqual(400);
    const valueAttack = await ctx().c.anon.from('items').select('id').eq('name', "x' or '1'='1");
    expect(valueAttack.data).toEqual([]);
    const inAttack = await ctx().c.anon.from('items').select('id').in('name', ["a'); drop table public.items; --"]);
    expect(inAttack.data).toEqual([]);
    const jsonKey = await ctx().c.anon.from('items').select('id').eq("name->>'a'); drop table public.items; --", 'x');
    expect(jsonKey.status).toBe(400);
    const rpcArg = await ctx().c.anon.rpc('item_names', { max_id: '1); drop table public.items; --' }, { get: true });
    expect(rpcArg.error?.code).toBe('22P02');
    expect(await sqlValue<number>(ctx().db, 'select count(*)::int from public.items')).toBe(before);
  });

  it('serves a minimal OpenAPI root and refuses unknown paths', async () => {
    const root = await raw('/');
    expect(root.status).toBe(200);
    expect(((await root.json()) as { paths: Record<string, unknown> }).paths).toHaveProperty('/items');
    expect((await raw('/items/1')).status).toBe(404);
    const outside = await ctx().c.gateway.handle(new Request(`${SUPABASE_URL}/auth/v1/user`));
    expect(outside.status).toBe(404);
  });

  it('reloadSchemaCache picks up a table created after start', async () => {
    const gw = createGateway({ db: ctx().db, jwtSecret: JWT_SECRET });
    const call = () => gw.handle(new Request(`${SUPABASE_URL}/rest/v1/late_table`));
    expect((await call()).status).toBe(404);
    await ctx().db.exec('create table public.late_table (id int primary key)');
    expect((await call()).status).toBe(404);
    await gw.reloadSchemaCache();
    const res = await call();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
  });
});
