-- Change capture for `shipspeak-db serve` on PGlite, which has no logical decoding: every table in the
-- supabase_realtime publication gets an AFTER row trigger that queues the change (new and old row as
-- jsonb) in realtime.shipspeak_changes and wakes the server with pg_notify. The queue is transactional, so
-- a rolled-back change is never delivered and a committed one is seen exactly once (the server deletes
-- what it reads). On PostgreSQL serve decodes the WAL with wal2json instead, as Supabase Realtime does.
-- Installed by serve on PGlite only, at the first postgres_changes subscription (src/realtime/capture-pglite.ts); idempotent.

create schema if not exists realtime;

comment on schema realtime is 'Supabase Realtime''s schema; here it holds shipspeak-db serve''s PGlite change queue.';

create table if not exists realtime.shipspeak_changes (
  id bigint generated always as identity primary key,
  schema_name text not null,
  table_name text not null,
  action text not null check (action in ('INSERT', 'UPDATE', 'DELETE')),
  record jsonb,
  old_record jsonb,
  commit_timestamp timestamptz not null default pg_catalog.now()
);

comment on table realtime.shipspeak_changes is 'PGlite change queue for shipspeak-db serve Realtime: rows are deleted as they are delivered.';
comment on column realtime.shipspeak_changes.record is 'The new row (INSERT, UPDATE) as jsonb.';
comment on column realtime.shipspeak_changes.old_record is 'The old row (UPDATE, DELETE) as jsonb.';

revoke all on table realtime.shipspeak_changes from public, anon, authenticated, service_role;

create or replace function realtime.shipspeak_capture() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into realtime.shipspeak_changes (schema_name, table_name, action, record, old_record)
  values (tg_table_schema, tg_table_name, tg_op,
          case when tg_op <> 'DELETE' then pg_catalog.to_jsonb(new) end,
          case when tg_op <> 'INSERT' then pg_catalog.to_jsonb(old) end);
  perform pg_catalog.pg_notify('shipspeak_realtime', '');
  return null;
end
$$;

comment on function realtime.shipspeak_capture() is 'Queues a row change of a supabase_realtime table for shipspeak-db serve (PGlite only).';

revoke all on function realtime.shipspeak_capture() from public, anon, authenticated, service_role;

do $$
declare
  t record;
begin
  for t in select schemaname, tablename from pg_catalog.pg_publication_tables where pubname = 'supabase_realtime' loop
    execute pg_catalog.format(
      'create or replace trigger shipspeak_realtime_capture after insert or update or delete on %I.%I for each row execute function realtime.shipspeak_capture()',
      t.schemaname, t.tablename);
  end loop;
end
$$;
