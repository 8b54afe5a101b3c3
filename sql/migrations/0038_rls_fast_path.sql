-- 0038 rls fast path: what an RLS policy evaluates per statement costs a cached plpgsql call instead of a
-- re-planned SQL function (issue #17: RLS ÷ bypass ≤ 1.3).
--
-- Why. Every policy compared the owner column with (select auth.uid()), and the modules policy called
-- private.is_admin() and private.current_tier(). auth.uid() is Supabase Auth's definition (bootstrap, kept
-- exactly as upstream): language sql with a SET search_path clause, so PostgreSQL never inlines it and,
-- PostgreSQL 15 having no plan cache for SQL functions, parses, analyses and plans its body again in every
-- statement, for every policy of every table the statement reads, then saves and restores search_path
-- around it. Measured on PostgreSQL 15 (interleaved, same session): a one-row profile read as
-- authenticated cost ~2.5-3x the same read bypassing RLS, and nearly all of that difference was the
-- (select auth.uid()) InitPlan; the same policy with `true` cost about as much as the bypass. The modules
-- helpers were worse: each a SECURITY DEFINER SQL function re-planned per statement, containing a profile
-- lookup that called auth.uid() again (a catalogue read cost ~6x its bypass).
--
-- What. private.uid() returns exactly what auth.uid() returns (the same expression over the same request
-- settings; pgTAP compares the two for every claim shape) but in plpgsql, whose compiled body and
-- expression plan are cached per session: one call is a settings read, no planning. search_path stays
-- pinned (project rule and Supabase's function_search_path_mutable lint). Policies call
-- (select private.uid()); the role and tier helpers become plpgsql too, so their profile lookup is a
-- cached plan; the modules policy reads one tier bound (private.module_tier_ceiling(): an admin's is the
-- highest tier) and asks is_admin() only when it reaches a draft, one helper call instead of two. SECURITY
-- DEFINER stays on the helpers (the lookup must not depend on the caller's profile
-- policies); private.uid() is SECURITY INVOKER (it reads only the caller's own request settings),
-- executable by authenticated only: the one role whose requests evaluate policies.
-- auth.uid() itself is unchanged and remains the API for application SQL; public.dashboard() calls it once
-- per call instead of five times.

create function private.uid()
returns uuid
language plpgsql
stable
set search_path = ''
as $$
begin
  -- Same expression as Supabase Auth's auth.uid() (20240624145325_recreate_auth_functions): the legacy
  -- per-claim setting of PostgREST < 9 first, then the sub claim of request.jwt.claims.
  return coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid;
end;
$$;

comment on function private.uid() is
  'auth.uid() for RLS policies: the same value (JWT sub claim of this request, or null) computed by a plpgsql body PostgreSQL caches per session, where auth.uid() (language sql with SET search_path, as Supabase defines it) is re-planned in every statement. Policies call it as (select private.uid()).';

revoke all on function private.uid() from public;

grant execute on function private.uid() to authenticated;

create or replace function private.current_app_role()
returns public.app_role
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select p.role from public.profiles as p where p.id = private.uid());
end;
$$;

create or replace function private.current_tier()
returns public.subscription_tier
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (select p.tier from public.profiles as p where p.id = private.uid());
end;
$$;

create or replace function private.is_admin()
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return coalesce((select p.role = 'admin' from public.profiles as p where p.id = private.uid()), false);
end;
$$;

-- The modules select policy's tier bound (sql/policies/modules.sql): the caller's tier, or the highest tier
-- for an admin, from one profile lookup. Null for anon or a user without a profile (fails every comparison).
create function private.module_tier_ceiling()
returns public.subscription_tier
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    select case when p.role = 'admin' then pg_catalog.enum_last(null::public.subscription_tier) else p.tier end
    from public.profiles as p
    where p.id = private.uid()
  );
end;
$$;

comment on function private.module_tier_ceiling() is
  'Highest required_tier of a module the signed-in user may read: their subscription tier, or the highest tier for an admin (who reads every module). Read from public.profiles (SECURITY DEFINER, like the other helpers); null for anon or a user without a profile (fail closed).';

revoke all on function private.module_tier_ceiling() from public;

grant execute on function private.module_tier_ceiling() to authenticated;

