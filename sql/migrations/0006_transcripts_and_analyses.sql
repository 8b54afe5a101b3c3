-- 0006 transcripts and analyses: the AI pipeline's output for a meeting. Both tables carry the meeting
-- owner's user_id, pinned to the meeting by a composite foreign key, so policies never need a join.

-- Check-constraint validators. Immutable and pure (their only input is the value); kept executable by
-- everyone because constraint expressions are permission-checked as the inserting role.
create function private.is_valid_transcript_segments(segments jsonb)
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select pg_catalog.jsonb_typeof(segments) = 'array'
    and coalesce((
      select pg_catalog.bool_and(
        case
          when pg_catalog.jsonb_typeof(s.seg) <> 'object' then false
          when pg_catalog.jsonb_typeof(s.seg -> 'speaker') is distinct from 'string' then false
          when pg_catalog.jsonb_typeof(s.seg -> 'text') is distinct from 'string' then false
          when pg_catalog.jsonb_typeof(s.seg -> 'start_ms') is distinct from 'number' then false
          when pg_catalog.jsonb_typeof(s.seg -> 'end_ms') is distinct from 'number' then false
          else pg_catalog.char_length(s.seg ->> 'speaker') between 1 and 100
            and (s.seg -> 'start_ms')::numeric >= 0
            and (s.seg -> 'start_ms')::numeric = pg_catalog.trunc((s.seg -> 'start_ms')::numeric)
            and (s.seg -> 'end_ms')::numeric >= (s.seg -> 'start_ms')::numeric
            and (s.seg -> 'end_ms')::numeric = pg_catalog.trunc((s.seg -> 'end_ms')::numeric)
        end)
      from pg_catalog.jsonb_array_elements(
        case when pg_catalog.jsonb_typeof(segments) = 'array' then segments else '[]'::jsonb end
      ) as s (seg)
    ), true)
$$;

comment on function private.is_valid_transcript_segments(jsonb) is
  'Check-constraint validator: a JSON array of {speaker: non-empty string (<= 100 chars), start_ms: integer >= 0, end_ms: integer >= start_ms, text: string}; extra keys allowed. Mirrors fixtures/schemas/transcript-segments.schema.json.';

create function private.is_valid_dimension_scores(scores jsonb)
returns boolean
language sql
immutable
parallel safe
set search_path = ''
as $$
  select pg_catalog.jsonb_typeof(scores) = 'object'
    and coalesce((
      select pg_catalog.bool_and(
        e.key = any (pg_catalog.enum_range(null::public.learning_dimension)::text[])
        and case
          when pg_catalog.jsonb_typeof(e.value) = 'number' then e.value::numeric between 0 and 100
          else false
        end)
      from pg_catalog.jsonb_each(
        case when pg_catalog.jsonb_typeof(scores) = 'object' then scores else '{}'::jsonb end
      ) as e (key, value)
    ), true)
$$;

comment on function private.is_valid_dimension_scores(jsonb) is
  'Check-constraint validator: a JSON object whose keys are learning_dimension labels and whose values are numbers 0-100 (dimensions may be missing). Mirrors fixtures/schemas/dimension-scores.schema.json. Adding an enum label only widens what it accepts.';

create table public.meeting_transcripts (
  id uuid not null default gen_random_uuid(),
  meeting_id uuid not null,
  user_id uuid not null,
  language text not null,
  segments jsonb not null default '[]'::jsonb,
  speaker_count integer not null default 0,
  word_count integer not null default 0,
  created_at timestamptz not null default now(),
  constraint meeting_transcripts_pkey primary key (id),
  -- meeting_id alone determines user_id (through the foreign key), so this is "one transcript per meeting";
  -- including user_id lets the same index serve the composite foreign key.
  constraint meeting_transcripts_meeting_id_user_id_key unique (meeting_id, user_id),
  -- Target of meeting_analyses' foreign key, which pins an analysis to a transcript of the same meeting.
  constraint meeting_transcripts_id_meeting_id_key unique (id, meeting_id),
  constraint meeting_transcripts_meeting_fkey foreign key (meeting_id, user_id)
    references public.meetings (id, user_id) on delete cascade,
  constraint meeting_transcripts_language_bcp47 check (language ~ '^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$'),
  constraint meeting_transcripts_segments_valid check (private.is_valid_transcript_segments(segments)),
  constraint meeting_transcripts_speaker_count_non_negative check (speaker_count >= 0),
  constraint meeting_transcripts_word_count_non_negative check (word_count >= 0)
);

alter table public.meeting_transcripts enable row level security;

comment on table public.meeting_transcripts is
  'Processed transcript of a meeting (at most one per meeting) with speaker-identified segments.';

comment on column public.meeting_transcripts.user_id is
  'Owner; always equals the meeting''s user_id (composite foreign key), so policies need no join.';

comment on column public.meeting_transcripts.language is
  'Spoken language as a BCP 47 tag (language[-Script][-REGION], e.g. en, en-GB, pt-BR, zh-Hant-TW).';

comment on column public.meeting_transcripts.segments is
  'JSON array of {speaker, start_ms, end_ms, text} in time order; see fixtures/schemas/transcript-segments.schema.json.';

comment on column public.meeting_transcripts.speaker_count is
  'Number of distinct speakers identified by diarisation.';

comment on column public.meeting_transcripts.word_count is
  'Total words in the transcript (for pacing metrics and usage accounting).';

