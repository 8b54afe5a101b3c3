-- 0020 audit trail: who did what to which record, in an append-only, hash-chained log that is not a second
-- copy of personal data.
--
-- Design (README-privacy "Audit trail"):
--   * schema audit is not exposed through the API and the API roles get no privilege on anything in it;
--   * AFTER ... FOR EACH STATEMENT triggers with transition tables on the nine tables write one entry per
--     changed row (one trigger call per statement keeps the overhead per row small);
--   * every column of an audited table is classified (audit.column_classification): 'keep' values are
--     logged as they are, 'redact' values (content and personal data) are replaced by a marker holding a
--     hash keyed with the data subject's secret, 'pseudonymise' values (the user id columns) are replaced
--     by the subject's pseudonym. A column nobody classified is redacted (fail safe);
--   * pseudonyms and secrets live in audit.subject_keys; erasing the auth user deletes that row, after
--     the cascaded deletes were audited. The log rows never change, yet nothing links them to the person
--     any more (crypto-shredding), and the hash chain still verifies;
--   * entries are chained: hash = sha256(prev_hash || digest(entry)); writers serialise on the single
--     audit.chain_head row (locked by UPDATE until commit), so chain order is commit order;
--   * UPDATE, DELETE and TRUNCATE on the log are refused by a trigger for every role; only the retention
--     purge (0021) may delete old entries, identified by a token row it writes in audit.purge_runs.

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

-- The log ------------------------------------------------------------------------------------------------

create sequence audit.log_id_seq;

comment on sequence audit.log_id_seq is
  'Ids of audit.log; drawn only while holding the chain head lock, so id order is chain order.';

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
  prev_hash bytea not null,
  hash bytea not null,
  constraint log_pkey primary key (id),
  constraint log_operation_known check (operation in ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'PURGE', 'ERASE')),
  constraint log_hash_length check (octet_length(hash) = 32 and octet_length(prev_hash) = 32)
);

alter sequence audit.log_id_seq owned by audit.log.id;

comment on table audit.log is
  'Append-only, hash-chained audit trail of every insert/update/delete on the audited public tables, plus retention purges and erasures. Content and personal values are redacted and user ids pseudonymised at write time.';

comment on column audit.log.occurred_at is
  'Transaction time of the change.';

comment on column audit.log.txid is
  'Transaction id: entries of one transaction share it.';

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

comment on column audit.log.prev_hash is
  'hash of the previous entry (or of the chain anchor for the oldest retained entry).';

comment on column audit.log.hash is
  'sha256(prev_hash || audit.entry_digest(entry)); audit.verify_chain() recomputes it.';

create index log_subject_id_idx
  on audit.log (subject, id)
  where subject is not null;

create table audit.chain_head (
  singleton boolean not null default true,
  last_id bigint,
  last_hash bytea not null,
  anchor_hash bytea not null,
  constraint chain_head_pkey primary key (singleton),
  constraint chain_head_single_row check (singleton)
);

comment on table audit.chain_head is
  'One row: the hash of the latest entry (writers lock it with UPDATE, serialising the chain) and the anchor, i.e. the prev_hash the oldest retained entry must carry (genesis zeros until a retention purge removes old entries).';

