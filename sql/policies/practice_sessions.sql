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
