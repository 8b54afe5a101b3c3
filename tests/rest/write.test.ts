import { expect, it } from 'vitest';
import { describeEachEngine } from './support/engines.js';
import { USER_A, USER_B, sqlJson, sqlValue } from './support/fixture.js';

/** Writes: PostgREST's statuses (201/200/204), Prefer handling, constraint errors and RLS outcomes. */
const json = { 'Content-Type': 'application/json' };

describeEachEngine('writes', (ctx) => {
  const item = (id: number, extra: Record<string, unknown> = {}) => ({
    id,
    name: `w-${id}`,
    category: 'w',
    price: id / 4,
    created_at: '2024-02-01T00:00:00+00:00',
    ...extra,
  });
  const row = async (id: number) =>
    ((await sqlJson(ctx().db, 'select * from public.items where id = $1', [id])) as unknown[])[0] ?? null;

  it('POST defaults to return=minimal: 201, empty body, Content-Range */*', async () => {
    const res = await ctx().c.raw('/items', {
      method: 'POST',
      token: ctx().c.userA,
      headers: json,
      body: JSON.stringify(item(1001)),
    });
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('');
    expect(res.headers.get('content-range')).toBe('*/*');
    expect(await row(1001)).toMatchObject({ id: 1001, name: 'w-1001' });
  });

  it('POST with return=representation answers 201 with the rows; single() gives the object', async () => {
    const { data, status, error } = await ctx().c.a.from('items').insert(item(1002)).select().single();
    expect(error).toBeNull();
    expect(status).toBe(201);
    expect(data).toEqual(await row(1002));
    const own = await ctx()
      .c.a.from('parents')
      .insert({ name: 'delta' })
      .select('id, owner_id, name, children(id)')
      .single();
    expect(own.data).toMatchObject({ owner_id: USER_A, name: 'delta', children: [] });
  });

  it('POST with return=headers-only answers 201 with a Location built from the primary key', async () => {
    const res = await ctx().c.raw('/items', {
      method: 'POST',
      token: ctx().c.userA,
      headers: { ...json, Prefer: 'return=headers-only' },
      body: JSON.stringify(item(1003)),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe('/items?id=eq.1003');
    expect(await res.text()).toBe('');
  });

  it('bulk-inserts an array; supabase-js sends columns= so missing keys become NULL like PostgREST', async () => {
    const rows = [item(1010), item(1011, { note: 'has note' })];
    const { data, error, count } = await ctx().c.a.from('items').insert(rows, { count: 'exact' }).select('id, note');
    expect(error).toBeNull();
    expect(count).toBe(2);
    expect(data).toEqual(
      await sqlJson(ctx().db, 'select id, note from public.items where id in (1010, 1011) order by id'),
    );
    const missingNotNull = await ctx()
      .c.a.from('children')
      .insert([
        { parent_id: 1, owner_id: USER_A, label: 'p' },
        { parent_id: 1, owner_id: USER_A, label: 'q', position: 2 },
      ]);
    expect(missingNotNull.status).toBe(400);
    expect(missingNotNull.error?.code).toBe('23502');
  });

  it('honours Prefer: missing=default (supabase-js defaultToNull: false) with column defaults for absent keys', async () => {
    const { data, error } = await ctx()
      .c.a.from('children')
      .insert(
        [
          { parent_id: 2, label: 'dflt-1' },
          { parent_id: 2, label: 'dflt-2', position: 5 },
        ],
        { defaultToNull: false },
      )
      .select('label, position, done, owner_id');
    expect(error).toBeNull();
    expect(data).toEqual([
      { label: 'dflt-1', position: 0, done: false, owner_id: USER_A },
      { label: 'dflt-2', position: 5, done: false, owner_id: USER_A },
    ]);
  });

  it('refuses limit/order on PATCH and DELETE (PGRST127) instead of touching more rows than asked', async () => {
    const before = await sqlJson(ctx().db, 'select * from public.items order by id');
    const res = await ctx().c.raw('/items?category=eq.a&limit=1&order=id', {
      method: 'PATCH',
      token: ctx().c.userA,
      headers: json,
      body: '{"note":"x"}',
    });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe('PGRST127');
    expect((await ctx().c.raw('/items?limit=1', { method: 'DELETE', token: ctx().c.userA })).status).toBe(400);
    expect(await sqlJson(ctx().db, 'select * from public.items order by id')).toEqual(before);
  });

  it('rejects a bulk insert with differing keys and no columns= (PGRST102), unknown columns (PGRST204) and bad JSON (PGRST102)', async () => {
    const call = (body: string, q = '') =>
      ctx().c.raw(`/items${q}`, { method: 'POST', token: ctx().c.userA, headers: json, body });
    const mixed = await call(JSON.stringify([item(1020), { id: 1021, name: 'x' }]));
    expect(mixed.status).toBe(400);
    expect(await mixed.json()).toMatchObject({ code: 'PGRST102', message: 'All object keys must match' });
    const unknown = await call(JSON.stringify({ ...item(1022), colour: 'red' }));
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({
      code: 'PGRST204',
      message: "Could not find the 'colour' column of 'items' in the schema cache",
      details: null,
      hint: null,
    });
    const bad = await call('{"id": ');
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('PGRST102');
    const withColumns = await call(
      JSON.stringify([item(1023, { ignored: 1 })]),
      '?columns=id,name,category,price,created_at',
    );
    expect(withColumns.status).toBe(201);
    expect(await row(1023)).toMatchObject({ id: 1023 });
    expect(await row(1020)).toBeNull();
  });

  it('maps constraint violations: 23505 and 23503 → 409, 23514 and 23502 → 400', async () => {
    const dup = await ctx()
      .c.a.from('items')
      .insert(item(1, { name: 'item-001' }));
    expect(dup.status).toBe(409);
    // With RLS enabled PostgreSQL withholds the "Key (…) already exists" detail; the code is what counts.
    expect(dup.error).toMatchObject({ code: '23505', message: expect.stringContaining('duplicate key value') });
    const fk = await ctx().c.a.from('children').insert({ parent_id: 999999, label: 'orphan' });
    expect(fk.status).toBe(409);
    expect(fk.error?.code).toBe('23503');
    const check = await ctx()
      .c.a.from('items')
      .insert(item(1030, { price: -1 }));
    expect(check.status).toBe(400);
    expect(check.error?.code).toBe('23514');
    const notNull = await ctx().c.a.from('items').insert({ id: 1031, name: 'n', category: 'w', price: 1 });
    expect(notNull.status).toBe(400);
    expect(notNull.error?.code).toBe('23502');
  });

  it('answers an RLS insert violation with 403 for a user and 401 for anon (42501)', async () => {
    const spoof = await ctx().c.a.from('parents').insert({ name: 'spoof', owner_id: USER_B });
    expect(spoof.status).toBe(403);
    expect(spoof.error?.code).toBe('42501');
    const anon = await ctx().c.anon.from('items').insert(item(1040));
    expect(anon.status).toBe(401);
    expect(anon.error?.code).toBe('42501');
    expect(await row(1040)).toBeNull();
  });

  it('upserts with resolution=merge-duplicates: 201 when inserting, 200 when only updating', async () => {
    const first = await ctx().c.a.from('items').upsert(item(1050)).select('id, price');
    expect(first.status).toBe(201);
    const again = await ctx()
      .c.a.from('items')
      .upsert(item(1050, { price: 99 }))
      .select('id, price');
    expect(again.status).toBe(200);
    expect(again.data).toEqual([{ id: 1050, price: 99 }]);
    expect(await row(1050)).toMatchObject({ price: 99 });
    // on_conflict=name: the conflicting row takes every payload column, the key included (as PostgREST).
    const byName = await ctx()
      .c.a.from('items')
      .upsert(item(1051, { name: 'w-1050', price: 7 }), { onConflict: 'name' })
      .select('id, name, price');
    expect(byName.status).toBe(200);
    expect(byName.data).toEqual([{ id: 1051, name: 'w-1050', price: 7 }]);
    expect(await row(1050)).toBeNull();
  });

  it('upserts with ignore-duplicates leaving existing rows untouched', async () => {
    await ctx().c.a.from('items').insert(item(1060));
    const before = await row(1060);
    const res = await ctx()
      .c.a.from('items')
      .upsert([item(1060, { price: 55 }), item(1061)], { ignoreDuplicates: true })
      .select('id');
    expect(res.error).toBeNull();
    expect(res.data).toEqual([{ id: 1061 }]);
    expect(await row(1060)).toEqual(before);
  });

  it('PATCH with filters: 204 minimal with Content-Range 0-(n-1)/*, 200 with representation, count=exact', async () => {
    await ctx()
      .c.a.from('items')
      .insert([item(1070), item(1071), item(1072)]);
    const res = await ctx().c.raw('/items?id=in.(1070,1071)', {
      method: 'PATCH',
      token: ctx().c.userA,
      headers: json,
      body: JSON.stringify({ note: 'patched' }),
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('content-range')).toBe('0-1/*');
    expect(await sqlJson(ctx().db, 'select id from public.items where note = $1 order by id', ['patched'])).toEqual([
      { id: 1070 },
      { id: 1071 },
    ]);
    const rep = await ctx()
      .c.a.from('items')
      .update({ note: 'again' }, { count: 'exact' })
      .eq('id', 1072)
      .select('id, note');
    expect(rep.status).toBe(200);
    expect(rep.count).toBe(1);
    expect(rep.data).toEqual([{ id: 1072, note: 'again' }]);
  });

  it('PATCH/DELETE of rows hidden by RLS change nothing and are not errors', async () => {
    const before = await sqlJson(ctx().db, 'select * from public.parents order by id');
    const upd = await ctx().c.b.from('parents').update({ name: 'hijacked' }).eq('id', 1).select();
    expect(upd.error).toBeNull();
    expect(upd.data).toEqual([]);
    const del = await ctx().c.b.from('parents').delete().eq('id', 1);
    expect(del.error).toBeNull();
    expect(del.status).toBe(204);
    expect(await sqlJson(ctx().db, 'select * from public.parents order by id')).toEqual(before);
  });

  it('DELETE with filters: 204 minimal, Content-Range */n with count, representation 200', async () => {
    await ctx()
      .c.a.from('items')
      .insert([item(1080, { category: 'd' }), item(1081, { category: 'd' }), item(1082, { category: 'd' })]);
    const res = await ctx().c.raw('/items?id=in.(1080,1081)', {
      method: 'DELETE',
      token: ctx().c.userA,
      headers: { Prefer: 'count=exact' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('content-range')).toBe('*/2');
    const rep = await ctx().c.a.from('items').delete().eq('id', 1082).select('id');
    expect(rep.status).toBe(200);
    expect(rep.data).toEqual([{ id: 1082 }]);
    expect(await sqlValue(ctx().db, 'select count(*)::int from public.items where id between 1080 and 1082')).toBe(0);
  });

  it('rolls back a singular (vnd.pgrst.object) mutation touching more than one row: 406 PGRST116', async () => {
    await ctx()
      .c.a.from('items')
      .insert([item(1090), item(1091)]);
    const res = await ctx().c.a.from('items').update({ note: 'many' }).in('id', [1090, 1091]).select().single();
    expect(res.status).toBe(406);
    expect(res.error?.code).toBe('PGRST116');
    expect(await sqlValue(ctx().db, `select count(*)::int from public.items where note = 'many'`)).toBe(0);
  });

  it('empty PATCH body changes nothing; PATCH with an unknown column is PGRST204', async () => {
    const empty = await ctx().c.raw('/items?id=eq.5', {
      method: 'PATCH',
      token: ctx().c.userA,
      headers: json,
      body: '{}',
    });
    expect(empty.status).toBe(204);
    const unknown = await ctx().c.raw('/items?id=eq.5', {
      method: 'PATCH',
      token: ctx().c.userA,
      headers: json,
      body: '{"nope": 1}',
    });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).code).toBe('PGRST204');
  });

  it('refuses a write in a GET transaction with 405 (25006 read-only)', async () => {
    const before = await row(9);
    const res = await ctx().c.a.rpc('touch_item', { item_id: 9 }, { get: true });
    expect(res.status).toBe(405);
    expect(res.error).toMatchObject({ code: '25006' });
    expect(await row(9)).toEqual(before);
  });
});
