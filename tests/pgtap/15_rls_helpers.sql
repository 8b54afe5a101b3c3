-- private.uid(): the cached twin of auth.uid() every policy calls (migration 0038). It must return exactly what
-- auth.uid() returns for every shape of request settings, fail the same way on a malformed sub, stay SECURITY
-- INVOKER with a pinned search_path, and be callable only by the roles whose requests evaluate policies.
begin;

select plan(15);

create temporary table uid_cases (label text, legacy text, claims text) on commit drop;
insert into uid_cases values
  ('sub claim', null, '{"sub": "00000000-0000-4000-8000-0000000000a1", "role": "authenticated"}'),
  ('no settings at all', null, null),
  ('empty claims', null, ''),
  ('claims without sub (anon)', null, '{"role": "anon"}'),
  ('legacy request.jwt.claim.sub wins over the claims', '00000000-0000-4000-8000-0000000000b2',
   '{"sub": "00000000-0000-4000-8000-0000000000a1"}'),
  ('empty legacy setting falls back to the claims', '', '{"sub": "00000000-0000-4000-8000-0000000000c3"}'),
  ('sub null in the claims', null, '{"sub": null}');

create function pg_temp.uid_pair(p_legacy text, p_claims text)
returns table (via_private uuid, via_auth uuid)
language plpgsql
as $$
begin
  perform set_config('request.jwt.claim.sub', coalesce(p_legacy, ''), true);
  -- An unset setting and an empty one both read as "no claims" (current_setting(…, true) + nullif).
  perform set_config('request.jwt.claims', coalesce(p_claims, ''), true);
  -- Both read only the request settings, so the comparison needs no role switch (the API roles hold no usage
  -- on schema private: policies reach private.uid() by oid, never by name).
  via_private := private.uid();
  via_auth := auth.uid();
  return next;
end;
$$;

select is(p.via_private, p.via_auth, 'private.uid() = auth.uid(): ' || c.label)
from uid_cases as c cross join lateral pg_temp.uid_pair(c.legacy, c.claims) as p
order by c.label;

select throws_ok(
  $$select pg_temp.uid_pair(null, '{"sub": "not-a-uuid"}')$$,
  '22P02',
  null,
  'a sub that is not a uuid fails as it does in auth.uid() (invalid_text_representation), never a silent null'
);

select ok(
  (select not p.prosecdef and p.proconfig = array['search_path=""'] and l.lanname = 'plpgsql'
     from pg_catalog.pg_proc p join pg_catalog.pg_language l on l.oid = p.prolang
    where p.oid = 'private.uid()'::regprocedure),
  'private.uid() is SECURITY INVOKER plpgsql (cached per session) with search_path pinned to empty'
);

select ok(
  has_function_privilege('authenticated', 'private.uid()', 'execute')
    and not has_function_privilege('anon', 'private.uid()', 'execute')
    and not has_function_privilege('service_role', 'private.uid()', 'execute'),
  'private.uid() is executable by authenticated (whose requests evaluate the policies) only, not by anon, service_role or PUBLIC'
);

select is(
  (select array_agg(format('%s.%s', tablename, policyname) order by 1) from pg_catalog.pg_policies
    where schemaname = 'public' and coalesce(qual, '') || ' ' || coalesce(with_check, '') ~ 'auth\.uid\(\)'),
  null,
  'no policy calls auth.uid(): policies read the user through (select private.uid()), planned once per session'
);

-- The modules select policy (0039) reads the caller's tier and role from their own profile row inline, with no
-- SECURITY DEFINER helper (each cost as much as the rest of the policy). What that reading must give: an
-- admin's bound is the highest tier and drafts are visible to them, a member's bound is their own tier and
-- drafts stay hidden, and a signed-in user without a profile row sees nothing (null fails every comparison).
insert into public.modules (slug, title, dimension, required_tier, is_published) values
  ('bound-pro-published', 'Bound pro', 'clarity', 'pro', true),
  ('bound-enterprise-published', 'Bound enterprise', 'clarity', 'enterprise', true),
  ('bound-pro-draft', 'Bound pro draft', 'clarity', 'pro', false),
  ('bound-enterprise-draft', 'Bound enterprise draft', 'clarity', 'enterprise', false);

create function pg_temp.bound_modules_for(p_user uuid)
returns text[]
language plpgsql
as $$
declare
  v_slugs text[];
begin
  perform tests.act_as_user(p_user);
  select coalesce(array_agg(m.slug order by m.slug), '{}') into v_slugs
  from public.modules as m where m.slug like 'bound-%';
  perform tests.reset_role();
  return v_slugs;
end;
$$;

select is(
  pg_temp.bound_modules_for(tests.create_user('bound-admin@example.test', 'free', 'admin')),
  array['bound-enterprise-draft', 'bound-enterprise-published', 'bound-pro-draft', 'bound-pro-published'],
  'an admin on the free tier reads every module, drafts and the highest tier included'
);

select is(
  pg_temp.bound_modules_for(tests.create_user('bound-pro@example.test', 'pro', 'member')),
  array['bound-pro-published'],
  'a pro member reads published modules up to pro: no enterprise module, no draft'
);

select is(
  pg_temp.bound_modules_for(gen_random_uuid()),
  '{}'::text[],
  'a signed-in user without a profile row reads no module (the bound is null)'
);

select is(
  (select count(*)::int
     from pg_catalog.pg_policy as pol
     cross join lateral regexp_matches(pg_catalog.pg_get_expr(pol.polqual, pol.polrelid), 'private\.(\w+)\(', 'g') as f(name)
     join pg_catalog.pg_proc as p on p.proname = f.name[1] and p.pronamespace = 'private'::regnamespace
    where pol.polname = 'modules_select_visible' and p.prosecdef),
  0,
  'the modules select policy calls no SECURITY DEFINER helper (one costs as much as the rest of the policy)'
);

select * from finish();
rollback;
