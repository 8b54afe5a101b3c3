-- Inverse of 0004_usage_metrics.

drop table public.usage_metrics;
