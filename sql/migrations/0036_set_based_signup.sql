-- 0036 set-based signup: the two AFTER INSERT triggers on auth.users run once per statement over its
-- transition table instead of once per row.
--
-- Why (issue #17): a multi-row insert into auth.users (the scale seed, an import, a backfill) ran
-- handle_new_user once per user, i.e. one nested insert into public.profiles and one into
-- public.user_progress per user, and each of those fired the statement-level audit capture, whose join to
-- audit.subject_keys is planned while that table still looks small (never analyzed: ~810 rows estimated)
-- and so hashes all of it on every call. Inside one statement the table grows and the statistics cannot
-- catch up, so user k paid a scan of k subject keys: quadratic (10,000 users took 85 s, 100,000 never
-- finished). Set-based, the whole insert makes three nested statements (subject keys, profiles, progress)
-- and each audit capture joins the full batch once. A single signup (GoTrue inserts one row per statement)
-- behaves exactly as before: same rows, same audit entries, same order (pseudonym first, then profile).

drop trigger audit_create_subject_key on auth.users;

drop trigger on_auth_user_created on auth.users;

create or replace function audit.create_subject_key()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into audit.subject_keys (user_id)
  select n.id from new_users as n
  on conflict (user_id) do nothing;
  return null;
end;
$$;

comment on function audit.create_subject_key() is
  'AFTER INSERT ... FOR EACH STATEMENT trigger on auth.users (transition table new_users): creates the pseudonym and secret of every user the statement inserted, in one insert, so the audit capture functions only look them up.';

create or replace function private.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- user_metadata is user-editable: read display data only, never role or tier.
  insert into public.profiles (id, display_name, avatar_url)
  select n.id,
         nullif(pg_catalog.left(pg_catalog.btrim(coalesce(
           n.raw_user_meta_data ->> 'display_name',
           n.raw_user_meta_data ->> 'full_name'
         )), 100), ''),
         -- Bad metadata must never block a signup: keep the avatar only if it satisfies the table check.
         case
           when pg_catalog.char_length(n.raw_user_meta_data ->> 'avatar_url') <= 2048
                and (n.raw_user_meta_data ->> 'avatar_url') ~ '^https://[^[:space:]]+$'
             then n.raw_user_meta_data ->> 'avatar_url'
         end
  from new_users as n
  on conflict (id) do nothing;

  insert into public.user_progress (user_id, dimension)
  select n.id, d.dimension
  from new_users as n
  cross join pg_catalog.unnest(pg_catalog.enum_range(null::public.learning_dimension)) as d (dimension)
  on conflict (user_id, dimension) do nothing;

  return null;
end;
$$;

comment on function private.handle_new_user() is
  'AFTER INSERT ... FOR EACH STATEMENT trigger on auth.users (transition table new_users): creates the profile (default role member, tier free; display name and avatar from user_metadata only) and one user_progress row per learning dimension for every user the statement inserted, in two set-based inserts.';

-- Statement-level triggers fire in name order: the pseudonyms exist before the audited profile insert.
create trigger audit_create_subject_key
  after insert on auth.users
  referencing new table as new_users
  for each statement
  execute function audit.create_subject_key();

comment on trigger audit_create_subject_key on auth.users is
  'ShipSpeak: audit pseudonym and secret for every new user, once per statement (audit.create_subject_key).';

create trigger on_auth_user_created
  after insert on auth.users
  referencing new table as new_users
  for each statement
  execute function private.handle_new_user();

comment on trigger on_auth_user_created on auth.users is
  'ShipSpeak: creates public.profiles and public.user_progress rows for every new user, once per statement (private.handle_new_user).';
