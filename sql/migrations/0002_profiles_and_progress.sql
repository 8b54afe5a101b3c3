-- 0002 profiles and progress: the per-user rows every signed-up user gets (created by the signup trigger
-- in 0003).

create table public.profiles (
  id uuid not null,
  display_name text,
  avatar_url text,
  role public.app_role not null default 'member',
  tier public.subscription_tier not null default 'free',
  preferences jsonb not null default '{}'::jsonb,
  timezone text,
  onboarded_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint profiles_pkey primary key (id),
  constraint profiles_id_fkey foreign key (id) references auth.users (id) on delete cascade,
  constraint profiles_display_name_length check (char_length(display_name) between 1 and 100),
  constraint profiles_avatar_url_format check (char_length(avatar_url) <= 2048 and avatar_url ~ '^https://[^[:space:]]+$'),
  constraint profiles_preferences_is_object check (jsonb_typeof(preferences) = 'object'),
  constraint profiles_timezone_format check (timezone ~ '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$' and char_length(timezone) <= 64)
);

alter table public.profiles enable row level security;

comment on table public.profiles is
  'One row per auth.users row (created by the signup trigger): display data, role, subscription tier and preferences. Users may edit display fields but never role or tier.';

comment on column public.profiles.id is
  'Same value as auth.users.id; deleting the auth user deletes the profile.';

comment on column public.profiles.role is
  'Authorisation role. Set only by the service role or an admin; never copied from user_metadata.';

comment on column public.profiles.tier is
  'Subscription tier; gates pro-only modules and quotas. Set only by billing (service role); never copied from user_metadata.';

comment on column public.profiles.preferences is
  'UI and coaching preferences; JSON object, see fixtures/schemas/profile-preferences.schema.json.';

comment on column public.profiles.timezone is
  'IANA time zone name (e.g. Europe/London), used to compute practice streak days in the user''s local time.';

comment on column public.profiles.onboarded_at is
  'When the user finished onboarding; null while onboarding is pending.';

create trigger set_updated_at
  before update on public.profiles
  for each row
  execute function private.set_updated_at();

create table public.user_progress (
  user_id uuid not null,
  dimension public.learning_dimension not null,
  score numeric(5, 2) not null default 0,
  level integer not null default 1,
  streak_days integer not null default 0,
  last_practised_at timestamptz,
  updated_at timestamptz not null default now(),
  constraint user_progress_pkey primary key (user_id, dimension),
  constraint user_progress_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  constraint user_progress_score_range check (score between 0 and 100),
  constraint user_progress_level_positive check (level >= 1),
  constraint user_progress_streak_days_non_negative check (streak_days >= 0)
);

alter table public.user_progress enable row level security;

comment on table public.user_progress is
  'Learning progress per user and learning dimension (one row per dimension, created at signup).';

comment on column public.user_progress.score is
  'Current skill score for the dimension, 0-100 (rolling result of analysed meetings and practice feedback).';

comment on column public.user_progress.level is
  'Gamified level for the dimension, starting at 1.';

comment on column public.user_progress.streak_days is
  'Consecutive days (in the profile time zone) with at least one completed practice session for this dimension.';

comment on column public.user_progress.last_practised_at is
  'Completion time of the latest practice session for this dimension; null if never practised.';

create trigger set_updated_at
  before update on public.user_progress
  for each row
  execute function private.set_updated_at();