create index meeting_transcripts_user_id_idx
  on public.meeting_transcripts (user_id);

create table public.meeting_analyses (
  id uuid not null default gen_random_uuid(),
  meeting_id uuid not null,
  user_id uuid not null,
  transcript_id uuid,
  model text not null,
  prompt_version text not null,
  input_tokens integer not null default 0,
  output_tokens integer not null default 0,
  cost_usd numeric(12, 6) not null default 0,
  insights jsonb not null default '{}'::jsonb,
  recommendations jsonb not null default '[]'::jsonb,
  sampling jsonb not null,
  sampled_segment_count integer not null,
  total_segment_count integer not null,
  overall_score numeric(5, 2),
  dimension_scores jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint meeting_analyses_pkey primary key (id),
  constraint meeting_analyses_meeting_fkey foreign key (meeting_id, user_id)
    references public.meetings (id, user_id) on delete cascade,
  -- Composite: the transcript must belong to the same meeting (hence the same owner).
  constraint meeting_analyses_transcript_fkey foreign key (transcript_id, meeting_id)
    references public.meeting_transcripts (id, meeting_id) on delete cascade,
  constraint meeting_analyses_model_length check (char_length(model) between 1 and 100),
  constraint meeting_analyses_prompt_version_length check (char_length(prompt_version) between 1 and 50),
  constraint meeting_analyses_input_tokens_non_negative check (input_tokens >= 0),
  constraint meeting_analyses_output_tokens_non_negative check (output_tokens >= 0),
  constraint meeting_analyses_cost_usd_non_negative check (cost_usd >= 0),
  constraint meeting_analyses_insights_is_object check (jsonb_typeof(insights) = 'object'),
  constraint meeting_analyses_recommendations_is_array check (jsonb_typeof(recommendations) = 'array'),
  constraint meeting_analyses_sampling_shape check (
    jsonb_typeof(sampling) = 'object'
    -- coalesce: a missing key gives null, which a check constraint would let through.
    and coalesce(jsonb_typeof(sampling -> 'strategy') = 'string', false)
    and coalesce(jsonb_typeof(sampling -> 'segments') = 'array', false)
  ),
  constraint meeting_analyses_sampled_count_matches check (
    case
      when jsonb_typeof(sampling -> 'segments') = 'array' then jsonb_array_length(sampling -> 'segments') = sampled_segment_count
      else false
    end
  ),
  constraint meeting_analyses_segment_counts check (sampled_segment_count >= 0 and sampled_segment_count <= total_segment_count),
  constraint meeting_analyses_overall_score_range check (overall_score between 0 and 100),
  constraint meeting_analyses_dimension_scores_valid check (private.is_valid_dimension_scores(dimension_scores))
);

alter table public.meeting_analyses enable row level security;

comment on table public.meeting_analyses is
  'AI analysis of a meeting: insights, coaching recommendations, scores, and the cost/sampling data of the LLM run (a meeting may be re-analysed, e.g. with a newer prompt).';

comment on column public.meeting_analyses.user_id is
  'Owner; always equals the meeting''s user_id (composite foreign key), so policies need no join.';

comment on column public.meeting_analyses.transcript_id is
  'Transcript the analysis was computed from (must belong to the same meeting); null if analysed from another source.';

comment on column public.meeting_analyses.model is
  'LLM model identifier used for the analysis (e.g. provider/model-version).';

comment on column public.meeting_analyses.prompt_version is
  'Version of the analysis prompt, so results of different prompts can be told apart and compared.';

comment on column public.meeting_analyses.input_tokens is
  'LLM input (prompt) tokens billed for this analysis.';

comment on column public.meeting_analyses.output_tokens is
  'LLM output (completion) tokens billed for this analysis.';

comment on column public.meeting_analyses.cost_usd is
  'Cost of the LLM run in US dollars (6 decimal places).';

comment on column public.meeting_analyses.insights is
  'JSON object of findings (summary, strengths, talk ratio, pace, filler words, highlights); see fixtures/schemas/analysis-insights.schema.json.';

comment on column public.meeting_analyses.recommendations is
  'JSON array of coaching recommendations (dimension, title, detail, priority, suggested module); see fixtures/schemas/analysis-recommendations.schema.json.';

comment on column public.meeting_analyses.sampling is
  'Smart-sampling record for cost optimisation: strategy, token budget and which transcript segments were sent to the model and why; see fixtures/schemas/analysis-sampling.schema.json.';

comment on column public.meeting_analyses.sampled_segment_count is
  'Number of transcript segments sent to the model; equals the length of sampling.segments.';

comment on column public.meeting_analyses.total_segment_count is
  'Number of segments in the transcript; sampled / total is the sampling ratio.';

comment on column public.meeting_analyses.overall_score is
  'Overall speaking score for the meeting, 0-100; null if the model gave none.';

comment on column public.meeting_analyses.dimension_scores is
  'Scores 0-100 keyed by learning_dimension label; see fixtures/schemas/dimension-scores.schema.json.';

create index meeting_analyses_meeting_id_user_id_idx
  on public.meeting_analyses (meeting_id, user_id);

create index meeting_analyses_transcript_id_meeting_id_idx
  on public.meeting_analyses (transcript_id, meeting_id);

create index meeting_analyses_user_id_created_at_idx
  on public.meeting_analyses (user_id, created_at desc);
