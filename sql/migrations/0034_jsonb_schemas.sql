-- 0034 jsonb schemas: the database enforces each JSONB column's JSON Schema (fixtures/schemas), not just
-- "is an object". A client that skips validation (or a bug in one) can no longer store a payload the app,
-- the AI pipeline and the generated TypeScript types do not expect. Constraints are added not valid so the
-- lock is brief; 0035 validates the existing rows in its own transaction.
-- meeting_transcripts.segments and the dimension_scores columns keep their exact validators from 0006.

create function private.jsonb_matches_schema(schema jsonb, instance jsonb)
returns boolean
language plpgsql
immutable
parallel safe
set search_path = ''
as $$
declare
  -- A work list instead of recursion: a recursive call would look the function up by name at run time, which
  -- needs usage on schema private — a right the API roles whose writes this constraint checks must not have.
  pending_schemas jsonb[] := array[schema];
  pending_values jsonb[] := array[instance];
  n int;
  s jsonb;
  v jsonb;
  kind text;
  types jsonb;
  keyword text;
  prop record;
  element jsonb;
  extra jsonb;
begin
  while pg_catalog.cardinality(pending_schemas) > 0 loop
    n := pg_catalog.cardinality(pending_schemas);
    s := pending_schemas[n];
    v := pending_values[n];
    pending_schemas := pending_schemas[1:n - 1];
    pending_values := pending_values[1:n - 1];
    -- SQL null (only ever the whole value): the column's nullability decides, as for any check constraint.
    continue when v is null;
    kind := pg_catalog.jsonb_typeof(v);
    types := s -> 'type';
    extra := s -> 'additionalProperties';
    -- An unknown keyword fails loudly rather than being ignored (the same rule the tests' Ajv has).
    for keyword in select k from pg_catalog.jsonb_object_keys(s) as k loop
      if keyword not in ('type', 'enum', 'properties', 'required', 'additionalProperties', 'items', 'minItems',
        'maxItems', 'uniqueItems', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'description',
        'title') then
        raise exception 'jsonb_matches_schema: unsupported JSON Schema keyword "%"', keyword;
      end if;
    end loop;
    if types is not null then
      if pg_catalog.jsonb_typeof(types) = 'string' then
        types := pg_catalog.jsonb_build_array(types);
      end if;
      if not (types ? kind
        or (kind = 'number' and types ? 'integer' and v::numeric = pg_catalog.trunc(v::numeric))) then
        return false;
      end if;
    end if;
    if s ? 'enum' and not exists (
      select from pg_catalog.jsonb_array_elements(s -> 'enum') as e (x) where e.x = v
    ) then
      return false;
    end if;
    if kind = 'number' then
      if (s ? 'minimum' and v::numeric < (s ->> 'minimum')::numeric)
        or (s ? 'maximum' and v::numeric > (s ->> 'maximum')::numeric) then
        return false;
      end if;
    elsif kind = 'string' then
      if (s ? 'minLength' and pg_catalog.char_length(v #>> '{}') < (s ->> 'minLength')::int)
        or (s ? 'maxLength' and pg_catalog.char_length(v #>> '{}') > (s ->> 'maxLength')::int)
        or (s ? 'pattern' and (v #>> '{}') !~ (s ->> 'pattern')) then
        return false;
      end if;
    elsif kind = 'array' then
      if (s ? 'minItems' and pg_catalog.jsonb_array_length(v) < (s ->> 'minItems')::int)
        or (s ? 'maxItems' and pg_catalog.jsonb_array_length(v) > (s ->> 'maxItems')::int) then
        return false;
      end if;
      if coalesce((s -> 'uniqueItems')::boolean, false) and (
        select pg_catalog.count(distinct e.x) <> pg_catalog.count(*) from pg_catalog.jsonb_array_elements(v) as e (x)
      ) then
        return false;
      end if;
      if s ? 'items' then
        for element in select e.x from pg_catalog.jsonb_array_elements(v) as e (x) loop
          pending_schemas := pg_catalog.array_append(pending_schemas, s -> 'items');
          pending_values := pg_catalog.array_append(pending_values, element);
        end loop;
      end if;
    elsif kind = 'object' then
      if s ? 'required' and exists (
        select from pg_catalog.jsonb_array_elements_text(s -> 'required') as r (k) where not v ? r.k
      ) then
        return false;
      end if;
      for prop in select e.key, e.value from pg_catalog.jsonb_each(v) as e loop
        if s -> 'properties' ? prop.key then
          pending_schemas := pg_catalog.array_append(pending_schemas, s -> 'properties' -> prop.key);
          pending_values := pg_catalog.array_append(pending_values, prop.value);
        elsif extra = 'false'::jsonb then
          return false;
        elsif pg_catalog.jsonb_typeof(extra) = 'object' then
          pending_schemas := pg_catalog.array_append(pending_schemas, extra);
          pending_values := pg_catalog.array_append(pending_values, prop.value);
        end if;
      end loop;
    end if;
  end loop;
  return true;
end
$$;

comment on function private.jsonb_matches_schema(jsonb, jsonb) is
  'Check-constraint validator: true when instance satisfies the draft-07 JSON Schema subset our fixtures/schemas use (type incl. integer and type lists, enum, properties, required, additionalProperties false or a schema, items, minItems, maxItems, uniqueItems, minLength, maxLength, pattern as a PostgreSQL regex, minimum, maximum); an unknown keyword raises. SQL null is true (nullability is the column''s job). Same argument order as Supabase''s pg_jsonschema jsonb_matches_schema, so a project with that extension can switch.';

alter table public.profiles
  add constraint profiles_preferences_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"properties":{"locale":{"type":"string","pattern":"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"},"theme":{"type":"string","enum":["light","dark","system"]},"email_notifications":{"type":"boolean"},"weekly_digest":{"type":"boolean"},"coaching_focus":{"type":"array","items":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]},"uniqueItems":true,"maxItems":6},"practice_reminder_time":{"type":"string","pattern":"^([01][0-9]|2[0-3]):[0-5][0-9]$"},"share_anonymised_usage":{"type":"boolean"}}}'::jsonb, preferences)) not valid;

comment on constraint profiles_preferences_matches_schema on public.profiles is
  'The JSON Schema fixtures/schemas/profile-preferences.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.meeting_analyses
  add constraint meeting_analyses_insights_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"properties":{"summary":{"type":"string","minLength":1,"maxLength":4000},"strengths":{"type":"array","items":{"type":"string","minLength":1,"maxLength":500}},"weaknesses":{"type":"array","items":{"type":"string","minLength":1,"maxLength":500}},"talk_ratio":{"type":"number","minimum":0,"maximum":1},"words_per_minute":{"type":"number","minimum":0},"filler_words":{"type":"object","additionalProperties":false,"required":["count"],"properties":{"count":{"type":"integer","minimum":0},"per_minute":{"type":"number","minimum":0},"top":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["word","count"],"properties":{"word":{"type":"string","minLength":1,"maxLength":40},"count":{"type":"integer","minimum":1}}}}}},"highlights":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["segment_index","note"],"properties":{"segment_index":{"type":"integer","minimum":0},"dimension":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]},"note":{"type":"string","minLength":1,"maxLength":500}}}}}}'::jsonb, insights)) not valid;

