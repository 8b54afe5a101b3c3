-- bootstrap:skip-unless: select pg_catalog.to_regclass('pg_catalog.pg_publication') is not null
-- bootstrap:skip-reason: this engine has no publications (pg_catalog.pg_publication is missing)
--
-- Supabase platform layer, step 6: the (initially empty) supabase_realtime publication.
--
-- Source: supabase/postgres migrations/db/init-scripts/00000000000000-initial-schema.sql
--   create publication supabase_realtime;
-- Tables clients subscribe to are added by migrations (`alter publication supabase_realtime add table
-- ...`). With wal_level below logical, PostgreSQL still creates the publication (it warns that changes
-- cannot be published yet), which is all the migrations need.

do $$
begin
  if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
exception when duplicate_object or unique_violation then
  null;
end
$$;
