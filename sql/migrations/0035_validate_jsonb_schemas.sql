-- 0035 validate jsonb schemas: check the rows that existed before 0034 against each JSONB schema constraint.
-- Its own transaction, after 0034's brief lock: a row that breaks its schema fails here, naming the constraint.

alter table public.profiles validate constraint profiles_preferences_matches_schema;

alter table public.meeting_analyses validate constraint meeting_analyses_insights_matches_schema;

alter table public.meeting_analyses validate constraint meeting_analyses_recommendations_matches_schema;

alter table public.meeting_analyses validate constraint meeting_analyses_sampling_matches_schema;

alter table public.modules validate constraint modules_content_matches_schema;

alter table public.modules validate constraint modules_scenario_template_matches_schema;

alter table public.practice_sessions validate constraint practice_sessions_metrics_matches_schema;

alter table public.practice_sessions validate constraint practice_sessions_scenario_matches_schema;

alter table public.session_feedback validate constraint session_feedback_feedback_matches_schema;

