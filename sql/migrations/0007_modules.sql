-- 0007 modules: the learning module catalogue (not user-owned). Readable by signed-in users subject to
-- tier, written only by admins and the service role (policies come in sql/policies/modules.sql).

create table public.modules (
  id uuid not null default gen_random_uuid(),
  slug text not null,
  title text not null,
  description text,
  dimension public.learning_dimension not null,
  difficulty public.module_difficulty not null default 'beginner',
  required_tier public.subscription_tier not null default 'free',
  is_published boolean not null default false,
  estimated_minutes integer,
  content jsonb not null default '{"sections": []}'::jsonb,
  scenario_template jsonb,
  created_by uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint modules_pkey primary key (id),
  constraint modules_slug_key unique (slug),
  constraint modules_created_by_fkey foreign key (created_by) references auth.users (id) on delete set null,
  constraint modules_slug_format check (char_length(slug) <= 80 and slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
  constraint modules_title_length check (char_length(btrim(title)) between 1 and 200),
  constraint modules_description_length check (char_length(description) <= 2000),
  constraint modules_estimated_minutes_range check (estimated_minutes between 1 and 240),
  -- coalesce: a missing key gives null, which a check constraint would let through.
  constraint modules_content_shape check (
    jsonb_typeof(content) = 'object' and coalesce(jsonb_typeof(content -> 'sections') = 'array', false)
  ),
  constraint modules_scenario_template_shape check (
    scenario_template is null
    or (jsonb_typeof(scenario_template) = 'object' and coalesce(jsonb_typeof(scenario_template -> 'prompt') = 'string', false))
  )
);

alter table public.modules enable row level security;

comment on table public.modules is
  'Learning module catalogue: content and adaptive scenario templates per learning dimension. Not user-owned; gated by required_tier and is_published.';

comment on column public.modules.slug is
  'Stable URL-safe identifier (lower-case words joined by hyphens), used by links and recommendations.';

comment on column public.modules.dimension is
  'Learning dimension the module trains; completed practice updates the matching user_progress row.';

comment on column public.modules.required_tier is
  'Lowest subscription tier allowed to open the module (free < pro < enterprise).';

comment on column public.modules.is_published is
  'Draft modules (false) are visible to admins only; retire a module by unpublishing it, since practice history restricts deletion.';

comment on column public.modules.estimated_minutes is
  'Expected time to complete one practice of the module, 1-240 minutes.';

comment on column public.modules.content is
  'Module content: JSON object with a sections array; see fixtures/schemas/module-content.schema.json.';

comment on column public.modules.scenario_template is
  'Template for adaptive practice scenarios (prompt with {{variables}}, variable choices, adaptation rules); null for modules without role-play. See fixtures/schemas/module-scenario-template.schema.json.';

comment on column public.modules.created_by is
  'Admin who authored the module; set to null if that user is deleted (the module stays).';

create index modules_created_by_idx
  on public.modules (created_by);

-- Catalogue browsing: published modules by dimension and difficulty.
create index modules_published_dimension_difficulty_idx
  on public.modules (dimension, difficulty)
  where is_published;

create trigger set_updated_at
  before update on public.modules
  for each row
  execute function private.set_updated_at();
