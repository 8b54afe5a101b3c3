-- Supabase platform layer, step 2: the auth and extensions schemas and who may use them.
--
-- Source: supabase/postgres migrations/db/init-scripts/00000000000000-initial-schema.sql
--   grant usage on schema public     to postgres, anon, authenticated, service_role;
--   grant usage on schema extensions to postgres, anon, authenticated, service_role;
-- and 00000000000001-auth-schema.sql
--   grant usage on schema auth to anon, authenticated, service_role;
-- (usage on auth lets the API roles call auth.uid() & co.; it gives no access to any auth table.)
-- Every grant is made only where the privilege is missing, so nothing is re-granted on a database
-- whose grants were made by another owner.

create schema if not exists auth;
create schema if not exists extensions;

do $$
declare
  api_role text;
  schema_name text;
begin
  foreach schema_name in array array['public', 'extensions', 'auth'] loop
    foreach api_role in array array['anon', 'authenticated', 'service_role'] loop
      if not pg_catalog.has_schema_privilege(api_role, schema_name, 'usage') then
        execute pg_catalog.format('grant usage on schema %I to %I', schema_name, api_role);
      end if;
    end loop;
  end loop;
end
$$;

comment on schema auth is 'Supabase Auth: user accounts and the auth.uid()/role()/jwt()/email() helpers (bootstrap stand-in where Supabase Auth is absent).';
comment on schema extensions is 'Supabase: schema that holds extensions so they stay out of the API-exposed public schema.';
