-- 0025 usage rollup: the admin monthly summary without scanning a month of raw events per call.
--
-- public.admin_usage_summary() aggregates raw public.usage_metrics: at 100k users it sorts ~1.2M events per
-- call (1.1-1.9 s, issue #17). The rollup keeps, per UTC day, usage kind, tier and shard, the event count, the
-- summed quantity and how many users had their first event of the calendar month (for that kind) that day.
-- Summing a month's days gives exactly the per-kind, per-tier distinct users, events and quantity of that
-- month, reading at most 31 x 5 x 3 x 16 small rows. It is maintained incrementally by a statement-level
-- AFTER INSERT trigger on usage_metrics (one aggregate upsert per inserting statement, not per row).
--
-- Privacy: the rollup holds no user id. Deciding "first event of the month" needs to remember who was already
-- counted: private.usage_month_users keeps (month, kind, user id), is not reachable through the API, and is
-- deleted with the user (foreign key on delete cascade), so erasure leaves only anonymous counts.
-- Tier: the tier of the user when the event was recorded (admin_usage_summary uses the current tier).
-- Shards: the hottest row is (today, kind, tier); 16 shards by user id hash keep concurrent inserts of
-- different users from queueing on one row lock until commit.

create table private.usage_month_users (
  month date not null,
  kind public.usage_metric_kind not null,
  user_id uuid not null,
  first_day date not null,
  constraint usage_month_users_pkey primary key (month, kind, user_id),
  constraint usage_month_users_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  constraint usage_month_users_month_is_first_day check (month = pg_catalog.date_trunc('month', month)::date),
  constraint usage_month_users_first_day_in_month check (first_day >= month and first_day < (month + interval '1 month')::date)
);

alter table private.usage_month_users enable row level security;

comment on table private.usage_month_users is
  'Who has already been counted as a user of a usage kind in a calendar month (UTC), so private.usage_daily_rollup counts each user once per month. Holds user ids: private schema, no API privilege, deleted with the user.';

comment on column private.usage_month_users.month is
  'First day of the calendar month (UTC).';

comment on column private.usage_month_users.kind is
  'Usage kind the user was counted for.';

comment on column private.usage_month_users.user_id is
  'The counted user (cascade-deleted with auth.users).';

comment on column private.usage_month_users.first_day is
  'UTC day of the user''s first event of this kind in the month (the rollup row whose new_users counted them).';

-- Erasure deletes by user id.
create index usage_month_users_user_id_idx
  on private.usage_month_users (user_id);

create table private.usage_daily_rollup (
  day date not null,
  kind public.usage_metric_kind not null,
  tier public.subscription_tier not null,
  shard integer not null,
  events bigint not null default 0,
  total_quantity numeric(20, 3) not null default 0,
  new_users bigint not null default 0,
  constraint usage_daily_rollup_pkey primary key (day, kind, tier, shard),
  constraint usage_daily_rollup_shard_range check (shard between 0 and 15),
  constraint usage_daily_rollup_counts_non_negative check (events >= 0 and total_quantity >= 0 and new_users >= 0)
);

alter table private.usage_daily_rollup enable row level security;

comment on table private.usage_daily_rollup is
  'Anonymous usage totals per UTC day, kind, tier (at event time) and shard, maintained by private.roll_up_usage_events(); read by public.admin_usage_monthly(). No user id.';

comment on column private.usage_daily_rollup.day is
  'UTC day of the events.';

comment on column private.usage_daily_rollup.kind is
  'Usage kind of the events.';

comment on column private.usage_daily_rollup.tier is
  'Subscription tier of the user when the events were recorded.';

comment on column private.usage_daily_rollup.shard is
  'hashtext(user_id) & 15: spreads concurrent inserts of different users over 16 rows (read side sums them).';

comment on column private.usage_daily_rollup.events is
  'Number of usage events.';

comment on column private.usage_daily_rollup.total_quantity is
  'Sum of the events'' quantity (unit implied by kind).';

comment on column private.usage_daily_rollup.new_users is
  'Users whose first event of this kind in the calendar month fell on this day; summed over a month = distinct users of the month.';

revoke all on table private.usage_month_users from public, anon, authenticated, service_role;

revoke all on table private.usage_daily_rollup from public, anon, authenticated, service_role;

create function private.roll_up_usage_events()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  with events as (
    select (n.occurred_at at time zone 'UTC')::date as day, n.kind, n.user_id, n.quantity,
           coalesce(p.tier, 'free'::public.subscription_tier) as tier,
           (pg_catalog.hashtext(n.user_id::text) & 15) as shard
    from new_rows as n
    left join public.profiles as p on p.id = n.user_id
  ),
  firsts as (
    insert into private.usage_month_users as m (month, kind, user_id, first_day)
    select pg_catalog.date_trunc('month', e.day)::date, e.kind, e.user_id, pg_catalog.min(e.day)
    from events as e
    group by 1, 2, 3
    on conflict (month, kind, user_id) do nothing
    returning m.first_day, m.kind, m.user_id
  ),
  new_users as (
    select f.first_day as day, f.kind, e.tier, e.shard, pg_catalog.count(*) as n
    from firsts as f
    join (select distinct x.user_id, x.tier, x.shard from events as x) as e on e.user_id = f.user_id
    group by 1, 2, 3, 4
  ),
  totals as (
    select e.day, e.kind, e.tier, e.shard, pg_catalog.count(*) as events, pg_catalog.sum(e.quantity) as total_quantity
    from events as e
    group by 1, 2, 3, 4
  )
  insert into private.usage_daily_rollup as r (day, kind, tier, shard, events, total_quantity, new_users)
  select t.day, t.kind, t.tier, t.shard, t.events, t.total_quantity, coalesce(nu.n, 0)
  from totals as t
  left join new_users as nu on nu.day = t.day and nu.kind = t.kind and nu.tier = t.tier and nu.shard = t.shard
  on conflict (day, kind, tier, shard) do update
    set events = r.events + excluded.events,
        total_quantity = r.total_quantity + excluded.total_quantity,
        new_users = r.new_users + excluded.new_users;
  return null;
end;
$$;

comment on function private.roll_up_usage_events() is
  'AFTER INSERT ... FOR EACH STATEMENT trigger on public.usage_metrics (transition table new_rows): adds the inserted events to private.usage_daily_rollup and counts each user once per month and kind through private.usage_month_users. SECURITY DEFINER: writes the private rollup tables no API role can reach.';

revoke all on function private.roll_up_usage_events() from public;

create trigger roll_up_usage_events
  after insert on public.usage_metrics
  referencing new table as new_rows
  for each statement
  execute function private.roll_up_usage_events();

comment on trigger roll_up_usage_events on public.usage_metrics is
  'Keeps private.usage_daily_rollup (anonymous daily totals per kind and tier) current, one aggregate upsert per inserting statement.';

-- Backfill from the events already recorded (the same aggregation the trigger does, over the whole table).
insert into private.usage_month_users (month, kind, user_id, first_day)
select date_trunc('month', (u.occurred_at at time zone 'UTC')::date)::date, u.kind, u.user_id, min((u.occurred_at at time zone 'UTC')::date)
from public.usage_metrics as u
group by 1, 2, 3;

insert into private.usage_daily_rollup (day, kind, tier, shard, events, total_quantity, new_users)
select e.day, e.kind, e.tier, e.shard, count(*), sum(e.quantity),
       count(*) filter (where e.first_of_month)
from (
  select (u.occurred_at at time zone 'UTC')::date as day, u.kind, u.quantity,
         coalesce(p.tier, 'free'::public.subscription_tier) as tier,
         (hashtext(u.user_id::text) & 15) as shard,
         row_number() over (
           partition by u.user_id, u.kind, date_trunc('month', u.occurred_at at time zone 'UTC') order by u.occurred_at, u.id
         ) = 1 as first_of_month
  from public.usage_metrics as u
  left join public.profiles as p on p.id = u.user_id
) as e
group by 1, 2, 3, 4;

create function public.admin_usage_monthly(p_month date)
returns table (kind public.usage_metric_kind, tier public.subscription_tier, users bigint, events bigint, total_quantity numeric)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not ((select private.is_admin()) or (select auth.role()) = 'service_role') then
    raise exception using
      errcode = '42501',
      message = 'admin_usage_monthly is for admins only',
      hint = 'The caller''s profile must have role admin.';
  end if;
  if p_month is null or p_month <> pg_catalog.date_trunc('month', p_month)::date then
    raise exception using
      errcode = '22023',
      message = 'admin_usage_monthly needs the first day of a month',
      detail = pg_catalog.format('Got %s.', coalesce(p_month::text, 'null')),
      hint = 'Pass e.g. 2026-12-01 for December 2026 (UTC).';
  end if;
  return query
    select r.kind, r.tier, pg_catalog.sum(r.new_users)::bigint, pg_catalog.sum(r.events)::bigint, pg_catalog.sum(r.total_quantity)
    from private.usage_daily_rollup as r
    where r.day >= p_month and r.day < (p_month + interval '1 month')::date
    group by 1, 2
    having pg_catalog.sum(r.events) > 0
    order by 1, 2;
end;
$$;

comment on function public.admin_usage_monthly(date) is
  'Aggregate usage per kind and tier (tier at event time) for one calendar month (UTC), from the incrementally maintained rollup: distinct users, events, summed quantity. Admins (profile role) and service_role only (42501 otherwise); p_month must be a first day of month (22023); never returns user ids.';

revoke all on function public.admin_usage_monthly(date) from public;

revoke all on function public.admin_usage_monthly(date) from anon;

grant execute on function public.admin_usage_monthly(date) to authenticated;

grant execute on function public.admin_usage_monthly(date) to service_role;