comment on constraint meeting_analyses_insights_matches_schema on public.meeting_analyses is
  'The JSON Schema fixtures/schemas/analysis-insights.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.meeting_analyses
  add constraint meeting_analyses_recommendations_matches_schema
  check (private.jsonb_matches_schema('{"type":"array","maxItems":20,"items":{"type":"object","additionalProperties":false,"required":["dimension","title","priority"],"properties":{"dimension":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]},"title":{"type":"string","minLength":1,"maxLength":200},"detail":{"type":"string","maxLength":2000},"priority":{"type":"integer","minimum":1,"maximum":5},"module_slug":{"type":"string","pattern":"^[a-z0-9]+(-[a-z0-9]+)*$","maxLength":80}}}}'::jsonb, recommendations)) not valid;

comment on constraint meeting_analyses_recommendations_matches_schema on public.meeting_analyses is
  'The JSON Schema fixtures/schemas/analysis-recommendations.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.meeting_analyses
  add constraint meeting_analyses_sampling_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"required":["strategy","segments"],"properties":{"strategy":{"type":"string","enum":["full","uniform","salience","speaker_balanced"]},"budget_tokens":{"type":"integer","minimum":0},"estimated_full_tokens":{"type":"integer","minimum":0},"segments":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["index","reason"],"properties":{"index":{"type":"integer","minimum":0},"reason":{"type":"string","enum":["full","user_speaking","high_filler_density","long_monologue","question","decision_point","speaker_balance","uniform_fill"]}}}}}}'::jsonb, sampling)) not valid;

