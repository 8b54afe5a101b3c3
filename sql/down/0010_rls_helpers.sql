-- Inverse of 0010_rls_helpers.

drop index public.modules_required_tier_idx;

drop trigger forbid_owner_change on public.session_feedback;

drop trigger forbid_owner_change on public.practice_sessions;

drop trigger forbid_owner_change on public.meeting_analyses;

drop trigger forbid_owner_change on public.meeting_transcripts;

drop trigger forbid_owner_change on public.meetings;

drop trigger forbid_owner_change on public.usage_metrics;

drop trigger forbid_owner_change on public.user_progress;

drop trigger forbid_owner_change on public.profiles;

drop function private.forbid_owner_change();

drop function private.is_admin();

drop function private.current_tier();

drop function private.current_app_role();
