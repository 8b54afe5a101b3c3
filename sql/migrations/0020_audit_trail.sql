-- 0020 audit trail: who did what to which record, in an append-only, hash-chained log that is not a second
-- copy of personal data.
--
-- Design (README-privacy "Audit trail"):
--   * schema audit is not exposed through the API and the API roles get no privilege on anything in it;
--   * AFTER ... FOR EACH STATEMENT triggers with transition tables on the nine tables write one entry per
--     changed row with a single INSERT ... SELECT (one trigger call per statement keeps the overhead per row
--     small). Each table has its own capture function, generated from the classification below by
--     audit.capture_source(), so the hot path reads no configuration and names every column statically;
--   * every column of an audited table is classified (audit.column_classification): 'keep' values are
--     logged as they are, 'redact' values (content and personal data) are replaced by a marker holding a
--     hash keyed with the data subject's secret, 'pseudonymise' values (the user id columns) are replaced
--     by the subject's pseudonym. A column nobody classified is redacted (fail safe);
--   * pseudonyms and secrets live in audit.subject_keys, created at signup (a trigger on auth.users; an
--     on-demand fallback covers anyone without one); erasing the auth user deletes that row, after the
--     cascaded deletes were audited. The log rows never change, yet nothing links them to the person any
--     more (crypto-shredding), and the hash chain still verifies;
--   * tamper evidence is added after the fact, off the write path: audit.seal() (pg_cron every minute, the
--     purge, and audit.verify_chain() call it) chains the entries of finished transactions into the
--     append-only audit.seals, hash = sha256(prev_hash || digest(entry)); chain order is seal order. Writers
--     never lock anything shared, so audited writers do not serialise on each other;
--   * UPDATE, DELETE and TRUNCATE on the log and the seals are refused by a trigger for every role; only the
--     retention purge (0021) may delete old entries, identified by a token row it writes in audit.purge_runs.

create schema audit;

comment on schema audit is
  'ShipSpeak audit trail, retention and privacy bookkeeping. Not exposed through the API; the API roles hold no privilege on it (reached only through narrow SECURITY DEFINER functions).';

revoke all on schema audit from public;

revoke all on schema audit from anon, authenticated, service_role;

-- Configuration ------------------------------------------------------------------------------------------

create table audit.column_classification (
  table_name text not null,
  column_name text not null,
  category text not null,
  audit_treatment text not null,
  note text,
  constraint column_classification_pkey primary key (table_name, column_name),
  constraint column_classification_category_known check (
    category in ('identifier', 'content', 'metric', 'personal', 'operational')
  ),
  constraint column_classification_treatment_known check (audit_treatment in ('keep', 'redact', 'pseudonymise')),
  -- Content and personal data never enter the log in clear.
  constraint column_classification_content_not_kept check (
    audit_treatment <> 'keep' or category not in ('content', 'personal')
  )
);

comment on table audit.column_classification is
  'Every column of every audited public table with its data category (identifier / content / metric / personal / operational) and how the audit trail stores it (keep / redact / pseudonymise). Drives redaction and the data inventory; a test fails when a column is missing here.';

comment on column audit.column_classification.audit_treatment is
  'keep = value logged as is; redact = replaced by "redacted:<hash keyed with the subject secret>"; pseudonymise = a user id replaced by that user''s pseudonym from audit.subject_keys.';

