-- Cross-user access by id, child rows under someone else's parent, owner changes, privilege escalation and
-- the admin boundary. Hidden rows are not errors: reads see nothing and writes affect 0 rows, and the
-- victim's rows are checked to be untouched. WITH CHECK and privilege violations fail loudly (42501).
begin;

select plan(
  (select count(*)::integer from tests.matrix_tables where owner_column is not null)
  + 44
);

select tests.setup_fixture();

-- free_b looks up every row free_a owns, by owner id: nothing, in every owned table
select tests.act_as('free_b');
select is_empty(
  format('select 1 from public.%I where %I = %L', m.tbl, m.owner_column, tests.id('free_a')),
  format('free_b sees none of free_a''s rows in %s', m.tbl)
)
from tests.matrix_tables as m
where m.owner_column is not null
order by m.tbl;
select is_empty(format('select 1 from public.meetings where id = %L', tests.id('free_a.meeting')), 'free_b cannot read free_a''s meeting by its id');
select is_empty(format('select 1 from public.practice_sessions where id = %L', tests.id('free_a.session')), 'free_b cannot read free_a''s practice session by its id');
select tests.reset_role();

-- Writes to someone else's rows by id: 0 rows affected, rows untouched
select is(tests.try_as('free_b', format($$update public.meetings set title = 'pwned' where id = %L$$, tests.id('free_a.meeting'))), 'ok:0', 'free_b updating free_a''s meeting affects 0 rows');
select is((select title from public.meetings where id = tests.id('free_a.meeting')), 'Fixture meeting', 'free_a''s meeting title is unchanged');
select is(tests.try_as('free_b', format('delete from public.meetings where id = %L', tests.id('free_a.meeting'))), 'ok:0', 'free_b deleting free_a''s meeting affects 0 rows');
select isnt_empty(format('select 1 from public.meetings where id = %L', tests.id('free_a.meeting')), 'free_a''s meeting still exists');
select is(tests.try_as('free_b', format($$update public.profiles set display_name = 'pwned' where id = %L$$, tests.id('free_a'))), 'ok:0', 'free_b updating free_a''s profile affects 0 rows');
select is(tests.try_as('free_b', format('update public.practice_sessions set duration_seconds = 1 where id = %L', tests.id('free_a.session'))), 'ok:0', 'free_b updating free_a''s session affects 0 rows');
select is(tests.try_as('free_b', format('delete from public.practice_sessions where id = %L', tests.id('free_a.session'))), 'ok:0', 'free_b deleting free_a''s session affects 0 rows');
select isnt_empty(format('select 1 from public.practice_sessions where id = %L and duration_seconds is null', tests.id('free_a.session')), 'free_a''s session is untouched');

-- WITH CHECK violations: loud errors with PostgreSQL's message
select tests.act_as('free_a');
select throws_ok(
  format($$insert into public.meetings (user_id, title, storage_object_path) values (%L, 'planted', %L)$$, tests.id('free_b'), tests.id('free_b') || '/planted.m4a'),
  '42501', 'new row violates row-level security policy for table "meetings"', 'free_a cannot create a meeting owned by free_b');
select throws_ok(
  format($$insert into public.usage_metrics (user_id, kind) values (%L, 'analysis_tokens')$$, tests.id('free_b')),
  '42501', 'new row violates row-level security policy for table "usage_metrics"', 'free_a cannot record usage for free_b');
select throws_ok(
  format($$insert into public.practice_sessions (user_id, module_id, source_meeting_id) values (%L, %L, %L)$$, tests.id('free_b'), tests.id('module.free'), tests.id('free_b.meeting')),
  '42501', 'new row violates row-level security policy for table "practice_sessions"', 'free_a cannot start a session owned by free_b');