-- The home screen reads the user once: its five owner filters take auth.uid() from one materialized CTE
-- instead of five InitPlans that each re-planned auth.uid() (the five tables' policies use private.uid()).
-- auth.uid() stays here: the API roles hold no usage on schema private, and a function body, unlike a
-- policy, resolves names as its caller. Same document, same SECURITY INVOKER reads.
create or replace function public.dashboard()
returns jsonb
language sql
stable
security invoker
set search_path = ''
as $$
  with me as materialized (select auth.uid() as id)
  select pg_catalog.jsonb_build_object(
    'profile', (
      select pg_catalog.jsonb_build_object('display_name', p.display_name, 'avatar_url', p.avatar_url, 'tier', p.tier, 'role', p.role, 'timezone', p.timezone)
      from public.profiles as p
      where p.id = (select me.id from me)
    ),
    'progress', coalesce((
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('dimension', g.dimension, 'score', g.score, 'level', g.level, 'streak_days', g.streak_days) order by g.dimension)
      from public.user_progress as g
      where g.user_id = (select me.id from me)
    ), '[]'::jsonb),
    'recent_meetings', coalesce((
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', m.id, 'title', m.title, 'status', m.status, 'created_at', m.created_at) order by m.created_at desc)
      from (
        select x.id, x.title, x.status, x.created_at
        from public.meetings as x
        where x.user_id = (select me.id from me)
        order by x.created_at desc
        limit 5
      ) as m
    ), '[]'::jsonb),
    'recent_practice', coalesce((
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', s.id, 'module_id', s.module_id, 'status', s.status, 'started_at', s.started_at, 'overall_score', s.overall_score) order by s.started_at desc)
      from (
        select x.id, x.module_id, x.status, x.started_at, x.overall_score
        from public.practice_sessions as x
        where x.user_id = (select me.id from me)
        order by x.started_at desc
        limit 5
      ) as s
    ), '[]'::jsonb),
    'usage_this_month', coalesce((
      select pg_catalog.jsonb_object_agg(u.kind, u.total_quantity)
      from (
        select x.kind, pg_catalog.sum(x.quantity) as total_quantity
        from public.usage_metrics as x
        where x.user_id = (select me.id from me)
          and x.occurred_at >= pg_catalog.date_trunc('month', pg_catalog.now() at time zone 'UTC') at time zone 'UTC'
        group by x.kind
      ) as u
    ), '{}'::jsonb)
  )
$$;

-- Policies: sql/policies now compare owner columns with (select private.uid()), and the modules select policy
-- reads the tier bound. The section below is the output of `shipspeak-db policies migration` (it drops each
-- changed table's policies and creates the file's).

-- public.meeting_analyses
drop policy "meeting_analyses_select_own" on public."meeting_analyses";
-- public.meeting_analyses: written by the analysis pipeline (service role); users read theirs.

create policy meeting_analyses_select_own on public.meeting_analyses
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy meeting_analyses_select_own on public.meeting_analyses is
  'Users read only analyses of their own meetings (composite foreign key pins user_id to the meeting owner). Admins have no access to others'' analyses.';

-- public.meeting_transcripts
drop policy "meeting_transcripts_select_own" on public."meeting_transcripts";
-- public.meeting_transcripts: written by the transcription pipeline (service role); users read theirs.

create policy meeting_transcripts_select_own on public.meeting_transcripts
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy meeting_transcripts_select_own on public.meeting_transcripts is
  'Users read only transcripts of their own meetings (user_id is pinned to the meeting owner by a composite foreign key). Admins have no access to others'' transcripts.';

-- public.meetings
drop policy "meetings_delete_own" on public."meetings";
drop policy "meetings_insert_own" on public."meetings";
drop policy "meetings_select_own" on public."meetings";
drop policy "meetings_update_own" on public."meetings";
-- public.meetings: fully owned by the user (upload, rename, delete), subject to the tier quota trigger.
-- Pipeline columns (status, failure_reason, duration, storage path after upload) are written by the
-- service role; users lack the column privileges.

create policy meetings_select_own on public.meetings
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy meetings_select_own on public.meetings is
  'Users read only their own meetings (Realtime applies the same rule to status broadcasts).';

create policy meetings_insert_own on public.meetings
  as permissive for insert
  to authenticated
  with check (user_id = (select private.uid()));

comment on policy meetings_insert_own on public.meetings is
  'Users upload meetings for themselves only; the enforce_meeting_quota trigger then applies the tier quota.';

create policy meetings_update_own on public.meetings
  as permissive for update
  to authenticated
  using (user_id = (select private.uid()))
  with check (user_id = (select private.uid()));

comment on policy meetings_update_own on public.meetings is
  'Users edit metadata of their own meetings; the row must stay theirs.';

create policy meetings_delete_own on public.meetings
  as permissive for delete
  to authenticated
  using (user_id = (select private.uid()));

comment on policy meetings_delete_own on public.meetings is
  'Users delete their own meetings; transcripts and analyses go with them (cascade).';

-- public.modules
drop policy "modules_delete_admin" on public."modules";
drop policy "modules_insert_admin" on public."modules";
drop policy "modules_select_visible" on public."modules";
drop policy "modules_update_admin" on public."modules";
-- public.modules: the catalogue. Signed-in users read published modules their tier allows; admins read
-- everything (drafts included) and write; anon holds no privilege at all.

create policy modules_select_visible on public.modules
  as permissive for select
  to authenticated
  using (
    required_tier <= (select private.module_tier_ceiling())
    and (is_published or (select private.is_admin()))
  );

comment on policy modules_select_visible on public.modules is
  'Published modules whose required_tier is at most the caller''s tier (free < pro < enterprise; premium needs pro or above); admins see all modules, drafts included. Written as one tier bound (an admin''s ceiling is the highest tier) AND (published or admin): the bound can use modules_required_tier_idx, and the admin check runs only if a draft is reached, so a member''s read costs one helper call instead of two.';