insert into audit.column_classification (table_name, column_name, category, audit_treatment, note) values
  ('profiles', 'id', 'identifier', 'pseudonymise', 'the user id itself'),
  ('profiles', 'display_name', 'personal', 'redact', null),
  ('profiles', 'avatar_url', 'personal', 'redact', null),
  ('profiles', 'role', 'operational', 'keep', 'authorisation role: who became admin matters to an auditor'),
  ('profiles', 'tier', 'operational', 'keep', null),
  ('profiles', 'preferences', 'personal', 'redact', null),
  ('profiles', 'timezone', 'personal', 'redact', 'hints at location'),
  ('profiles', 'onboarded_at', 'operational', 'keep', null),
  ('profiles', 'created_at', 'operational', 'keep', null),
  ('profiles', 'updated_at', 'operational', 'keep', null),
  ('user_progress', 'user_id', 'identifier', 'pseudonymise', null),
  ('user_progress', 'dimension', 'operational', 'keep', null),
  ('user_progress', 'score', 'metric', 'keep', null),
  ('user_progress', 'level', 'metric', 'keep', null),
  ('user_progress', 'streak_days', 'metric', 'keep', null),
  ('user_progress', 'last_practised_at', 'operational', 'keep', null),
  ('user_progress', 'updated_at', 'operational', 'keep', null),
  ('usage_metrics', 'id', 'identifier', 'keep', null),
  ('usage_metrics', 'user_id', 'identifier', 'pseudonymise', null),
  ('usage_metrics', 'kind', 'metric', 'keep', null),
  ('usage_metrics', 'quantity', 'metric', 'keep', null),
  ('usage_metrics', 'occurred_at', 'operational', 'keep', null),
  ('meetings', 'id', 'identifier', 'keep', null),
  ('meetings', 'user_id', 'identifier', 'pseudonymise', null),
  ('meetings', 'title', 'content', 'redact', 'user-written, may name people'),
  ('meetings', 'started_at', 'operational', 'keep', null),
  ('meetings', 'duration_seconds', 'metric', 'keep', null),
  ('meetings', 'status', 'operational', 'keep', null),
  ('meetings', 'status_changed_at', 'operational', 'keep', null),
  ('meetings', 'failure_reason', 'content', 'redact', 'free text from the pipeline'),
  ('meetings', 'storage_object_path', 'personal', 'redact', 'starts with the user id'),
  ('meetings', 'platform', 'operational', 'keep', null),
  ('meetings', 'participant_count', 'metric', 'keep', null),
  ('meetings', 'created_at', 'operational', 'keep', null),
  ('meetings', 'updated_at', 'operational', 'keep', null),
  ('meeting_transcripts', 'id', 'identifier', 'keep', null),
  ('meeting_transcripts', 'meeting_id', 'identifier', 'keep', null),
  ('meeting_transcripts', 'user_id', 'identifier', 'pseudonymise', null),
  ('meeting_transcripts', 'language', 'operational', 'keep', null),
  ('meeting_transcripts', 'segments', 'content', 'redact', 'what was said, by whom'),
  ('meeting_transcripts', 'speaker_count', 'metric', 'keep', null),
  ('meeting_transcripts', 'word_count', 'metric', 'keep', null),
  ('meeting_transcripts', 'created_at', 'operational', 'keep', null),
  ('meeting_analyses', 'id', 'identifier', 'keep', null),
  ('meeting_analyses', 'meeting_id', 'identifier', 'keep', null),
  ('meeting_analyses', 'user_id', 'identifier', 'pseudonymise', null),
  ('meeting_analyses', 'transcript_id', 'identifier', 'keep', null),
  ('meeting_analyses', 'model', 'operational', 'keep', null),
  ('meeting_analyses', 'prompt_version', 'operational', 'keep', null),
  ('meeting_analyses', 'input_tokens', 'metric', 'keep', null),
  ('meeting_analyses', 'output_tokens', 'metric', 'keep', null),
  ('meeting_analyses', 'cost_usd', 'metric', 'keep', null),
  ('meeting_analyses', 'insights', 'content', 'redact', 'summary and highlights quote the meeting'),
  ('meeting_analyses', 'recommendations', 'content', 'redact', null),
  ('meeting_analyses', 'sampling', 'content', 'redact', 'may quote segments'),
  ('meeting_analyses', 'sampled_segment_count', 'metric', 'keep', null),
  ('meeting_analyses', 'total_segment_count', 'metric', 'keep', null),
  ('meeting_analyses', 'overall_score', 'metric', 'keep', null),
  ('meeting_analyses', 'dimension_scores', 'metric', 'keep', null),
  ('meeting_analyses', 'created_at', 'operational', 'keep', null),
  ('modules', 'id', 'identifier', 'keep', null),
  ('modules', 'slug', 'operational', 'keep', null),
  ('modules', 'title', 'operational', 'keep', 'catalogue, not personal'),
  ('modules', 'description', 'content', 'redact', 'catalogue prose: kept out only to keep the log small'),
  ('modules', 'dimension', 'operational', 'keep', null),
  ('modules', 'difficulty', 'operational', 'keep', null),
  ('modules', 'required_tier', 'operational', 'keep', null),
  ('modules', 'is_published', 'operational', 'keep', null),
  ('modules', 'estimated_minutes', 'metric', 'keep', null),
  ('modules', 'content', 'content', 'redact', 'catalogue prose: kept out only to keep the log small'),
  ('modules', 'scenario_template', 'content', 'redact', null),
  ('modules', 'created_by', 'identifier', 'pseudonymise', 'the authoring admin'),
  ('modules', 'created_at', 'operational', 'keep', null),
  ('modules', 'updated_at', 'operational', 'keep', null),
  ('practice_sessions', 'id', 'identifier', 'keep', null),
  ('practice_sessions', 'user_id', 'identifier', 'pseudonymise', null),
  ('practice_sessions', 'module_id', 'identifier', 'keep', null),
  ('practice_sessions', 'source_meeting_id', 'identifier', 'keep', null),
  ('practice_sessions', 'status', 'operational', 'keep', null),
  ('practice_sessions', 'started_at', 'operational', 'keep', null),
  ('practice_sessions', 'completed_at', 'operational', 'keep', null),
  ('practice_sessions', 'duration_seconds', 'metric', 'keep', null),
  ('practice_sessions', 'overall_score', 'metric', 'keep', null),
  ('practice_sessions', 'metrics', 'metric', 'keep', 'numbers only (words per minute, fillers, pauses)'),
  ('practice_sessions', 'scenario', 'content', 'redact', 'scenario adapted to the user'),
  ('practice_sessions', 'created_at', 'operational', 'keep', null),
  ('practice_sessions', 'updated_at', 'operational', 'keep', null),
  ('session_feedback', 'id', 'identifier', 'keep', null),
  ('session_feedback', 'session_id', 'identifier', 'keep', null),
  ('session_feedback', 'user_id', 'identifier', 'pseudonymise', null),
  ('session_feedback', 'summary', 'content', 'redact', null),
  ('session_feedback', 'feedback', 'content', 'redact', null),
  ('session_feedback', 'overall_score', 'metric', 'keep', null),
  ('session_feedback', 'dimension_scores', 'metric', 'keep', null),
  ('session_feedback', 'improvement_delta', 'metric', 'keep', null),
  ('session_feedback', 'model', 'operational', 'keep', null),
  ('session_feedback', 'created_at', 'operational', 'keep', null);

create table audit.audited_tables (
  table_name text not null,
  subject_column text not null,
  key_columns text[] not null,
  constraint audited_tables_pkey primary key (table_name)
);

comment on table audit.audited_tables is
  'The public tables whose changes are audited, with the column naming the data subject (owner) of a row and the primary-key columns that identify a record in the log.';

comment on column audit.audited_tables.subject_column is
  'Column holding the auth.users id of the person the row is about; its value is logged as that person''s pseudonym and keys the redaction hashes.';

insert into audit.audited_tables (table_name, subject_column, key_columns) values
  ('profiles', 'id', array['id']),
  ('user_progress', 'user_id', array['user_id', 'dimension']),
  ('usage_metrics', 'user_id', array['id']),
  ('meetings', 'user_id', array['id']),
  ('meeting_transcripts', 'user_id', array['id']),
  ('meeting_analyses', 'user_id', array['id']),
  ('modules', 'created_by', array['id']),
  ('practice_sessions', 'user_id', array['id']),
  ('session_feedback', 'user_id', array['id']);

-- Pseudonyms ---------------------------------------------------------------------------------------------

create table audit.subject_keys (
  user_id uuid not null,
  pseudonym uuid not null default gen_random_uuid(),
  -- 32 random bytes without pgcrypto (absent on PGlite): two v4 UUIDs carry 244 random bits.
  secret bytea not null default (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())),
  created_at timestamptz not null default now(),
  constraint subject_keys_pkey primary key (user_id),
  constraint subject_keys_pseudonym_key unique (pseudonym)
);

