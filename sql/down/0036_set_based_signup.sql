-- Inverse of 0036_set_based_signup: the per-row signup triggers of 0003 and 0020, with their functions and
-- comments exactly as those migrations left them.

drop trigger on_auth_user_created on auth.users;

drop trigger audit_create_subject_key on auth.users;

create or replace function private.handle_new_user()
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

create or replace function audit.create_subject_key()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into audit.subject_keys (user_id) values (new.id) on conflict (user_id) do nothing;
  return null;
end;
$$;

comment on function audit.create_subject_key() is
  'AFTER INSERT trigger on auth.users: creates the new user''s pseudonym and secret, so the audit capture functions only look them up.';

-- Named to fire before on_auth_user_created (triggers fire in name order), whose profile insert is audited.
create trigger audit_create_subject_key
  after insert on auth.users
  for each row
  execute function audit.create_subject_key();

comment on trigger audit_create_subject_key on auth.users is
  'ShipSpeak: audit pseudonym and secret for every new user (audit.create_subject_key).';

create trigger on_auth_user_created
  after insert on auth.users
  for each row
  execute function private.handle_new_user();

comment on trigger on_auth_user_created on auth.users is
  'ShipSpeak: creates public.profiles and public.user_progress rows for each new user (private.handle_new_user).';