select throws_ok(
  format($$insert into public.practice_sessions (user_id, module_id, source_meeting_id) values (%L, %L, %L)$$, tests.id('free_a'), tests.id('module.free'), tests.id('free_b.meeting')),
  '23503', 'insert or update on table "practice_sessions" violates foreign key constraint "practice_sessions_source_meeting_fkey"',
  'free_a cannot hang a session under free_b''s meeting (composite foreign key)');
select throws_ok(
  format($$insert into public.meeting_transcripts (meeting_id, user_id, language) values (%L, %L, 'en')$$, tests.id('free_a.meeting'), tests.id('free_a')),
  '42501', 'permission denied for table meeting_transcripts', 'users cannot write transcripts, even for their own meeting (pipeline only)');
select throws_ok(
  format($$insert into public.session_feedback (session_id, user_id, summary, model) values (%L, %L, 'self-praise', 'me')$$, tests.id('free_a.session'), tests.id('free_a')),
  '42501', 'permission denied for table session_feedback', 'users cannot write their own AI feedback');
select throws_ok(
  format($$insert into public.usage_metrics (user_id, kind, occurred_at) values (%L, 'meeting_uploaded', '2000-01-01')$$, tests.id('free_a')),
  '42501', 'permission denied for table usage_metrics', 'users cannot backdate usage events');

-- Tier gate on practice: modules above the user's tier cannot be practised (nor seen)
select throws_ok(
  format($$insert into public.practice_sessions (user_id, module_id) values (%L, %L)$$, tests.id('free_a'), tests.id('module.pro')),
  '42501', 'new row violates row-level security policy for table "practice_sessions"', 'a free member cannot start a pro module');
select is_empty(format('select 1 from public.modules where id = %L', tests.id('module.pro')), 'a free member does not see pro modules');
select tests.act_as('pro');
select lives_ok(
  format($$insert into public.practice_sessions (user_id, module_id) values (%L, %L)$$, tests.id('pro'), tests.id('module.pro')),
  'a pro member starts a pro module');
select throws_ok(
  format($$insert into public.practice_sessions (user_id, module_id) values (%L, %L)$$, tests.id('pro'), tests.id('module.enterprise')),
  '42501', 'new row violates row-level security policy for table "practice_sessions"', 'a pro member cannot start an enterprise module');
select is_empty(format('select 1 from public.modules where id = %L', tests.id('module.draft')), 'members never see draft modules');

-- Nobody changes a row's owner: users lack the column privilege, and even service_role hits the trigger
select tests.act_as('free_a');
select throws_ok(
  format('update public.meetings set user_id = %L where id = %L', tests.id('free_b'), tests.id('free_a.meeting')),
  '42501', 'permission denied for table meetings', 'free_a cannot give their meeting to free_b');
select tests.act_as('service_role');
select throws_ok(
  format('update public.meetings set user_id = %L where id = %L', tests.id('free_b'), tests.id('free_a.meeting')),
  '42501', 'public.meetings.user_id is the row owner and cannot change', 'service_role cannot re-assign a meeting either');
select throws_ok(
  format('update public.usage_metrics set user_id = %L where user_id = %L', tests.id('free_b'), tests.id('free_a')),
  '42501', 'public.usage_metrics.user_id is the row owner and cannot change', 'usage cannot be moved to another user');
select tests.reset_role();

-- Privilege escalation through every path: update, upsert, a second profile, forged metadata claims
select tests.act_as('free_a');
select throws_ok(format($$update public.profiles set role = 'admin' where id = %L$$, tests.id('free_a')),
  '42501', 'permission denied for table profiles', 'free_a cannot make themselves admin');
select throws_ok(format($$update public.profiles set tier = 'enterprise' where id = %L$$, tests.id('free_a')),
  '42501', 'permission denied for table profiles', 'free_a cannot upgrade their own tier');
select throws_ok(format($$update public.profiles set display_name = 'x', tier = 'pro' where id = %L$$, tests.id('free_a')),
  '42501', 'permission denied for table profiles', 'smuggling tier into a display-name update fails as a whole');
