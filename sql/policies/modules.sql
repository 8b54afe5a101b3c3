-- public.modules: the catalogue. Signed-in users read published modules their tier allows; admins read
-- everything (drafts included) and write; anon holds no privilege at all.

create policy modules_select_visible on public.modules
  as permissive for select
  to authenticated
  using (
    required_tier <= (select private.module_tier_ceiling())
    and (is_published or (select private.is_admin()))
  );

comment on policy modules_select_visible on public.modules is
  'Published modules whose required_tier is at most the caller''s tier (free < pro < enterprise; premium needs pro or above); admins see all modules, drafts included. Written as one tier bound (an admin''s ceiling is the highest tier) AND (published or admin): the bound can use modules_required_tier_idx, and the admin check runs only if a draft is reached, so a member''s read costs one helper call instead of two.';

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
