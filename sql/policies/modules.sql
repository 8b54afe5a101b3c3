-- public.modules: the catalogue. Signed-in users read published modules their tier allows; admins read
-- everything (drafts included) and write; anon holds no privilege at all.

create policy modules_select_visible on public.modules
  as permissive for select
  to authenticated
  using (
    (not is_published, required_tier) <= (
      select
        p.role = 'admin',
        case when p.role = 'admin' then pg_catalog.enum_last(null::public.subscription_tier) else p.tier end
      from public.profiles as p
      where p.id = (select private.uid())
    )
  );

comment on policy modules_select_visible on public.modules is
  'Published modules whose required_tier is at most the caller''s tier (free < pro < enterprise; premium needs pro or above); admins see all modules, drafts included. One row comparison against the caller''s own profile row, read inline (visible to them under profiles_select_own; role and tier are columns they may read) by an uncorrelated subquery PostgreSQL runs once per statement. Row comparison is lexicographic: a member''s bound is (false, their tier), so a published module (false, tier) passes when its tier is at most theirs and a draft (true, tier) never does; an admin''s bound is (true, highest tier), which every module passes. No profile row (anon, or a user without one) gives a null bound: nothing is visible. Measured cheaper than the SECURITY DEFINER helpers it replaces (0039).';

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
