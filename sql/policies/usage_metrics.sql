-- public.usage_metrics: users read and append their own usage events; they can never update or delete
-- them (no privilege), so quotas computed from the events cannot be reset by the user.

create policy usage_metrics_select_own on public.usage_metrics
  as permissive for select
  to authenticated
  using (user_id = (select private.uid()));

comment on policy usage_metrics_select_own on public.usage_metrics is
  'Users read only their own usage events. Admins see aggregates through public.admin_usage_summary().';

create policy usage_metrics_insert_own on public.usage_metrics
  as permissive for insert
  to authenticated
  with check (user_id = (select private.uid()));

comment on policy usage_metrics_insert_own on public.usage_metrics is
  'Users append usage events for themselves only (occurred_at is not insertable: it is always the server time).';
