-- pgTAP helpers (schema tests), applied once by src/harness/pgtap/suite.ts to the scratch database after the
-- migrations and before pg_prove runs tests/pgtap/*.sql. In the spirit of supabase-test-helpers:
-- create users through auth.users (so the signup trigger runs), act as a persona exactly the way
-- PostgREST does (set local role + request.jwt.claims), and go back to the superuser.
-- tests.matrix / tests.matrix_tables are filled by the runner from tests/rls/matrix.json, so the SQL suite
-- asserts the same file as the supabase-js suite.

create schema tests;

comment on schema tests is 'pgTAP helpers and fixture ids; exists only in the pgTAP scratch database.';

-- The personas call tests.act_as() to switch between each other, so they need to read the id table.
grant usage on schema tests to anon, authenticated, service_role;

create table tests.matrix (
  tbl text not null,
  persona text not null,
  op text not null,
  expected text not null,
  primary key (tbl, persona, op)
);

comment on table tests.matrix is 'tests/rls/matrix.json flattened by the runner: one row per cell.';

create table tests.matrix_tables (
  tbl text primary key,
  owner_column text
);

comment on table tests.matrix_tables is 'tests/rls/matrix.json tables and their owner columns (null = not user-owned).';

grant select on tests.matrix, tests.matrix_tables to anon, authenticated, service_role;

-- Fixture ids by key ('free_a', 'free_a.meeting', 'module.free', ...). Filled inside each test file's
-- transaction by tests.setup_fixture(), so it rolls back with the file.
create table tests.ids (
  key text primary key,
  id uuid not null
);

comment on table tests.ids is 'Ids of the rows tests.setup_fixture() created in the current transaction, by key.';

grant select on tests.ids to anon, authenticated, service_role;

create function tests.id(p_key text)
returns uuid
language plpgsql
stable
as $$
declare
  v uuid;
begin
  select i.id into v from tests.ids as i where i.key = p_key;
  if v is null then
    raise exception 'tests.id: no fixture id named %', p_key;
  end if;
  return v;
end;
$$;

comment on function tests.id(text) is 'Fixture id by key; raises when the key is unknown so a typo cannot silently test nothing.';

-- A user created the way Supabase Auth creates one: an auth.users row. The signup trigger makes the
-- profile; tier and role are then set by a privileged writer, as billing/admin tooling does.
create function tests.create_user(
  p_email text,
  p_tier public.subscription_tier default 'free',
  p_role public.app_role default 'member',
  p_user_metadata jsonb default '{}'::jsonb
)
returns uuid
language plpgsql
as $$
declare
  v_id uuid := gen_random_uuid();
begin
  insert into auth.users (id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
  values (v_id, 'authenticated', 'authenticated', p_email, '{"provider": "email"}'::jsonb, p_user_metadata, now(), now());
  update public.profiles set tier = p_tier, role = p_role where id = v_id;
  return v_id;
end;
$$;

comment on function tests.create_user(text, public.subscription_tier, public.app_role, jsonb) is
  'Inserts an auth.users row (signup trigger creates profile and progress), then sets tier and role; returns the id.';

-- Acting as a user: exactly what PostgREST does per request (role from the JWT, claims as a local setting).
create function tests.act_as_user(p_id uuid, p_extra_claims jsonb default '{}'::jsonb)
returns void
language plpgsql
as $$
begin
  perform set_config('request.jwt.claims',
    (jsonb_build_object('sub', p_id, 'role', 'authenticated', 'aud', 'authenticated') || p_extra_claims)::text,
    true);
  execute 'set local role authenticated';
end;
$$;

comment on function tests.act_as_user(uuid, jsonb) is 'set local role authenticated + request.jwt.claims for the user (extra claims merged in, e.g. a forged user_metadata).';

-- Persona by name: anon, service_role, or a fixture user key (free_a, free_b, pro, admin).
create function tests.act_as(p_persona text)
returns void
language plpgsql
as $$
begin
  if p_persona = 'anon' then
    perform set_config('request.jwt.claims', '{"role": "anon"}', true);
    execute 'set local role anon';
  elsif p_persona = 'service_role' then
    perform set_config('request.jwt.claims', '{"role": "service_role"}', true);
    execute 'set local role service_role';
  else
    perform tests.act_as_user(tests.id(p_persona));
  end if;
end;
$$;

comment on function tests.act_as(text) is 'Become a persona of the matrix (anon, service_role, or a fixture user) for the rest of the transaction.';

create function tests.reset_role()
returns void
language plpgsql
as $$
begin
  execute 'reset role';
  perform set_config('request.jwt.claims', '', true);
end;
$$;

comment on function tests.reset_role() is 'Back to the superuser that runs the test file, with no JWT claims.';

-- The fixture every isolation test starts from: four users (two free, one pro, one admin), each owning
-- one row in every owned table, and a catalogue with free, pro and enterprise published modules and a
-- draft. Runs as the superuser inside the test file's transaction.
create function tests.setup_fixture()
returns void
language plpgsql
as $$
declare
  u record;
  v_meeting uuid;
  v_transcript uuid;
  v_session uuid;
begin
  insert into tests.ids values
    ('free_a', tests.create_user('free_a@example.test', 'free', 'member')),
    ('free_b', tests.create_user('free_b@example.test', 'free', 'member')),
    ('pro', tests.create_user('pro@example.test', 'pro', 'member')),
    ('admin', tests.create_user('admin@example.test', 'free', 'admin'));

  insert into tests.ids
  select 'module.' || m.k, m.id
  from (values ('free', gen_random_uuid()), ('pro', gen_random_uuid()), ('enterprise', gen_random_uuid()), ('draft', gen_random_uuid())) as m (k, id);

  insert into public.modules (id, slug, title, dimension, required_tier, is_published, created_by) values
    (tests.id('module.free'), 'fixture-free', 'Free module', 'clarity', 'free', true, tests.id('admin')),
    (tests.id('module.pro'), 'fixture-pro', 'Pro module', 'confidence', 'pro', true, tests.id('admin')),
    (tests.id('module.enterprise'), 'fixture-enterprise', 'Enterprise module', 'structure', 'enterprise', true, tests.id('admin')),
    (tests.id('module.draft'), 'fixture-draft', 'Draft module', 'pacing', 'free', false, tests.id('admin'));

  for u in select i.key, i.id from tests.ids as i where i.key in ('free_a', 'free_b', 'pro', 'admin') loop
    -- The quota trigger records one meeting_uploaded usage event for this meeting: the user's usage row.
    insert into public.meetings (user_id, title, storage_object_path, status)
    values (u.id, 'Fixture meeting', u.id || '/fixture.m4a', 'completed')
    returning id into v_meeting;
    insert into public.meeting_transcripts (meeting_id, user_id, language, segments, speaker_count, word_count)
    values (v_meeting, u.id, 'en', '[{"speaker": "A", "start_ms": 0, "end_ms": 1000, "text": "Hello"}]', 1, 1)
    returning id into v_transcript;
    insert into public.meeting_analyses (meeting_id, user_id, transcript_id, model, prompt_version, sampling, sampled_segment_count, total_segment_count)
    values (v_meeting, u.id, v_transcript, 'fixture/model', 'v1', '{"strategy": "full", "segments": [{"index": 0, "reason": "full"}]}', 1, 1);
    -- Sessions reference the pro module, so module.free has no practice history and may be deleted.
    insert into public.practice_sessions (user_id, module_id, source_meeting_id)
    values (u.id, tests.id('module.pro'), v_meeting)
    returning id into v_session;
    insert into public.session_feedback (session_id, user_id, summary, model)
    values (v_session, u.id, 'Fixture feedback', 'fixture/model');
    insert into tests.ids values (u.key || '.meeting', v_meeting), (u.key || '.transcript', v_transcript), (u.key || '.session', v_session);
  end loop;
end;
$$;

comment on function tests.setup_fixture() is 'Creates the matrix fixture (users free_a, free_b, pro, admin with one row per owned table; modules free/pro/enterprise/draft) and records ids in tests.ids.';

-- ---------------------------------------------------------------------------------------------------
-- Matrix probes. Each cell is observed, not assumed: the persona really runs the statement, and the
-- observed behaviour is classified with the matrix vocabulary. Everything a probe does is rolled back.
-- ---------------------------------------------------------------------------------------------------

-- Predicate selecting the probe's target row owned by p_owner (the catalogue: the free published module).
create function tests.target(p_tbl text, p_owner uuid)
returns text
language plpgsql
stable
as $$
begin
  return case p_tbl
    when 'profiles' then format('id = %L', p_owner)
    when 'user_progress' then format('user_id = %L and dimension = %L', p_owner, 'clarity')
    when 'modules' then format('id = %L', tests.id('module.free'))
    else format('user_id = %L', p_owner)
  end;
end;
$$;

comment on function tests.target(text, uuid) is 'WHERE predicate of the one row a probe updates or deletes for an owner.';

-- (column, marker value) an update probe writes: a column the persona may legitimately update where any update is allowed.
create function tests.update_set(p_tbl text)
returns text
language sql
immutable
as $$
  select case p_tbl
    when 'profiles' then $s$display_name = 'probe-mark'$s$
    when 'user_progress' then $s$level = 99$s$
    when 'usage_metrics' then $s$quantity = 99$s$
    when 'meetings' then $s$title = 'probe-mark'$s$
    when 'meeting_transcripts' then $s$word_count = 99$s$
    when 'meeting_analyses' then $s$model = 'probe-mark'$s$
    when 'modules' then $s$title = 'probe-mark'$s$
    when 'practice_sessions' then $s$duration_seconds = 99$s$
    when 'session_feedback' then $s$summary = 'probe-mark'$s$
  end
$$;

comment on function tests.update_set(text) is 'SET clause of the update probe; the same text doubles as the "was it changed" predicate.';

-- Superuser preparation so an insert for p_owner can only fail for authorisation reasons (free unique slots).
create function tests.insert_prepare(p_tbl text, p_owner uuid)
returns void
language plpgsql
as $$
begin
  case p_tbl
    when 'profiles' then delete from public.profiles where id = p_owner;
    when 'user_progress' then delete from public.user_progress where user_id = p_owner and dimension = 'clarity';
    when 'meeting_transcripts' then delete from public.meeting_transcripts where user_id = p_owner;
    when 'session_feedback' then delete from public.session_feedback where user_id = p_owner;
    else null;
  end case;
end;
$$;

comment on function tests.insert_prepare(text, uuid) is 'Frees the unique slot an insert probe needs (run as superuser, inside the probe''s rolled-back block).';

-- A valid insert of one row owned by p_owner, using only columns users may insert where users may insert.
create function tests.insert_sql(p_tbl text, p_owner uuid, p_owner_key text)
returns text
language plpgsql
stable
as $$
begin
  return case p_tbl
    when 'profiles' then format('insert into public.profiles (id, display_name) values (%L, %L)', p_owner, 'Probe')
    when 'user_progress' then format('insert into public.user_progress (user_id, dimension) values (%L, %L)', p_owner, 'clarity')
    when 'usage_metrics' then format('insert into public.usage_metrics (user_id, kind, quantity) values (%L, %L, 1)', p_owner, 'minutes_transcribed')
    when 'meetings' then format('insert into public.meetings (user_id, title, storage_object_path) values (%L, %L, %L)', p_owner, 'Probe', p_owner || '/probe.m4a')
    when 'meeting_transcripts' then format('insert into public.meeting_transcripts (meeting_id, user_id, language) values (%L, %L, %L)',
      tests.id(p_owner_key || '.meeting'), p_owner, 'en')
    when 'meeting_analyses' then format('insert into public.meeting_analyses (meeting_id, user_id, model, prompt_version, sampling, sampled_segment_count, total_segment_count) values (%L, %L, %L, %L, %L, 0, 0)',
      tests.id(p_owner_key || '.meeting'), p_owner, 'probe/model', 'v1', '{"strategy": "full", "segments": []}')
    when 'modules' then format('insert into public.modules (slug, title, dimension) values (%L, %L, %L)', 'probe-module', 'Probe', 'clarity')
    when 'practice_sessions' then format('insert into public.practice_sessions (user_id, module_id) values (%L, %L)', p_owner, tests.id('module.free'))
    when 'session_feedback' then format('insert into public.session_feedback (session_id, user_id, summary, model) values (%L, %L, %L, %L)',
      tests.id(p_owner_key || '.session'), p_owner, 'Probe', 'probe/model')
  end;
end;
$$;

comment on function tests.insert_sql(text, uuid, text) is 'INSERT statement of one valid row owned by the given user (owner ignored for modules).';

-- Runs one statement as the persona in its own subtransaction: 'ok:<rows>' or '<sqlstate>:<message>'.
create function tests.try_as(p_persona text, p_sql text)
returns text
language plpgsql
as $$
declare
  n bigint;
begin
  perform tests.act_as(p_persona);
  execute p_sql;
  get diagnostics n = row_count;
  perform tests.reset_role();
  return 'ok:' || n;
exception when others then
  -- The subtransaction is gone, and with it the role switch.
  return sqlstate || ':' || sqlerrm;
end;
$$;

comment on function tests.try_as(text, text) is 'Runs a statement as a persona; returns ok:<row count> or <SQLSTATE>:<message> (a failed statement leaves no trace).';

-- Row fingerprints of a table as seen by the current role (order-free comparison of row sets).
create function tests.fingerprints(p_tbl text, p_where text default 'true')
returns text[]
language plpgsql
as $$
declare
  v text[];
begin
  execute format('select coalesce(array_agg(md5(to_jsonb(t)::text) order by 1), ''{}'') from public.%I as t where %s', p_tbl, p_where) into v;
  return v;
end;
$$;

comment on function tests.fingerprints(text, text) is 'Sorted md5 fingerprints of the rows of a public table matching a predicate, as the current role sees them.';

-- The observed outcome of one matrix cell, in the matrix vocabulary; anything unexpected is spelled out.
create function tests.observe(p_persona text, p_tbl text, p_op text)
returns text
language plpgsql
as $$
declare
  v_owner_col text := (select m.owner_column from tests.matrix_tables as m where m.tbl = p_tbl);
  v_self_key text := case when p_persona in ('anon', 'service_role') then 'free_a' else p_persona end;
  v_other_key text := case when v_self_key = 'free_a' then 'free_b' else 'free_a' end;
  v_self uuid := tests.id(v_self_key);
  v_other uuid := tests.id(v_other_key);
  v_result text;
  r_self text;
  r_other text;
  v_all text[];
  v_own text[];
  v_tier text[];
  v_seen text[];
  v_changed bigint;
begin
  begin
    if p_op = 'select' then
      v_all := tests.fingerprints(p_tbl);
      v_own := case when v_owner_col is null then null else tests.fingerprints(p_tbl, format('%I = %L', v_owner_col, v_self)) end;
      v_tier := case when p_tbl = 'modules' and p_persona not in ('anon', 'service_role') then tests.fingerprints(p_tbl,
        format('is_published and required_tier <= (select p.tier from public.profiles p where p.id = %L)', v_self)) end;
      if cardinality(v_all) < 2 or (v_own is not null and (cardinality(v_own) = 0 or v_own = v_all)) then
        raise exception 'fixture too small to tell outcomes apart for %', p_tbl;
      end if;
      begin
        perform tests.act_as(p_persona);
        v_seen := tests.fingerprints(p_tbl);
        perform tests.reset_role();
        v_result := case
          when cardinality(v_seen) = 0 then 'none'
          when v_seen = v_own then 'own'
          when v_seen = v_tier then 'tier'
          when v_seen = v_all then 'all'
          else format('other: %s of %s rows visible', cardinality(v_seen), cardinality(v_all))
        end;
      exception when others then
        v_result := case when sqlstate = '42501' then 'denied' else 'error ' || sqlstate || ': ' || sqlerrm end;
      end;

    elsif p_op = 'insert' then
      perform tests.insert_prepare(p_tbl, v_self);
      perform tests.insert_prepare(p_tbl, v_other);
      r_self := tests.try_as(p_persona, tests.insert_sql(p_tbl, v_self, v_self_key));
      if v_owner_col is null then
        v_result := case when r_self = 'ok:1' then 'all' when r_self like '42501:%' then 'denied' else 'error ' || r_self end;
      else
        r_other := tests.try_as(p_persona, tests.insert_sql(p_tbl, v_other, v_other_key));
        v_result := case
          when r_self like '42501:%' and r_other like '42501:%' then 'denied'
          when r_self = 'ok:1' and r_other like '42501:%' then 'own'
          when r_self = 'ok:1' and r_other = 'ok:1' then 'all'
          else format('error: own row -> %s; other row -> %s', r_self, r_other)
        end;
      end if;

    else
      -- update / delete: first someone else's row (must stay untouched unless "all"), then the own row.
      declare
        v_stmt text := case p_op
          when 'update' then format('update public.%I set %s where ', p_tbl, tests.update_set(p_tbl))
          else format('delete from public.%I where ', p_tbl)
        end;
        v_probe_other text := tests.target(p_tbl, v_other);
        v_probe_self text := tests.target(p_tbl, v_self);
      begin
        r_other := tests.try_as(p_persona, v_stmt || v_probe_other);
        -- As the superuser: did the other user's row change?
        if p_op = 'update' then
          execute format('select count(*) from public.%I where %s and %s', p_tbl, v_probe_other, replace(tests.update_set(p_tbl), ' = ', ' is not distinct from ')) into v_changed;
        else
          execute format('select 1 - count(*) from public.%I where %s', p_tbl, v_probe_other) into v_changed;
        end if;
        if r_other in ('ok:0') and v_changed <> 0 then
          v_result := format('BREACH: 0 rows reported but the other user''s row was %s', case when p_op = 'update' then 'changed' else 'deleted' end);
        elsif v_owner_col is null then
          v_result := case when r_other = 'ok:1' and v_changed = 1 then 'all' when r_other = 'ok:0' then 'none' when r_other like '42501:%' then 'denied' else 'error ' || r_other end;
        else
          r_self := tests.try_as(p_persona, v_stmt || v_probe_self);
          v_result := case
            when r_self like '42501:%' and r_other like '42501:%' then 'denied'
            when r_self = 'ok:0' and r_other = 'ok:0' then 'none'
            when r_self = 'ok:1' and r_other = 'ok:0' then 'own'
            when r_self = 'ok:1' and r_other = 'ok:1' and v_changed = 1 then 'all'
            else format('error: own row -> %s; other row -> %s', r_self, r_other)
          end;
          -- The probes above name a row, so PostgreSQL also applies the SELECT policy and would hide a
          -- weakened UPDATE/DELETE policy. A blanket statement (no WHERE, constant SET) is checked by the
          -- UPDATE/DELETE policy alone: it must not reach the other user's row either.
          if v_result in ('own', 'none') then
            perform tests.try_as(p_persona, case p_op
              when 'update' then format('update public.%I set %s', p_tbl, tests.update_set(p_tbl))
              else format('delete from public.%I', p_tbl) end);
            if p_op = 'update' then
              execute format('select count(*) from public.%I where %s and %s', p_tbl, v_probe_other, replace(tests.update_set(p_tbl), ' = ', ' is not distinct from ')) into v_changed;
            else
              execute format('select 1 - count(*) from public.%I where %s', p_tbl, v_probe_other) into v_changed;
            end if;
            if v_changed <> 0 then
              v_result := format('BREACH: a blanket %s (no WHERE) reached the other user''s row', upper(p_op));
            end if;
          end if;
        end if;
      end;
    end if;
    -- Undo everything the probe did (rows, role, claims) by failing this block on purpose.
    raise exception using errcode = 'TSTRB', message = v_result;
  exception when sqlstate 'TSTRB' then
    return sqlerrm;
  end;
end;
$$;

comment on function tests.observe(text, text, text) is 'Acts out one matrix cell on the fixture and returns the observed outcome (denied/none/own/tier/all, or a description of anything else). Leaves no trace.';

-- The full error a persona gets (message, detail, hint), for asserting what a client would be shown.
create function tests.error_as(p_persona text, p_sql text)
returns jsonb
language plpgsql
as $$
declare
  v_state text;
  v_message text;
  v_detail text;
  v_hint text;
begin
  perform tests.act_as(p_persona);
  execute p_sql;
  perform tests.reset_role();
  return null;
exception when others then
  get stacked diagnostics v_state = returned_sqlstate, v_message = message_text, v_detail = pg_exception_detail, v_hint = pg_exception_hint;
  return jsonb_build_object('sqlstate', v_state, 'message', v_message, 'detail', v_detail, 'hint', v_hint);
end;
$$;

comment on function tests.error_as(text, text) is 'Runs a statement as a persona; returns null on success, else {sqlstate, message, detail, hint}. Leaves no trace.';
