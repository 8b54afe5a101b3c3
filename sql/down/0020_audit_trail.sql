-- 0020 down: removes the audit trail (triggers on the nine tables and auth.users, the rpc, schema audit).

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

drop function audit.forget_subject();

drop function audit.verify_chain();

drop function audit.refuse_change();

drop function audit.capture_truncate();

drop function audit.capture();

drop function audit.append_event(text, text, uuid, jsonb, jsonb);

drop function audit.current_db_role();

drop function audit.purge_authorised();

drop function audit.entry_digest(bigint, timestamptz, bigint, uuid, text, text, text, text, jsonb, uuid, text[], jsonb, jsonb);

drop table audit.purge_runs;

drop table audit.chain_head;

drop table audit.log;

drop table audit.subject_keys;

drop table audit.audited_tables;

drop table audit.column_classification;

drop schema audit;
