-- 0012 usage quotas: usage-based permissions enforced inside the database.
--
-- private.tier_quotas says how many events of a kind each tier may cause per calendar month (UTC);
-- null = unlimited, no row = no quota for that kind. The meetings BEFORE INSERT trigger counts the owner's
-- meeting_uploaded events of the current month, refuses the insert when the tier's limit is reached, and
-- otherwise records the event right away, so the next row of the same multi-row insert already counts it
-- and the count cannot be dodged by deleting meetings (users cannot update or delete usage events either)
-- or by skipping a client-side usage insert. If the meeting row then fails (a constraint, RLS), the whole
-- statement rolls back and the event with it.
--
-- The check applies to every writer, service_role included: the owner's tier decides, not the caller.
-- A backend import that must exceed a quota changes the owner's tier or the quota row, visibly.

create table private.tier_quotas (
  tier public.subscription_tier not null,
  metric public.usage_metric_kind not null,
  period text not null default 'calendar_month',
  max_count integer,
  constraint tier_quotas_pkey primary key (tier, metric),
  constraint tier_quotas_period_known check (period = 'calendar_month'),
  constraint tier_quotas_max_count_non_negative check (max_count >= 0)
);

-- Not reachable through the API (schema private), RLS on anyway so a future grant cannot expose it.
alter table private.tier_quotas enable row level security;

comment on table private.tier_quotas is
  'Usage quota per subscription tier and usage kind (configurable without a migration by the service role or a superuser). Read by private.enforce_meeting_quota().';

comment on column private.tier_quotas.period is
  'Quota window; calendar_month = from the first day of the current month, 00:00 UTC.';

comment on column private.tier_quotas.max_count is
  'Maximum summed usage quantity per period; null = unlimited.';

insert into private.tier_quotas (tier, metric, period, max_count) values
  ('free', 'meeting_uploaded', 'calendar_month', 5),
  ('pro', 'meeting_uploaded', 'calendar_month', 100),
  ('enterprise', 'meeting_uploaded', 'calendar_month', null);

create function private.enforce_meeting_quota()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_tier public.subscription_tier;
  v_limit integer;
  v_has_quota boolean := false;
  v_used numeric;
  v_window_start timestamptz := pg_catalog.date_trunc('month', pg_catalog.now() at time zone 'UTC') at time zone 'UTC';
begin
  -- A signed-in user inserting for someone else is rejected by RLS right after this trigger; answering
  -- "quota exceeded" first would reveal the other user's usage, so leave the refusal to the policy.
  if (select auth.uid()) is not null and new.user_id is distinct from (select auth.uid()) then
    return new;
  end if;

  -- Serialise concurrent uploads of one user: two inserts must not both see "one left".
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('shipspeak.meeting_quota:' || new.user_id::text, 0));

  select p.tier into v_tier from public.profiles as p where p.id = new.user_id;
  v_tier := coalesce(v_tier, 'free');

  select true, q.max_count into v_has_quota, v_limit
  from private.tier_quotas as q
  where q.tier = v_tier and q.metric = 'meeting_uploaded' and q.period = 'calendar_month';

  if v_has_quota and v_limit is not null then
    select coalesce(pg_catalog.sum(u.quantity), 0) into v_used
    from public.usage_metrics as u
    where u.user_id = new.user_id
      and u.kind = 'meeting_uploaded'
      and u.occurred_at >= v_window_start;

    if v_used >= v_limit then
      raise exception using
        errcode = 'P0001',
        message = pg_catalog.format('meeting quota exceeded: the %s tier allows %s meetings per calendar month', v_tier, v_limit),
        detail = pg_catalog.format('%s meetings uploaded since %s 00:00 UTC.', v_used::bigint, pg_catalog.to_char(v_window_start at time zone 'UTC', 'YYYY-MM-DD')),
        hint = 'Upgrade the subscription tier for a higher limit, or upload again when the next calendar month starts (UTC).';
    end if;
  end if;

  -- For an owner that does not exist the meeting's own foreign key reports the error, not usage_metrics'.
  if exists (select 1 from auth.users as u where u.id = new.user_id) then
    insert into public.usage_metrics (user_id, kind, quantity) values (new.user_id, 'meeting_uploaded', 1);
  end if;
  return new;
end;
$$;

comment on function private.enforce_meeting_quota() is
  'BEFORE INSERT trigger on public.meetings: enforces private.tier_quotas for meeting_uploaded (owner''s tier, calendar month UTC) with SQLSTATE P0001, then records the usage event. SECURITY DEFINER: reads the owner''s profile and usage and writes usage_metrics past RLS.';

revoke all on function private.enforce_meeting_quota() from public;

create trigger enforce_meeting_quota
  before insert on public.meetings
  for each row
  execute function private.enforce_meeting_quota();

comment on trigger enforce_meeting_quota on public.meetings is
  'Usage-based permission: meeting uploads per calendar month by tier (private.tier_quotas).';