select throws_ok(format('update public.profiles set id = %L where id = %L', gen_random_uuid(), tests.id('free_a')),
  '42501', 'permission denied for table profiles', 'free_a cannot change their profile id');
select throws_ok(format($$insert into public.profiles (id, role, tier) values (%L, 'admin', 'enterprise') on conflict (id) do update set role = 'admin', tier = 'enterprise'$$, tests.id('free_a')),
  '42501', 'permission denied for table profiles', 'upsert of one''s own profile with role/tier fails');
select throws_ok(format($$insert into public.profiles (id, role) values (%L, 'admin')$$, gen_random_uuid()),
  '42501', 'permission denied for table profiles', 'a second profile cannot be inserted');
select throws_ok(format('delete from public.profiles where id = %L', tests.id('free_a')),
  '42501', 'permission denied for table profiles', 'users cannot delete their profile (erasure deletes the auth user)');
select lives_ok(format($$update public.profiles set display_name = 'Alice A.', timezone = 'Europe/Paris' where id = %L$$, tests.id('free_a')),
  'free_a edits their own display fields');
select tests.act_as_user(tests.id('free_a'), '{"user_metadata": {"role": "admin", "tier": "enterprise"}, "app_role": "admin"}');
select throws_ok($$insert into public.modules (slug, title, dimension) values ('forged', 'Forged', 'clarity')$$,
  '42501', 'new row violates row-level security policy for table "modules"', 'a JWT with forged user_metadata role admin grants nothing');
select tests.reset_role();
select results_eq(
  format('select role::text, tier::text, display_name from public.profiles where id = %L', tests.id('free_a')),
  $$values ('member', 'free', 'Alice A.')$$,
  'after every attempt free_a is still a free member; only the display name changed');

-- Admins: manage the catalogue, aggregate usage only, no access to other users' content
select tests.act_as('admin');
select is((select count(*) from public.meeting_transcripts where user_id <> tests.id('admin')), 0::bigint, 'an admin sees no other user''s transcripts');
select is((select count(*) from public.meeting_analyses where user_id <> tests.id('admin')), 0::bigint, 'an admin sees no other user''s analyses');
select is((select count(*) from public.session_feedback where user_id <> tests.id('admin')), 0::bigint, 'an admin sees no other user''s feedback');
select isnt_empty(format('select 1 from public.modules where id = %L', tests.id('module.draft')), 'an admin sees draft modules');
select tests.reset_role();
select is(
  (select jsonb_agg(s order by s.kind, s.tier) from (select * from public.admin_usage_summary(now() - interval '1 day', now() + interval '1 day')) as s),
  (select jsonb_agg(x order by x.kind, x.tier) from (
     select u.kind, p.tier, count(distinct u.user_id) as users, count(*) as events, sum(u.quantity) as total_quantity
     from public.usage_metrics u join public.profiles p on p.id = u.user_id
     where u.occurred_at >= now() - interval '1 day' and u.occurred_at < now() + interval '1 day'
     group by 1, 2) as x),
  'admin_usage_summary returns the per-kind, per-tier aggregates (computed independently here)');
select tests.act_as('admin');
select isnt_empty($$select * from public.admin_usage_summary(now() - interval '1 day', now() + interval '1 day')$$, 'an admin can read aggregate usage');
select tests.act_as('free_a');
select throws_ok($$select * from public.admin_usage_summary(now() - interval '1 day', now())$$, '42501', 'admin_usage_summary is for admins only', 'a member cannot read aggregate usage');
select tests.act_as('anon');
select throws_ok($$select * from public.admin_usage_summary(now() - interval '1 day', now())$$, '42501', 'permission denied for function admin_usage_summary', 'anon cannot call admin_usage_summary');
select tests.reset_role();
select ok(pg_get_function_result('public.admin_usage_summary(timestamptz, timestamptz)'::regprocedure) !~ 'user_id', 'admin_usage_summary returns no user ids');

select * from finish();

rollback;
