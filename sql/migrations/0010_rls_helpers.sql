-- 0010 RLS helpers: the functions policies call to learn the caller's application role and subscription
-- tier, the trigger that makes a row's owner immutable, and the index the module catalogue policy needs.
--
-- Source of truth for role and tier is public.profiles (written by the signup trigger, billing and
-- admins through the service role), never the JWT's user_metadata, which users can edit themselves.
-- The helpers live in schema private, which PostgREST does not expose (no /rpc endpoint) and on which
-- the API roles hold no usage. Policies call them as `(select private.fn())` so PostgreSQL evaluates them
-- once per statement (an InitPlan) instead of once per row.

create function private.current_app_role()
returns public.app_role
language sql
stable
security definer
set search_path = ''
as $$
  select p.role from public.profiles as p where p.id = (select auth.uid())
$$;

comment on function private.current_app_role() is
  'Application role of the signed-in user, read from public.profiles (SECURITY DEFINER: the lookup must not depend on the caller''s own profile policies). Null for anon or a user without a profile.';

revoke all on function private.current_app_role() from public;

grant execute on function private.current_app_role() to authenticated;

create function private.current_tier()
returns public.subscription_tier
language sql
stable
security definer
set search_path = ''
as $$
  select p.tier from public.profiles as p where p.id = (select auth.uid())
$$;

comment on function private.current_tier() is
  'Subscription tier of the signed-in user, read from public.profiles. Tiers compare by enum order (free < pro < enterprise). Null for anon or a user without a profile, which fails every tier comparison (fail closed).';

revoke all on function private.current_tier() from public;

grant execute on function private.current_tier() to authenticated;

create function private.is_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select coalesce((select p.role = 'admin' from public.profiles as p where p.id = (select auth.uid())), false)
$$;

comment on function private.is_admin() is
  'True when the signed-in user''s profile has role admin; false for everyone else, anon included (never null).';

revoke all on function private.is_admin() from public;

grant execute on function private.is_admin() to authenticated;

-- Owner immutability. RLS WITH CHECK already stops a user from moving a row to someone else, and the API
-- roles hold no update privilege on owner columns; this trigger also holds for service_role and the table
-- owner, so "a row's owner never changes" is a property of the data, not of who writes it. Moving data
-- between accounts means inserting new rows for the new owner.
create function private.forbid_owner_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if (pg_catalog.to_jsonb(new) -> tg_argv[0]) is distinct from (pg_catalog.to_jsonb(old) -> tg_argv[0]) then
    raise exception using
      errcode = '42501',
      message = pg_catalog.format('%s.%s.%s is the row owner and cannot change', tg_table_schema, tg_table_name, tg_argv[0]),
      hint = 'Insert a new row for the new owner instead of re-assigning this one.';
  end if;
  return new;
end;
$$;

comment on function private.forbid_owner_change() is
  'BEFORE UPDATE OF <owner column> trigger (column name in TG_ARGV[0]): rejects any change of the row owner with SQLSTATE 42501, whoever the writer is.';

revoke all on function private.forbid_owner_change() from public;

create trigger forbid_owner_change
  before update of id on public.profiles
  for each row
  execute function private.forbid_owner_change('id');

create trigger forbid_owner_change
  before update of user_id on public.user_progress
  for each row
  execute function private.forbid_owner_change('user_id');

create trigger forbid_owner_change
  before update of user_id on public.usage_metrics
  for each row
  execute function private.forbid_owner_change('user_id');

create trigger forbid_owner_change
  before update of user_id on public.meetings
  for each row
  execute function private.forbid_owner_change('user_id');

create trigger forbid_owner_change
  before update of user_id on public.meeting_transcripts
  for each row
  execute function private.forbid_owner_change('user_id');

create trigger forbid_owner_change
  before update of user_id on public.meeting_analyses
  for each row
  execute function private.forbid_owner_change('user_id');

create trigger forbid_owner_change
  before update of user_id on public.practice_sessions
  for each row
  execute function private.forbid_owner_change('user_id');

create trigger forbid_owner_change
  before update of user_id on public.session_feedback
  for each row
  execute function private.forbid_owner_change('user_id');

-- The catalogue policy filters on is_published and required_tier (dimension/difficulty browsing already
-- has its own partial index). Not CONCURRENTLY: migrations run in a transaction, and the catalogue is a
-- small admin-written table whose brief write lock nobody waits on.
-- squawk-ignore require-concurrent-index-creation
create index modules_required_tier_idx
  on public.modules (required_tier)
  where is_published;

comment on index public.modules_required_tier_idx is
  'Serves the modules select policy (published modules up to the caller''s tier).';
