-- Supabase platform layer, step 4: auth.uid(), auth.role(), auth.email(), auth.jwt().
--
-- Source: github.com/supabase/auth migrations/20240624145325_recreate_auth_functions.up.sql (and
-- 20240625163155_set_search_path.up.sql): language sql, stable, search_path '', reading the claims
-- PostgREST sets per request with set_config('request.jwt.claims', <json>, true); the legacy
-- per-claim settings (request.jwt.claim.sub, ...) of PostgREST < 9 are still honoured first.
-- jwt() comes from 20220531120530_add_auth_jwt_function.
--
-- A function is (re)defined only when it is missing or owned by the role running the bootstrap, so a
-- definition owned by someone else (Supabase's supabase_auth_admin) is left alone.

do $$
declare
  fn record;
begin
  for fn in
    select *
    from (values
      ('uid', 'uuid', $body$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.sub', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$body$),
      ('role', 'text', $body$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.role', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$body$),
      ('email', 'text', $body$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.email', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$body$),
      ('jwt', 'jsonb', $body$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$body$)
    ) as f(name, returns, body)
  loop
    if pg_catalog.to_regprocedure(pg_catalog.format('auth.%I()', fn.name)) is null
      or exists (
        select
        from pg_catalog.pg_proc p
        where p.oid = pg_catalog.to_regprocedure(pg_catalog.format('auth.%I()', fn.name))
          and p.proowner = (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user)
          and (p.prosrc is distinct from fn.body or p.proconfig is distinct from array['search_path=""'])
      )
    then
      execute pg_catalog.format(
        'create or replace function auth.%I() returns %s language sql stable set search_path to '''' as %L',
        fn.name, fn.returns, fn.body
      );
    end if;
  end loop;
end
$$;

comment on function auth.uid() is 'Supabase: the signed-in user''s id (JWT sub claim) for this request, or null.';
comment on function auth.role() is 'Supabase: the JWT role claim (anon, authenticated, service_role) for this request, or null.';
comment on function auth.email() is 'Supabase: the JWT email claim for this request, or null.';
comment on function auth.jwt() is 'Supabase: all JWT claims of this request as jsonb (app_metadata here is trustworthy, user_metadata is not), or null.';

-- Functions are executable by PUBLIC by default (which is what Supabase relies on); the explicit grant
-- keeps the API roles able to call them even where PUBLIC's execute was revoked.
grant execute on function auth.uid() to anon, authenticated, service_role;
grant execute on function auth.role() to anon, authenticated, service_role;
grant execute on function auth.email() to anon, authenticated, service_role;
grant execute on function auth.jwt() to anon, authenticated, service_role;