create policy modules_insert_admin on public.modules
  as permissive for insert
  to authenticated
  with check ((select private.is_admin()));

comment on policy modules_insert_admin on public.modules is
  'Only admins (profile role admin) add modules; other users get a row-level security violation (42501).';

create policy modules_update_admin on public.modules
  as permissive for update
  to authenticated
  using ((select private.is_admin()))
  with check ((select private.is_admin()));

comment on policy modules_update_admin on public.modules is
  'Only admins edit modules; for other users an update matches no row.';

create policy modules_delete_admin on public.modules
  as permissive for delete
  to authenticated
  using ((select private.is_admin()));

comment on policy modules_delete_admin on public.modules is
  'Only admins delete modules (modules with practice history are protected by a restricting foreign key; unpublish them instead).';

-- public.practice_sessions
drop policy "practice_sessions_delete_own" on public."practice_sessions";
drop policy "practice_sessions_insert_own" on public."practice_sessions";
drop policy "practice_sessions_select_own" on public."practice_sessions";
drop policy "practice_sessions_update_own" on public."practice_sessions";
-- public.practice_sessions: owned by the user. A session can only be started on a module the user may
-- read (tier gate) and, when built from a meeting, on their own meeting (composite foreign key).

create policy practice_sessions_select_own on public.practice_sessions
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy practice_sessions_select_own on public.practice_sessions is
  'Users read only their own practice sessions.';

create policy practice_sessions_insert_own on public.practice_sessions
  as permissive for insert
  to authenticated
  with check (
    user_id = (select private.uid())
    and exists (select 1 from public.modules as m where m.id = practice_sessions.module_id)
  );

comment on policy practice_sessions_insert_own on public.practice_sessions is
  'Users start sessions for themselves only, on a module visible to them (the subquery runs under the modules policy, so a free user cannot practise a pro module).';

create policy practice_sessions_update_own on public.practice_sessions
  as permissive for update
  to authenticated
  using (user_id = (select private.uid()))
  with check (user_id = (select private.uid()));

comment on policy practice_sessions_update_own on public.practice_sessions is
  'Users record progress on their own sessions (status, timings, metrics: column privileges); the score comes from the feedback pipeline.';

create policy practice_sessions_delete_own on public.practice_sessions
  as permissive for delete
  to authenticated
  using (user_id = (select private.uid()));

comment on policy practice_sessions_delete_own on public.practice_sessions is
  'Users delete their own sessions; the feedback goes with them (cascade).';

-- public.profiles
drop policy "profiles_select_own" on public."profiles";
drop policy "profiles_update_own" on public."profiles";
-- public.profiles: a user reads and edits their own profile. No insert policy (the signup trigger creates
-- profiles; authenticated has no insert privilege, so a second profile or an upsert fails with 42501) and
-- no delete policy (erasure deletes the auth user, which cascades). Which columns an update may touch is
-- fixed by column privileges (display fields only), so role and tier can never be self-assigned.

create policy profiles_select_own on public.profiles
  as permissive for select
  to authenticated
  using (id = (select private.uid()));

comment on policy profiles_select_own on public.profiles is
  'Users read only their own profile; admins included (admins learn about users through aggregates only).';

create policy profiles_update_own on public.profiles
  as permissive for update
  to authenticated
  using (id = (select private.uid()))
  with check (id = (select private.uid()));

comment on policy profiles_update_own on public.profiles is
  'Users update only their own profile, and only the display columns they hold update privilege on (never role, tier or id).';

-- public.session_feedback
drop policy "session_feedback_select_own" on public."session_feedback";
-- public.session_feedback: written by the feedback pipeline (service role); users read theirs.

create policy session_feedback_select_own on public.session_feedback
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy session_feedback_select_own on public.session_feedback is
  'Users read only feedback on their own sessions (composite foreign key pins user_id to the session owner). Admins have no access to others'' feedback.';

-- public.usage_metrics
drop policy "usage_metrics_insert_own" on public."usage_metrics";
drop policy "usage_metrics_select_own" on public."usage_metrics";
-- public.usage_metrics: users read and append their own usage events; they can never update or delete
-- them (no privilege), so quotas computed from the events cannot be reset by the user.

create policy usage_metrics_select_own on public.usage_metrics
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy usage_metrics_select_own on public.usage_metrics is
  'Users read only their own usage events. Admins see aggregates through public.admin_usage_summary().';

create policy usage_metrics_insert_own on public.usage_metrics
  as permissive for insert
  to authenticated
  with check (user_id = (select private.uid()));

comment on policy usage_metrics_insert_own on public.usage_metrics is
  'Users append usage events for themselves only (occurred_at is not insertable: it is always the server time).';

-- public.user_progress
drop policy "user_progress_select_own" on public."user_progress";
-- public.user_progress: computed by the scoring pipeline (service role); users only read theirs.

create policy user_progress_select_own on public.user_progress
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy user_progress_select_own on public.user_progress is
  'Users read only their own progress rows. Writes come from the service role (no user write privilege).';
