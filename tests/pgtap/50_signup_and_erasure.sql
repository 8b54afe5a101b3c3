-- The signup trigger (profile with safe defaults, one progress row per dimension; user_metadata never
-- decides role or tier) and erasure (deleting the auth user removes everything they own, and nothing else).
begin;

select plan(
  7
  + 2 * (select count(*)::integer from tests.matrix_tables where owner_column is not null)
  + 1
);

select tests.setup_fixture();

insert into tests.ids values ('mallory', tests.create_user('mallory@example.test', 'free', 'member',
  '{"display_name": "Mallory", "role": "admin", "tier": "enterprise", "app_role": "admin", "avatar_url": "javascript:alert(1)"}'));
-- (create_user sets tier and role like billing would; the raw insert below shows the trigger's own defaults)
select results_eq(
  format('select role::text, tier::text, display_name, avatar_url from public.profiles where id = %L', tests.id('mallory')),
  $$values ('member', 'free', 'Mallory', null::text)$$,
  'signup: profile with role member, tier free, the display name, and an unsafe avatar dropped');

insert into auth.users (id, email, raw_user_meta_data) values
  ('00000000-0000-4000-8000-0000000000e1', 'raw@example.test', '{"full_name": "Raw Signup", "role": "admin", "tier": "pro", "avatar_url": "https://example.test/a.png"}');
select results_eq(
  $$select role::text, tier::text, display_name, avatar_url, preferences from public.profiles where id = '00000000-0000-4000-8000-0000000000e1'$$,
  $$values ('member', 'free', 'Raw Signup', 'https://example.test/a.png', '{}'::jsonb)$$,
  'signup trigger alone: defaults member/free whatever user_metadata claims; full_name and a safe avatar are kept');
select is(
  (select count(*)::integer from public.user_progress where user_id = '00000000-0000-4000-8000-0000000000e1'),
  cardinality(enum_range(null::public.learning_dimension)),
  'signup: one progress row per learning dimension');
select is(
  (select count(*)::integer from public.user_progress where user_id = '00000000-0000-4000-8000-0000000000e1' and score = 0 and level = 1 and streak_days = 0),
  cardinality(enum_range(null::public.learning_dimension)),
  'signup: progress starts at score 0, level 1, no streak');
select ok((select onboarded_at is null from public.profiles where id = '00000000-0000-4000-8000-0000000000e1'), 'signup: onboarding pending');
select ok((select created_at is not null and updated_at is not null from public.profiles where id = '00000000-0000-4000-8000-0000000000e1'), 'signup: timestamps set');
select throws_ok(
  $$insert into public.profiles (id) values ('00000000-0000-4000-8000-0000000000e1')$$,
  '23505', null, 'a user has exactly one profile');

-- Erasure: delete the auth user; every owned row in every owned table goes, other users keep theirs
create temporary table before_counts on commit drop as
select m.tbl, m.owner_column, 0::bigint as other_rows from tests.matrix_tables m where m.owner_column is not null;
do $$
declare
  r record;
  n bigint;
begin
  for r in select * from before_counts loop
    execute format('select count(*) from public.%I where %I <> %L', r.tbl, r.owner_column, tests.id('free_a')) into n;
    update before_counts set other_rows = n where tbl = r.tbl;
  end loop;
end
$$;

delete from auth.users where id = tests.id('free_a');

select is_empty(format('select 1 from public.%I where %I = %L', b.tbl, b.owner_column, tests.id('free_a')),
  format('erasure: no row of the deleted user is left in %s', b.tbl))
from before_counts b order by b.tbl;
select results_eq(format('select count(*) from public.%I', b.tbl), format('select %s::bigint', b.other_rows),
  format('erasure: other users'' rows in %s are all still there', b.tbl))
from before_counts b order by b.tbl;

delete from auth.users where id = tests.id('admin');
select is(
  (select count(*) from public.modules where created_by is null and id in (select id from tests.ids where key like 'module.%')),
  (select count(*) from tests.ids where key like 'module.%'),
  'modules authored by a deleted admin stay in the catalogue (created_by set to null)');

select * from finish();

rollback;
