/**
 * What one request may ask for (issue #10 item 2): db-max-rows, embedding depth and response size, on both
 * engines, through the gateway's own handler.
 */
import { expect, it } from 'vitest';
import { createGateway, type GatewayOptions } from '../../src/rest/index.js';
import { DEFAULT_LIMITS, embedDepth } from '../../src/rest/limits.js';
import { parseQueryParams } from '../../src/rest/query-params.js';
import { describeEachEngine } from './support/engines.js';
import { JWT_SECRET, SUPABASE_URL, sqlValue } from './support/fixture.js';

describeEachEngine('request limits', (ctx) => {
  const gateway = (o: Partial<GatewayOptions>) => createGateway({ db: ctx().db, jwtSecret: JWT_SECRET, ...o });
  const get = (gw: ReturnType<typeof createGateway>, path: string, headers: Record<string, string> = {}) =>
    gw.handle(new Request(`${SUPABASE_URL}/rest/v1${path}`, { headers }));

  it("defaults to Supabase's db-max-rows of 1000", () => {
    expect(DEFAULT_LIMITS.maxRows).toBe(1000);
  });

  it('maxRows caps every read, whatever limit or Range asked for; an exact count still tells the total (206)', async () => {
    const total = Number(await sqlValue(ctx().db, 'select count(*) from public.items'));
    const max = Math.max(1, Math.floor(total / 3));
    expect(total).toBeGreaterThan(max);
    const gw = gateway({ maxRows: max });
    const plain = await get(gw, '/items?select=id&order=id');
    expect(((await plain.json()) as unknown[]).length).toBe(max);
    const asked = await get(gw, `/items?select=id&order=id&limit=${total}`, { Prefer: 'count=exact' });
    expect(asked.status).toBe(206);
    expect(asked.headers.get('content-range')).toBe(`0-${max - 1}/${total}`);
    const ranged = await get(gw, '/items?select=id&order=id', { Range: `0-${total}` });
    expect(((await ranged.json()) as unknown[]).length).toBe(max);
    const smaller = await get(gw, '/items?select=id&order=id&limit=1');
    expect(((await smaller.json()) as unknown[]).length).toBe(1);
    // null = unbounded (test fixtures only)
    const all = await get(gateway({ maxRows: null }), '/items?select=id');
    expect(((await all.json()) as unknown[]).length).toBe(total);
  });

  it('maxRows also caps a set-returning RPC', async () => {
    const total = Number(await sqlValue(ctx().db, 'select count(*) from public.cheap_items(1000000)'));
    expect(total).toBeGreaterThan(1);
    const res = await get(gateway({ maxRows: 1 }), '/rpc/cheap_items?max_price=1000000');
    expect(res.status).toBe(200);
    expect(((await res.json()) as unknown[]).length).toBe(1);
  });

  it('refuses an embedding deeper than maxEmbedDepth with 400 PGRST100 before touching the database; at the limit it is served', async () => {
    const gw = gateway({ maxEmbedDepth: 1 });
    const ok = await get(gw, '/parents?select=id,children(label)');
    expect(ok.status).toBe(200);
    const deep = await get(gw, '/children?select=label,parents(name,parent_details(bio))');
    expect(deep.status).toBe(400);
    const body = (await deep.json()) as { code: string; details: string };
    expect(body.code).toBe('PGRST100');
    expect(body.details).toMatch(/at most 1 levels; this request nests 2/);
    expect(embedDepth(parseQueryParams(new URLSearchParams('select=a(b(c(d(e(f)))))')).select)).toBe(5);
  });

  it('refuses a response larger than maxResponseBytes with 500 and SQLSTATE 54000, and a smaller one is served', async () => {
    const full = await get(gateway({}), '/items?select=*');
    const bytes = Buffer.byteLength(await full.text());
    const small = await get(gateway({ maxResponseBytes: bytes }), '/items?select=*');
    expect(small.status).toBe(200);
    const over = await get(gateway({ maxResponseBytes: bytes - 1 }), '/items?select=*');
    expect(over.status).toBe(500);
    const body = (await over.json()) as { code: string; message: string };
    expect(body.code).toBe('54000');
    expect(body.message).toContain(`${bytes} bytes exceeds the gateway's limit of ${bytes - 1} bytes`);
  });

  it('rejects nonsensical limits at construction', () => {
    expect(() => gateway({ maxRows: 0 })).toThrow(/maxRows/);
    expect(() => gateway({ maxEmbedDepth: -1 })).toThrow(/maxEmbedDepth/);
    expect(() => gateway({ maxResponseBytes: 0 })).toThrow(/maxResponseBytes/);
  });
});
