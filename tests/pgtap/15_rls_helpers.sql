-- private.uid(): the cached twin of auth.uid() every policy calls (migration 0038). It must return exactly what
-- auth.uid() returns for every shape of request settings, fail the same way on a malformed sub, stay SECURITY
-- INVOKER with a pinned search_path, and be callable only by the roles whose requests evaluate policies.
begin;

select plan(14);

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

-- private.module_tier_ceiling(): the modules policy's tier bound (the matrix proves the policy's outcomes).
create function pg_temp.ceiling_for(p_claims text)
returns public.subscription_tier
language plpgsql
as $$
begin
  perform set_config('request.jwt.claims', coalesce(p_claims, ''), true);
  return private.module_tier_ceiling();
end;
$$;

select is(
  pg_temp.ceiling_for(pg_catalog.json_build_object('sub', tests.create_user('ceiling-admin@example.test', 'free', 'admin'))::text),
  pg_catalog.enum_last(null::public.subscription_tier),
  'an admin on the free tier gets the highest tier as ceiling (admins read every module)'
);

select is(
  pg_temp.ceiling_for(pg_catalog.json_build_object('sub', tests.create_user('ceiling-pro@example.test', 'pro', 'member'))::text),
  'pro'::public.subscription_tier,
  'a member''s ceiling is their own subscription tier'
);

select is(pg_temp.ceiling_for('{"role": "anon"}'), null, 'no signed-in user: no ceiling (null fails every tier comparison)');

select * from finish();
rollback;
