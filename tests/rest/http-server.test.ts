import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../src/rest/index.js';
import { describeEachEngine } from './support/engines.js';
import { client, sqlJson, token } from './support/fixture.js';

/** The same gateway over a real socket: supabase-js with its own (global) fetch, nothing injected. */
describeEachEngine('HTTP server transport', (ctx) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await ctx().c.gateway.listen(0);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('listens on 127.0.0.1 on a free port and serves supabase-js reads, writes and rpc', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const a = client(server.url, ctx().c.anonKey, undefined, ctx().c.userA);
    const read = await a.from('parents').select('id, children(id)').order('id');
    expect(read.error).toBeNull();
    expect(read.data).toEqual(
      await sqlJson(
        ctx().db,
        `select p.id, (select coalesce(json_agg(json_build_object('id', c.id) order by c.id), '[]') from public.children c where c.parent_id = p.id) as children from public.parents p where p.owner_id = $1 order by p.id`,
        [
          (await sqlJson<{ owner_id: string }[]>(ctx().db, 'select owner_id from public.parents where id = 1'))[0]!
            .owner_id,
        ],
      ),
    );
    const ins = await a
      .from('children')
      .insert({ parent_id: 2, label: 'over http', position: 1 })
      .select('label')
      .single();
    expect(ins.status).toBe(201);
    expect(ins.data).toEqual({ label: 'over http' });
    const rpc = await a.rpc('add', { a: 2, b: 3 });
    expect(rpc.data).toBe(5);
    const count = await a.from('items').select('*', { count: 'exact', head: true });
    expect(count.count).toBe(
      (await sqlJson<{ n: number }[]>(ctx().db, 'select count(*)::int as n from public.items'))[0]!.n,
    );
  });

  it('keeps statuses and headers intact on the wire', async () => {
    const forged = await token({ role: 'service_role', secret: 'another-secret-that-is-long-enough-000' });
    const res = await fetch(`${server.url}/rest/v1/items`, { headers: { Authorization: `Bearer ${forged}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    expect((await res.json()).code).toBe('PGRST301');
    const page = await fetch(`${server.url}/rest/v1/items?select=id&limit=15`, { headers: { Prefer: 'count=exact' } });
    expect(page.status).toBe(206);
    expect(page.headers.get('content-range')).toMatch(/^0-14\/\d+$/);
  });
});
