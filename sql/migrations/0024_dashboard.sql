-- 0024 dashboard: the home screen in one round trip. Before it the screen sent five requests (profile,
-- progress, recent meetings, recent practice, this month's usage); public.dashboard() returns all five as one
-- jsonb document. SECURITY INVOKER: every part is read through the caller's own RLS, and every part also
-- filters on (select auth.uid()) so each read is an index range scan, never a filter over other users' rows.

create function public.dashboard()
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'profile', (
      select pg_catalog.jsonb_build_object('display_name', p.display_name, 'avatar_url', p.avatar_url, 'tier', p.tier, 'role', p.role, 'timezone', p.timezone)
      from public.profiles as p
      where p.id = (select auth.uid())
    ),
    'progress', coalesce((
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('dimension', g.dimension, 'score', g.score, 'level', g.level, 'streak_days', g.streak_days) order by g.dimension)
      from public.user_progress as g
      where g.user_id = (select auth.uid())
    ), '[]'::jsonb),
    'recent_meetings', coalesce((
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', m.id, 'title', m.title, 'status', m.status, 'created_at', m.created_at) order by m.created_at desc)
      from (
        select x.id, x.title, x.status, x.created_at
        from public.meetings as x
        where x.user_id = (select auth.uid())
        order by x.created_at desc
        limit 5
      ) as m
    ), '[]'::jsonb),
    'recent_practice', coalesce((
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', s.id, 'module_id', s.module_id, 'status', s.status, 'started_at', s.started_at, 'overall_score', s.overall_score) order by s.started_at desc)
      from (
        select x.id, x.module_id, x.status, x.started_at, x.overall_score
        from public.practice_sessions as x
        where x.user_id = (select auth.uid())
        order by x.started_at desc
        limit 5
      ) as s
    ), '[]'::jsonb),
    'usage_this_month', coalesce((
      select pg_catalog.jsonb_object_agg(u.kind, u.total_quantity)
      from (
        select x.kind, pg_catalog.sum(x.quantity) as total_quantity
        from public.usage_metrics as x
        where x.user_id = (select auth.uid())
          and x.occurred_at >= pg_catalog.date_trunc('month', pg_catalog.now() at time zone 'UTC') at time zone 'UTC'
        group by x.kind
      ) as u
    ), '{}'::jsonb)
  )
$$;

comment on function public.dashboard() is
  'Home screen in one round trip: the caller''s profile, progress per dimension, 5 newest meetings, 5 newest practice sessions and this calendar month''s (UTC) usage per kind, as one jsonb document. SECURITY INVOKER: everything is read through the caller''s RLS; null profile for anon.';

revoke all on function public.dashboard() from public;

revoke all on function public.dashboard() from anon;

grant execute on function public.dashboard() to authenticated;

grant execute on function public.dashboard() to service_role;