insert into audit.chain_head (singleton, last_id, last_hash, anchor_hash)
values (true, null, decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'));

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
  'sha256 of an entry''s content (every column but the hashes), independent of session settings.';

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

-- Appends one entry (purges, erasures, truncates). Row changes go through audit.capture()'s set-based path.
create function audit.append_event(
  p_operation text, p_table_name text, p_subject uuid, p_record_id jsonb, p_new_values jsonb
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_prev bytea;
  v_id bigint;
  v_at timestamptz := pg_catalog.now();
  v_txid bigint := pg_catalog.pg_current_xact_id()::text::bigint;
  v_actor uuid;
  v_role text := audit.current_db_role();
  v_jwt_role text := auth.role();
  v_uid uuid := auth.uid();
begin
  update audit.chain_head set singleton = true returning last_hash into v_prev;
  if v_uid is not null then
    select k.pseudonym into v_actor from audit.subject_keys k where k.user_id = v_uid;
  end if;
  v_id := pg_catalog.nextval('audit.log_id_seq');
  insert into audit.log (id, occurred_at, txid, actor, db_role, jwt_role, table_name, operation, record_id, subject,
                         changed_columns, old_values, new_values, prev_hash, hash)
  values (v_id, v_at, v_txid, v_actor, v_role, v_jwt_role, p_table_name, p_operation, p_record_id, p_subject,
          null, null, p_new_values, v_prev,
          pg_catalog.sha256(v_prev || audit.entry_digest(v_id, v_at, v_txid, v_actor, v_role, v_jwt_role, p_table_name,
                                                         p_operation, p_record_id, p_subject, null, null, p_new_values)));
  update audit.chain_head
     set last_id = v_id,
         last_hash = (select l.hash from audit.log l where l.id = v_id);
  return v_id;
end;
$$;

comment on function audit.append_event(text, text, uuid, jsonb, jsonb) is
  'Appends one chained entry (PURGE, ERASE, TRUNCATE). Owner-only.';

revoke all on function audit.append_event(text, text, uuid, jsonb, jsonb) from public;

create function audit.capture()
returns trigger
language plpgsql
security definer
set search_path = ''
-- Its statements depend only on the trigger's table: plan once per table instead of on every call.
set plan_cache_mode = 'force_generic_plan'
as $$
declare
  v_subject_col text;
  v_key_cols text[];
  v_keep text[];
  v_pseudo text[];
  v_old jsonb[];
  v_new jsonb[];
  v_uid uuid := auth.uid();
  v_actor uuid;
  v_prev bytea;
  v_role text := audit.current_db_role();
  v_jwt_role text := auth.role();
  v_txid bigint;
  v_entries audit.log[];
  v_digests bytea[];
  v_prevs bytea[] := '{}';
  v_hashes bytea[] := '{}';
begin
  -- Retention purges record one PURGE entry per table instead of one entry per expired row.
  if pg_catalog.current_setting('audit.purge_txid', true) is not null and audit.purge_authorised() then
    return null;
  end if;

  select t.subject_column, t.key_columns into v_subject_col, v_key_cols
  from audit.audited_tables t where t.table_name = tg_table_name;
  if not found then
    raise exception 'audit.capture() fired on %.%, which is not listed in audit.audited_tables', tg_table_schema, tg_table_name;
  end if;
  select coalesce(pg_catalog.array_agg(c.column_name) filter (where c.audit_treatment = 'keep'), '{}'),
         coalesce(pg_catalog.array_agg(c.column_name) filter (where c.audit_treatment = 'pseudonymise'), '{}')
    into v_keep, v_pseudo
  from audit.column_classification c where c.table_name = tg_table_name;

  if tg_op = 'INSERT' then
    select pg_catalog.array_agg(pg_catalog.to_jsonb(n)) into v_new from new_rows n;
  elsif tg_op = 'DELETE' then
    select pg_catalog.array_agg(pg_catalog.to_jsonb(o)) into v_old from old_rows o;
  else
    -- Pair old and new versions by primary key (owner columns never change: private.forbid_owner_change).
    select pg_catalog.array_agg(o.j order by coalesce(o.k, n.k)::text), pg_catalog.array_agg(n.j order by coalesce(o.k, n.k)::text)
      into v_old, v_new
    from (select x.j, (select pg_catalog.jsonb_object_agg(c, x.j -> c) from pg_catalog.unnest(v_key_cols) c) as k
            from (select pg_catalog.to_jsonb(r) as j from old_rows r) x) o
    full join (select x.j, (select pg_catalog.jsonb_object_agg(c, x.j -> c) from pg_catalog.unnest(v_key_cols) c) as k
            from (select pg_catalog.to_jsonb(r) as j from new_rows r) x) n on n.k = o.k;
  end if;
  if coalesce(pg_catalog.cardinality(v_old), 0) = 0 and coalesce(pg_catalog.cardinality(v_new), 0) = 0 then
    return null;
  end if;

  -- Serialise the chain: the head row stays locked until this transaction ends.
  update audit.chain_head set singleton = true returning last_hash into v_prev;
  v_txid := pg_catalog.pg_current_xact_id()::text::bigint;

  -- Every person named by a pseudonymised column, and the actor, gets a pseudonym before it is needed.
  insert into audit.subject_keys (user_id)
  select distinct v.id
  from (
    select (j.j ->> c)::uuid as id
    from pg_catalog.unnest(coalesce(v_old, '{}') || coalesce(v_new, '{}')) as j (j)
    cross join pg_catalog.unnest(v_pseudo) as c
    union all
    select v_uid
  ) v
  where v.id is not null
  on conflict (user_id) do nothing;
  if v_uid is not null then
    select k.pseudonym into v_actor from audit.subject_keys k where k.user_id = v_uid;
  end if;

  with pairs as (
    select p.ord, p.o, p.n, coalesce(p.n ->> v_subject_col, p.o ->> v_subject_col)::uuid as subject_id,
           case when tg_op = 'UPDATE' then coalesce((
             select pg_catalog.array_agg(e.key order by e.key)
             from pg_catalog.jsonb_each(p.n) e
             where e.value is distinct from (p.o -> e.key)
           ), '{}') end as changed
    from rows from (pg_catalog.unnest(v_old), pg_catalog.unnest(v_new)) with ordinality as p (o, n, ord)
  ),
  shaped as (
    select p.ord, k.pseudonym as subject, p.changed,
           (select pg_catalog.jsonb_object_agg(c,
                     case when c = any (v_pseudo) and pg_catalog.jsonb_typeof(coalesce(p.n, p.o) -> c) <> 'null'
                          then (select pg_catalog.to_jsonb(s.pseudonym) from audit.subject_keys s
                                 where s.user_id = (coalesce(p.n, p.o) ->> c)::uuid)
                          else coalesce(p.n, p.o) -> c end)
              from pg_catalog.unnest(v_key_cols) c) as record_id,
           (select pg_catalog.jsonb_object_agg(e.key,
                     case
                       when pg_catalog.jsonb_typeof(e.value) = 'null' then e.value
                       when e.key = v_subject_col and (e.value #>> '{}')::uuid = p.subject_id then pg_catalog.to_jsonb(k.pseudonym)
                       when e.key = any (v_pseudo) then (select pg_catalog.to_jsonb(s.pseudonym) from audit.subject_keys s
                                                         where s.user_id = (e.value #>> '{}')::uuid)
                       when e.key = any (v_keep)
                            and not (pg_catalog.jsonb_typeof(e.value) = 'string'
                                     and (e.value #>> '{}') ~ '[^@[:space:]]+@[^@[:space:]]+\.[[:alpha:]]{2,}')
                         then e.value
                       else pg_catalog.to_jsonb('redacted:' || pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(
                              coalesce(k.secret, '\x'::bytea) || pg_catalog.convert_to(e.value::text, 'UTF8')), 'hex'), 32))
                     end)
              from pg_catalog.jsonb_each(p.o) e
             where p.changed is null or e.key = any (p.changed)) as old_values,
           (select pg_catalog.jsonb_object_agg(e.key,
                     case
                       when pg_catalog.jsonb_typeof(e.value) = 'null' then e.value
                       when e.key = v_subject_col and (e.value #>> '{}')::uuid = p.subject_id then pg_catalog.to_jsonb(k.pseudonym)
                       when e.key = any (v_pseudo) then (select pg_catalog.to_jsonb(s.pseudonym) from audit.subject_keys s
                                                         where s.user_id = (e.value #>> '{}')::uuid)
                       when e.key = any (v_keep)
                            and not (pg_catalog.jsonb_typeof(e.value) = 'string'
                                     and (e.value #>> '{}') ~ '[^@[:space:]]+@[^@[:space:]]+\.[[:alpha:]]{2,}')
                         then e.value
                       else pg_catalog.to_jsonb('redacted:' || pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(
                              coalesce(k.secret, '\x'::bytea) || pg_catalog.convert_to(e.value::text, 'UTF8')), 'hex'), 32))
                     end)
              from pg_catalog.jsonb_each(p.n) e
             where p.changed is null or e.key = any (p.changed)) as new_values
    from pairs p
    left join audit.subject_keys k on k.user_id = p.subject_id
  ),
  numbered as (
    select pg_catalog.nextval('audit.log_id_seq') as id, s.*
    from (select * from shaped order by ord) s
  )
  select pg_catalog.array_agg(row(n.id, pg_catalog.now(), v_txid, v_actor, v_role, v_jwt_role, tg_table_name, tg_op,
                                             n.record_id, n.subject, n.changed, n.old_values, n.new_values, null, null)::audit.log
                              order by n.id),
         pg_catalog.array_agg(audit.entry_digest(n.id, pg_catalog.now(), v_txid, v_actor, v_role, v_jwt_role, tg_table_name, tg_op,
                                                 n.record_id, n.subject, n.changed, n.old_values, n.new_values) order by n.id)
    into v_entries, v_digests
  from numbered n;

  -- The chain itself: each link hashes the previous one, so it is folded in order.
  for i in 1 .. pg_catalog.cardinality(v_digests) loop
    v_prevs[i] := v_prev;
    v_prev := pg_catalog.sha256(v_prev || v_digests[i]);
    v_hashes[i] := v_prev;
  end loop;

  insert into audit.log (id, occurred_at, txid, actor, db_role, jwt_role, table_name, operation, record_id, subject,
                         changed_columns, old_values, new_values, prev_hash, hash)
  select x.id, x.occurred_at, x.txid, x.actor, x.db_role, x.jwt_role, x.table_name, x.operation, x.record_id, x.subject,
         x.changed_columns, x.old_values, x.new_values, x.link_prev, x.link_hash
  from rows from (pg_catalog.unnest(v_entries), pg_catalog.unnest(v_prevs), pg_catalog.unnest(v_hashes))
    as x (id, occurred_at, txid, actor, db_role, jwt_role, table_name, operation, record_id, subject, changed_columns,
          old_values, new_values, prev_hash, hash, link_prev, link_hash);

  update audit.chain_head
     set last_id = v_entries[pg_catalog.cardinality(v_entries)].id,
         last_hash = v_prev;
  return null;
end;
$$;

comment on function audit.capture() is
  'AFTER ... FOR EACH STATEMENT trigger (transition tables old_rows/new_rows) on audited tables: appends one chained entry per changed row, values kept, redacted or pseudonymised per audit.column_classification (unclassified columns are redacted).';

revoke all on function audit.capture() from public;

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
  raise exception 'audit.log is append-only: % is not allowed', tg_op
    using errcode = '42501',
          hint = 'Entries are removed only by the retention purge (public.purge_expired); nothing may change them.';
end;
$$;

comment on function audit.refuse_change() is
  'BEFORE UPDATE/DELETE/TRUNCATE trigger on audit.log: refuses every change (SQLSTATE 42501) except a retention purge deleting expired entries.';

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

-- Verification -------------------------------------------------------------------------------------------

create function audit.verify_chain()
returns bigint
language plpgsql
stable
set search_path = ''
as $$
declare
  v_expected bytea;
  v_last_id bigint;
  r record;
begin
  select h.anchor_hash into v_expected from audit.chain_head h;
  for r in select l.* from audit.log l order by l.id loop
    if r.prev_hash is distinct from v_expected
       or r.hash is distinct from pg_catalog.sha256(r.prev_hash || audit.entry_digest(
            r.id, r.occurred_at, r.txid, r.actor, r.db_role, r.jwt_role, r.table_name, r.operation, r.record_id,
            r.subject, r.changed_columns, r.old_values, r.new_values)) then
      return r.id;
    end if;
    v_expected := r.hash;
    v_last_id := r.id;
  end loop;
  -- Entries cut off the end of the chain: the head still remembers the latest hash.
  if (select h.last_hash from audit.chain_head h) is distinct from v_expected then
    return coalesce(v_last_id, 0);
  end if;
  return null;
end;
$$;

comment on function audit.verify_chain() is
  'Recomputes the hash chain in id order; returns the id of the first entry whose link or content does not verify (0 when the whole log is gone but the head says otherwise, the last id when entries were cut off the end), or null when intact.';

revoke all on function audit.verify_chain() from public;

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
  execute function audit.capture();

create trigger audit_update
  after update on public.profiles
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_delete
  after delete on public.profiles
  referencing old table as old_rows
  for each statement
  execute function audit.capture();

create trigger audit_truncate
  after truncate on public.profiles
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.user_progress
  referencing new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_update
  after update on public.user_progress
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_delete
  after delete on public.user_progress
  referencing old table as old_rows
  for each statement
  execute function audit.capture();

create trigger audit_truncate
  after truncate on public.user_progress
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.usage_metrics
  referencing new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_update
  after update on public.usage_metrics
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_delete
  after delete on public.usage_metrics
  referencing old table as old_rows
  for each statement
  execute function audit.capture();

create trigger audit_truncate
  after truncate on public.usage_metrics
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.meetings
  referencing new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_update
  after update on public.meetings
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_delete
  after delete on public.meetings
  referencing old table as old_rows
  for each statement
  execute function audit.capture();

create trigger audit_truncate
  after truncate on public.meetings
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.meeting_transcripts
  referencing new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_update
  after update on public.meeting_transcripts
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_delete
  after delete on public.meeting_transcripts
  referencing old table as old_rows
  for each statement
  execute function audit.capture();

create trigger audit_truncate
  after truncate on public.meeting_transcripts
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.meeting_analyses
  referencing new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_update
  after update on public.meeting_analyses
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_delete
  after delete on public.meeting_analyses
  referencing old table as old_rows
  for each statement
  execute function audit.capture();

create trigger audit_truncate
  after truncate on public.meeting_analyses
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.modules
  referencing new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_update
  after update on public.modules
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_delete
  after delete on public.modules
  referencing old table as old_rows
  for each statement
  execute function audit.capture();

create trigger audit_truncate
  after truncate on public.modules
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.practice_sessions
  referencing new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_update
  after update on public.practice_sessions
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_delete
  after delete on public.practice_sessions
  referencing old table as old_rows
  for each statement
  execute function audit.capture();

create trigger audit_truncate
  after truncate on public.practice_sessions
  for each statement
  execute function audit.capture_truncate();

create trigger audit_insert
  after insert on public.session_feedback
  referencing new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_update
  after update on public.session_feedback
  referencing old table as old_rows new table as new_rows
  for each statement
  execute function audit.capture();

create trigger audit_delete
  after delete on public.session_feedback
  referencing old table as old_rows
  for each statement
  execute function audit.capture();

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
