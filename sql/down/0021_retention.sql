-- 0021 down: unschedules the pg_cron job (where it exists) and removes the retention policies, the purge and
-- the usage totals.

do $$
begin
  if exists (select from pg_catalog.pg_extension where extname = 'pg_cron') then
    if exists (select from cron.job where jobname = 'shipspeak-purge-expired') then
      perform cron.unschedule('shipspeak-purge-expired');
    end if;
  end if;
end
$$;

drop function public.purge_expired(integer, integer);

drop table private.usage_daily_totals;

drop trigger validate_retention_policy on audit.retention_policies;

drop function audit.validate_retention_policy();

drop table audit.retention_policies;
