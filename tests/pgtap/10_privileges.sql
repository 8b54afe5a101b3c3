-- Table, column, schema and function privileges: the wall in front of RLS. Catalog-driven over every table in
-- public, so a new table that keeps Supabase's default "ALL to anon/authenticated" fails here.
begin;

select plan(
  3 * (select count(*)::integer from pg_catalog.pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p'))
  + 26
);

select tests.setup_fixture();

-- anon: no privilege of any kind on any table in public
select ok(
  not (has_table_privilege('anon', c.oid, 'select') or has_table_privilege('anon', c.oid, 'insert')
       or has_table_privilege('anon', c.oid, 'update') or has_table_privilege('anon', c.oid, 'delete')
       or has_table_privilege('anon', c.oid, 'truncate') or has_table_privilege('anon', c.oid, 'references')
       or has_table_privilege('anon', c.oid, 'trigger')
       or has_any_column_privilege('anon', c.oid, 'select, insert, update, references')),
  format('anon holds no privilege on public.%s', c.relname)
)
from pg_catalog.pg_class c
where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
order by c.relname;

-- authenticated: never TRUNCATE (bypasses RLS), REFERENCES or TRIGGER
select ok(
  not (has_table_privilege('authenticated', c.oid, 'truncate') or has_table_privilege('authenticated', c.oid, 'references')
       or has_table_privilege('authenticated', c.oid, 'trigger')),
  format('authenticated cannot truncate, reference or add triggers to public.%s', c.relname)
)
from pg_catalog.pg_class c
where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
order by c.relname;

-- service_role: the backend keeps full DML everywhere
select ok(
  has_table_privilege('service_role', c.oid, 'select') and has_table_privilege('service_role', c.oid, 'insert')
  and has_table_privilege('service_role', c.oid, 'update') and has_table_privilege('service_role', c.oid, 'delete'),
  format('service_role keeps select/insert/update/delete on public.%s', c.relname)
)
from pg_catalog.pg_class c
where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
order by c.relname;

-- TRUNCATE really fails (RLS would not have stopped it)
select tests.act_as('free_a');
select throws_ok('truncate public.meetings cascade', '42501', 'permission denied for table meetings', 'a member cannot TRUNCATE meetings');
select throws_ok('truncate public.usage_metrics', '42501', 'permission denied for table usage_metrics', 'a member cannot TRUNCATE usage_metrics (quota reset)');
select tests.act_as('anon');
select throws_ok('truncate public.profiles cascade', '42501', 'permission denied for table profiles', 'anon cannot TRUNCATE profiles');
select tests.reset_role();
select isnt((select count(*) from public.meetings), 0::bigint, 'meetings still hold their rows');

-- Column privileges: users write display columns and progress fields only
select ok(has_column_privilege('authenticated', 'public.profiles', 'display_name', 'update'), 'profiles.display_name is user-updatable');
select ok(has_column_privilege('authenticated', 'public.profiles', 'preferences', 'update'), 'profiles.preferences is user-updatable');
select ok(not has_column_privilege('authenticated', 'public.profiles', 'role', 'update'), 'profiles.role is not user-updatable');
select ok(not has_column_privilege('authenticated', 'public.profiles', 'tier', 'update'), 'profiles.tier is not user-updatable');
select ok(not has_column_privilege('authenticated', 'public.profiles', 'id', 'update'), 'profiles.id is not user-updatable');
select ok(not has_table_privilege('authenticated', 'public.profiles', 'insert'), 'profiles cannot be inserted by users (signup trigger only)');
select ok(not has_column_privilege('authenticated', 'public.meetings', 'user_id', 'update'), 'meetings.user_id (owner) is not user-updatable');
select ok(not has_column_privilege('authenticated', 'public.meetings', 'status', 'update'), 'meetings.status belongs to the pipeline');
select ok(not has_column_privilege('authenticated', 'public.practice_sessions', 'overall_score', 'update'), 'practice_sessions.overall_score belongs to the feedback pipeline');
select ok(not has_column_privilege('authenticated', 'public.usage_metrics', 'occurred_at', 'insert'), 'usage_metrics.occurred_at cannot be forged (backdating)');

-- Schemas and functions
select ok(not has_schema_privilege('anon', 'private', 'usage'), 'anon has no usage on schema private');
select ok(not has_schema_privilege('authenticated', 'private', 'usage'), 'authenticated has no usage on schema private (helpers are not API endpoints)');
select ok(not has_function_privilege('anon', 'private.is_admin()', 'execute'), 'anon cannot execute private.is_admin()');
select ok(has_function_privilege('authenticated', 'private.current_tier()', 'execute'), 'authenticated can execute private.current_tier() (policies call it)');
select ok(not has_function_privilege('authenticated', 'private.enforce_meeting_quota()', 'execute'), 'the quota trigger function is not callable');
select ok(not has_function_privilege('anon', 'public.admin_usage_summary(timestamptz, timestamptz)', 'execute'), 'anon cannot execute admin_usage_summary');
select ok(not has_table_privilege('authenticated', 'private.tier_quotas', 'select'), 'quota configuration is not readable by users');

select tests.act_as('free_a');
select throws_ok('select private.is_admin()', '42501', 'permission denied for schema private', 'a member cannot call private helpers directly');
select throws_ok($$update private.tier_quotas set max_count = null$$, '42501', 'permission denied for schema private', 'a member cannot lift their quota');
select tests.reset_role();

-- Real-database guard: the API roles are not superusers and cannot bypass RLS (except service_role)
select ok(not (select rolbypassrls or rolsuper from pg_catalog.pg_roles where rolname = 'authenticated'), 'authenticated neither superuser nor BYPASSRLS');
select ok(not (select rolbypassrls or rolsuper from pg_catalog.pg_roles where rolname = 'anon'), 'anon neither superuser nor BYPASSRLS');
select ok((select rolbypassrls and not rolsuper from pg_catalog.pg_roles where rolname = 'service_role'), 'service_role bypasses RLS but is no superuser');

select * from finish();

rollback;
