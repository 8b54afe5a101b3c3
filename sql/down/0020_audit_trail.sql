-- 0020 down: removes the audit trail (the pg_cron sealing job where it exists, triggers on the nine tables
-- and auth.users, the rpc, schema audit).

do $$
begin
  if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    if exists (select from cron.job where jobname = 'shipspeak-audit-seal') then
      perform cron.unschedule('shipspeak-audit-seal');
    end if;
  end if;
end
$$;

drop trigger audit_insert on public.profiles;

drop trigger audit_update on public.profiles;

drop trigger audit_delete on public.profiles;

drop trigger audit_truncate on public.profiles;

drop trigger audit_insert on public.user_progress;

drop trigger audit_update on public.user_progress;

drop trigger audit_delete on public.user_progress;

drop trigger audit_truncate on public.user_progress;

drop trigger audit_insert on public.usage_metrics;

drop trigger audit_update on public.usage_metrics;

drop trigger audit_delete on public.usage_metrics;

drop trigger audit_truncate on public.usage_metrics;

drop trigger audit_insert on public.meetings;

drop trigger audit_update on public.meetings;

drop trigger audit_delete on public.meetings;

drop trigger audit_truncate on public.meetings;

drop trigger audit_insert on public.meeting_transcripts;

drop trigger audit_update on public.meeting_transcripts;

drop trigger audit_delete on public.meeting_transcripts;

drop trigger audit_truncate on public.meeting_transcripts;

drop trigger audit_insert on public.meeting_analyses;

drop trigger audit_update on public.meeting_analyses;

drop trigger audit_delete on public.meeting_analyses;

drop trigger audit_truncate on public.meeting_analyses;

drop trigger audit_insert on public.modules;

drop trigger audit_update on public.modules;

drop trigger audit_delete on public.modules;

drop trigger audit_truncate on public.modules;

drop trigger audit_insert on public.practice_sessions;

drop trigger audit_update on public.practice_sessions;

drop trigger audit_delete on public.practice_sessions;

drop trigger audit_truncate on public.practice_sessions;

drop trigger audit_insert on public.session_feedback;

drop trigger audit_update on public.session_feedback;

drop trigger audit_delete on public.session_feedback;

drop trigger audit_truncate on public.session_feedback;

drop trigger zz_audit_forget_subject on auth.users;

drop function public.my_audit_events(integer);

drop trigger refuse_update_delete on audit.log;

drop trigger refuse_truncate on audit.log;

drop trigger refuse_update_delete on audit.seals;

drop trigger refuse_truncate on audit.seals;

drop function audit.forget_subject();

drop function audit.verify_chain();

drop function audit.seal(integer);

drop function audit.refuse_change();

drop function audit.capture_truncate();

drop function audit.capture_meeting_analyses();

drop function audit.capture_meeting_transcripts();

drop function audit.capture_meetings();

drop function audit.capture_modules();

drop function audit.capture_practice_sessions();

drop function audit.capture_profiles();

drop function audit.capture_session_feedback();

drop function audit.capture_usage_metrics();

drop function audit.capture_user_progress();

drop function audit.refresh_capture(text);

drop function audit.capture_source(text);

drop function audit.capture_value_sql(text, text, text, regtype, text);

drop function audit.append_event(text, text, uuid, jsonb, jsonb);

drop function audit.current_db_role();

drop function audit.purge_authorised();

drop function audit.entry_digest(bigint, timestamptz, bigint, uuid, text, text, text, text, jsonb, uuid, text[], jsonb, jsonb);

drop table audit.purge_runs;

drop table audit.chain_head;

drop table audit.seals;

drop table audit.log;

drop function audit.ensure_subject_key(uuid);

drop trigger audit_create_subject_key on auth.users;

drop function audit.create_subject_key();

drop table audit.subject_keys;

drop table audit.audited_tables;

drop table audit.column_classification;

drop schema audit;
