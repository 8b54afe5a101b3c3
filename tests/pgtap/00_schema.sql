-- Schema shape and catalog-wide security rules. The catalog-driven assertions iterate over whatever exists
-- in schema public, so a new table without RLS, without an owner index or with a sloppy policy fails here.
begin;

select plan(
  9 + 9 + 9 + 12 + 2
  + (select count(*)::integer from pg_catalog.pg_class c where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p'))
  + (select count(*)::integer from tests.matrix_tables where owner_column is not null)
  + 6
);

-- Tables
select has_table('public', t, format('table public.%s exists', t))
from unnest(array['profiles', 'user_progress', 'usage_metrics', 'meetings', 'meeting_transcripts', 'meeting_analyses',
                  'modules', 'practice_sessions', 'session_feedback']) as t;

-- Columns
select columns_are('public', 'meeting_analyses', array['id', 'meeting_id', 'user_id', 'transcript_id', 'model', 'prompt_version', 'input_tokens', 'output_tokens', 'cost_usd', 'insights', 'recommendations', 'sampling', 'sampled_segment_count', 'total_segment_count', 'overall_score', 'dimension_scores', 'created_at']);
select columns_are('public', 'meeting_transcripts', array['id', 'meeting_id', 'user_id', 'language', 'segments', 'speaker_count', 'word_count', 'created_at']);
select columns_are('public', 'meetings', array['id', 'user_id', 'title', 'started_at', 'duration_seconds', 'status', 'status_changed_at', 'failure_reason', 'storage_object_path', 'platform', 'participant_count', 'created_at', 'updated_at']);
select columns_are('public', 'modules', array['id', 'slug', 'title', 'description', 'dimension', 'difficulty', 'required_tier', 'is_published', 'estimated_minutes', 'content', 'scenario_template', 'created_by', 'created_at', 'updated_at']);
select columns_are('public', 'practice_sessions', array['id', 'user_id', 'module_id', 'source_meeting_id', 'status', 'started_at', 'completed_at', 'duration_seconds', 'overall_score', 'metrics', 'scenario', 'created_at', 'updated_at']);
select columns_are('public', 'profiles', array['id', 'display_name', 'avatar_url', 'role', 'tier', 'preferences', 'timezone', 'onboarded_at', 'created_at', 'updated_at']);
select columns_are('public', 'session_feedback', array['id', 'session_id', 'user_id', 'summary', 'feedback', 'overall_score', 'dimension_scores', 'improvement_delta', 'model', 'created_at']);
select columns_are('public', 'usage_metrics', array['id', 'user_id', 'kind', 'quantity', 'occurred_at']);
select columns_are('public', 'user_progress', array['user_id', 'dimension', 'score', 'level', 'streak_days', 'last_practised_at', 'updated_at']);

-- Primary keys
select col_is_pk('public', 'meeting_analyses', '{id}'::name[], 'public.meeting_analyses primary key');
select col_is_pk('public', 'meeting_transcripts', '{id}'::name[], 'public.meeting_transcripts primary key');
select col_is_pk('public', 'meetings', '{id}'::name[], 'public.meetings primary key');
select col_is_pk('public', 'modules', '{id}'::name[], 'public.modules primary key');
select col_is_pk('public', 'practice_sessions', '{id}'::name[], 'public.practice_sessions primary key');
select col_is_pk('public', 'profiles', '{id}'::name[], 'public.profiles primary key');
select col_is_pk('public', 'session_feedback', '{id}'::name[], 'public.session_feedback primary key');
select col_is_pk('public', 'usage_metrics', '{id}'::name[], 'public.usage_metrics primary key');
select col_is_pk('public', 'user_progress', '{user_id,dimension}'::name[], 'public.user_progress primary key');

-- Foreign keys (composite ones pin a child row to its parent's owner)
select fk_ok('public', 'meeting_analyses', '{meeting_id,user_id}'::name[], 'public', 'meetings', '{id,user_id}'::name[]);
select fk_ok('public', 'meeting_analyses', '{transcript_id,meeting_id}'::name[], 'public', 'meeting_transcripts', '{id,meeting_id}'::name[]);
select fk_ok('public', 'meeting_transcripts', '{meeting_id,user_id}'::name[], 'public', 'meetings', '{id,user_id}'::name[]);
select fk_ok('public', 'meetings', '{user_id}'::name[], 'auth', 'users', '{id}'::name[]);
select fk_ok('public', 'modules', '{created_by}'::name[], 'auth', 'users', '{id}'::name[]);
select fk_ok('public', 'practice_sessions', '{module_id}'::name[], 'public', 'modules', '{id}'::name[]);
select fk_ok('public', 'practice_sessions', '{source_meeting_id,user_id}'::name[], 'public', 'meetings', '{id,user_id}'::name[]);
select fk_ok('public', 'practice_sessions', '{user_id}'::name[], 'auth', 'users', '{id}'::name[]);
select fk_ok('public', 'profiles', '{id}'::name[], 'auth', 'users', '{id}'::name[]);
select fk_ok('public', 'session_feedback', '{session_id,user_id}'::name[], 'public', 'practice_sessions', '{id,user_id}'::name[]);
select fk_ok('public', 'usage_metrics', '{user_id}'::name[], 'auth', 'users', '{id}'::name[]);
select fk_ok('public', 'user_progress', '{user_id}'::name[], 'auth', 'users', '{id}'::name[]);

-- Indexes the policies need beyond the owner columns
select has_index('public', 'modules', 'modules_required_tier_idx', 'modules: index for the tier filter of the select policy');
select has_index('public', 'modules', 'modules_published_dimension_difficulty_idx', 'modules: catalogue browsing index');

-- RLS enabled on EVERY table in public (catalog-driven: a new table without RLS fails here)
select ok(c.relrowsecurity, format('RLS is enabled on public.%s', c.relname))
from pg_catalog.pg_class c
where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
order by c.relname;

-- Every owner column (the column every owner policy filters on) leads an index
select ok(
  exists (
    select 1
    from pg_catalog.pg_index i
    join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
    where i.indrelid = ('public.' || m.tbl)::regclass and a.attname = m.owner_column
  ),
  format('public.%s: an index leads with the owner column %s', m.tbl, m.owner_column)
)
from tests.matrix_tables as m
where m.owner_column is not null
order by m.tbl;

-- Policy hygiene, over every policy in public
select is(
  (select array_agg(format('%s.%s', tablename, policyname) order by 1) from pg_catalog.pg_policies
    where schemaname = 'public' and roles @> array['public']::name[]),
  null,
  'every policy names its role (no policy applies to PUBLIC)'
);

select is(
  (select array_agg(format('%s.%s', tablename, policyname) order by 1) from pg_catalog.pg_policies
    where schemaname = 'public'
      and (select count(*) from regexp_matches(coalesce(qual, '') || ' ' || coalesce(with_check, ''), 'auth\.uid\(\)', 'g'))
       <> (select count(*) from regexp_matches(coalesce(qual, '') || ' ' || coalesce(with_check, ''), 'SELECT auth\.uid\(\)', 'g'))),
  null,
  'every auth.uid() in a policy is wrapped as (select auth.uid()) (evaluated once per statement)'
);

select is(
  (select array_agg(format('%s.%s', tablename, policyname) order by 1) from pg_catalog.pg_policies
    where schemaname = 'public'
      and (select count(*) from regexp_matches(coalesce(qual, '') || ' ' || coalesce(with_check, ''), 'private\.[a-z_]+\(\)', 'g'))
       <> (select count(*) from regexp_matches(coalesce(qual, '') || ' ' || coalesce(with_check, ''), 'SELECT private\.[a-z_]+\(\)', 'g'))),
  null,
  'every private helper in a policy is wrapped as (select private.fn())'
);

select is(
  (select array_agg(d order by d) from (
     select format('%s %s %s', p.tablename, r.role, c.cmd) as d
     from pg_catalog.pg_policies p
     cross join lateral unnest(p.roles) as r (role)
     cross join lateral unnest(case when p.cmd = 'ALL' then array['SELECT', 'INSERT', 'UPDATE', 'DELETE'] else array[p.cmd] end) as c (cmd)
     where p.schemaname = 'public' and p.permissive = 'PERMISSIVE'
     group by 1
     having count(*) > 1) as dup),
  null,
  'no table has two permissive policies for the same role and action'
);

select is(
  (select array_agg(format('%s.%s', c.relname, p.polname) order by 1)
     from pg_catalog.pg_policy p join pg_catalog.pg_class c on c.oid = p.polrelid
    where c.relnamespace = 'public'::regnamespace and obj_description(p.oid, 'pg_policy') is null),
  null,
  'every policy has a comment'
);

select is(
  (select array_agg(p.oid::regprocedure::text order by 1)
     from pg_catalog.pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
      and p.prosecdef
      and not coalesce(p.proconfig @> array['search_path=""'], false)),
  null,
  'every SECURITY DEFINER function in public and private pins search_path to '''''
);

select * from finish();

rollback;
