import { expect, it } from 'vitest';
import { describeEachEngine } from './support/engines.js';
import { sqlJson } from './support/fixture.js';

/**
 * supabase-js textSearch (fts, plfts, phfts, wfts with an optional configuration), the range operators
 * (rangeLt/Gt/Lte/Gte/Adjacent), `.csv()` and spread embeddings `...rel(cols)`. Expected rows come from the
 * same database by direct SQL; the CSV is checked against PostgreSQL's record quoting rules written out here.
 */
describeEachEngine('full-text search, range operators, CSV and spread embeddings', (ctx) => {
  const ids = async (where: string) =>
    (await sqlJson<{ id: number }[]>(ctx().db, `select id from public.documents where ${where} order by id`)).map(
      (r) => r.id,
    );
  const got = (data: unknown) => (data as { id: number }[]).map((r) => r.id);
  const docs = () => ctx().c.anon.from('documents').select('id').order('id');

  it('textSearch: fts, plfts, phfts and wfts, with and without a configuration, on tsvector and text columns', async () => {
    const cases: [PromiseLike<{ data: unknown; error: unknown }>, string][] = [
      [
        docs().textSearch('search', `'practice' & 'pauses'`, { config: 'english' }),
        `search @@ to_tsquery('english', '''practice'' & ''pauses''')`,
      ],
      [docs().textSearch('search', 'practice'), `search @@ to_tsquery('practice')`],
      [
        docs().textSearch('search', 'clear pauses', { type: 'plain', config: 'english' }),
        `search @@ plainto_tsquery('english', 'clear pauses')`,
      ],
      [
        docs().textSearch('search', 'practice the opening', { type: 'phrase', config: 'english' }),
        `search @@ phraseto_tsquery('english', 'practice the opening')`,
      ],
      [
        docs().textSearch('search', '"speaking slots" or pauses -short', { type: 'websearch', config: 'english' }),
        `search @@ websearch_to_tsquery('english', '"speaking slots" or pauses -short')`,
      ],
      [docs().textSearch('body', 'speaking', { type: 'plain' }), `body @@ plainto_tsquery('speaking')`],
      [docs().not('search', 'fts', 'practice'), `not (search @@ to_tsquery('practice'))`],
    ];
    for (const [req, where] of cases) {
      const r = await req;
      expect(r.error).toBeNull();
      expect(got(r.data)).toEqual(await ids(where));
    }
    const nonEmpty = await ids(`search @@ to_tsquery('english', 'practice')`);
    expect(nonEmpty.length).toBeGreaterThan(0);
    const inOr = await ctx().c.raw('/documents?select=id&order=id&or=(search.wfts(english).pauses,id.eq.4)');
    expect(got(await inOr.json())).toEqual(await ids(`search @@ websearch_to_tsquery('english', 'pauses') or id = 4`));
  });

  it('textSearch: the configuration is a bound value (unknown → 400 42704) and anything but a name is a 400 PGRST100', async () => {
    const unknown = await ctx().c.raw('/documents?search=fts(klingon).practice');
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).code).toBe('42704');
    for (const bad of [`fts(english')).x`, 'fts(a b).x', 'fts(english;drop).x', 'plfts().x']) {
      const r = await ctx().c.raw(`/documents?search=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
      expect((await r.json()).code, bad).toBe('PGRST100');
    }
    const quantified = await ctx().c.raw('/documents?title=eq(sometimes).x');
    expect(quantified.status).toBe(400);
  });

  it('range operators sl, sr, nxr, nxl, adj (and ov) on an int4range column', async () => {
    const cases: [PromiseLike<{ data: unknown; error: unknown }>, string][] = [
      [docs().rangeLt('during', '[15,25)'), `during << '[15,25)'::int4range`],
      [docs().rangeGt('during', '[5,8)'), `during >> '[5,8)'::int4range`],
      [docs().rangeLte('during', '[0,15)'), `during &< '[0,15)'::int4range`],
      [docs().rangeGte('during', '[12,14)'), `during &> '[12,14)'::int4range`],
      [docs().rangeAdjacent('during', '[30,40)'), `during -|- '[30,40)'::int4range`],
      [docs().overlaps('during', '[9,11)'), `during && '[9,11)'::int4range`],
      [docs().not('during', 'adj', '[30,40)'), `not (during -|- '[30,40)'::int4range)`],
    ];
    for (const [req, where] of cases) {
      const r = await req;
      expect(r.error).toBeNull();
      expect(got(r.data)).toEqual(await ids(where));
    }
    const bad = await ctx().c.raw('/documents?during=sl.not-a-range');
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('22P02');
  });

  /** PostgreSQL's record_out quoting: empty or special characters → double-quoted, `"` and `\` doubled; NULL → nothing. */
  const csvField = (v: unknown): string => {
    if (v === null) return '';
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return s === '' || /[",\\()\s]/.test(s) ? `"${s.replace(/(["\\])/g, '$1$1')}"` : s;
  };
  const csvOf = (rows: Record<string, unknown>[]): string =>
    `${Object.keys(rows[0] ?? {}).join(',')}\n${rows.map((r) => Object.values(r).map(csvField).join(',')).join('\n')}`;

  it('Accept: text/csv (supabase-js .csv()): header, PostgreSQL quoting, NULL as empty, text/csv content type', async () => {
    const rows = await sqlJson<Record<string, unknown>[]>(
      ctx().db,
      'select id, title, during, author_id from public.documents order by id',
    );
    const sb = await ctx().c.anon.from('documents').select('id, title, during, author_id').order('id').csv();
    expect(sb.error).toBeNull();
    expect(sb.data).toBe(csvOf(rows));
    const raw = await ctx().c.raw('/items?select=id,name,note&id=lte.12&order=id', { headers: { Accept: 'text/csv' } });
    expect(raw.status).toBe(200);
    expect(raw.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(await raw.text()).toBe(
      csvOf(await sqlJson(ctx().db, 'select id, name, note from public.items where id <= 12 order by id')),
    );
    const empty = await ctx().c.raw('/items?select=id&id=lt.0', { headers: { Accept: 'text/csv' } });
    expect(await empty.text()).toBe('\n');
    const scalarRpc = await ctx().c.raw('/rpc/add?a=1&b=2', { headers: { Accept: 'text/csv' } });
    expect(scalarRpc.status).toBe(406);
    expect((await scalarRpc.json()).code).toBe('PGRST107');
    const rowsRpc = await ctx().c.raw('/rpc/cheap_items?max_price=3&select=id,name&order=id', {
      headers: { Accept: 'text/csv' },
    });
    expect(await rowsRpc.text()).toBe(
      csvOf(await sqlJson(ctx().db, 'select id, name from public.items where price <= 3 order by id')),
    );
  });

  it("spread embedding ...rel(cols) writes a to-one relationship's columns into the parent row", async () => {
    const sb = await ctx().c.anon.from('documents').select('id, ...people(author:name)').order('id');
    expect(sb.error).toBeNull();
    expect(sb.data).toEqual(
      await sqlJson(
        ctx().db,
        'select d.id, p.name as author from public.documents d left join public.people p on p.id = d.author_id order by d.id',
      ),
    );
    const nested = await ctx()
      .c.anon.from('messages')
      .select('id, ...sender:people!messages_sender_id_fkey(name)')
      .order('id');
    expect(nested.status).toBe(400);
    const hinted = await ctx()
      .c.anon.from('messages')
      .select('id, ...people!messages_sender_id_fkey(sender:name, sender_id:id)')
      .order('id');
    expect(hinted.data).toEqual(
      await sqlJson(
        ctx().db,
        'select m.id, p.name as sender, p.id as sender_id from public.messages m join public.people p on p.id = m.sender_id order by m.id',
      ),
    );
    const inner = await ctx()
      .c.anon.from('documents')
      .select('id, ...people!inner(name)')
      .eq('people.name', 'ann')
      .order('id');
    expect(inner.data).toEqual(
      await sqlJson(
        ctx().db,
        `select d.id, p.name from public.documents d join public.people p on p.id = d.author_id where p.name = 'ann' order by d.id`,
      ),
    );
    const toMany = await ctx().c.raw('/people?select=id,...documents(title)');
    expect(toMany.status).toBe(400);
    expect(await toMany.json()).toMatchObject({
      code: 'PGRST119',
      message: `A spread operation on 'documents' is not possible`,
    });
  });
});
