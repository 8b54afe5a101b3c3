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
