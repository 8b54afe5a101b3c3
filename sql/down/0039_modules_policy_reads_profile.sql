-- Reverts 0039: the tier bound's helper comes back first (the restored policy calls it), then the policies.
create function private.module_tier_ceiling()
returns public.subscription_tier
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return (
    select case when p.role = 'admin' then pg_catalog.enum_last(null::public.subscription_tier) else p.tier end
    from public.profiles as p
    where p.id = private.uid()
  );
end;
$$;

comment on function private.module_tier_ceiling() is
  'Highest required_tier of a module the signed-in user may read: their subscription tier, or the highest tier for an admin (who reads every module). Read from public.profiles (SECURITY DEFINER, like the other helpers); null for anon or a user without a profile (fail closed).';

revoke all on function private.module_tier_ceiling() from public;

grant execute on function private.module_tier_ceiling() to authenticated;