comment on table audit.subject_keys is
  'The only link between a person (auth.users id) and the audit log: their pseudonym and the secret keying the hashes of their redacted values. Deleted when the auth user is deleted (crypto-shredding): the log keeps its rows, unlinkable.';

comment on column audit.subject_keys.secret is
  'Random key for the redaction hashes of this subject''s values; once deleted, a redacted hash can no longer be tested against a guessed value.';

-- Every person gets their pseudonym when they sign up, so the capture path only looks keys up.
create function audit.create_subject_key()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into audit.subject_keys (user_id) values (new.id) on conflict (user_id) do nothing;
  return null;
end;
$$;

comment on function audit.create_subject_key() is
  'AFTER INSERT trigger on auth.users: creates the new user''s pseudonym and secret, so the audit capture functions only look them up.';

revoke all on function audit.create_subject_key() from public;

-- Named to fire before on_auth_user_created (triggers fire in name order), whose profile insert is audited.
create trigger audit_create_subject_key
  after insert on auth.users
  for each row
  execute function audit.create_subject_key();

comment on trigger audit_create_subject_key on auth.users is
  'ShipSpeak: audit pseudonym and secret for every new user (audit.create_subject_key).';

insert into audit.subject_keys (user_id)
select u.id from auth.users u
on conflict (user_id) do nothing;

create function audit.ensure_subject_key(p_user_id uuid)
returns audit.subject_keys
language plpgsql
strict
security definer
set search_path = ''
as $$
declare
  v_key audit.subject_keys;
begin
  insert into audit.subject_keys (user_id) values (p_user_id) on conflict (user_id) do nothing;
  select k.* into v_key from audit.subject_keys k where k.user_id = p_user_id;
  return v_key;
end;
$$;

comment on function audit.ensure_subject_key(uuid) is
  'Fallback of the capture functions for a user id without a subject key (a user created before the signup trigger existed, or a dangling id): creates and returns it. Strict: null in, null out.';

revoke all on function audit.ensure_subject_key(uuid) from public;

-- The log ------------------------------------------------------------------------------------------------

create sequence audit.log_id_seq;

comment on sequence audit.log_id_seq is
  'Ids of audit.log, drawn by concurrent writers without any lock: id order is neither commit order nor chain order (audit.seals.seq is).';

create table audit.log (
  id bigint not null default nextval('audit.log_id_seq'),
  occurred_at timestamptz not null default now(),
  txid bigint not null,
  actor uuid,
  db_role text not null,
  jwt_role text,
  table_name text not null,
  operation text not null,
  record_id jsonb,
  subject uuid,
  changed_columns text[],
  old_values jsonb,
  new_values jsonb,
  constraint log_pkey primary key (id),
  constraint log_operation_known check (operation in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'PURGE', 'ERASE'))
);

alter sequence audit.log_id_seq owned by audit.log.id;

comment on table audit.log is
  'Append-only audit trail of every insert/update/delete on the audited public tables, plus retention purges and erasures. Content and personal values are redacted and user ids pseudonymised at write time. Tamper evidence: audit.seals chains every entry once its transaction has finished.';

comment on column audit.log.occurred_at is
  'Transaction time of the change.';

comment on column audit.log.txid is
  'Transaction id (pg_current_xact_id): entries of one transaction share it; audit.seal() seals an entry once every transaction up to this id has finished.';

comment on column audit.log.actor is
  'Pseudonym of auth.uid() (the signed-in user who made the change); null for service and maintenance writes.';

comment on column audit.log.db_role is
  'Database role that made the change: the SET ROLE role (anon, authenticated, service_role) or the session user.';

comment on column audit.log.jwt_role is
  'role claim of the request JWT (request.jwt.claims), null outside API requests.';

comment on column audit.log.record_id is
  'Primary key of the changed row as JSON (user id columns pseudonymised).';

comment on column audit.log.subject is
  'Pseudonym of the person the row is about (its owner); unlinkable once that person is erased.';

comment on column audit.log.changed_columns is
  'UPDATE: the columns whose value changed (old_values/new_values hold only those).';

create index log_subject_id_idx
  on audit.log (subject, id)
  where subject is not null;

-- BRIN: next to nothing to maintain on insert (txid grows with time), and enough for the sealer's range scan.
create index log_txid_brin
  on audit.log using brin (txid);

create table audit.seals (
  seq bigint not null,
  entry_id bigint not null,
  prev_hash bytea not null,
  hash bytea not null,
  constraint seals_pkey primary key (seq),
  constraint seals_entry_id_key unique (entry_id),
  constraint seals_hash_length check (octet_length(hash) = 32 and octet_length(prev_hash) = 32)
);

comment on table audit.seals is
  'The hash chain over audit.log, appended by audit.seal() only: one link per entry, in seal order (seq). Append-only like the log; log rows are never updated to carry their hash.';

comment on column audit.seals.seq is
  'Position in the chain (1, 2, 3 ...): the order audit.seal() chained the entries in, not their id order.';

comment on column audit.seals.prev_hash is
  'hash of the previous link (or the chain anchor for the oldest retained link).';

comment on column audit.seals.hash is
  'sha256(prev_hash || audit.entry_digest(entry)); the digest covers the entry id and every column, so editing, deleting or reordering entries breaks a link.';

create table audit.chain_head (
  singleton boolean not null default true,
  last_seq bigint not null,
  last_hash bytea not null,
  anchor_hash bytea not null,
  sealed_below_txid bigint not null,
  constraint chain_head_pkey primary key (singleton),
  constraint chain_head_single_row check (singleton)
);

comment on table audit.chain_head is
  'One row, written only by audit.seal() and the retention purge: the last link of the chain, its anchor (the prev_hash the oldest retained link must carry: genesis zeros until a purge removes old entries) and the sealer''s progress.';

comment on column audit.chain_head.sealed_below_txid is
  'Every entry of a transaction with a smaller txid is sealed: those transactions had all finished when the sealer last caught up (snapshot xmin).';

