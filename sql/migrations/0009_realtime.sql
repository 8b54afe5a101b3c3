-- 0009 realtime: tables clients subscribe to join Supabase's supabase_realtime publication (clients watch a
-- meeting's processing status and a practice session being scored). Realtime applies RLS to what it
-- broadcasts. Skipped where the publication does not exist (an engine without Realtime) or already
-- publishes all tables.

do $$
begin
  if exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime' and not puballtables) then
    if not exists (
      select 1 from pg_catalog.pg_publication_tables
      where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'meetings'
    ) then
      alter publication supabase_realtime add table public.meetings;
    end if;
    if not exists (
      select 1 from pg_catalog.pg_publication_tables
      where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'practice_sessions'
    ) then
      alter publication supabase_realtime add table public.practice_sessions;
    end if;
  end if;
end;
$$;
