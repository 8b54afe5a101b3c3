-- Inverse of 0008_practice_sessions_and_feedback.

drop table public.session_feedback;

drop table public.practice_sessions;