insert into audit.chain_head (singleton, last_seq, last_hash, anchor_hash, sealed_below_txid)
values (true, 0, decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'), 0);

create table audit.purge_runs (
  txid bigint not null,
  started_at timestamptz not null default now(),
  constraint purge_runs_pkey primary key (txid)
);

comment on table audit.purge_runs is
  'One row per retention purge transaction. Its presence for the current transaction is what lets the purge delete old audit entries and skip per-row auditing; only the owner can write it.';

-- Functions ----------------------------------------------------------------------------------------------

-- Deterministic whatever the session's TimeZone or DateStyle: the timestamp enters as epoch microseconds
-- and every other field through jsonb's canonical text form.
create function audit.entry_digest(
  p_id bigint, p_occurred_at timestamptz, p_txid bigint, p_actor uuid, p_db_role text, p_jwt_role text,
  p_table_name text, p_operation text, p_record_id jsonb, p_subject uuid, p_changed_columns text[],
  p_old_values jsonb, p_new_values jsonb
)
returns bytea
language sql
stable
parallel safe
set search_path = ''
as $$
  select pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_array(
    p_id, (extract(epoch from p_occurred_at) * 1000000)::bigint, p_txid, p_actor, p_db_role, p_jwt_role,
    p_table_name, p_operation, p_record_id, p_subject, pg_catalog.to_jsonb(p_changed_columns), p_old_values, p_new_values
  )::text, 'UTF8'))
$$;

comment on function audit.entry_digest(bigint, timestamptz, bigint, uuid, text, text, text, text, jsonb, uuid, text[], jsonb, jsonb) is
  'sha256 of an entry''s content (every column of audit.log, the id included), independent of session settings.';

revoke all on function audit.entry_digest(bigint, timestamptz, bigint, uuid, text, text, text, text, jsonb, uuid, text[], jsonb, jsonb) from public;

create function audit.purge_authorised()
returns boolean
language sql
stable
set search_path = ''
as $$
  select pg_catalog.current_setting('audit.purge_txid', true) = pg_catalog.pg_current_xact_id()::text
    and exists (
      select from audit.purge_runs r where r.txid = pg_catalog.pg_current_xact_id()::text::bigint
    )
$$;

comment on function audit.purge_authorised() is
  'True inside a retention purge transaction only: the purge sets audit.purge_txid and writes a audit.purge_runs row (owner-only), so setting the variable alone authorises nothing.';

revoke all on function audit.purge_authorised() from public;

create function audit.current_db_role()
returns text
language sql
stable
set search_path = ''
as $$
  -- Inside SECURITY DEFINER code current_user is the owner; the SET ROLE setting still names the caller's role.
  select case
    when pg_catalog.current_setting('role') in ('none', '') then session_user::text
    else pg_catalog.current_setting('role')
  end
$$;

comment on function audit.current_db_role() is
  'The role a statement runs as from the client''s point of view (PostgREST''s SET LOCAL ROLE, else the session user), also when called inside SECURITY DEFINER code.';

revoke all on function audit.current_db_role() from public;

