-- 0004 usage metrics: privacy-safe usage events (who, what kind, how much, when). No free text and no
-- personal data beyond the owner id, so the table can be kept longer than content and aggregated freely.

create table public.usage_metrics (
  id bigint generated always as identity,
  user_id uuid not null,
  kind public.usage_metric_kind not null,
  quantity numeric(14, 3) not null default 1,
  occurred_at timestamptz not null default now(),
  constraint usage_metrics_pkey primary key (id),
  constraint usage_metrics_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  constraint usage_metrics_quantity_non_negative check (quantity >= 0)
);

alter table public.usage_metrics enable row level security;

comment on table public.usage_metrics is
  'Privacy-safe usage events (owner, kind, quantity, time; deliberately no free text or PII). Tier quotas are computed from it.';

comment on column public.usage_metrics.kind is
  'What was used; also fixes the unit of quantity (see type public.usage_metric_kind).';

comment on column public.usage_metrics.quantity is
  'Amount used, in the unit implied by kind (count, minutes or tokens); never negative.';

comment on column public.usage_metrics.occurred_at is
  'When the usage happened (quota windows are computed on it).';

-- Quota reads: "how much of <kind> did this user use since <t>". Leading user_id also serves the foreign key.
create index usage_metrics_user_id_kind_occurred_at_idx
  on public.usage_metrics (user_id, kind, occurred_at);
