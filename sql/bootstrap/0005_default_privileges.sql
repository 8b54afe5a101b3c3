-- Supabase platform layer, step 5: the default privileges that make "RLS the only wall".
--
-- Source: supabase/postgres migrations/db/init-scripts/00000000000000-initial-schema.sql
--   alter default privileges in schema public grant all on tables    to postgres, anon, authenticated, service_role;
--   alter default privileges in schema public grant all on functions to postgres, anon, authenticated, service_role;
--   alter default privileges in schema public grant all on sequences to postgres, anon, authenticated, service_role;
-- which a pg_dump of a Supabase database shows as `alter default privileges for role postgres in schema
-- public grant all on {tables,sequences,functions} to postgres, anon, authenticated, service_role`
-- (and the same for role supabase_admin). Every table, sequence and function that migrations (run as
-- postgres) create in public is therefore fully granted to all three API roles: only RLS policies and
-- explicit revokes stand between a new table and the internet. Reproducing this locally is what makes
-- local tests fail where production would leak.
--
-- The grants are made for role postgres (Supabase's migration role) and, when the bootstrap runs as a
-- different role, for that role too, since it is the one that will run the migrations here.
-- `alter default privileges` is itself idempotent (re-granting changes nothing).

do $$
declare
  owner_role text;
begin
  foreach owner_role in array array['postgres', current_user::text] loop
    continue when not exists (select from pg_catalog.pg_roles where rolname = owner_role);
    execute pg_catalog.format('alter default privileges for role %I in schema public grant all on tables to anon, authenticated, service_role', owner_role);
    execute pg_catalog.format('alter default privileges for role %I in schema public grant all on sequences to anon, authenticated, service_role', owner_role);
    execute pg_catalog.format('alter default privileges for role %I in schema public grant all on functions to anon, authenticated, service_role', owner_role);
  end loop;
end
$$;
