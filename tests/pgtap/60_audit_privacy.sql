-- Audit trail, retention and privacy facts in SQL, as each role sees them (tests/privacy holds the vitest
-- side on PGlite and PostgreSQL, including the hash chain: sealing only chains entries of finished
-- transactions, which a single rolled-back pgTAP transaction cannot produce).
begin;

select plan(34);

select tests.setup_fixture();

-- The audit schema is closed to every API role.
select is(has_schema_privilege(r, 'audit', 'usage'), false, format('%s has no usage on schema audit', r))
from unnest(array['anon', 'authenticated', 'service_role']) as r;

-- Every write of the fixture was recorded, per table.
select ok(exists (select from audit.log l where l.table_name = t and l.operation = 'INSERT'), format('inserts into public.%s are audited', t))
from unnest(array['profiles', 'user_progress', 'usage_metrics', 'meetings', 'meeting_transcripts', 'meeting_analyses',
                  'modules', 'practice_sessions', 'session_feedback']) as t;

-- Not a second copy of personal data: no raw user id, no email, no transcript text.
select is(
  (select count(*)::integer from audit.log l where l::text like '%' || tests.id('free_a')::text || '%'),
  0, 'no audit entry holds free_a''s raw user id (user ids are pseudonymised)'
);
select is((select count(*)::integer from audit.log l where l::text like '%@example.test%'), 0, 'no audit entry holds an email address');
select is(
  (select count(*)::integer from audit.log l where l.table_name = 'meeting_transcripts' and l::text like '%Hello%'),
  0, 'transcript text is redacted in the log'
);
select ok(
  (select bool_and(l.subject is not null) from audit.log l where l.table_name = 'meetings'),
  'every meetings entry names its subject by pseudonym'
);

-- Append-only, even for the owner running this file.
select throws_ok($$update audit.log set operation = operation$$, '42501', 'audit.log is append-only: UPDATE is not allowed', 'UPDATE on audit.log is refused');
select throws_ok($$delete from audit.log$$, '42501', 'audit.log is append-only: DELETE is not allowed', 'DELETE on audit.log is refused');
select throws_ok($$truncate audit.log$$, '42501', null, 'TRUNCATE on audit.log is refused');

-- Users read their own events through the narrow function only, never other people's pseudonyms or values.
select tests.act_as('free_a');
select throws_ok($$select count(*) from audit.log$$, '42501', null, 'a signed-in user cannot read audit.log');
select ok((select count(*) from public.my_audit_events(100)) > 0, 'my_audit_events() returns the caller''s own events');
select tests.reset_role();

-- Export (GDPR Art. 15/20): everything of the caller, nothing of anyone else.
select tests.act_as('free_a');
select is(
  (select public.export_my_data() -> 'tables' -> 'meetings' -> 0 ->> 'id')::uuid,
  tests.id('free_a.meeting'),
  'export_my_data() contains the caller''s meeting'
);
select is(
  (select count(*)::integer from jsonb_each(public.export_my_data() -> 'tables') t, jsonb_array_elements(t.value) r
    where r::text like '%' || tests.id('free_b')::text || '%'),
  0, 'export_my_data() contains nothing of another user'
);
select ok(
  (select count(*) from jsonb_object_keys(public.export_my_data() -> 'tables')) >= 8,
  'export_my_data() covers every user-owned table (found from the catalog)'
);
select tests.reset_role();
select tests.act_as('anon');
select throws_ok($$select public.export_my_data()$$, '42501', null, 'anon cannot call export_my_data()');
select tests.reset_role();

-- Retention: bad configuration is rejected with a message naming the policy; purging is the backend's.
select throws_ok(
  $$insert into audit.retention_policies (table_name, timestamp_column, keep_days) values ('no_such_table', 'created_at', 30)$$,
  '22023', 'retention policy for public.no_such_table: table does not exist', 'a policy for an unknown table is rejected');
select throws_ok(
  $$update audit.retention_policies set timestamp_column = 'nope' where table_name = 'meetings'$$,
  '22023', 'retention policy for public.meetings: column "nope" does not exist', 'a policy on an unknown column is rejected');
select throws_ok(
  $$update audit.retention_policies set timestamp_column = 'title' where table_name = 'meetings'$$,
  '22023', null, 'a policy on a non-timestamp column is rejected');
select throws_ok(
  $$update audit.retention_policies set keep_days = 0 where table_name = 'meetings'$$,
  '22023', 'retention policy for public.meetings: keep_days must be a positive number of days, got 0', 'non-positive keep_days is rejected');
select tests.act_as('free_a');
select throws_ok($$select * from public.purge_expired()$$, '42501', null, 'a member cannot run the retention purge');
select tests.reset_role();

-- Erasure: deleting the auth user removes every row that references them; the log keeps its entries,
-- now unlinkable (the deferred trigger deletes the pseudonym key at commit; SET CONSTRAINTS fires it now).
create temporary table before_erasure on commit drop as
  select (select count(*) from audit.log) as entries,
         (select pseudonym from audit.subject_keys where user_id = tests.id('free_b')) as pseudonym;
delete from auth.users where id = tests.id('free_b');
set constraints all immediate;
select is(
  (select count(*)::integer from audit.subject_keys where user_id = tests.id('free_b')),
  0, 'erasure deletes the subject''s pseudonym key (crypto-shredding)'
);
select ok((select count(*) from audit.log) > (select entries from before_erasure), 'erasure removes no audit entry (the cascade and the erasure are logged)');
select ok(
  exists (select from audit.log l where l.subject = (select pseudonym from before_erasure)),
  'entries about the erased user remain, under a pseudonym nothing links to them any more'
);
select is(
  (select count(*)::integer from audit.log l where l::text like '%' || tests.id('free_b')::text || '%'),
  0, 'no audit entry holds the erased user''s id'
);

select * from finish();

rollback;
