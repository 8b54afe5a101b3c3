-- public.user_progress: computed by the scoring pipeline (service role); users only read theirs.

create policy user_progress_select_own on public.user_progress
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy user_progress_select_own on public.user_progress is
  'Users read only their own progress rows. Writes come from the service role (no user write privilege).';
