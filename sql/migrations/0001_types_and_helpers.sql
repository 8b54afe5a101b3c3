-- 0001 types and helpers: the enums every later table uses, a non-exposed schema for internal functions,
-- and the one shared updated_at trigger function. gen_random_uuid() is core since PostgreSQL 13, so no
-- extension is needed.

-- Internal functions live outside `public` so PostgREST never exposes them as /rpc endpoints.
create schema private;

comment on schema private is
  'ShipSpeak internal helpers (trigger functions, validators). Not exposed through the API; API roles get no usage.';

revoke all on schema private from public;

create type public.app_role as enum ('member', 'admin');

comment on type public.app_role is
  'Application role of a user. Authorisation reads it from public.profiles (never from user_metadata). admin = may manage the module catalogue.';

create type public.subscription_tier as enum ('free', 'pro', 'enterprise');

comment on type public.subscription_tier is
  'Subscription tier; decides which modules a user may open and the usage quotas read from public.usage_metrics.';

create type public.meeting_status as enum ('uploaded', 'queued', 'transcribing', 'analysing', 'completed', 'failed');

comment on type public.meeting_status is
  'AI pipeline state of a meeting: uploaded -> queued -> transcribing -> analysing -> completed, or failed at any step.';

create type public.practice_status as enum ('in_progress', 'completed', 'abandoned');

comment on type public.practice_status is
  'State of a practice session: in_progress until the user finishes (completed) or leaves it (abandoned).';

create type public.learning_dimension as enum ('clarity', 'confidence', 'conciseness', 'structure', 'pacing', 'filler_words');

comment on type public.learning_dimension is
  'The speaking skills ShipSpeak scores and trains. Every user has one public.user_progress row per value. JSONB dimension_scores keys use the same labels.';

create type public.usage_metric_kind as enum (
  'meeting_uploaded',
  'minutes_transcribed',
  'analysis_tokens',
  'practice_session_started',
  'practice_session_completed'
);

comment on type public.usage_metric_kind is
  'What a usage event counts; the unit of quantity follows from it: meeting_uploaded = meetings, minutes_transcribed = minutes, analysis_tokens = LLM tokens, practice_session_* = sessions.';

create type public.module_difficulty as enum ('beginner', 'intermediate', 'advanced');

comment on type public.module_difficulty is
  'Difficulty of a learning module in the catalogue.';

-- One shared trigger function for every table with an updated_at column.
create function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end;
$$;

comment on function private.set_updated_at() is
  'BEFORE UPDATE trigger: sets updated_at to the transaction time so clients cannot forge it.';

revoke all on function private.set_updated_at() from public;
