import { expect, it } from 'vitest';
import { describeEachEngine } from './support/engines.js';
import { sqlJson, sqlValue } from './support/fixture.js';

/**
 * rpc with a single unnamed parameter (PostgREST): a json/jsonb parameter takes the whole JSON body (any JSON
 * value), a text parameter takes a text/plain body as sent. Expected values are the function's own answer
 * through direct SQL.
 */
describeEachEngine('rpc with a single unnamed json/jsonb/text parameter', (ctx) => {
  it('a json parameter receives the whole body through supabase-js rpc()', async () => {
    // biome-ignore lint/correctness/noPrecisionLoss: a 20-digit number as supabase-js sends it (precision lost before the gateway sees it)
    const payload = { a: 1, nested: { b: [1, 2, 3] }, big: 12345678901234567890 };
    const { data, error, status } = await ctx().c.anon.rpc('echo_json', payload);
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(data).toEqual(await sqlValue(ctx().db, 'select public.echo_json($1::json)', [JSON.stringify(payload)]));
    const arr = await ctx().c.raw('/rpc/echo_json', {
      method: 'POST',
      body: '[1,"two",null]',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(await arr.json()).toEqual([1, 'two', null]);
  });

  it('a jsonb parameter of a set-returning function: rows, filters and order apply', async () => {
    const body = { zeta: 1, alpha: 2, mid: 3 };
    const r = await ctx().c.anon.rpc('key_list', body);
    expect(r.error).toBeNull();
    expect(r.data).toEqual(
      (
        await sqlJson<{ k: string }[]>(ctx().db, 'select k from public.key_list($1::jsonb) k', [JSON.stringify(body)])
      ).map((x) => x.k),
    );
  });

  it('a text parameter receives a text/plain body as sent; JSON without a json overload is PGRST202', async () => {
    const text = `it's "quoted", $1; -- not sql`;
    const r = await ctx().c.raw('/rpc/shout', {
      method: 'POST',
      body: text,
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toBe(await sqlValue(ctx().db, 'select public.shout($1)', [text]));
    const asJson = await ctx().c.raw('/rpc/shout', {
      method: 'POST',
      body: JSON.stringify({ x: text }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(asJson.status).toBe(404);
    expect((await asJson.json()).code).toBe('PGRST202');
    const textToJsonFn = await ctx().c.raw('/rpc/echo_json', {
      method: 'POST',
      body: 'plain',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(textToJsonFn.status).toBe(415);
  });

  it('invalid JSON for a json parameter is 400 PGRST102 and GET cannot reach an unnamed parameter', async () => {
    const bad = await ctx().c.raw('/rpc/echo_json', {
      method: 'POST',
      body: '{"a":',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).code).toBe('PGRST102');
    const viaGet = await ctx().c.raw('/rpc/echo_json');
    expect(viaGet.status).toBe(404);
    expect((await viaGet.json()).code).toBe('PGRST202');
  });
});
