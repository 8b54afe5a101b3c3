-- 0008 practice sessions and feedback: a user's practice of a module and the AI feedback on it.

create table public.practice_sessions (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  module_id uuid not null,
  source_meeting_id uuid,
  status public.practice_status not null default 'in_progress',
  started_at timestamptz not null default now(),
  completed_at timestamptz,
  duration_seconds integer,
  overall_score numeric(5, 2),
  metrics jsonb not null default '{}'::jsonb,
  scenario jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint practice_sessions_pkey primary key (id),
  -- Target of session_feedback's composite foreign key.
  constraint practice_sessions_id_user_id_key unique (id, user_id),
  constraint practice_sessions_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  -- restrict: a user's practice history must never vanish because the catalogue changed; modules are
  -- retired by unpublishing them instead.
  constraint practice_sessions_module_id_fkey foreign key (module_id) references public.modules (id) on delete restrict,
  -- Composite: a session can only be built from the user's own meeting. Deleting the meeting keeps the
  -- session and clears just source_meeting_id (column list: PostgreSQL 15+).
  constraint practice_sessions_source_meeting_fkey foreign key (source_meeting_id, user_id)
    references public.meetings (id, user_id) on delete set null (source_meeting_id),
  constraint practice_sessions_completed_after_start check (completed_at >= started_at),
  constraint practice_sessions_completed_at_matches_status check (
    (status = 'completed' and completed_at is not null)
    or (status = 'in_progress' and completed_at is null)
    or status = 'abandoned'
  ),
  constraint practice_sessions_duration_seconds_non_negative check (duration_seconds >= 0),
  constraint practice_sessions_overall_score_range check (overall_score between 0 and 100),
  constraint practice_sessions_score_only_when_completed check (overall_score is null or status = 'completed'),
  constraint practice_sessions_metrics_is_object check (jsonb_typeof(metrics) = 'object'),
  constraint practice_sessions_scenario_is_object check (jsonb_typeof(scenario) = 'object')
);

alter table public.practice_sessions enable row level security;

comment on table public.practice_sessions is
  'A user''s practice of a learning module (optionally built from one of their meetings): status, timings, score, speech metrics and the concrete scenario used.';

comment on column public.practice_sessions.module_id is
  'Module practised; modules referenced by sessions cannot be deleted (on delete restrict).';

comment on column public.practice_sessions.source_meeting_id is
  'Meeting of the same user the practice was generated from (composite foreign key); null if none or if that meeting was deleted.';

comment on column public.practice_sessions.completed_at is
  'When the session ended: required when completed, null while in progress, optional when abandoned; never before started_at.';

comment on column public.practice_sessions.duration_seconds is
  'Active speaking/practice time in seconds (may be less than completed_at - started_at).';

comment on column public.practice_sessions.overall_score is
  'Overall score 0-100 of a completed session; null until completed.';

comment on column public.practice_sessions.metrics is
  'Measured speech metrics (words per minute, filler words, pauses, talk time); see fixtures/schemas/practice-metrics.schema.json.';

comment on column public.practice_sessions.scenario is
  'Concrete scenario instantiated from the module''s scenario_template (adapted to the user); see fixtures/schemas/practice-scenario.schema.json. Null for modules without scenarios.';

-- "My sessions, newest first"; leading user_id also serves the foreign key and owner policies.
create index practice_sessions_user_id_started_at_idx
  on public.practice_sessions (user_id, started_at desc);

create index practice_sessions_module_id_idx
  on public.practice_sessions (module_id);

create index practice_sessions_source_meeting_id_user_id_idx
  on public.practice_sessions (source_meeting_id, user_id);

create trigger set_updated_at
  before update on public.practice_sessions
  for each row
  execute function private.set_updated_at();

create table public.session_feedback (
  id uuid not null default gen_random_uuid(),
  session_id uuid not null,
  user_id uuid not null,
  summary text not null,
  feedback jsonb not null default '{}'::jsonb,
  overall_score numeric(5, 2),
  dimension_scores jsonb not null default '{}'::jsonb,
  improvement_delta numeric(5, 2),
  model text not null,
  created_at timestamptz not null default now(),
  constraint session_feedback_pkey primary key (id),
  -- session_id alone determines user_id (through the foreign key), so this is "one feedback per session";
  -- including user_id lets the same index serve the composite foreign key.
  constraint session_feedback_session_id_user_id_key unique (session_id, user_id),
  constraint session_feedback_session_fkey foreign key (session_id, user_id)
    references public.practice_sessions (id, user_id) on delete cascade,
  constraint session_feedback_summary_length check (char_length(btrim(summary)) between 1 and 4000),
  constraint session_feedback_feedback_is_object check (jsonb_typeof(feedback) = 'object'),
  constraint session_feedback_overall_score_range check (overall_score between 0 and 100),
  constraint session_feedback_dimension_scores_valid check (private.is_valid_dimension_scores(dimension_scores)),
  constraint session_feedback_improvement_delta_range check (improvement_delta between -100 and 100),
  constraint session_feedback_model_length check (char_length(model) between 1 and 100)
);

alter table public.session_feedback enable row level security;

comment on table public.session_feedback is
  'AI feedback on a practice session (at most one per session) and the improvement it shows over earlier sessions.';

comment on column public.session_feedback.user_id is
  'Owner; always equals the session''s user_id (composite foreign key), so policies need no join.';

comment on column public.session_feedback.summary is
  'Short plain-language feedback shown to the user.';

comment on column public.session_feedback.feedback is
  'Structured feedback (strengths, improvements, highlighted moments); see fixtures/schemas/session-feedback.schema.json.';

comment on column public.session_feedback.overall_score is
  'Overall score 0-100 the feedback model gave the session.';

comment on column public.session_feedback.dimension_scores is
  'Scores 0-100 keyed by learning_dimension label; see fixtures/schemas/dimension-scores.schema.json.';

comment on column public.session_feedback.improvement_delta is
  'Improvement tracking: overall_score minus the user''s previous completed session of the same module (-100..100); null for a first attempt.';

comment on column public.session_feedback.model is
  'LLM model identifier that produced the feedback.';

create index session_feedback_user_id_created_at_idx
  on public.session_feedback (user_id, created_at desc);
