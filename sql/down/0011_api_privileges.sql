-- Inverse of 0011_api_privileges: back to Supabase's default "ALL to every API role".

grant insert, update, delete on table public.session_feedback to authenticated;

revoke update (status, completed_at, duration_seconds, metrics) on table public.practice_sessions from authenticated;

revoke insert (id, user_id, module_id, source_meeting_id, scenario) on table public.practice_sessions from authenticated;

grant insert, update on table public.practice_sessions to authenticated;

grant insert, update, delete on table public.meeting_analyses to authenticated;

grant insert, update, delete on table public.meeting_transcripts to authenticated;

revoke update (title, started_at, platform, participant_count) on table public.meetings from authenticated;

revoke insert (id, user_id, title, started_at, storage_object_path, platform, participant_count) on table public.meetings from authenticated;

grant insert, update on table public.meetings to authenticated;

revoke insert (user_id, kind, quantity) on table public.usage_metrics from authenticated;

grant insert, update, delete on table public.usage_metrics to authenticated;

grant insert, update, delete on table public.user_progress to authenticated;

revoke update (display_name, avatar_url, preferences, timezone, onboarded_at) on table public.profiles from authenticated;

grant insert, update, delete on table public.profiles to authenticated;

do $$
declare
  t text;
begin
  if pg_catalog.current_setting('server_version_num')::integer >= 170000 then
    foreach t in array array['profiles', 'user_progress', 'usage_metrics', 'meetings', 'meeting_transcripts',
                             'meeting_analyses', 'modules', 'practice_sessions', 'session_feedback'] loop
      execute pg_catalog.format('grant maintain on table public.%I to authenticated', t);
    end loop;
  end if;
end
$$;

grant truncate, references, trigger on table public.session_feedback to authenticated;

grant truncate, references, trigger on table public.practice_sessions to authenticated;

grant truncate, references, trigger on table public.modules to authenticated;

grant truncate, references, trigger on table public.meeting_analyses to authenticated;

grant truncate, references, trigger on table public.meeting_transcripts to authenticated;

grant truncate, references, trigger on table public.meetings to authenticated;

grant truncate, references, trigger on table public.usage_metrics to authenticated;

grant truncate, references, trigger on table public.user_progress to authenticated;

grant truncate, references, trigger on table public.profiles to authenticated;

grant all on table public.session_feedback to anon;

grant all on table public.practice_sessions to anon;

grant all on table public.modules to anon;

grant all on table public.meeting_analyses to anon;

grant all on table public.meeting_transcripts to anon;

grant all on table public.meetings to anon;

grant all on table public.usage_metrics to anon;

grant all on table public.user_progress to anon;

grant all on table public.profiles to anon;
