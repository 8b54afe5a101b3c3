import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from './support/engines.js';
import { sqlJson, sqlValue } from './support/fixture.js';

/**
 * The embedding and function features PostgREST derives from the catalog: many-to-many through a junction
 * table, self-referencing tables, constraint names as target or hint, computed fields and computed
 * relationships (functions taking a row type), overloaded rpc functions. The schema is this test's own
 * (`fx_` objects, created here, not a migration); every expected answer is the database's own, through SQL.
 */
const SCHEMA_SQL = `
create table public.fx_films (id int primary key, title text not null);
create table public.fx_actors (id int primary key, first_name text not null, last_name text not null);
-- The junction: a foreign key to each side, both inside the primary key.
create table public.fx_roles (
  film_id int not null references public.fx_films (id),
  actor_id int not null references public.fx_actors (id),
  character text not null,
  primary key (film_id, actor_id)
);
-- Foreign keys to both sides outside any key: not a junction (a pair could repeat), so no second candidate.
create table public.fx_reviews (
  id int primary key,
  film_id int references public.fx_films (id),
  actor_id int references public.fx_actors (id)
);
-- Two junctions between the same pair (one keyed by a unique constraint): an ambiguous many-to-many.
create table public.fx_users (id int primary key, name text not null);
create table public.fx_groups (id int primary key, name text not null);
create table public.fx_members (
  user_id int not null references public.fx_users (id),
  group_id int not null references public.fx_groups (id),
  primary key (user_id, group_id)
);
create table public.fx_admins (
  id int generated always as identity primary key,
  user_id int not null references public.fx_users (id),
  group_id int not null references public.fx_groups (id),
  unique (user_id, group_id)
);
-- A junction from a table to itself: two many-to-many readings, which PostgREST leaves ambiguous.
create table public.fx_friends (
  a int not null references public.fx_users (id),
  b int not null references public.fx_users (id),
  primary key (a, b)
);
create table public.fx_employees (id int primary key, name text not null, manager_id int references public.fx_employees (id));
create view public.fx_films_v as select id, title from public.fx_films;
create view public.fx_titles as select title from public.fx_films;

create function public.fx_full_name(public.fx_actors) returns text language sql stable as $$
  select $1.first_name || ' ' || $1.last_name $$;
create function public.fx_cast(public.fx_films) returns setof public.fx_actors language sql stable as $$
  select a.* from public.fx_actors a join public.fx_roles r on r.actor_id = a.id where r.film_id = $1.id $$;
create function public.fx_lead(public.fx_films) returns setof public.fx_actors rows 1 language sql stable as $$
  select a.* from public.fx_actors a join public.fx_roles r on r.actor_id = a.id where r.film_id = $1.id order by a.id limit 1 $$;
create function public.fx_area(r int) returns numeric language sql immutable as $$ select 3 * r * r $$;
create function public.fx_area(w int, h int) returns numeric language sql immutable as $$ select w * h $$;
create function public.fx_pick(a int default 1) returns int language sql immutable as $$ select a $$;
create function public.fx_pick(b text default 'two') returns text language sql immutable as $$ select b || '!' $$;

insert into public.fx_films values (1, 'Alpha'), (2, 'Beta'), (3, 'Gamma');
insert into public.fx_actors values (1, 'Ann', 'Zed'), (2, 'Bob', 'Young'), (3, 'Cy', 'Xu'), (4, 'Di', 'Wu');
insert into public.fx_roles values (1, 1, 'hero'), (1, 2, 'villain'), (2, 2, 'hero'), (2, 3, 'sidekick'), (2, 4, 'extra');
insert into public.fx_reviews values (1, 1, 3), (2, 1, 3), (3, 3, 4);
insert into public.fx_users values (1, 'u1'), (2, 'u2');
insert into public.fx_groups values (1, 'g1'), (2, 'g2');
insert into public.fx_members values (1, 1), (1, 2), (2, 2);
insert into public.fx_admins (user_id, group_id) values (1, 1);
insert into public.fx_employees values (1, 'boss', null), (2, 'mid', 1), (3, 'low', 2), (4, 'low2', 2);
grant select, insert, update, delete on public.fx_films, public.fx_actors, public.fx_roles, public.fx_reviews,
  public.fx_users, public.fx_groups, public.fx_members, public.fx_admins, public.fx_friends, public.fx_employees, public.fx_films_v, public.fx_titles
  to anon, authenticated;
`;

