-- Inverse of 0001_types_and_helpers.

drop function private.set_updated_at();

drop type public.module_difficulty;

drop type public.usage_metric_kind;

drop type public.learning_dimension;

drop type public.practice_status;

drop type public.meeting_status;

drop type public.subscription_tier;

drop type public.app_role;

drop schema private;
