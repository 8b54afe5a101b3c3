import { expect, it } from 'vitest';
import { describeEachEngine } from './support/engines.js';
import { USER_A, sqlJson } from './support/fixture.js';

/**
 * Embedding answers that used to be silently different from PostgREST: an empty embed, the same key twice,
 * and an ambiguous relationship without its candidates. Expected rows come from direct SQL.
 */
describeEachEngine('embedding fidelity', (ctx) => {
  it('an empty embed child() adds no key; with !inner it only filters the parents', async () => {
    const plain = await ctx().c.a.from('parents').select('id, children()').order('id');
    expect(plain.error).toBeNull();
    expect(plain.data).toEqual(
      await sqlJson(ctx().db, 'select id from public.parents where owner_id = $1 order by id', [USER_A]),
    );
    const inner = await ctx().c.a.from('parents').select('id, children!inner()').eq('children.label', 'a2').order('id');
    expect(inner.error).toBeNull();
    expect(inner.data).toEqual(
      await sqlJson(
        ctx().db,
        `select p.id from public.parents p where p.owner_id = $1 and exists (select 1 from public.children c where c.parent_id = p.id and c.label = 'a2' and c.owner_id = $1) order by p.id`,
        [USER_A],
      ),
    );
    // Only a filter-only embed selected: rows without columns, like PostgREST's `{}`.
    const onlyEmbed = await ctx().c.raw('/parents?select=children!inner()&order=id', { token: ctx().c.userA });
    expect(onlyEmbed.status).toBe(200);
    const n = (
      await sqlJson<unknown[]>(
        ctx().db,
        `select 1 from public.parents p where p.owner_id = $1 and exists (select 1 from public.children c where c.parent_id = p.id)`,
        [USER_A],
      )
    ).length;
    expect(await onlyEmbed.json()).toEqual(Array.from({ length: n }, () => ({})));
    const nested = await ctx().c.a.from('parents').select('id, children(id, parents())').eq('id', 1).single();
    expect(nested.data).toEqual({
      id: 1,
      children: await sqlJson(ctx().db, 'select id from public.children where parent_id = 1 and owner_id = $1', [
        USER_A,
      ]),
    });
    expect(JSON.stringify(nested.data)).not.toContain('_pgrst');
  });

  it('embedding the same table twice under one key is 400 42712; under two aliases it works', async () => {
    const twice = await ctx().c.raw('/parents?select=id,children(id),children(label)', { token: ctx().c.userA });
    expect(twice.status).toBe(400);
    expect(await twice.json()).toEqual({
      code: '42712',
      message: 'table name "children" specified more than once',
      details: null,
      hint: null,
    });
    const aliasClash = await ctx().c.raw('/messages?select=id,p:sender_id(name),p:recipient_id(name)');
    expect(aliasClash.status).toBe(400);
    expect((await aliasClash.json()).code).toBe('42712');
    const twoAliases = await ctx()
      .c.a.from('parents')
      .select('id, ids:children(id), labels:children(label)')
      .eq('id', 1)
      .single();
    expect(twoAliases.data).toEqual({
      id: 1,
      ids: await sqlJson(ctx().db, 'select id from public.children where parent_id = 1'),
      labels: await sqlJson(ctx().db, 'select label from public.children where parent_id = 1'),
    });
  });

  it('PGRST201 lists every candidate relationship in details and names each hint', async () => {
    const fks = await sqlJson<{ name: string; col: string }[]>(
      ctx().db,
      `select c.conname as name, a.attname as col from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
       where c.conrelid = 'public.messages'::regclass and c.contype = 'f' order by c.conname`,
    );
    expect(fks.length).toBeGreaterThan(1);
    const res = await ctx().c.raw('/messages?select=id,people(name)');
    expect(res.status).toBe(300);
    const body = (await res.json()) as {
      code: string;
      message: string;
      details: Record<string, string>[];
      hint: string;
    };
    expect(body.code).toBe('PGRST201');
    expect(body.message).toBe(
      `Could not embed because more than one relationship was found for 'messages' and 'people'`,
    );
    const byName = [...body.details].sort((x, y) => x.relationship!.localeCompare(y.relationship!));
    expect(byName).toEqual(
      fks.map((fk) => ({
        cardinality: 'many-to-one',
        embedding: 'messages with people',
        relationship: `${fk.name} using messages(${fk.col}) and people(id)`,
      })),
    );
    for (const fk of fks) expect(body.hint).toContain(`'people!${fk.name}'`);
    // The reverse direction: people → messages is one-to-many on each key.
    const reverse = await ctx().c.raw('/people?select=id,messages(id)');
    expect(reverse.status).toBe(300);
    const rb = (await reverse.json()) as { details: Record<string, string>[] };
    expect(rb.details.map((d) => d.cardinality)).toEqual(fks.map(() => 'one-to-many'));
    const sb = await ctx().c.anon.from('messages').select('id, people(name)');
    expect(sb.error?.code).toBe('PGRST201');
    expect(Array.isArray(sb.error?.details)).toBe(true);
  });
});
