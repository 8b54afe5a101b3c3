-- 0011 API privileges: what the API roles may do at all, before any policy is consulted.
--
-- Supabase's default privileges grant ALL on every public table to anon, authenticated and service_role.
-- RLS governs only SELECT/INSERT/UPDATE/DELETE rows; it does not govern TRUNCATE (which empties a table
-- past every policy), REFERENCES or TRIGGER, nor which columns an UPDATE may touch. So:
--   * anon holds no privilege on any ShipSpeak table: nothing is public (no anonymous catalogue either:
--     module content is the product, and signed-out visitors see a marketing site, not the database);
--   * authenticated loses TRUNCATE, REFERENCES and TRIGGER everywhere (and MAINTAIN on PostgreSQL 17+);
--   * authenticated keeps only the verbs its policies allow, and on profiles, usage_metrics, meetings and
--     practice_sessions only the columns a user may write (column privileges): role, tier, owner ids,
--     pipeline status and timestamps are never user-writable, whatever a policy says;
--   * service_role (the backend: AI pipeline, billing, erasure) keeps everything and bypasses RLS.
-- A denied privilege fails loudly with SQLSTATE 42501 ("permission denied for table ..."), which is what
-- the expected-outcome matrix (tests/rls/matrix.json) calls "denied".

revoke all on table public.profiles from anon;

revoke all on table public.user_progress from anon;

revoke all on table public.usage_metrics from anon;

revoke all on table public.meetings from anon;

revoke all on table public.meeting_transcripts from anon;

revoke all on table public.meeting_analyses from anon;

revoke all on table public.modules from anon;

revoke all on table public.practice_sessions from anon;

revoke all on table public.session_feedback from anon;

revoke truncate, references, trigger on table public.profiles from authenticated;

revoke truncate, references, trigger on table public.user_progress from authenticated;

revoke truncate, references, trigger on table public.usage_metrics from authenticated;

revoke truncate, references, trigger on table public.meetings from authenticated;

revoke truncate, references, trigger on table public.meeting_transcripts from authenticated;

revoke truncate, references, trigger on table public.meeting_analyses from authenticated;

revoke truncate, references, trigger on table public.modules from authenticated;

revoke truncate, references, trigger on table public.practice_sessions from authenticated;

revoke truncate, references, trigger on table public.session_feedback from authenticated;

-- MAINTAIN (VACUUM, ANALYZE, REINDEX, LOCK TABLE ...) exists from PostgreSQL 17 on and is part of ALL there.
do $$
declare
  t text;
begin
  if pg_catalog.current_setting('server_version_num')::integer >= 170000 then
    foreach t in array array['profiles', 'user_progress', 'usage_metrics', 'meetings', 'meeting_transcripts',
                             'meeting_analyses', 'modules', 'practice_sessions', 'session_feedback'] loop
      execute pg_catalog.format('revoke maintain on table public.%I from authenticated', t);
    end loop;
  end if;
end
$$;

-- profiles: created by the signup trigger, deleted with the auth user (erasure deletes auth.users and the
-- cascade removes the profile; a user deleting only the profile would leave a half account). Users
-- update display fields only; role, tier, id and timestamps stay with the service role.
revoke insert, update, delete on table public.profiles from authenticated;

grant update (display_name, avatar_url, preferences, timezone, onboarded_at) on table public.profiles to authenticated;

-- user_progress: derived by the scoring pipeline (service role); users read it.
revoke insert, update, delete on table public.user_progress from authenticated;

-- usage_metrics: append-only for users, and they cannot backdate an event (occurred_at defaults to now()).
revoke insert, update, delete on table public.usage_metrics from authenticated;

grant insert (user_id, kind, quantity) on table public.usage_metrics to authenticated;

-- meetings: users create (upload) and rename their meetings; status, failure_reason, duration and the
-- storage path belong to the pipeline (service role).
revoke insert, update on table public.meetings from authenticated;

grant insert (id, user_id, title, started_at, storage_object_path, platform, participant_count) on table public.meetings to authenticated;

grant update (title, started_at, platform, participant_count) on table public.meetings to authenticated;

-- Transcripts and analyses are pipeline output (service role). Users cannot forge them: an analysis carries
-- billed token counts and cost, and both feed the user's scores. Users remove them by deleting the meeting.
revoke insert, update, delete on table public.meeting_transcripts from authenticated;

revoke insert, update, delete on table public.meeting_analyses from authenticated;

-- practice_sessions: users start sessions and record their progress; the score comes from the feedback
-- pipeline (service role), the module and source meeting are fixed at start.
revoke insert, update on table public.practice_sessions from authenticated;

grant insert (id, user_id, module_id, source_meeting_id, scenario) on table public.practice_sessions to authenticated;

grant update (status, completed_at, duration_seconds, metrics) on table public.practice_sessions to authenticated;

-- session_feedback is AI output (service role); users read it and lose it with the session.
revoke insert, update, delete on table public.session_feedback from authenticated;
