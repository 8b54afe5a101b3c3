import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonDepthExceeds, parseJsonBody } from '../../src/rest/body.js';
import { ApiError } from '../../src/rest/errors.js';
import { planRequest } from '../../src/rest/plan-request.js';
import { renderPlan } from '../../src/rest/render.js';
import { bind, cachedName, ident, internal, join, render, sql } from '../../src/rest/sql.js';
import { cacheNames, catalogCache } from './support/catalog.js';
import { gatewayProperty, type PropertyOutcome } from './support/request-arbitrary.js';
import { sqlShapeViolations } from './support/sql-shape.js';
import { type GeneratedRequest, toParts } from './support/to-parts.js';

/**
 * Parser → plan → renderer without a database: the schema cache is built from catalog rows
 * (support/catalog.ts). The property test at the end generates thousands of requests, hostile ones included.
 */
const cache = catalogCache();
const names = cacheNames(cache);
/** The statement the gateway would send for a request (src/rest/plan-request.ts, then the renderer). */
const statement = async (r: Partial<GeneratedRequest> & { target: string }) => {
  const { target, parts } = toParts({ method: 'GET', search: '', ...r });
  const { plan } = await planRequest(cache, target, parts);
  if (plan === null) throw new Error(`no statement for ${JSON.stringify(r)}`);
  return renderPlan(plan);
};
const refusal = async (r: Partial<GeneratedRequest> & { target: string }): Promise<ApiError> => {
  try {
    await statement(r);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error(`accepted: ${JSON.stringify(r)}`);
};

describe('sql fragments', () => {
  it('only interpolate fragments: a plain string is a type error and a run-time error', () => {
    const name = 'x; drop table items';
    // @ts-expect-error a string is not a Sql fragment
    expect(() => sql`select ${name}`).toThrow(/only interpolates Sql fragments/);
    // @ts-expect-error a string is not a CachedName: request text cannot become an identifier
    ident(name);
    expect(() => sql(['select 1'] as unknown as TemplateStringsArray)).toThrow(/template tag/);
  });

  it('refuse to be turned into text by accident', () => {
    const f = sql`select 1`;
    expect(() => `${f as unknown as string}`).toThrow(/turned into a string/);
  });

  it('quote identifiers, number binds, and send a reused bind once', () => {
    const body = bind('{"a":1}');
    const s = render(
      sql`select ${ident(cachedName('we"ird'))} from x where a = ${bind(1)} and b = ${body} and c = ${body}`,
    );
    expect(s).toEqual({ sql: 'select "we""ird" from x where a = $1 and b = $2 and c = $2', params: [1, '{"a":1}'] });
    expect(render(join([bind('a'), bind('b')], sql`, `), ['p']).sql).toBe('$2, $3');
  });

  it('accept only the fixed shape of internal aliases', () => {
    expect(render(internal('t12')).sql).toBe('"t12"');
    for (const bad of ['t0"; --', 'pg_roles', 'T0', '_pgrst_X'])
      expect(() => internal(bad)).toThrow(/not an internal alias/);
  });
});

describe('parse → plan → render', () => {
  it('renders a read with embed, cast, JSON path, filters and paging with every value bound', async () => {
    const s = await statement({
      target: 'parents',
      search:
        'select=id,n:name::text,lvl:meta->>level,children!inner(label)&children.done=is.true&name=in.(a,"b,c")&or=(score.gt.1,tags.cs.{x})&order=id.desc.nullslast&limit=5&offset=2',
    });
    expect(sqlShapeViolations(s, names)).toEqual([]);
    expect(s.sql).toContain('cast("t0"."name" as "pg_catalog"."text") as "n"');
    expect(s.sql).toContain('("t0"."meta"->>$1::text) as "lvl"');
    expect(s.sql).toContain('"t0"."name" in ($');
    expect(s.sql).toContain('exists (select 1 from "public"."children" as "t');
    expect(s.sql).toContain('is true');
    expect(s.sql).toMatch(/order by "t0"\."id" desc nulls last limit \$\d+::bigint offset \$\d+::bigint/);
    expect(s.params).toEqual(expect.arrayContaining(['level', 'a', 'b,c', '1', '{x}', '5', '2']));
  });

  it('puts injection payloads in parameters and refuses them as names', async () => {
    const payload = `x') or 1=1; --`;
    const s = await statement({
      target: 'items',
      search: new URLSearchParams({ name: `eq.${payload}`, select: `"${payload}":name` }).toString(),
    });
    expect(s.params).toContain(payload);
    expect(s.sql).toContain(`as "x') or 1=1; --"`);
    expect(sqlShapeViolations(s, names)).toEqual([]);
    expect(
      (await refusal({ target: 'items', search: `select=${encodeURIComponent('name::text from pg_roles')}` })).code,
    ).toBe('PGRST100');
    expect((await refusal({ target: 'items', search: `select=${encodeURIComponent('"na\\"me"')}` })).code).toBe(
      '42703',
    );
    expect((await refusal({ target: 'items', search: `${encodeURIComponent('name;drop')}=eq.1` })).code).toBe(
      'PGRST100',
    );
    expect((await refusal({ target: 'items', search: 'select=id,pg_roles(rolname)' })).code).toBe('PGRST200');
    expect((await refusal({ target: 'items', search: 'nope.limit=1' })).code).toBe('PGRST108');
    expect((await refusal({ target: 'items', search: 'order=id.sideways' })).code).toBe('PGRST100');
    expect((await refusal({ target: 'items', search: 'id=is.maybe' })).code).toBe('PGRST100');
  });

  it('hands bodies to PostgreSQL as the client sent them, one parameter', async () => {
    const body =
      '[{"id": 12345678901234567890, "name": "n", "category": "a", "price": 1e400, "created_at": "2024-01-01"}]';
    const s = await statement({ method: 'POST', target: 'items', body, prefer: 'return=representation' });
    expect(s.params).toContain(body);
    expect(s.sql).toContain('json_populate_recordset(null::"public"."items", $1::json)');
    const d = await statement({
      method: 'POST',
      target: 'items',
      body: '[{"id": 1, "name": "x"}, {"id": 2}]',
      search: 'columns=id,name',
      prefer: 'missing=default',
    });
    expect(d.params.filter((p) => typeof p === 'string' && p.startsWith('['))).toHaveLength(1);
    expect(d.sql).toContain('default');
    const rpc = await statement({ method: 'POST', target: 'rpc/add', body: '{"a": 12345678901234567890, "b": 1}' });
    expect(rpc.params).toEqual(['{"a": 12345678901234567890, "b": 1}']);
    expect(rpc.sql).toContain('as _pgrst_args("a" "pg_catalog"."int4", "b" "pg_catalog"."int4")');
    expect((await refusal({ method: 'POST', target: 'items', body: '{"nope": 1}' })).code).toBe('PGRST204');
  });

  it("plans with the gateway's own chaining: row cap, paging refused on changes, CSV only for rows", async () => {
    // The test-only copy of the chaining these tests once used had none of these; they are the handler's.
    expect((await statement({ target: 'items', search: 'select=id' })).params).toContain('1000');
    expect((await statement({ target: 'items', search: 'limit=5000' })).params).not.toContain('5000');
    for (const method of ['PATCH', 'DELETE'] as const)
      expect((await refusal({ method, target: 'items', search: 'order=id', body: '{"name":"x"}' })).code).toBe(
        'PGRST127',
      );
    expect((await refusal({ target: 'rpc/add', search: 'a=1&b=2', accept: 'text/csv' })).code).toBe('PGRST107');
    expect((await refusal({ target: 'items', search: 'select=id,a(b(c(d(e(id)))))' })).message).toMatch(
      /embedding 5 levels deep/,
    );
  });

  it('measures JSON depth without recursion and refuses deep bodies with 400 PGRST102', () => {
    expect(jsonDepthExceeds('[[[]]]', 3)).toBe(false);
    expect(jsonDepthExceeds('[[[[]]]]', 3)).toBe(true);
    expect(jsonDepthExceeds('{"a":"[[[[[[["}', 2)).toBe(false);
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(() => parseJsonBody(deep, 64)).toThrow(expect.objectContaining({ status: 400, code: 'PGRST102' }));
    expect(() => parseJsonBody('{"a": }', 64)).toThrow(expect.objectContaining({ status: 400, code: 'PGRST102' }));
  });
});

describe('many-to-many, self-reference, computed fields and relationships (no database)', () => {
  it('renders many-to-many as an exists over the junction, with cache identifiers and bound values only', async () => {
    const s = await statement({ target: 'parents', search: 'select=id,tags(name)&tags.name=eq.x&tags.order=name' });
    expect(sqlShapeViolations(s, names)).toEqual([]);
    expect(s.sql).toMatch(
      /from "public"\."tags" as "(t\d+)" where exists \(select 1 from "public"\."parent_tags" as "t\d+" where "t\d+"\."parent_id" = "t0"\."id" and "t\d+"\."tag_id" = "\1"\."id"\)/,
    );
    expect(s.params).toContain('x');
    const back = await statement({ target: 'tags', search: 'select=id,parents!parent_tags(id)' });
    expect(sqlShapeViolations(back, names)).toEqual([]);
    expect(back.sql).toContain('"public"."parent_tags"');
    expect((await refusal({ target: 'tags', search: 'select=id,parents!children(id)' })).code).toBe('PGRST200');
  });

  it('a self-reference: the column is many-to-one, the table name (hint: the column) is one-to-many', async () => {
    const s = await statement({ target: 'staff', search: 'select=id,boss:boss_id(name),reports:staff!boss_id(name)' });
    expect(sqlShapeViolations(s, names)).toEqual([]);
    expect(s.sql).toMatch(
      /select row_to_json\([^)]*\) from \(select "t\d+"\."name" as "name" from "public"\."staff" as "(t\d+)" where "\1"\."id" = "t0"\."boss_id"/,
    );
    expect(s.sql).toMatch(
      /coalesce\(json_agg\([^)]*\), '\[\]'\) from \(select "t\d+"\."name" as "name" from "public"\."staff" as "(t\d+)" where "\1"\."boss_id" = "t0"\."id"/,
    );
    expect(sqlShapeViolations(await statement({ target: 'staff', search: 'select=id,staff(id)' }), names)).toEqual([]);
  });

  it('a computed field is the function applied to the row, in select, filter and order', async () => {
    const s = await statement({
      target: 'parents',
      search: 'select=id,t:parent_title&parent_title=like.a*&order=parent_title.desc',
    });
    expect(sqlShapeViolations(s, names)).toEqual([]);
    const call =
      '"public"."parent_title"(row("t0"."id", "t0"."owner_id", "t0"."name", "t0"."score", "t0"."tags", "t0"."meta", "t0"."created_at")::"public"."parents")';
    expect(s.sql).toContain(`${call} as "t"`);
    expect(s.sql).toContain(`${call} like $`);
    expect(s.sql).toContain(`order by ${call} desc`);
    expect(s.params).toContain('a%');
    // `*` stays the table's columns; a computed field of another table is unknown here.
    expect((await statement({ target: 'parents', search: 'select=*' })).sql).not.toContain('parent_title');
    expect((await refusal({ target: 'children', search: 'select=parent_title' })).code).toBe('42703');
  });

  it('a computed relationship selects from the function called with the parent row', async () => {
    const s = await statement({
      target: 'parents',
      search: 'select=id,parent_kids!inner(label)&parent_kids.done=is.true',
    });
    expect(sqlShapeViolations(s, names)).toEqual([]);
    expect(s.sql).toContain('from "public"."parent_kids"(row("t0"."id", ');
    expect(s.sql).toContain('exists (select 1 from "public"."parent_kids"(row("t0"."id", ');
  });
});

describe('embedding through a view (no database)', () => {
  it("joins on the view's own columns mapped from the base table's keys, both directions and many-to-many", async () => {
    const m2o = await statement({ target: 'children', search: 'select=id,parents_v(name)' });
    expect(sqlShapeViolations(m2o, names)).toEqual([]);
    expect(m2o.sql).toMatch(/from "public"\."parents_v" as "(t\d+)" where "\1"\."pid" = "t0"\."parent_id"/);
    const o2m = await statement({ target: 'parents_v', search: 'select=pid,children(id)' });
    expect(o2m.sql).toMatch(/from "public"\."children" as "(t\d+)" where "\1"\."parent_id" = "t0"\."pid"/);
    const m2m = await statement({ target: 'parents_v', search: 'select=pid,tags(name)' });
    expect(sqlShapeViolations(m2m, names)).toEqual([]);
    expect(m2m.sql).toMatch(
      /exists \(select 1 from "public"\."parent_tags" as "(t\d+)" where "\1"\."parent_id" = "t0"\."pid"/,
    );
    // A constraint name as target names the table, not the view carrying the key.
    const byConstraint = await statement({ target: 'children', search: 'select=id,children_parent_id_fkey(name)' });
    expect(byConstraint.sql).toContain('from "public"."parents" as');
    expect((await refusal({ target: 'parents_v', search: 'select=pid,messages(id)' })).code).toBe('PGRST200');
  });
});

describe('property: no accepted request renders SQL outside the allowed shape', () => {
  // A fixed number of runs, not a time budget: under load a time-boxed run proved less and its floor turned the
  // test into a flaky timing gate. `npm run test:gateway-property` runs 20,000.
  const runs = Number(process.env.GATEWAY_PROPERTY_RUNS ?? 600);
  it(`${runs} generated requests`, { timeout: 120_000 }, async () => {
    const outcome: PropertyOutcome = { accepted: 0, refused: 0, byCode: new Map() };
    const details = await fc.check(gatewayProperty(cache, outcome), { numRuns: runs });
    if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? 'property failed');
    console.log(
      `gateway property: ${details.numRuns} requests, ${outcome.accepted} accepted, ${outcome.refused} refused (${[...outcome.byCode].map(([c, n]) => `${c} ${n}`).join(', ')})`,
    );
    // Both sides of the property must be exercised, or it proves nothing.
    expect(details.numRuns).toBe(runs);
    expect(outcome.accepted).toBeGreaterThan(details.numRuns / 10);
    expect(outcome.refused).toBeGreaterThan(details.numRuns / 10);
  });
});