describeEachEngine('many-to-many, self-reference, computed fields and relationships, overloads', (ctx) => {
  beforeAll(async () => {
    await ctx().db.exec(SCHEMA_SQL);
    await ctx().c.gateway.reloadSchemaCache();
  });

  const castOf = (filmId: string) =>
    `select a.id, a.first_name from public.fx_actors a where exists (select 1 from public.fx_roles r where r.actor_id = a.id and r.film_id = ${filmId})`;

  it('many-to-many through a junction: embeds, filters, orders and !inner, both directions', async () => {
    const sb = await ctx().c.anon.from('fx_films').select('id, title, fx_actors(id, first_name)').order('id');
    expect(sb.error).toBeNull();
    expect(sb.data).toEqual(
      await sqlJson(
        ctx().db,
        `select f.id, f.title, (select coalesce(json_agg(x), '[]') from (${castOf('f.id')}) x) as fx_actors from public.fx_films f order by f.id`,
      ),
    );
    const back = await ctx()
      .c.anon.from('fx_actors')
      .select('id, films:fx_films(title)')
      .eq('id', 2)
      .order('id', { referencedTable: 'films' })
      .single();
    expect(back.data).toEqual({
      id: 2,
      films: await sqlJson(
        ctx().db,
        'select f.title from public.fx_films f join public.fx_roles r on r.film_id = f.id where r.actor_id = 2 order by f.id',
      ),
    });
    const inner = await ctx()
      .c.anon.from('fx_films')
      .select('id, fx_actors!inner(id)')
      .eq('fx_actors.first_name', 'Cy')
      .order('id');
    expect(inner.data).toEqual(
      await sqlJson(
        ctx().db,
        `select f.id, (select json_agg(x) from (select a.id from public.fx_actors a join public.fx_roles r on r.actor_id = a.id where r.film_id = f.id and a.first_name = 'Cy') x) as fx_actors
         from public.fx_films f where exists (select 1 from public.fx_roles r join public.fx_actors a on a.id = r.actor_id where r.film_id = f.id and a.first_name = 'Cy') order by f.id`,
      ),
    );
    // The junction hint names the junction table; a wrong one finds nothing.
    const hinted = await ctx().c.raw('/fx_films?select=id,fx_actors!fx_roles(id)&id=eq.1');
    expect(await hinted.json()).toEqual([
      { id: 1, fx_actors: await sqlJson(ctx().db, `select id from (${castOf('1')}) x order by id`) },
    ]);
    const wrong = await ctx().c.raw('/fx_films?select=id,fx_actors!fx_reviews(id)');
    expect(wrong.status).toBe(400);
    expect((await wrong.json()).code).toBe('PGRST200');
    // The junction itself still embeds one-to-many, and the non-junction table too.
    const direct = await ctx().c.raw('/fx_films?select=id,fx_roles(actor_id),fx_reviews(id)&id=eq.1');
    expect(await direct.json()).toEqual(
      await sqlJson(
        ctx().db,
        `select f.id, (select json_agg(x) from (select actor_id from public.fx_roles where film_id = f.id) x) as fx_roles,
                (select json_agg(x) from (select id from public.fx_reviews where film_id = f.id) x) as fx_reviews
         from public.fx_films f where f.id = 1`,
      ),
    );
  });

  it('two junctions between one pair: 300 PGRST201 listing both; the junction hint resolves it', async () => {
    const res = await ctx().c.raw('/fx_users?select=id,fx_groups(name)');
    expect(res.status).toBe(300);
    const body = (await res.json()) as {
      code: string;
      details: { cardinality: string; relationship: string }[];
      hint: string;
    };
    expect(body.code).toBe('PGRST201');
    expect(body.details.map((d) => d.cardinality)).toEqual(['many-to-many', 'many-to-many']);
    const fkNames = await sqlJson<{ conname: string; tbl: string; col: string }[]>(
      ctx().db,
      `select c.conname, c.conrelid::regclass::text as tbl, a.attname as col from pg_constraint c
       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
       where c.contype = 'f' and c.conrelid in ('public.fx_members'::regclass, 'public.fx_admins'::regclass)`,
    );
    const fk = (tbl: string, col: string) => fkNames.find((f) => f.tbl.endsWith(tbl) && f.col === col)!.conname;
    expect(body.details.map((d) => d.relationship).sort()).toEqual(
      [
        `fx_admins using ${fk('fx_admins', 'user_id')}(user_id) and ${fk('fx_admins', 'group_id')}(group_id)`,
        `fx_members using ${fk('fx_members', 'user_id')}(user_id) and ${fk('fx_members', 'group_id')}(group_id)`,
      ].sort(),
    );
    expect(body.hint).toContain("'fx_groups!fx_members'");
    expect(body.hint).toContain("'fx_groups!fx_admins'");
    const selfM2m = await ctx().c.raw('/fx_users?select=id,fx_users!fx_friends(id)');
    expect(selfM2m.status).toBe(300);
    expect((await selfM2m.json()).code).toBe('PGRST201');
    const members = await ctx().c.anon.from('fx_users').select('id, fx_groups!fx_members(name)').order('id');
    expect(members.data).toEqual(
      await sqlJson(
        ctx().db,
        `select u.id, (select coalesce(json_agg(x), '[]') from (select g.name from public.fx_groups g join public.fx_members m on m.group_id = g.id where m.user_id = u.id) x) as fx_groups
         from public.fx_users u order by u.id`,
      ),
    );
    const admins = await ctx().c.anon.from('fx_users').select('id, fx_groups!fx_admins(name)').order('id');
    expect(admins.data).toEqual(
      await sqlJson(
        ctx().db,
        `select u.id, (select coalesce(json_agg(x), '[]') from (select g.name from public.fx_groups g join public.fx_admins m on m.group_id = g.id where m.user_id = u.id) x) as fx_groups
         from public.fx_users u order by u.id`,
      ),
    );
  });

  it('self-reference: the column names the many-to-one side, the table (hinted by the column) the one-to-many', async () => {
    const sb = await ctx()
      .c.anon.from('fx_employees')
      .select('name, manager:manager_id(name), reports:fx_employees!manager_id(name)')
      .order('id');
    expect(sb.error).toBeNull();
    expect(sb.data).toEqual(
      await sqlJson(
        ctx().db,
        `select e.name, (select row_to_json(m) from (select name from public.fx_employees where id = e.manager_id) m) as manager,
                (select coalesce(json_agg(r), '[]') from (select name from public.fx_employees where manager_id = e.id) r) as reports
         from public.fx_employees e order by e.id`,
      ),
    );
    const plain = await ctx().c.raw('/fx_employees?select=id,fx_employees(id)&id=eq.2');
    expect(await plain.json()).toEqual(
      await sqlJson(
        ctx().db,
        `select e.id, (select coalesce(json_agg(r), '[]') from (select id from public.fx_employees where manager_id = e.id) r) as fx_employees from public.fx_employees e where e.id = 2`,
      ),
    );
  });

  it('a foreign key constraint name works as embed target and as hint, on both sides', async () => {
    const fkName = await sqlValue<string>(
      ctx().db,
      `select conname from pg_constraint where conrelid = 'public.fx_roles'::regclass and contype = 'f' and conkey = array[(select attnum from pg_attribute where attrelid = 'public.fx_roles'::regclass and attname = 'actor_id')]`,
    );
    const m2o = await ctx().c.raw(`/fx_roles?select=character,${fkName}(first_name)&film_id=eq.1&order=actor_id`);
    expect(m2o.status).toBe(200);
    expect(await m2o.json()).toEqual(
      await sqlJson(
        ctx().db,
        `select r.character, (select row_to_json(a) from (select first_name from public.fx_actors where id = r.actor_id) a) as "${fkName}"
         from public.fx_roles r where r.film_id = 1 order by r.actor_id`,
      ),
    );
    const o2m = await ctx().c.raw(`/fx_actors?select=id,fx_roles!${fkName}(character)&id=eq.2`);
    expect(await o2m.json()).toEqual(
      await sqlJson(
        ctx().db,
        `select a.id, (select json_agg(r) from (select character from public.fx_roles where actor_id = a.id) r) as fx_roles from public.fx_actors a where a.id = 2`,
      ),
    );
    const unknown = await ctx().c.raw('/fx_actors?select=id,fx_roles!no_such_fkey(character)');
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).code).toBe('PGRST200');
  });

  it('computed fields: selectable by name, filterable, orderable, in embeds and in a mutation return', async () => {
    const sb = await ctx()
      .c.anon.from('fx_actors')
      .select('id, fx_full_name')
      .order('fx_full_name', { ascending: false });
    expect(sb.error).toBeNull();
    expect(sb.data).toEqual(
      await sqlJson(
        ctx().db,
        'select a.id, public.fx_full_name(a) as fx_full_name from public.fx_actors a order by 2 desc',
      ),
    );
    const star = await ctx().c.anon.from('fx_actors').select('*, name:fx_full_name').eq('fx_full_name', 'Cy Xu');
    expect(star.data).toEqual(
      await sqlJson(
        ctx().db,
        `select a.*, public.fx_full_name(a) as name from public.fx_actors a where public.fx_full_name(a) = 'Cy Xu'`,
      ),
    );
    const plainStar = await ctx().c.anon.from('fx_actors').select('*').eq('id', 1).single();
    expect(Object.keys(plainStar.data as object)).not.toContain('fx_full_name');
    const embedded = await ctx().c.raw(
      '/fx_films?select=id,fx_actors(fx_full_name)&fx_actors.fx_full_name=like.*u&id=eq.2',
    );
    expect(await embedded.json()).toEqual(
      await sqlJson(
        ctx().db,
        `select f.id, (select coalesce(json_agg(x), '[]') from (select public.fx_full_name(a) as fx_full_name from public.fx_actors a join public.fx_roles r on r.actor_id = a.id where r.film_id = f.id and public.fx_full_name(a) like '%u') x) as fx_actors
         from public.fx_films f where f.id = 2`,
      ),
    );
    const patched = await ctx()
      .c.service.from('fx_actors')
      .update({ last_name: 'Vance' })
      .eq('fx_full_name', 'Di Wu')
      .select('id, fx_full_name');
    expect(patched.error).toBeNull();
    expect(patched.data).toEqual(
      await sqlJson(ctx().db, `select id, public.fx_full_name(a) as fx_full_name from public.fx_actors a where id = 4`),
    );
    expect(patched.data).toEqual([{ id: 4, fx_full_name: 'Di Vance' }]);
    const unknown = await ctx().c.raw('/fx_actors?select=id,no_such_field');
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).code).toBe('42703');
  });

  it('computed relationships: setof is to-many, rows 1 is to-one, with filters, order and !inner', async () => {
    const sb = await ctx()
      .c.anon.from('fx_films')
      .select('title, fx_lead(first_name), fx_cast(id, fx_full_name)')
      .order('id')
      .order('id', { referencedTable: 'fx_cast', ascending: false });
    expect(sb.error).toBeNull();
    expect(sb.data).toEqual(
      await sqlJson(
        ctx().db,
        `select f.title, (select row_to_json(l) from (select first_name from public.fx_lead(f) limit 1) l) as fx_lead,
                (select coalesce(json_agg(c), '[]') from (select c.id, public.fx_full_name(c) as fx_full_name from public.fx_cast(f) c order by c.id desc) c) as fx_cast
         from public.fx_films f order by f.id`,
      ),
    );
    const inner = await ctx().c.raw('/fx_films?select=id,fx_cast!inner(id)&fx_cast.id=eq.4');
    expect(await inner.json()).toEqual(
      await sqlJson(
        ctx().db,
        `select f.id, (select json_agg(c) from (select id from public.fx_cast(f) where id = 4) c) as fx_cast from public.fx_films f where exists (select 1 from public.fx_cast(f) c where c.id = 4)`,
      ),
    );
  });

  it('overloaded rpc: resolved by argument names; ambiguous defaults are 300 PGRST203', async () => {
    const one = await ctx().c.anon.rpc('fx_area', { r: 2 });
    expect(one.data).toEqual(await sqlValue(ctx().db, 'select public.fx_area(r => 2)'));
    const two = await ctx().c.anon.rpc('fx_area', { w: 2, h: 5 });
    expect(two.data).toEqual(await sqlValue(ctx().db, 'select public.fx_area(w => 2, h => 5)'));
    const viaGet = await ctx().c.raw('/rpc/fx_area?w=3&h=4');
    expect(await viaGet.json()).toEqual(await sqlValue(ctx().db, 'select public.fx_area(w => 3, h => 4)'));
    const picked = await ctx().c.raw('/rpc/fx_pick?b=3');
    expect(await picked.json()).toEqual(await sqlValue(ctx().db, 'select public.fx_pick(b => $$3$$::text)'));
    const ambiguous = await ctx().c.raw('/rpc/fx_pick');
    expect(ambiguous.status).toBe(300);
    const body = (await ambiguous.json()) as { code: string; message: string; hint: string };
    expect(body.code).toBe('PGRST203');
    expect(body.message).toMatch(/^Could not choose the best candidate function between: /);
    expect(body.message).toContain('public.fx_pick(a => integer)');
    expect(body.message).toContain('public.fx_pick(b => text)');
    expect(body.hint).toBe(
      'Try renaming the parameters or the function itself in the database so function overloading can be resolved',
    );
    const mixed = await ctx().c.anon.rpc('fx_area', { r: 1, w: 2 });
    expect(mixed.status).toBe(404);
    expect(mixed.error?.code).toBe('PGRST202');
  });

  it('embedding through a view: its columns resolve to the base table keys, both ways and many-to-many', async () => {
    const m2m = await ctx().c.anon.from('fx_films_v').select('id, fx_actors(id, first_name)').order('id');
    expect(m2m.error).toBeNull();
    expect(m2m.data).toEqual(
      await sqlJson(
        ctx().db,
        `select f.id, (select coalesce(json_agg(x), '[]') from (${castOf('f.id')}) x) as fx_actors from public.fx_films_v f order by f.id`,
      ),
    );
    const o2m = await ctx().c.raw('/fx_films_v?select=id,fx_roles(character)&id=eq.2&fx_roles.order=character');
    expect(await o2m.json()).toEqual(
      await sqlJson(
        ctx().db,
        `select f.id, (select json_agg(r) from (select character from public.fx_roles where film_id = f.id order by character) r) as fx_roles from public.fx_films_v f where f.id = 2`,
      ),
    );
    const m2o = await ctx()
      .c.anon.from('fx_roles')
      .select('character, fx_films_v(title)')
      .eq('actor_id', 2)
      .order('film_id');
    expect(m2o.data).toEqual(
      await sqlJson(
        ctx().db,
        `select r.character, (select row_to_json(v) from (select title from public.fx_films_v where id = r.film_id) v) as fx_films_v from public.fx_roles r where r.actor_id = 2 order by r.film_id`,
      ),
    );
    // A constraint name still names the table, not the view carrying the same key: no ambiguity.
    const fkName = await sqlValue<string>(
      ctx().db,
      `select conname from pg_constraint where conrelid = 'public.fx_roles'::regclass and confrelid = 'public.fx_films'::regclass`,
    );
    const byConstraint = await ctx().c.raw(`/fx_roles?select=film_id,${fkName}(title)&actor_id=eq.1`);
    expect(byConstraint.status).toBe(200);
    // A view that does not show the key's columns has no relationship: 400 PGRST200, never a different 200.
    const hidden = await ctx().c.raw('/fx_titles?select=title,fx_roles(character)');
    expect(hidden.status).toBe(400);
    expect((await hidden.json()).code).toBe('PGRST200');
  });
});
