-- 0034 (down): restore the type-only checks, drop the schema constraints, then their validator.
-- The restored checks are validated at once (a table scan under lock), because that is how 0002-0008 made
-- them and a down must give back exactly the catalog it started from; rollbacks are rare and deliberate.
-- squawk-ignore-file constraint-missing-not-valid

alter table public.profiles
  add constraint profiles_preferences_is_object
  check (jsonb_typeof(preferences) = 'object');

alter table public.meeting_analyses
  add constraint meeting_analyses_insights_is_object
  check (jsonb_typeof(insights) = 'object');

alter table public.meeting_analyses
  add constraint meeting_analyses_recommendations_is_array
  check (jsonb_typeof(recommendations) = 'array');

alter table public.meeting_analyses
  add constraint meeting_analyses_sampling_shape
  check (
    jsonb_typeof(sampling) = 'object'
    -- coalesce: a missing key gives null, which a check constraint would let through.
    and coalesce(jsonb_typeof(sampling -> 'strategy') = 'string', false)
    and coalesce(jsonb_typeof(sampling -> 'segments') = 'array', false)
  );

alter table public.modules
  add constraint modules_content_shape
  check (
    jsonb_typeof(content) = 'object' and coalesce(jsonb_typeof(content -> 'sections') = 'array', false)
  );

alter table public.modules
  add constraint modules_scenario_template_shape
  check (
    scenario_template is null
    or (jsonb_typeof(scenario_template) = 'object' and coalesce(jsonb_typeof(scenario_template -> 'prompt') = 'string', false))
  );

alter table public.practice_sessions
  add constraint practice_sessions_metrics_is_object
  check (jsonb_typeof(metrics) = 'object');

alter table public.practice_sessions
  add constraint practice_sessions_scenario_is_object
  check (jsonb_typeof(scenario) = 'object');

alter table public.session_feedback
  add constraint session_feedback_feedback_is_object
  check (jsonb_typeof(feedback) = 'object');

alter table public.profiles drop constraint profiles_preferences_matches_schema;

alter table public.meeting_analyses drop constraint meeting_analyses_insights_matches_schema;

alter table public.meeting_analyses drop constraint meeting_analyses_recommendations_matches_schema;

alter table public.meeting_analyses drop constraint meeting_analyses_sampling_matches_schema;

alter table public.modules drop constraint modules_content_matches_schema;

alter table public.modules drop constraint modules_scenario_template_matches_schema;

alter table public.practice_sessions drop constraint practice_sessions_metrics_matches_schema;

alter table public.practice_sessions drop constraint practice_sessions_scenario_matches_schema;

alter table public.session_feedback drop constraint session_feedback_feedback_matches_schema;

drop function private.jsonb_matches_schema(jsonb, jsonb);
