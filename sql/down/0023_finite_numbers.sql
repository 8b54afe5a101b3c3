-- Inverse of 0023_finite_numbers.

alter table public.user_progress drop constraint user_progress_score_finite;

alter table public.usage_metrics drop constraint usage_metrics_quantity_finite;

alter table public.session_feedback drop constraint session_feedback_overall_score_finite;

alter table public.session_feedback drop constraint session_feedback_improvement_delta_finite;

alter table public.practice_sessions drop constraint practice_sessions_overall_score_finite;

alter table public.meeting_analyses drop constraint meeting_analyses_overall_score_finite;

alter table public.meeting_analyses drop constraint meeting_analyses_cost_usd_finite;
