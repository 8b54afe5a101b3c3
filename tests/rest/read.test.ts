import { expect, it } from 'vitest';
import { describeEachEngine } from './support/engines.js';
import { USER_A, USER_B, sqlJson, sqlValue } from './support/fixture.js';

/**
 * Reads through supabase-js and raw requests. Expected values come from the same database by direct SQL
 * (as superuser, so RLS-free unless the test says otherwise), never from numbers written here.
 */
describeEachEngine('reads: columns, filters, order, paging', (ctx) => {
  const ids = async (where: string, params: unknown[] = [], order = 'id') =>
    (
      await sqlJson<{ id: number }[]>(ctx().db, `select id from public.items where ${where} order by ${order}`, params)
    ).map((r) => r.id);
  const got = (data: unknown) => (data as { id: number }[]).map((r) => r.id);

  it('serialises rows like PostgREST (numeric as number, timestamptz ISO with offset, jsonb, arrays)', async () => {
    const expected = await sqlJson(ctx().db, 'select * from public.items where id <= 3 order by id');
    const { data, error, status } = await ctx().c.anon.from('items').select('*').lte('id', 3).order('id');
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(data).toEqual(expected);
    expect(typeof (data as { price: unknown }[])[0]!.price).toBe('number');
    expect((data as { created_at: string }[])[0]!.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    const parents = await ctx().c.a.from('parents').select('id, tags, meta, score').order('id');
    expect(parents.data).toEqual(
      await sqlJson(ctx().db, 'select id, tags, meta, score from public.parents where owner_id = $1 order by id', [
        USER_A,
      ]),
    );
  });

  it('selects columns with aliases and casts', async () => {
    const { data } = await ctx()
      .c.anon.from('items')
      .select('id, label:name, price::text, cat:category::text')
      .eq('id', 7)
      .single();
    const expected = await sqlJson(
      ctx().db,
      'select id, name as label, price::text as price, category as cat from public.items where id = 7',
    );
    expect(data).toEqual((expected as unknown[])[0]);
    expect(typeof (data as { price: unknown }).price).toBe('string');
  });

  it('filters with eq, neq, gt, gte, lt, lte', async () => {
    const q = () => ctx().c.anon.from('items').select('id').order('id');
    expect(got((await q().eq('category', 'b')).data)).toEqual(await ids(`category = 'b'`));
    expect(got((await q().neq('category', 'b')).data)).toEqual(await ids(`category <> 'b'`));
    expect(got((await q().gt('id', 195)).data)).toEqual(await ids('id > 195'));
    expect(got((await q().gte('id', 195)).data)).toEqual(await ids('id >= 195'));
    expect(got((await q().lt('price', 5)).data)).toEqual(await ids('price < 5'));
    expect(got((await q().lte('price', 5)).data)).toEqual(await ids('price <= 5'));
  });

  it('filters with like and ilike (* and % wildcards), match and imatch', async () => {
    const q = () => ctx().c.anon.from('items').select('id').order('id');
    expect(got((await q().like('name', 'item-19*')).data)).toEqual(await ids(`name like 'item-19%'`));
    expect(got((await q().like('name', '%-00%')).data)).toEqual(await ids(`name like '%-00%'`));
    expect(got((await q().ilike('name', 'ITEM-1_0')).data)).toEqual(await ids(`name ilike 'ITEM-1_0'`));
    expect(got((await q().filter('name', 'match', '^item-0[0-1]5$')).data)).toEqual(
      await ids(`name ~ '^item-0[0-1]5$'`),
    );
    expect(got((await q().filter('name', 'imatch', '^ITEM-00[1-3]$')).data)).toEqual(
      await ids(`name ~* '^ITEM-00[1-3]$'`),
    );
  });

  it('filters with is null / not null / true / false', async () => {
    const q = () => ctx().c.anon.from('items').select('id').order('id');
    expect(got((await q().is('note', null)).data)).toEqual(await ids('note is null'));
    expect(got((await q().not('note', 'is', null).lte('id', 12)).data)).toEqual(
      await ids('note is not null and id <= 12'),
    );
    const done = await ctx().c.a.from('children').select('id').is('done', true).order('id');
    expect(got(done.data)).toEqual(
      (
        await sqlJson<{ id: number }[]>(
          ctx().db,
          'select id from public.children where done is true and owner_id = $1 order by id',
          [USER_A],
        )
      ).map((r) => r.id),
    );
    const notDone = await ctx().c.a.from('children').select('id').is('done', false).order('id');
    expect(got(notDone.data)).toEqual(
      (
        await sqlJson<{ id: number }[]>(
          ctx().db,
          'select id from public.children where done is false and owner_id = $1 order by id',
          [USER_A],
        )
      ).map((r) => r.id),
    );
  });

  it('filters with in, not.in, values with reserved characters, and an empty list', async () => {
    const q = () => ctx().c.anon.from('items').select('id').order('id');
    expect(got((await q().in('id', [5, 6, 700])).data)).toEqual(await ids('id in (5, 6, 700)'));
    expect(got((await q().not('id', 'in', '(1,2,3)').lte('id', 6)).data)).toEqual(
      await ids('id not in (1, 2, 3) and id <= 6'),
    );
    expect(got((await q().in('name', ['item-001', 'a,b(c)', 'item-002'])).data)).toEqual(
      await ids(`name in ('item-001', 'a,b(c)', 'item-002')`),
    );
    expect((await q().in('id', [])).data).toEqual([]);
  });

  it('filters with not.<op>, array contains/overlaps and jsonb contains', async () => {
    const q = () => ctx().c.anon.from('items').select('id').order('id');
    expect(got((await q().not('category', 'eq', 'a').lte('id', 8)).data)).toEqual(
      await ids(`not (category = 'a') and id <= 8`),
    );
    const a = ctx().c.a;
    expect(got((await a.from('parents').select('id').contains('tags', ['x'])).data)).toEqual([1]);
    expect(got((await a.from('parents').select('id').overlaps('tags', ['y', 'q'])).data)).toEqual([1]);
    expect(got((await a.from('parents').select('id').contains('meta', { level: 1 })).data)).toEqual([1]);
  });

  it('combines or=(), nested and(), not.or and JSON-path filters', async () => {
    const q = () => ctx().c.anon.from('items').select('id').order('id');
    expect(got((await q().or('id.eq.1,and(id.gt.197,category.eq.b)')).data)).toEqual(
      await ids(`id = 1 or (id > 197 and category = 'b')`),
    );
    expect(got((await q().or('name.eq."item-003",id.in.(4,5)')).data)).toEqual(
      await ids(`name = 'item-003' or id in (4, 5)`),
    );
    expect(got((await q().or('note.is.null,id.lt.3').lte('id', 30)).data)).toEqual(
      await ids('(note is null or id < 3) and id <= 30'),
    );
    const notOr = await ctx().c.raw('/items?select=id&id=lte.6&not.or=(id.eq.1,id.eq.2)&order=id');
    expect(got(await notOr.json())).toEqual(await ids('id <= 6 and not (id = 1 or id = 2)'));
    const json = await ctx().c.a.from('parents').select('id, level:meta->level').eq('meta->>level', '1');
    expect(json.data).toEqual([{ id: 1, level: 1 }]);
  });

  it('orders by several columns with nullsfirst / nullslast', async () => {
    const q = (o: string) =>
      ctx()
        .c.raw(`/items?select=id&id=lte.25&order=${o}`)
        .then((r) => r.json())
        .then(got);
    expect(await q('note.desc.nullsfirst,id.asc')).toEqual(await ids('id <= 25', [], 'note desc nulls first, id asc'));
    expect(await q('note.asc.nullslast,id.desc')).toEqual(await ids('id <= 25', [], 'note asc nulls last, id desc'));
    expect(await q('category.desc,id')).toEqual(await ids('id <= 25', [], 'category desc, id'));
  });

  it('pages with limit/offset and range(); Content-Range without a count is from-to/*', async () => {
    const all = await ids('true');
    const r = await ctx().c.anon.from('items').select('id').order('id').range(10, 19);
    expect(got(r.data)).toEqual(all.slice(10, 20));
    const raw = await ctx().c.raw('/items?select=id&order=id&limit=15');
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-range')).toBe('0-14/*');
    const header = await ctx().c.raw('/items?select=id&order=id', { headers: { Range: '5-9', 'Range-Unit': 'items' } });
    expect(header.headers.get('content-range')).toBe('5-9/*');
    expect(got(await header.json())).toEqual(all.slice(5, 10));
  });

  it('counts with Prefer: count=exact: 206 for a partial page, 200 for all, */0 when empty, 416 past the end', async () => {
    const total = await sqlValue<number>(ctx().db, 'select count(*)::int from public.items');
    const partial = await ctx().c.raw('/items?select=id&order=id&limit=15', { headers: { Prefer: 'count=exact' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`0-14/${total}`);
    const whole = await ctx().c.raw('/items?select=id', { headers: { Prefer: 'count=exact' } });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-range')).toBe(`0-${total - 1}/${total}`);
    const empty = await ctx().c.raw('/items?select=id&id=lt.0', { headers: { Prefer: 'count=exact' } });
    expect(empty.status).toBe(200);
    expect(empty.headers.get('content-range')).toBe('*/0');
    expect(await empty.json()).toEqual([]);
    const emptyNoCount = await ctx().c.raw('/items?select=id&id=lt.0');
    expect(emptyNoCount.headers.get('content-range')).toBe('*/*');
    const beyond = await ctx().c.raw(`/items?select=id&offset=${total + 5}`, { headers: { Prefer: 'count=exact' } });
    expect(beyond.status).toBe(416);
    expect(await beyond.json()).toMatchObject({ code: 'PGRST103', message: 'Requested range not satisfiable' });
    const sb = await ctx().c.anon.from('items').select('id', { count: 'exact' }).eq('category', 'c').range(0, 4);
    expect(sb.count).toBe(
      await sqlValue<number>(ctx().db, `select count(*)::int from public.items where category = 'c'`),
    );
    expect(sb.status).toBe(206);
  });

  it('answers HEAD with headers only (supabase-js head: true)', async () => {
    const total = await sqlValue<number>(ctx().db, `select count(*)::int from public.items where category = 'a'`);
    const { count, data, error } = await ctx()
      .c.anon.from('items')
      .select('*', { count: 'exact', head: true })
      .eq('category', 'a');
    expect(error).toBeNull();
    expect(data).toBeNull();
    expect(count).toBe(total);
    const raw = await ctx().c.raw('/items?category=eq.a', { method: 'HEAD', headers: { Prefer: 'count=exact' } });
    expect(await raw.text()).toBe('');
    expect(raw.headers.get('content-range')).toBe(`0-${total - 1}/${total}`);
  });

  it('returns a single object with vnd.pgrst.object+json and 406 PGRST116 unless exactly one row', async () => {
    const one = await ctx().c.raw('/items?id=eq.3&select=id,name', {
      headers: { Accept: 'application/vnd.pgrst.object+json' },
    });
    expect(one.status).toBe(200);
    expect(one.headers.get('content-type')).toBe('application/vnd.pgrst.object+json; charset=utf-8');
    expect(await one.json()).toEqual({ id: 3, name: 'item-003' });
    const many = await ctx().c.anon.from('items').select('id').lte('id', 2).single();
    expect(many.status).toBe(406);
    expect(many.error).toEqual({
      code: 'PGRST116',
      message: 'Cannot coerce the result to a single JSON object',
      details: 'The result contains 2 rows',
      hint: null,
    });
    const none = await ctx().c.anon.from('items').select('id').eq('id', -1).single();
    expect(none.status).toBe(406);
    expect(none.error?.details).toBe('The result contains 0 rows');
    const maybe = await ctx().c.anon.from('items').select('id').eq('id', -1).maybeSingle();
    expect(maybe.error).toBeNull();
    expect(maybe.data).toBeNull();
  });

  it('lets RLS decide what each role sees', async () => {
    expect((await ctx().c.anon.from('parents').select('id')).data).toEqual([]);
    const a = await ctx().c.a.from('parents').select('id, owner_id').order('id');
    expect(a.data).toEqual(
      await sqlJson(ctx().db, 'select id, owner_id from public.parents where owner_id = $1 order by id', [USER_A]),
    );
    const b = await ctx().c.b.from('parents').select('id, owner_id');
    expect(b.data).toEqual(
      await sqlJson(ctx().db, 'select id, owner_id from public.parents where owner_id = $1', [USER_B]),
    );
    const service = await ctx().c.service.from('parents').select('id', { count: 'exact', head: true });
    expect(service.count).toBe(await sqlValue<number>(ctx().db, 'select count(*)::int from public.parents'));
  });
});

describeEachEngine('reads: embedded resources', (ctx) => {
  it('embeds one-to-many as arrays and one-to-one / many-to-one as objects', async () => {
    const { data, error } = await ctx()
      .c.a.from('parents')
      .select('id, name, children(id, label), parent_details(bio)')
      .order('id');
    expect(error).toBeNull();
    const expected = await sqlJson(
      ctx().db,
      `select p.id, p.name,
         (select coalesce(json_agg(json_build_object('id', c.id, 'label', c.label) order by c.id), '[]') from public.children c where c.parent_id = p.id) as children,
         (select json_build_object('bio', d.bio) from public.parent_details d where d.parent_id = p.id) as parent_details
       from public.parents p where p.owner_id = $1 order by p.id`,
      [USER_A],
    );
    expect(data).toEqual(expected);
    const up = await ctx().c.a.from('children').select('id, parent:parents(id, name)').eq('id', 1).single();
    expect(up.data).toEqual({ id: 1, parent: { id: 1, name: 'alpha' } });
  });

  it('nests embeds and applies RLS inside them', async () => {
    const { data } = await ctx()
      .c.a.from('children')
      .select('label, parents(name, parent_details(bio))')
      .eq('id', 1)
      .single();
    expect(data).toEqual({ label: 'a1', parents: { name: 'alpha', parent_details: { bio: 'first parent' } } });
    const b = await ctx().c.b.from('parents').select('name, children(label)');
    expect(b.data).toEqual([{ name: 'gamma', children: [{ label: 'g1' }] }]);
  });

  it('filters, orders and limits an embedded resource without dropping parents; !inner drops them', async () => {
    const loose = await ctx().c.a.from('parents').select('id, children(label)').eq('children.done', true).order('id');
    expect(loose.data).toEqual([
      { id: 1, children: [{ label: 'a2' }] },
      { id: 2, children: [] },
    ]);
    const inner = await ctx().c.a.from('parents').select('id, children!inner(label)').eq('children.done', true);
    expect(inner.data).toEqual([{ id: 1, children: [{ label: 'a2' }] }]);
    const ordered = await ctx()
      .c.a.from('parents')
      .select('id, children(position)')
      .eq('id', 1)
      .order('position', { referencedTable: 'children', ascending: false })
      .limit(2, { referencedTable: 'children' })
      .single();
    const positions = await sqlJson<{ position: number }[]>(
      ctx().db,
      'select position from public.children where parent_id = 1 order by position desc limit 2',
    );
    expect(ordered.data).toEqual({ id: 1, children: positions });
    const innerOr = await ctx().c.raw('/parents?select=id,children!inner(id)&children.or=(label.eq.a1,label.eq.g1)', {
      token: ctx().c.userA,
    });
    expect(await innerOr.json()).toEqual([{ id: 1, children: [{ id: 1 }] }]);
  });

  it('disambiguates with a constraint hint or a foreign-key column, and reports ambiguity with 300 PGRST201', async () => {
    const ok = await ctx()
      .c.anon.from('messages')
      .select('id, sender:people!messages_sender_id_fkey(name), recipient:recipient_id(name)')
      .order('id');
    expect(ok.data).toEqual(
      await sqlJson(
        ctx().db,
        `select m.id, json_build_object('name', s.name) as sender, json_build_object('name', r.name) as recipient
         from public.messages m join public.people s on s.id = m.sender_id join public.people r on r.id = m.recipient_id order by m.id`,
      ),
    );
    const ambiguous = await ctx().c.raw('/messages?select=id,people(name)');
    expect(ambiguous.status).toBe(300);
    expect(await ambiguous.json()).toMatchObject({ code: 'PGRST201' });
  });

  it('counts an embedded resource with child(count)', async () => {
    const { data } = await ctx().c.a.from('parents').select('id, children(count)').order('id');
    const expected = await sqlJson(
      ctx().db,
      `select p.id, json_build_array(json_build_object('count', (select count(*) from public.children c where c.parent_id = p.id))) as children from public.parents p where p.owner_id = $1 order by p.id`,
      [USER_A],
    );
    expect(data).toEqual(expected);
  });

  it('rejects an unknown relationship with 400 PGRST200 and a filter on a non-embedded resource with PGRST108', async () => {
    const res = await ctx().c.raw('/parents?select=id,items(id)');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      code: 'PGRST200',
      message: "Could not find a relationship between 'parents' and 'items' in the schema cache",
      details:
        "Searched for a foreign key relationship between 'parents' and 'items' in the schema 'public', but no matches were found.",
      hint: null,
    });
    const notEmbedded = await ctx().c.raw('/parents?select=id&children.done=eq.true');
    expect(notEmbedded.status).toBe(400);
    expect((await notEmbedded.json()).code).toBe('PGRST108');
  });
});
