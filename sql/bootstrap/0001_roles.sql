-- Supabase platform layer, step 1: the API roles and the role PostgREST logs in as.
--
-- Source: supabase/postgres migrations/db/init-scripts/00000000000000-initial-schema.sql
--   create role anon          nologin noinherit;
--   create role authenticated nologin noinherit;
--   create role service_role  nologin noinherit bypassrls;
--   create user authenticator noinherit;  grant anon, authenticated, service_role to authenticator;
-- followed by supabase/postgres migrations/db/migrations/20230529180330_alter_api_roles_for_inherit.sql,
-- which turned the three API roles to INHERIT (authenticator stays NOINHERIT). A current Supabase
-- database therefore has anon/authenticated/service_role INHERIT, and so do we.
--
-- Roles are cluster-wide: on a shared PostgreSQL cluster they may already exist (created by an earlier
-- bootstrap, by another test database, or by Supabase itself). Existing roles are never altered; races
-- between two bootstraps running at once are absorbed (duplicate_object / unique_violation).
--
-- authenticator is LOGIN without a password: locally the cluster uses trust (or PGlite, which has no
-- authentication). A deployed cluster would `alter role authenticator password '...'` outside this file;
-- no secret belongs in a migration.

do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin inherit;
    -- Supabase caps API statements (initial-schema.sql); PostgREST applies role settings per request.
    alter role anon set statement_timeout = '3s';
  end if;
exception when duplicate_object or unique_violation then
  null;
end
$$;

do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin inherit;
    alter role authenticated set statement_timeout = '8s';
  end if;
exception when duplicate_object or unique_violation then
  null;
end
$$;

do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin inherit bypassrls;
  end if;
exception when duplicate_object or unique_violation then
  null;
end
$$;

do $$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
  end if;
exception when duplicate_object or unique_violation then
  null;
end
$$;

-- authenticator must be able to `set role` to each API role (PostgREST does `set local role <jwt.role>`).
-- Membership is granted only where missing, so no grantor-less re-grant is attempted on a database where
-- someone else (Supabase's supabase_admin) granted it.
do $$
declare
  api_role text;
begin
  foreach api_role in array array['anon', 'authenticated', 'service_role'] loop
    if not pg_catalog.pg_has_role('authenticator', api_role, 'member') then
      begin
        execute pg_catalog.format('grant %I to authenticator', api_role);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;
end
$$;
