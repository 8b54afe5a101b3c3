-- Inverse of 0009_realtime: take the tables out of supabase_realtime if they are in it.

do $$
begin
  if exists (
    select 1 from pg_catalog.pg_publication_rel as pr
    join pg_catalog.pg_publication as p on p.oid = pr.prpubid
    where p.pubname = 'supabase_realtime' and pr.prrelid = 'public.practice_sessions'::regclass
  ) then
    alter publication supabase_realtime drop table public.practice_sessions;
  end if;
  if exists (
    select 1 from pg_catalog.pg_publication_rel as pr
    join pg_catalog.pg_publication as p on p.oid = pr.prpubid
    where p.pubname = 'supabase_realtime' and pr.prrelid = 'public.meetings'::regclass
  ) then
    alter publication supabase_realtime drop table public.meetings;
  end if;
end;
$$;
