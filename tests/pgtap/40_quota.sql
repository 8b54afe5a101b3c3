-- Usage-based permissions: meetings per calendar month by tier (private.tier_quotas), enforced by a trigger
-- inside the database for every writer, with a clear error. Limits are read from the configuration table,
-- never hard-coded here.
begin;

select plan(17);

create temporary table q (key text primary key, id uuid) on commit drop;
grant select on q to public;
insert into q values
  ('free', tests.create_user('quota-free@example.test', 'free')),
  ('free2', tests.create_user('quota-free2@example.test', 'free')),
  ('pro', tests.create_user('quota-pro@example.test', 'pro')),
  ('enterprise', tests.create_user('quota-enterprise@example.test', 'enterprise'));
insert into tests.ids select 'quota.' || key, id from q;
-- Personas cannot read private.tier_quotas; the configured limits are copied here for the assertions.
create temporary table limits on commit drop as
select tier::text, max_count from private.tier_quotas where metric = 'meeting_uploaded';
grant select on limits to public;

create function pg_temp.upload(p_key text, p_n integer)
returns text
language sql
as $$
  select format($f$insert into public.meetings (user_id, title, storage_object_path)
                   select %L, 'Quota ' || g, %L || '/quota-' || g || '-' || gen_random_uuid() || '.m4a' from generate_series(1, %s) g$f$,
                (select id from q where key = p_key), (select id from q where key = p_key), p_n)
$$;

select is((select max_count from private.tier_quotas where tier = 'free' and metric = 'meeting_uploaded'), 5, 'default: free allows 5 meetings per month');
select is((select max_count from private.tier_quotas where tier = 'pro' and metric = 'meeting_uploaded'), 100, 'default: pro allows 100 meetings per month');
select ok((select max_count is null from private.tier_quotas where tier = 'enterprise' and metric = 'meeting_uploaded'), 'default: enterprise is unlimited');

-- free: exactly the limit, then a clear refusal
select tests.act_as_user((select id from q where key = 'free'));
select lives_ok(pg_temp.upload('free', (select max_count from limits where tier = 'free')),
  'a free member uploads up to the monthly limit');
select throws_ok(pg_temp.upload('free', 1), 'P0001', 'meeting quota exceeded: the free tier allows 5 meetings per calendar month',
  'the next upload is refused with a clear message');
select tests.reset_role();
select is(
  tests.error_as('quota.free', pg_temp.upload('free', 1)) ->> 'hint',
  'Upgrade the subscription tier for a higher limit, or upload again when the next calendar month starts (UTC).',
  'the error carries a hint on what to do');
select is(
  (select count(*)::integer from public.usage_metrics where user_id = (select id from q where key = 'free') and kind = 'meeting_uploaded'),
  (select max_count from private.tier_quotas where tier = 'free' and metric = 'meeting_uploaded'),
  'every accepted upload recorded exactly one usage event; the refused ones none');

-- deleting meetings does not give the quota back; service_role is subject to the owner's tier too
select tests.act_as_user((select id from q where key = 'free'));
select lives_ok(format('delete from public.meetings where user_id = %L', (select id from q where key = 'free')), 'the member deletes all their meetings');
select throws_ok(pg_temp.upload('free', 1), 'P0001', 'meeting quota exceeded: the free tier allows 5 meetings per calendar month',
  'deleting meetings does not reset the monthly quota');
select tests.act_as('service_role');
select throws_ok(pg_temp.upload('free', 1), 'P0001', 'meeting quota exceeded: the free tier allows 5 meetings per calendar month',
  'service_role uploads are held to the owner''s tier as well');
select tests.reset_role();

-- one multi-row insert cannot slip past the limit
select tests.act_as_user((select id from q where key = 'free2'));
select throws_ok(pg_temp.upload('free2', 6), 'P0001', 'meeting quota exceeded: the free tier allows 5 meetings per calendar month',
  'a single insert of 6 meetings is refused as a whole');
select tests.reset_role();
select is((select count(*) from public.meetings where user_id = (select id from q where key = 'free2')), 0::bigint, 'and none of its rows was kept');

-- only the current calendar month counts
insert into public.usage_metrics (user_id, kind, quantity, occurred_at)
select (select id from q where key = 'free2'), 'meeting_uploaded', 1, date_trunc('month', now()) - interval '1 day'
from generate_series(1, 10);
select tests.act_as_user((select id from q where key = 'free2'));
select lives_ok(pg_temp.upload('free2', 1), 'uploads from last month do not count against this month');
select tests.reset_role();

-- pro and enterprise limits differ, and the quota is configuration, not code
select tests.act_as_user((select id from q where key = 'pro'));
select lives_ok(pg_temp.upload('pro', 6), 'a pro member uploads more than the free limit');
select tests.reset_role();
update private.tier_quotas set max_count = 7 where tier = 'pro' and metric = 'meeting_uploaded';
select tests.act_as_user((select id from q where key = 'pro'));
select lives_ok(pg_temp.upload('pro', 1), 'pro: the 7th upload is within a quota lowered to 7');
select throws_ok(pg_temp.upload('pro', 1), 'P0001', 'meeting quota exceeded: the pro tier allows 7 meetings per calendar month',
  'a changed quota applies immediately, with the tier named in the message');
select tests.act_as_user((select id from q where key = 'enterprise'));
select lives_ok(pg_temp.upload('enterprise', 150), 'enterprise is unlimited');
select tests.reset_role();

select * from finish();

rollback;
