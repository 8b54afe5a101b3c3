import { expect, it } from 'vitest';
import { describeEachEngine } from './support/engines.js';
import { sqlJson } from './support/fixture.js';

/**
 * The `select=col::type` cast used to paste the URL's text after `::` into the SQL, so
 * `select=name::text from items t0 union select rolname from pg_roles union select name` ran attacker SQL as the
 * caller's role. A cast now resolves to a type of the schema cache and is emitted as
 * `cast(expr as "schema"."type")`; anything else is a 400 PGRST100 and reaches no database.
 */
describeEachEngine('select casts cannot carry SQL', (ctx) => {
  const raw = (path: string) => ctx().c.raw(path);

  it('refuses a cast that is not a known type, including the union/subquery payloads, with 400 PGRST100', async () => {
    const payloads = [
      'id::text from items t0 union select rolname from pg_roles union select id',
      'id::text from public.items t0 union select rolname from pg_roles union select id',
      'id::text from pg_roles',
      'id::int4 union select 1',
      'id::text limit 1',
      'id::pg_sleep',
      'id::nosuchtype',
      'id::text text',
      'id::t0',
    ];
    for (const p of payloads) {
      const res = await raw(`/items?select=${encodeURIComponent(p)}`);
      expect(res.status, p).toBe(400);
      const b = (await res.json()) as { code: string; details: string };
      expect(b.code, p).toBe('PGRST100');
    }
  });

  it('no role name ever comes back through a cast', async () => {
    const res = await raw(
      `/items?select=${encodeURIComponent('name::text from items t0 union select rolname from pg_roles union select name')}`,
    );
    const text = await res.text();
    expect(text).not.toMatch(/service_role|authenticator|postgres/);
  });

  it('casts to real types by any spelling PostgreSQL prints or accepts, case-insensitively', async () => {
    const expected = await sqlJson<Record<string, unknown>[]>(
      ctx().db,
      'select id::text as a, id::integer as b, price::double precision as c, tags_len(array[name])::bigint as d, created_at::date as e from public.items where id = 7',
    );
    const q = encodeURIComponent('a:id::text,b:id::INTEGER,c:price::double   precision,e:created_at::date');
    const res = await raw(`/items?select=${q}&id=eq.7`);
    expect(res.status).toBe(200);
    const [row] = (await res.json()) as Record<string, unknown>[];
    expect(row).toEqual({ a: expected[0]!.a, b: expected[0]!.b, c: expected[0]!.c, e: expected[0]!.e });
    for (const spelling of [
      'int4',
      'int',
      'int8',
      'bigint',
      'numeric',
      'decimal',
      'float8',
      'varchar',
      'character varying',
      'text[]',
      'int4[]',
      'jsonb',
      'timestamptz',
      'timestamp with time zone',
    ]) {
      const col = spelling.endsWith('[]')
        ? spelling.startsWith('text')
          ? 'tags'
          : 'id'
        : spelling.startsWith('json')
          ? 'meta'
          : spelling.startsWith('timestamp')
            ? 'created_at'
            : 'id';
      const table = col === 'tags' || col === 'meta' ? 'parents' : 'items';
      // An array cast of a scalar is a database error (400), not a parse error: the type resolved.
      const r = await ctx().c.raw(`/${table}?select=${encodeURIComponent(`x:${col}::${spelling}`)}&limit=1`, {
        token: ctx().c.serviceKey,
      });
      const b = r.status === 200 ? null : ((await r.json()) as { code: string });
      expect(b?.code ?? 'ok', spelling).not.toBe('PGRST100');
    }
  });

  it('binds limit, offset and JSON array indexes instead of pasting them', async () => {
    const res = await raw('/items?select=id&order=id&limit=2&offset=3');
    expect(((await res.json()) as { id: number }[]).map((r) => r.id)).toEqual(
      (await sqlJson<{ id: number }[]>(ctx().db, 'select id from public.items order by id limit 2 offset 3')).map(
        (r) => r.id,
      ),
    );
    const huge = await raw('/items?select=id&limit=99999999999999999999999');
    expect(huge.status).toBe(400);
  });
});
