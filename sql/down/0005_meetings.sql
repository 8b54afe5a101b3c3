-- Inverse of 0005_meetings.

drop table public.meetings;

drop function private.set_status_changed_at();
