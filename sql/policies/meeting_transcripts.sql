-- public.meeting_transcripts: written by the transcription pipeline (service role); users read theirs.

create policy meeting_transcripts_select_own on public.meeting_transcripts
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy meeting_transcripts_select_own on public.meeting_transcripts is
  'Users read only transcripts of their own meetings (user_id is pinned to the meeting owner by a composite foreign key). Admins have no access to others'' transcripts.';
