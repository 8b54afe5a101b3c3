-- 0035 (down): back to the not-valid constraints of 0034 (PostgreSQL has no "unvalidate": drop and re-add).

alter table public.profiles drop constraint profiles_preferences_matches_schema;

alter table public.profiles
  add constraint profiles_preferences_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"properties":{"locale":{"type":"string","pattern":"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"},"theme":{"type":"string","enum":["light","dark","system"]},"email_notifications":{"type":"boolean"},"weekly_digest":{"type":"boolean"},"coaching_focus":{"type":"array","items":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]},"uniqueItems":true,"maxItems":6},"practice_reminder_time":{"type":"string","pattern":"^([01][0-9]|2[0-3]):[0-5][0-9]$"},"share_anonymised_usage":{"type":"boolean"}}}'::jsonb, preferences)) not valid;

comment on constraint profiles_preferences_matches_schema on public.profiles is
  'The JSON Schema fixtures/schemas/profile-preferences.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.meeting_analyses drop constraint meeting_analyses_insights_matches_schema;

alter table public.meeting_analyses
  add constraint meeting_analyses_insights_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"properties":{"summary":{"type":"string","minLength":1,"maxLength":4000},"strengths":{"type":"array","items":{"type":"string","minLength":1,"maxLength":500}},"weaknesses":{"type":"array","items":{"type":"string","minLength":1,"maxLength":500}},"talk_ratio":{"type":"number","minimum":0,"maximum":1},"words_per_minute":{"type":"number","minimum":0},"filler_words":{"type":"object","additionalProperties":false,"required":["count"],"properties":{"count":{"type":"integer","minimum":0},"per_minute":{"type":"number","minimum":0},"top":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["word","count"],"properties":{"word":{"type":"string","minLength":1,"maxLength":40},"count":{"type":"integer","minimum":1}}}}}},"highlights":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["segment_index","note"],"properties":{"segment_index":{"type":"integer","minimum":0},"dimension":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]},"note":{"type":"string","minLength":1,"maxLength":500}}}}}}'::jsonb, insights)) not valid;

comment on constraint meeting_analyses_insights_matches_schema on public.meeting_analyses is
  'The JSON Schema fixtures/schemas/analysis-insights.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.meeting_analyses drop constraint meeting_analyses_recommendations_matches_schema;

alter table public.meeting_analyses
  add constraint meeting_analyses_recommendations_matches_schema
  check (private.jsonb_matches_schema('{"type":"array","maxItems":20,"items":{"type":"object","additionalProperties":false,"required":["dimension","title","priority"],"properties":{"dimension":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]},"title":{"type":"string","minLength":1,"maxLength":200},"detail":{"type":"string","maxLength":2000},"priority":{"type":"integer","minimum":1,"maximum":5},"module_slug":{"type":"string","pattern":"^[a-z0-9]+(-[a-z0-9]+)*$","maxLength":80}}}}'::jsonb, recommendations)) not valid;

comment on constraint meeting_analyses_recommendations_matches_schema on public.meeting_analyses is
  'The JSON Schema fixtures/schemas/analysis-recommendations.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.meeting_analyses drop constraint meeting_analyses_sampling_matches_schema;

alter table public.meeting_analyses
  add constraint meeting_analyses_sampling_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"required":["strategy","segments"],"properties":{"strategy":{"type":"string","enum":["full","uniform","salience","speaker_balanced"]},"budget_tokens":{"type":"integer","minimum":0},"estimated_full_tokens":{"type":"integer","minimum":0},"segments":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["index","reason"],"properties":{"index":{"type":"integer","minimum":0},"reason":{"type":"string","enum":["full","user_speaking","high_filler_density","long_monologue","question","decision_point","speaker_balance","uniform_fill"]}}}}}}'::jsonb, sampling)) not valid;

comment on constraint meeting_analyses_sampling_matches_schema on public.meeting_analyses is
  'The JSON Schema fixtures/schemas/analysis-sampling.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.modules drop constraint modules_content_matches_schema;

