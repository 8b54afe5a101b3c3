-- 0003 signup trigger: every new auth.users row gets a profile (default role and tier) and one progress
-- row per learning dimension. Users who signed up before this migration are backfilled.

create function private.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  -- user_metadata is user-editable: read display data only, never role or tier.
  v_name text := pg_catalog.left(pg_catalog.btrim(coalesce(
    new.raw_user_meta_data ->> 'display_name',
    new.raw_user_meta_data ->> 'full_name'
  )), 100);
  v_avatar text := new.raw_user_meta_data ->> 'avatar_url';
begin
  insert into public.profiles (id, display_name, avatar_url)
  values (
    new.id,
    nullif(v_name, ''),
    -- Bad metadata must never block a signup: keep the avatar only if it satisfies the table check.
    case
      when pg_catalog.char_length(v_avatar) <= 2048 and v_avatar ~ '^https://[^[:space:]]+$' then v_avatar
    end
  )
  on conflict (id) do nothing;

  insert into public.user_progress (user_id, dimension)
  select new.id, d.dimension
  from pg_catalog.unnest(pg_catalog.enum_range(null::public.learning_dimension)) as d (dimension)
  on conflict (user_id, dimension) do nothing;

  return new;
end;
$$;

comment on function private.handle_new_user() is
  'AFTER INSERT trigger on auth.users: creates the profile (default role member, tier free; display name and avatar from user_metadata only) and one user_progress row per learning dimension.';

-- SECURITY DEFINER: nobody but the owner may call it (trigger execution needs no grant).
revoke all on function private.handle_new_user() from public;

revoke all on function private.handle_new_user() from anon;

revoke all on function private.handle_new_user() from authenticated;

create trigger on_auth_user_created
  after insert on auth.users
  for each row
  execute function private.handle_new_user();

comment on trigger on_auth_user_created on auth.users is
  'ShipSpeak: creates public.profiles and public.user_progress rows for each new user (private.handle_new_user).';

-- Backfill users that existed before this migration (a real Supabase project may already have some).
insert into public.profiles (id)
select u.id
from auth.users as u
on conflict (id) do nothing;

insert into public.user_progress (user_id, dimension)
select u.id, d.dimension
from auth.users as u
cross join unnest(enum_range(null::public.learning_dimension)) as d (dimension)
on conflict (user_id, dimension) do nothing;
