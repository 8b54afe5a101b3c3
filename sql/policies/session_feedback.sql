-- public.session_feedback: written by the feedback pipeline (service role); users read theirs.

create policy session_feedback_select_own on public.session_feedback
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy session_feedback_select_own on public.session_feedback is
  'Users read only feedback on their own sessions (composite foreign key pins user_id to the session owner). Admins have no access to others'' feedback.';
