-- 0013 admin usage summary: what admins may learn about other users' activity — aggregates only.
--
-- Admins manage the catalogue; they do not read other users' meetings, transcripts, analyses or feedback
-- (privacy by design: coaching content is personal). Product questions ("how many meetings did free
-- users upload this month?") are answered by this function, which returns one row per usage kind and
-- tier with counts and sums, never a user id.

create function public.admin_usage_summary(p_from timestamptz, p_to timestamptz)
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
      message = 'admin_usage_summary is for admins only',
      hint = 'The caller''s profile must have role admin.';
  end if;
  if p_from is null or p_to is null or p_from >= p_to then
    raise exception using errcode = '22023', message = 'admin_usage_summary needs p_from < p_to';
  end if;
  return query
    select u.kind, coalesce(p.tier, 'free'::public.subscription_tier),
           pg_catalog.count(distinct u.user_id), pg_catalog.count(*), pg_catalog.sum(u.quantity)
    from public.usage_metrics as u
    left join public.profiles as p on p.id = u.user_id
    where u.occurred_at >= p_from and u.occurred_at < p_to
    group by 1, 2
    order by 1, 2;
end;
$$;

comment on function public.admin_usage_summary(timestamptz, timestamptz) is
  'Aggregate usage per kind and tier in [p_from, p_to): distinct users, events, summed quantity. Admins (profile role) and service_role only (42501 otherwise); never returns user ids. SECURITY DEFINER so it can aggregate past the per-user RLS.';

revoke all on function public.admin_usage_summary(timestamptz, timestamptz) from public;

revoke all on function public.admin_usage_summary(timestamptz, timestamptz) from anon;

grant execute on function public.admin_usage_summary(timestamptz, timestamptz) to authenticated;

grant execute on function public.admin_usage_summary(timestamptz, timestamptz) to service_role;