-- Appends one entry (purges, erasures, truncates). Row changes go through the generated capture functions.
create function audit.append_event(
  p_operation text, p_table_name text, p_subject uuid, p_record_id jsonb, p_new_values jsonb
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  -- Taken before the id is drawn (it assigns the transaction id if need be): audit.seal() relies on an
  -- entry's txid existing before its id.
  v_txid bigint := pg_catalog.pg_current_xact_id()::text::bigint;
  v_actor uuid;
  v_uid uuid := auth.uid();
  v_id bigint;
begin
  if v_uid is not null then
    v_actor := (audit.ensure_subject_key(v_uid)).pseudonym;
  end if;
  insert into audit.log (occurred_at, txid, actor, db_role, jwt_role, table_name, operation, record_id, subject, new_values)
  values (pg_catalog.now(), v_txid, v_actor, audit.current_db_role(), auth.role(), p_table_name, p_operation, p_record_id,
          p_subject, p_new_values)
  returning id into v_id;
  return v_id;
end;
$$;

comment on function audit.append_event(text, text, uuid, jsonb, jsonb) is
  'Appends one entry (PURGE, ERASE, TRUNCATE). Owner-only.';

revoke all on function audit.append_event(text, text, uuid, jsonb, jsonb) from public;

-- Capture functions, one per audited table ---------------------------------------------------------------
--
-- audit.capture_source(table) writes the plpgsql source of audit.capture_<table>() from the catalog and
-- audit.column_classification: every column becomes a static expression (kept, redacted or pseudonymised),
-- pseudonyms come from one left join on audit.subject_keys per user-id column, and the request context
-- (auth.uid(), the JWT role, the SET ROLE role) is read once per statement from the settings PostgREST sets
-- (the same definitions as auth.uid()/auth.role(), inlined: those SQL functions carry a SET clause, so every
-- call is re-planned, which cost more than the rest of the capture). A test compares each installed function
-- with a fresh generation, so a column added without regenerating (audit.refresh_capture) fails the suite.

create function audit.capture_value_sql(p_side text, p_column text, p_treatment text, p_type regtype, p_subject text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_value text := pg_catalog.format('%I.%I', p_side, p_column);
  v_pseudonym text := pg_catalog.format(
    'case when %1$s is null then null else coalesce(%2$I.pseudonym, (audit.ensure_subject_key(%1$s)).pseudonym) end',
    v_value, p_side || '_k_' || p_column);
  v_redacted text := pg_catalog.format(
    '''redacted:'' || pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(coalesce(%2$I.secret, (audit.ensure_subject_key(%3$I.%4$I)).secret, ''\x''::bytea) || pg_catalog.convert_to(pg_catalog.to_jsonb(%1$s)::text, ''UTF8'')), ''hex''), 32)',
    v_value, p_side || '_k_' || p_subject, p_side, p_subject);
  -- A kept string that looks like an email address is redacted anyway.
  v_email constant text := '''[^@[:space:]]+@[^@[:space:]]+\.[[:alpha:]]{2,}''';
  v_category "char";
begin
  if p_treatment = 'pseudonymise' then
    return v_pseudonym;
  elsif p_treatment = 'keep' then
    select t.typcategory into v_category from pg_catalog.pg_type t where t.oid = p_type;
    if v_category = 'S' then
      return pg_catalog.format('case when %1$s::text ~ %2$s then pg_catalog.to_jsonb(%3$s) else pg_catalog.to_jsonb(%1$s) end',
                               v_value, v_email, v_redacted);
    elsif p_type in ('json'::regtype, 'jsonb'::regtype) then
      return pg_catalog.format(
        'case when pg_catalog.jsonb_typeof(pg_catalog.to_jsonb(%1$s)) = ''string'' and (pg_catalog.to_jsonb(%1$s) #>> ''{}'') ~ %2$s then pg_catalog.to_jsonb(%3$s) else pg_catalog.to_jsonb(%1$s) end',
        v_value, v_email, v_redacted);
    end if;
    return v_value;
  end if;
  -- 'redact' and anything unclassified.
  return pg_catalog.format('case when %1$s is null then null else %2$s end', v_value, v_redacted);
end;
$$;

comment on function audit.capture_value_sql(text, text, text, regtype, text) is
  'Generator helper: the SQL expression logging column p_column of transition row p_side under its treatment (keep / redact / pseudonymise; anything else redacts).';

revoke all on function audit.capture_value_sql(text, text, text, regtype, text) from public;

create function audit.capture_source(p_table text)
returns text
language plpgsql
stable
set search_path = ''
as $gen$
declare
  v_subject text;
  v_keys text[];
  c record;
  v_new_values text[] := '{}';
  v_old_values text[] := '{}';
  v_changed text[] := '{}';
  v_unchanged text[] := '{}';
  v_new_joins text := '';
  v_old_joins text := '';
  v_new_record text[] := '{}';
  v_old_record text[] := '{}';
  v_key_match text[] := '{}';
  v_comparison text;
begin
  select t.subject_column, t.key_columns into v_subject, v_keys
  from audit.audited_tables t where t.table_name = p_table;
  if not found then
    raise exception 'audit.capture_source: table "%" is not listed in audit.audited_tables', p_table using errcode = '22023';
  end if;
  for c in
    select a.attname::text as name, a.atttypid::regtype as type, coalesce(cc.audit_treatment, 'redact') as treatment
    from pg_catalog.pg_attribute a
    left join audit.column_classification cc on cc.table_name = p_table and cc.column_name = a.attname
    where a.attrelid = pg_catalog.format('public.%I', p_table)::regclass and a.attnum > 0 and not a.attisdropped
    order by a.attname collate "C"
  loop
    v_new_values := v_new_values || pg_catalog.format('%L, %s', c.name, audit.capture_value_sql('n', c.name, c.treatment, c.type, v_subject));
    v_old_values := v_old_values || pg_catalog.format('%L, %s', c.name, audit.capture_value_sql('o', c.name, c.treatment, c.type, v_subject));
    -- Types without an equality operator (json, geometric types) are compared through jsonb.
    v_comparison := case
      when c.type in ('json'::regtype, 'xml'::regtype, 'point'::regtype, 'line'::regtype, 'lseg'::regtype, 'box'::regtype,
                      'path'::regtype, 'polygon'::regtype, 'circle'::regtype)
        then pg_catalog.format('pg_catalog.to_jsonb(o.%1$I) is distinct from pg_catalog.to_jsonb(n.%1$I)', c.name)
      else pg_catalog.format('o.%1$I is distinct from n.%1$I', c.name)
    end;
    v_changed := v_changed || pg_catalog.format('case when %s then %L end', v_comparison, c.name);
    v_unchanged := v_unchanged || pg_catalog.format('case when not (%s) then %L end', v_comparison, c.name);
    if c.treatment = 'pseudonymise' or c.name = v_subject then
      v_new_joins := v_new_joins || pg_catalog.format(
        E'\n      left join audit.subject_keys %1$I on %1$I.user_id = n.%2$I', 'n_k_' || c.name, c.name);
      v_old_joins := v_old_joins || pg_catalog.format(
        E'\n      left join audit.subject_keys %1$I on %1$I.user_id = o.%2$I', 'o_k_' || c.name, c.name);
    end if;
    if c.name = any (v_keys) then
      v_new_record := v_new_record || pg_catalog.format('%L, %s', c.name,
        case when c.treatment = 'pseudonymise' then audit.capture_value_sql('n', c.name, c.treatment, c.type, v_subject)
             else pg_catalog.format('n.%I', c.name) end);
      v_old_record := v_old_record || pg_catalog.format('%L, %s', c.name,
        case when c.treatment = 'pseudonymise' then audit.capture_value_sql('o', c.name, c.treatment, c.type, v_subject)
             else pg_catalog.format('o.%I', c.name) end);
      v_key_match := v_key_match || pg_catalog.format('o.%1$I = n.%1$I', c.name);
    end if;
  end loop;

  return pg_catalog.format($src$create or replace function audit.capture_%1$s()
returns trigger
language plpgsql
security definer
set search_path = ''
as $capture$
-- Generated by audit.capture_source(%2$L) from audit.column_classification: do not edit, regenerate with
-- audit.refresh_capture(%2$L) after changing the table or the classification of its columns.
declare
  v_claims jsonb := nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb;
  v_uid uuid := coalesce(nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''), v_claims ->> 'sub')::uuid;
  v_jwt_role text := coalesce(nullif(pg_catalog.current_setting('request.jwt.claim.role', true), ''), v_claims ->> 'role');
  v_db_role text := case when pg_catalog.current_setting('role') in ('none', '') then session_user::text
                         else pg_catalog.current_setting('role') end;
  v_txid bigint := pg_catalog.pg_current_xact_id()::text::bigint;
  v_actor uuid;
begin
  -- Retention purges record one PURGE entry per table instead of one entry per expired row.
  if coalesce(pg_catalog.current_setting('audit.purge_txid', true), '') <> '' and audit.purge_authorised() then
    return null;
  end if;
  if v_uid is not null then
    select k.pseudonym into v_actor from audit.subject_keys k where k.user_id = v_uid;
    if v_actor is null then
      v_actor := (audit.ensure_subject_key(v_uid)).pseudonym;
    end if;
  end if;
  if tg_op = 'INSERT' then
    insert into audit.log (occurred_at, txid, actor, db_role, jwt_role, table_name, operation, record_id, subject, new_values)
    select pg_catalog.now(), v_txid, v_actor, v_db_role, v_jwt_role, %2$L, 'INSERT',
           pg_catalog.jsonb_build_object(%3$s),
           %5$s,
           pg_catalog.jsonb_build_object(
             %7$s)
      from new_rows n%9$s;
  elsif tg_op = 'DELETE' then
    insert into audit.log (occurred_at, txid, actor, db_role, jwt_role, table_name, operation, record_id, subject, old_values)
    select pg_catalog.now(), v_txid, v_actor, v_db_role, v_jwt_role, %2$L, 'DELETE',
           pg_catalog.jsonb_build_object(%4$s),
           %6$s,
           pg_catalog.jsonb_build_object(
             %8$s)
      from old_rows o%10$s;
  else
    -- Old and new versions are paired by primary key; a changed key shows as a removed and an added version.
    insert into audit.log (occurred_at, txid, actor, db_role, jwt_role, table_name, operation, record_id, subject,
                           changed_columns, old_values, new_values)
    select pg_catalog.now(), v_txid, v_actor, v_db_role, v_jwt_role, %2$L, 'UPDATE',
           case when n.%11$I is null then pg_catalog.jsonb_build_object(%4$s) else pg_catalog.jsonb_build_object(%3$s) end,
           coalesce(%5$s, %6$s),
           d.changed,
           case when o.%11$I is not null then nullif(pg_catalog.jsonb_build_object(
             %8$s) - d.unchanged, '{}'::jsonb) end,
           case when n.%11$I is not null then nullif(pg_catalog.jsonb_build_object(
             %7$s) - d.unchanged, '{}'::jsonb) end
      from old_rows o
      full join new_rows n on %12$s%10$s%9$s
      cross join lateral (
        select pg_catalog.array_remove(array[
                 %13$s]::text[], null) as changed,
               pg_catalog.array_remove(array[
                 %14$s]::text[], null) as unchanged
      ) d;
  end if;
  return null;
end;
$capture$$src$,
    p_table, p_table,
    pg_catalog.array_to_string(v_new_record, ', '), pg_catalog.array_to_string(v_old_record, ', '),
    audit.capture_value_sql('n', v_subject, 'pseudonymise', null, v_subject),
    audit.capture_value_sql('o', v_subject, 'pseudonymise', null, v_subject),
    pg_catalog.array_to_string(v_new_values, E',\n             '), pg_catalog.array_to_string(v_old_values, E',\n             '),
    v_new_joins, v_old_joins,
    v_keys[1],
    pg_catalog.array_to_string(v_key_match, ' and '),
    pg_catalog.array_to_string(v_changed, E',\n                 '), pg_catalog.array_to_string(v_unchanged, E',\n                 '));
end;
$gen$;

comment on function audit.capture_source(text) is
  'Generator: the CREATE FUNCTION statement of audit.capture_<table>(), the AFTER ... FOR EACH STATEMENT capture trigger function of an audited table, written from the catalog and audit.column_classification (unclassified columns are redacted).';

revoke all on function audit.capture_source(text) from public;

create function audit.refresh_capture(p_table text)
returns void
language plpgsql
set search_path = ''
as $$
begin
  execute audit.capture_source(p_table);
  execute pg_catalog.format(
    'comment on function audit.%I() is %L', 'capture_' || p_table,
    pg_catalog.format('AFTER ... FOR EACH STATEMENT trigger (transition tables old_rows/new_rows) on public.%s: appends one entry per changed row, values kept, redacted or pseudonymised per audit.column_classification. Generated by audit.capture_source(%L).', p_table, p_table));
  execute pg_catalog.format('revoke all on function audit.%I() from public', 'capture_' || p_table);
end;
$$;

comment on function audit.refresh_capture(text) is
  'Owner-only: (re)creates audit.capture_<table>() from audit.capture_source(table). Run it in the migration that adds a column to an audited table or changes its classification.';

revoke all on function audit.refresh_capture(text) from public;

do $$
declare
  t record;
begin
  for t in select a.table_name from audit.audited_tables a order by a.table_name loop
    perform audit.refresh_capture(t.table_name);
  end loop;
end
$$;

create function audit.capture_truncate()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform audit.append_event('TRUNCATE', tg_table_name, null, null, null);
  return null;
end;
$$;

comment on function audit.capture_truncate() is
  'AFTER TRUNCATE trigger on audited tables: records that the whole table was emptied (no row values).';

revoke all on function audit.capture_truncate() from public;

-- Append-only guard ---------------------------------------------------------------------------------------

create function audit.refuse_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and audit.purge_authorised() then
    return old;
  end if;
  raise exception '%.% is append-only: % is not allowed', tg_table_schema, tg_table_name, tg_op
    using errcode = '42501',
          hint = 'Entries are removed only by the retention purge (public.purge_expired); nothing may change them.';
end;
$$;

comment on function audit.refuse_change() is
  'BEFORE UPDATE/DELETE/TRUNCATE trigger on audit.log and audit.seals: refuses every change (SQLSTATE 42501) except a retention purge deleting expired entries.';

revoke all on function audit.refuse_change() from public;

create trigger refuse_update_delete
  before update or delete on audit.log
  for each row
  execute function audit.refuse_change();

comment on trigger refuse_update_delete on audit.log is
  'Append-only: UPDATE always fails, DELETE fails outside the retention purge.';

create trigger refuse_truncate
  before truncate on audit.log
  for each statement
  execute function audit.refuse_change();

comment on trigger refuse_truncate on audit.log is
  'Append-only: TRUNCATE always fails.';

create trigger refuse_update_delete
  before update or delete on audit.seals
  for each row
  execute function audit.refuse_change();

comment on trigger refuse_update_delete on audit.seals is
  'Append-only: UPDATE always fails, DELETE fails outside the retention purge.';

create trigger refuse_truncate
  before truncate on audit.seals
  for each statement
  execute function audit.refuse_change();

comment on trigger refuse_truncate on audit.seals is
  'Append-only: TRUNCATE always fails.';

-- Sealing and verification ---------------------------------------------------------------------------------

create function audit.seal(max_entries integer default 10000)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_limit integer := coalesce(max_entries, 2147483647);
  v_head audit.chain_head;
  v_horizon bigint;
  v_ids bigint[];
  v_digests bytea[];
  v_prevs bytea[] := '{}';
  v_hashes bytea[] := '{}';
  v_prev bytea;
  v_n integer;
begin
  if v_limit < 1 then
    raise exception 'audit.seal: max_entries must be positive, got %', max_entries using errcode = '22023';
  end if;
  -- One sealer at a time, until commit; writers never take this lock.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('shipspeak.audit.seal', 0));
  select h.* into v_head from audit.chain_head h;
  -- Transactions below the snapshot's xmin have all finished, so every entry they wrote is visible now and
  -- none can appear later: those are sealed. Entries of running transactions (whatever their id) wait for
  -- a later run. An entry's txid is assigned before its id is drawn, and our own transaction counts as running.
  v_horizon := least(pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint,
                     coalesce(pg_catalog.pg_current_xact_id_if_assigned()::text::bigint, 9223372036854775807));
  select pg_catalog.array_agg(c.id order by c.txid, c.id),
         pg_catalog.array_agg(audit.entry_digest(c.id, c.occurred_at, c.txid, c.actor, c.db_role, c.jwt_role, c.table_name,
                                                 c.operation, c.record_id, c.subject, c.changed_columns, c.old_values,
                                                 c.new_values) order by c.txid, c.id)
    into v_ids, v_digests
  from (
    select l.*
    from audit.log l
    where l.txid >= v_head.sealed_below_txid and l.txid < v_horizon
      and not exists (select from audit.seals s where s.entry_id = l.id)
    order by l.txid, l.id
    limit v_limit
  ) c;
  v_n := coalesce(pg_catalog.cardinality(v_ids), 0);
  -- The chain itself: each link hashes the previous one, so it is folded in order.
  v_prev := v_head.last_hash;
  for i in 1 .. v_n loop
    v_prevs[i] := v_prev;
    v_prev := pg_catalog.sha256(v_prev || v_digests[i]);
    v_hashes[i] := v_prev;
  end loop;
  insert into audit.seals (seq, entry_id, prev_hash, hash)
  select v_head.last_seq + x.ord, x.entry_id, x.prev_hash, x.hash
  from rows from (pg_catalog.unnest(v_ids), pg_catalog.unnest(v_prevs), pg_catalog.unnest(v_hashes))
    with ordinality as x (entry_id, prev_hash, hash, ord);
  update audit.chain_head h
     set last_seq = v_head.last_seq + v_n,
         last_hash = v_prev,
         -- Caught up only when the limit did not cut the run short.
         sealed_below_txid = case when v_n < v_limit then greatest(v_head.sealed_below_txid, v_horizon)
                                  else v_head.sealed_below_txid end;
  return v_n;
end;
$$;

comment on function audit.seal(integer) is
  'Owner-only sealer (pg_cron every minute where installed; also run by public.purge_expired and audit.verify_chain): chains up to max_entries (null = all) entries of finished transactions into audit.seals, in (txid, id) order, and returns how many it sealed. Serialised by an advisory lock; writers never wait for it.';

revoke all on function audit.seal(integer) from public;

create function audit.verify_chain()
returns bigint
language plpgsql
set search_path = ''
as $$
declare
  v_head audit.chain_head;
  v_expected bytea;
  v_last_entry bigint;
  v_unsealed bigint;
  r record;
begin
  perform audit.seal(null);
  select h.* into v_head from audit.chain_head h;
  v_expected := v_head.anchor_hash;
  for r in
    select s.entry_id, s.prev_hash, s.hash, l.id,
           audit.entry_digest(l.id, l.occurred_at, l.txid, l.actor, l.db_role, l.jwt_role, l.table_name, l.operation,
                              l.record_id, l.subject, l.changed_columns, l.old_values, l.new_values) as digest
    from audit.seals s
    left join audit.log l on l.id = s.entry_id
    order by s.seq
  loop
    if r.id is null
       or r.prev_hash is distinct from v_expected
       or r.hash is distinct from pg_catalog.sha256(r.prev_hash || r.digest) then
      return r.entry_id;
    end if;
    v_expected := r.hash;
    v_last_entry := r.entry_id;
  end loop;
  -- Links cut off the end of the chain: the head still remembers the latest hash.
  if v_head.last_hash is distinct from v_expected then
    return coalesce(v_last_entry, 0);
  end if;
  -- An entry the sealer has passed without sealing was inserted behind its back (or lost its link).
  select pg_catalog.min(l.id) into v_unsealed
  from audit.log l
  where l.txid < v_head.sealed_below_txid
    and not exists (select from audit.seals s where s.entry_id = l.id);
  return v_unsealed;
end;
$$;

comment on function audit.verify_chain() is
  'Seals what can be sealed (audit.seal), then recomputes the chain in seal order; returns the id of the first entry whose link or content does not verify or whose entry is missing (0 when every link is gone but the head says otherwise, the last entry when links were cut off the end, an unsealed entry the sealer had already passed), or null when intact. Entries of still-running transactions are not covered yet.';

revoke all on function audit.verify_chain() from public;

-- pg_cron, where installed in this database (Supabase: create extension pg_cron): seal every minute, which
-- bounds the window in which an entry is logged but not yet tamper-evident.
do $$
begin
  if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    perform cron.schedule('shipspeak-audit-seal', '* * * * *', 'select audit.seal()');
  end if;
end
$$;

-- Erasure ------------------------------------------------------------------------------------------------

create function audit.forget_subject()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_pseudonym uuid;
begin
  delete from audit.subject_keys s where s.user_id = old.id returning s.pseudonym into v_pseudonym;
  if v_pseudonym is not null then
    perform audit.append_event('ERASE', 'auth.users', v_pseudonym, pg_catalog.jsonb_build_object('subject', v_pseudonym), null);
  end if;
  return null;
end;
$$;

comment on function audit.forget_subject() is
  'Deferred (commit-time) AFTER DELETE constraint trigger on auth.users: deletes the person''s pseudonym and secret and records an ERASE entry under the pseudonym, after the cascaded deletes were audited with it (proved by tests/privacy/audit.test.ts).';

revoke all on function audit.forget_subject() from public;

-- When this runs matters. RI cascades run their DELETEs with fire_triggers = false, so the audit triggers
-- of the cascaded rows are queued behind every trigger of the auth.users statement: neither a row trigger
-- named to sort after RI_ConstraintTrigger_* nor a statement trigger runs late enough (both were tried;
-- the ERASE came before the cascaded DELETE entries). A constraint trigger deferred to commit runs after
-- all of them, whatever the names.
create constraint trigger zz_audit_forget_subject
  after delete on auth.users
  deferrable initially deferred
  for each row
  execute function audit.forget_subject();

comment on trigger zz_audit_forget_subject on auth.users is
  'ShipSpeak: erasure = crypto-shredding of the audit pseudonym at commit (audit.forget_subject).';

-- Attach the triggers ------------------------------------------------------------------------------------

create trigger audit_insert
  after insert on public.profiles
  referencing new table as new_rows
  for each statement
  execute function audit.capture_profiles();

create trigger audit_update
  after update on public.profiles
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture_profiles();

create trigger audit_delete
  after delete on public.profiles
  referencing old table as old_rows
  for each statement
  execute function audit.capture_profiles();

create trigger audit_truncate
  after truncate on public.profiles
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.user_progress
  referencing new table as new_rows
  for each statement
  execute function audit.capture_user_progress();

create trigger audit_update
  after update on public.user_progress
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture_user_progress();

create trigger audit_delete
  after delete on public.user_progress
  referencing old table as old_rows
  for each statement
  execute function audit.capture_user_progress();

create trigger audit_truncate
  after truncate on public.user_progress
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.usage_metrics
  referencing new table as new_rows
  for each statement
  execute function audit.capture_usage_metrics();

create trigger audit_update
  after update on public.usage_metrics
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture_usage_metrics();

create trigger audit_delete
  after delete on public.usage_metrics
  referencing old table as old_rows
  for each statement
  execute function audit.capture_usage_metrics();

create trigger audit_truncate
  after truncate on public.usage_metrics
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.meetings
  referencing new table as new_rows
  for each statement
  execute function audit.capture_meetings();

create trigger audit_update
  after update on public.meetings
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture_meetings();

create trigger audit_delete
  after delete on public.meetings
  referencing old table as old_rows
  for each statement
  execute function audit.capture_meetings();

create trigger audit_truncate
  after truncate on public.meetings
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.meeting_transcripts
  referencing new table as new_rows
  for each statement
  execute function audit.capture_meeting_transcripts();

create trigger audit_update
  after update on public.meeting_transcripts
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture_meeting_transcripts();

create trigger audit_delete
  after delete on public.meeting_transcripts
  referencing old table as old_rows
  for each statement
  execute function audit.capture_meeting_transcripts();

create trigger audit_truncate
  after truncate on public.meeting_transcripts
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.meeting_analyses
  referencing new table as new_rows
  for each statement
  execute function audit.capture_meeting_analyses();

create trigger audit_update
  after update on public.meeting_analyses
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture_meeting_analyses();

create trigger audit_delete
  after delete on public.meeting_analyses
  referencing old table as old_rows
  for each statement
  execute function audit.capture_meeting_analyses();

create trigger audit_truncate
  after truncate on public.meeting_analyses
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.modules
  referencing new table as new_rows
  for each statement
  execute function audit.capture_modules();

create trigger audit_update
  after update on public.modules
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture_modules();

create trigger audit_delete
  after delete on public.modules
  referencing old table as old_rows
  for each statement
  execute function audit.capture_modules();

create trigger audit_truncate
  after truncate on public.modules
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.practice_sessions
  referencing new table as new_rows
  for each statement
  execute function audit.capture_practice_sessions();

create trigger audit_update
  after update on public.practice_sessions
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture_practice_sessions();

create trigger audit_delete
  after delete on public.practice_sessions
  referencing old table as old_rows
  for each statement
  execute function audit.capture_practice_sessions();

create trigger audit_truncate
  after truncate on public.practice_sessions
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.session_feedback
  referencing new table as new_rows
  for each statement
  execute function audit.capture_session_feedback();

create trigger audit_update
  after update on public.session_feedback
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture_session_feedback();

create trigger audit_delete
  after delete on public.session_feedback
  referencing old table as old_rows
  for each statement
  execute function audit.capture_session_feedback();

create trigger audit_truncate
  after truncate on public.session_feedback
  for each statement
  execute function audit.capture_truncate();

-- Privileges: nothing in audit for the API roles, stated explicitly so a later grant shows up in review.

revoke all on all tables in schema audit from public, anon, authenticated, service_role;

revoke all on all sequences in schema audit from public, anon, authenticated, service_role;

revoke all on all functions in schema audit from public, anon, authenticated, service_role;

-- A user's own audit entries ------------------------------------------------------------------------------

create function public.my_audit_events(max_events integer default 100)
returns table (
  id bigint,
  occurred_at timestamptz,
  table_name text,
  operation text,
  record_id jsonb,
  changed_columns text[],
  by_me boolean,
  db_role text
)
language sql
stable
security definer
set search_path = ''
as $$
  select l.id, l.occurred_at, l.table_name, l.operation, l.record_id, l.changed_columns,
         l.actor is not distinct from k.pseudonym, l.db_role
  from audit.subject_keys k
  join audit.log l on l.subject = k.pseudonym
  where k.user_id = (select auth.uid())
  order by l.id desc
  limit least(greatest(coalesce(max_events, 100), 1), 1000)
$$;

comment on function public.my_audit_events(integer) is
  'RPC for the signed-in user: the latest changes to rows about them (newest first, at most 1000): when, which table and record, what operation, which columns, whether they or a service made it. Never old/new values or other people''s actor ids.';

revoke all on function public.my_audit_events(integer) from public;

revoke all on function public.my_audit_events(integer) from anon;

revoke all on function public.my_audit_events(integer) from service_role;

grant execute on function public.my_audit_events(integer) to authenticated;
