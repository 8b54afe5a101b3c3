-- Inverse of 0013_admin_usage_summary.

drop function public.admin_usage_summary(timestamptz, timestamptz);
