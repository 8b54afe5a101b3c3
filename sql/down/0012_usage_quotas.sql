-- Inverse of 0012_usage_quotas.

drop trigger enforce_meeting_quota on public.meetings;

drop function private.enforce_meeting_quota();

drop table private.tier_quotas;