alter table public.modules
  add constraint modules_content_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"required":["sections"],"properties":{"objectives":{"type":"array","items":{"type":"string","minLength":1,"maxLength":300}},"sections":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["kind","heading","body"],"properties":{"kind":{"type":"string","enum":["lesson","example","exercise","tip"]},"heading":{"type":"string","minLength":1,"maxLength":200},"body":{"type":"string"}}}}}}'::jsonb, content)) not valid;

comment on constraint modules_content_matches_schema on public.modules is
  'The JSON Schema fixtures/schemas/module-content.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.modules drop constraint modules_scenario_template_matches_schema;

alter table public.modules
  add constraint modules_scenario_template_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"required":["prompt"],"properties":{"prompt":{"type":"string","minLength":1,"maxLength":4000},"ai_role":{"type":"string","maxLength":200},"time_limit_seconds":{"type":"integer","minimum":10,"maximum":3600},"variables":{"type":"object","additionalProperties":{"type":"object","additionalProperties":false,"required":["choices"],"properties":{"description":{"type":"string"},"choices":{"type":"array","minItems":1,"items":{"type":"string","minLength":1}}}}},"adaptive_rules":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["dimension","below_score","adjust"],"properties":{"dimension":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]},"below_score":{"type":"number","minimum":0,"maximum":100},"adjust":{"type":"string","minLength":1,"maxLength":500}}}}}}'::jsonb, scenario_template)) not valid;

comment on constraint modules_scenario_template_matches_schema on public.modules is
  'The JSON Schema fixtures/schemas/module-scenario-template.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.practice_sessions drop constraint practice_sessions_metrics_matches_schema;

alter table public.practice_sessions
  add constraint practice_sessions_metrics_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"properties":{"words_per_minute":{"type":"number","minimum":0},"filler_word_count":{"type":"integer","minimum":0},"filler_words_per_minute":{"type":"number","minimum":0},"pause_count":{"type":"integer","minimum":0},"longest_pause_ms":{"type":"integer","minimum":0},"talk_time_seconds":{"type":"number","minimum":0},"attempts":{"type":"integer","minimum":1}}}'::jsonb, metrics)) not valid;

comment on constraint practice_sessions_metrics_matches_schema on public.practice_sessions is
  'The JSON Schema fixtures/schemas/practice-metrics.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.practice_sessions drop constraint practice_sessions_scenario_matches_schema;

alter table public.practice_sessions
  add constraint practice_sessions_scenario_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"required":["prompt"],"properties":{"prompt":{"type":"string","minLength":1,"maxLength":4000},"ai_role":{"type":"string","maxLength":200},"variables":{"type":"object","additionalProperties":{"type":"string"}},"applied_rules":{"type":"array","items":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]}},"source":{"type":"string","enum":["template","meeting"]}}}'::jsonb, scenario)) not valid;

comment on constraint practice_sessions_scenario_matches_schema on public.practice_sessions is
  'The JSON Schema fixtures/schemas/practice-scenario.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

alter table public.session_feedback drop constraint session_feedback_feedback_matches_schema;

alter table public.session_feedback
  add constraint session_feedback_feedback_matches_schema
  check (private.jsonb_matches_schema('{"type":"object","additionalProperties":false,"properties":{"strengths":{"type":"array","items":{"type":"string","minLength":1,"maxLength":500}},"improvements":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["dimension","tip"],"properties":{"dimension":{"type":"string","enum":["clarity","confidence","conciseness","structure","pacing","filler_words"]},"tip":{"type":"string","minLength":1,"maxLength":500}}}},"highlights":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["at_ms","note"],"properties":{"at_ms":{"type":"integer","minimum":0},"note":{"type":"string","minLength":1,"maxLength":500}}}},"next_module_slug":{"type":"string","pattern":"^[a-z0-9]+(-[a-z0-9]+)*$","maxLength":80}}}'::jsonb, feedback)) not valid;

comment on constraint session_feedback_feedback_matches_schema on public.session_feedback is
  'The JSON Schema fixtures/schemas/session-feedback.schema.json (annotations removed), enforced by the database so a client that skips validation cannot store a payload the application and the generated types do not expect. tests/migrations/jsonb-schemas.test.ts fails when the file and this constraint differ.';

