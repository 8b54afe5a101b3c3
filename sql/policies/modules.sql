-- public.modules: the catalogue. Signed-in users read published modules their tier allows; admins read
-- everything (drafts included) and write; anon holds no privilege at all.

create policy modules_select_visible on public.modules
  as permissive for select
  to authenticated
  using (
    required_tier <= (
      select case when p.role = 'admin' then pg_catalog.enum_last(null::public.subscription_tier) else p.tier end
      from public.profiles as p
      where p.id = (select private.uid())
    )
    and (
      is_published
      or (select p.role = 'admin' from public.profiles as p where p.id = (select private.uid()))
    )
  );

comment on policy modules_select_visible on public.modules is
  'Published modules whose required_tier is at most the caller''s tier (free < pro < enterprise; premium needs pro or above); admins see all modules, drafts included. The caller''s tier and role are read inline from their own profile row (visible to them under profiles_select_own; tier and role are readable columns), as two uncorrelated subqueries PostgreSQL evaluates once per statement: measured at about half the cost of calling SECURITY DEFINER plpgsql helpers for the same facts (0039). The admin subquery runs only if a draft is reached. No profile (anon, or a user without one) gives null: nothing is visible.';

create policy modules_insert_admin on public.modules
  as permissive for insert
  to authenticated
  with check ((select private.is_admin()));

comment on policy modules_insert_admin on public.modules is
  'Only admins (profile role admin) add modules; other users get a row-level security violation (42501).';

create policy modules_update_admin on public.modules
  as permissive for update
  to authenticated
  using ((select private.is_admin()))
  with check ((select private.is_admin()));

comment on policy modules_update_admin on public.modules is
  'Only admins edit modules; for other users an update matches no row.';

create policy modules_delete_admin on public.modules
  as permissive for delete
  to authenticated
  using ((select private.is_admin()));

comment on policy modules_delete_admin on public.modules is
  'Only admins delete modules (modules with practice history are protected by a restricting foreign key; unpublish them instead).';
