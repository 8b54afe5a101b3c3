-- Inverse of 0025_usage_rollup.

drop function public.admin_usage_monthly(date);

drop trigger roll_up_usage_events on public.usage_metrics;

drop function private.roll_up_usage_events();

drop table private.usage_daily_rollup;

drop table private.usage_month_users;