comment on constraint meeting_analyses_sampling_matches_schema on public.meeting_analyses is
  'The JSON Schema fixtures/schemas/analysis-sampling.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.modules
  add constraint modules_content_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"required":["sections"],"properties":{"objectives":{"type":"array","items":{"type":"string","minLength":1,"maxLength":300}},"sections":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["kind","heading","body"],"properties":{"kind":{"type":"string","enum":["lesson","example","exercise","tip"]},"heading":{"type":"string","minLength":1,"maxLength":200},"body":{"type":"string"}}}}}}'::jsonb, content)) not valid;

comment on constraint modules_content_matches_schema on public.modules is
  'The JSON Schema fixtures/schemas/module-content.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.modules
  add constraint modules_scenario_template_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"required":["prompt"],"properties":{"prompt":{"type":"string","minLength":1,"maxLength":4000},"ai_role":{"type":"string","maxLength":200},"time_limit_seconds":{"type":"integer","minimum":10,"maximum":3600},"variables":{"type":"object","additionalProperties":{"type":"object","additionalProperties":false,"required":["choices"],"properties":{"description":{"type":"string"},"choices":{"type":"array","minItems":1,"items":{"type":"string","minLength":1}}}}},"adaptive_rules":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["dimension","below_score","adjust"],"properties":{"dimension":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]},"below_score":{"type":"number","minimum":0,"maximum":100},"adjust":{"type":"string","minLength":1,"maxLength":500}}}}}}'::jsonb, scenario_template)) not valid;

comment on constraint modules_scenario_template_matches_schema on public.modules is
  'The JSON Schema fixtures/schemas/module-scenario-template.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.practice_sessions
  add constraint practice_sessions_metrics_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"properties":{"words_per_minute":{"type":"number","minimum":0},"filler_word_count":{"type":"integer","minimum":0},"filler_words_per_minute":{"type":"number","minimum":0},"pause_count":{"type":"integer","minimum":0},"longest_pause_ms":{"type":"integer","minimum":0},"talk_time_seconds":{"type":"number","minimum":0},"attempts":{"type":"integer","minimum":1}}}'::jsonb, metrics)) not valid;

comment on constraint practice_sessions_metrics_matches_schema on public.practice_sessions is
  'The JSON Schema fixtures/schemas/practice-metrics.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.practice_sessions
  add constraint practice_sessions_scenario_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"required":["prompt"],"properties":{"prompt":{"type":"string","minLength":1,"maxLength":4000},"ai_role":{"type":"string","maxLength":200},"variables":{"type":"object","additionalProperties":{"type":"string"}},"applied_rules":{"type":"array","items":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]}},"source":{"type":"string","enum":["template","meeting"]}}}'::jsonb, scenario)) not valid;

comment on constraint practice_sessions_scenario_matches_schema on public.practice_sessions is
  'The JSON Schema fixtures/schemas/practice-scenario.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.session_feedback
  add constraint session_feedback_feedback_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"properties":{"strengths":{"type":"array","items":{"type":"string","minLength":1,"maxLength":500}},"improvements":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["dimension","tip"],"properties":{"dimension":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]},"tip":{"type":"string","minLength":1,"maxLength":500}}}},"highlights":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["at_ms","note"],"properties":{"at_ms":{"type":"integer","minimum":0},"note":{"type":"string","minLength":1,"maxLength":500}}}},"next_module_slug":{"type":"string","pattern":"^[a-z0-9]+(-[a-z0-9]+)*$","maxLength":80}}}'::jsonb, feedback)) not valid;

comment on constraint session_feedback_feedback_matches_schema on public.session_feedback is
  'The JSON Schema fixtures/schemas/session-feedback.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

-- The type-only checks of 0002/0006/0007/0008 say less than the schema constraints above, which now decide
-- first and alone: one rule per column, the schema file's.

alter table public.profiles drop constraint profiles_preferences_is_object;

alter table public.meeting_analyses drop constraint meeting_analyses_insights_is_object;

alter table public.meeting_analyses drop constraint meeting_analyses_recommendations_is_array;

alter table public.meeting_analyses drop constraint meeting_analyses_sampling_shape;

alter table public.modules drop constraint modules_content_shape;

alter table public.modules drop constraint modules_scenario_template_shape;

alter table public.practice_sessions drop constraint practice_sessions_metrics_is_object;

alter table public.practice_sessions drop constraint practice_sessions_scenario_is_object;

alter table public.session_feedback drop constraint session_feedback_feedback_is_object;
