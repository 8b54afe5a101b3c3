-- public.profiles: a user reads and edits their own profile. No insert policy (the signup trigger creates
-- profiles; authenticated has no insert privilege, so a second profile or an upsert fails with 42501) and
-- no delete policy (erasure deletes the auth user, which cascades). Which columns an update may touch is
-- fixed by column privileges (display fields only), so role and tier can never be self-assigned.

create policy profiles_select_own on public.profiles
  as permissive for select
  to authenticated
  using (id = (select private.uid()));

comment on policy profiles_select_own on public.profiles is
  'Users read only their own profile; admins included (admins learn about users through aggregates only).';

create policy profiles_update_own on public.profiles
  as permissive for update
  to authenticated
  using (id = (select private.uid()))
  with check (id = (select private.uid()));

comment on policy profiles_update_own on public.profiles is
  'Users update only their own profile, and only the display columns they hold update privilege on (never role, tier or id).';
