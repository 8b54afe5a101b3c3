-- public.meeting_analyses: written by the analysis pipeline (service role); users read theirs.

create policy meeting_analyses_select_own on public.meeting_analyses
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy meeting_analyses_select_own on public.meeting_analyses is
  'Users read only analyses of their own meetings (composite foreign key pins user_id to the meeting owner). Admins have no access to others'' analyses.';
