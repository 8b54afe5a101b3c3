-- 0005 meetings: a user's recorded meetings and their AI pipeline status.

create table public.meetings (
  id uuid not null default gen_random_uuid(),
  user_id uuid not null,
  title text not null,
  started_at timestamptz,
  duration_seconds integer,
  status public.meeting_status not null default 'uploaded',
  status_changed_at timestamptz not null default now(),
  failure_reason text,
  storage_object_path text not null,
  platform text,
  participant_count integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint meetings_pkey primary key (id),
  -- Target of the composite foreign keys that pin a child row's user_id to its meeting's owner.
  constraint meetings_id_user_id_key unique (id, user_id),
  constraint meetings_storage_object_path_key unique (storage_object_path),
  constraint meetings_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  constraint meetings_title_length check (char_length(btrim(title)) between 1 and 200),
  constraint meetings_duration_seconds_non_negative check (duration_seconds >= 0),
  constraint meetings_failure_reason_only_when_failed check (
    (status = 'failed' and failure_reason is not null and char_length(btrim(failure_reason)) between 1 and 1000)
    or (status <> 'failed' and failure_reason is null)
  ),
  -- Supabase Storage convention: objects live under a folder named after the owner's user id.
  constraint meetings_storage_object_path_format check (
    char_length(storage_object_path) <= 1024
    and storage_object_path ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(/[A-Za-z0-9_][A-Za-z0-9._-]*)+$'
    and split_part(storage_object_path, '/', 1) = user_id::text
  ),
  constraint meetings_platform_known check (
    platform in ('zoom', 'google_meet', 'microsoft_teams', 'webex', 'slack_huddle', 'in_person', 'other')
  ),
  constraint meetings_participant_count_positive check (participant_count >= 1)
);

alter table public.meetings enable row level security;

comment on table public.meetings is
  'A user''s recorded meeting: metadata, the audio object in Storage and the AI pipeline status. Children (transcript, analyses) carry the same user_id, enforced by composite foreign keys.';

comment on column public.meetings.started_at is
  'When the meeting itself took place (not the upload time); null if unknown.';

comment on column public.meetings.duration_seconds is
  'Length of the recording in seconds; null until the pipeline has probed the audio.';

comment on column public.meetings.status is
  'AI pipeline state; clients watch it through Realtime (uploaded -> queued -> transcribing -> analysing -> completed | failed).';

comment on column public.meetings.status_changed_at is
  'When status last changed (maintained by a trigger); used to find stuck pipeline jobs.';

comment on column public.meetings.failure_reason is
  'Pipeline error shown to the user; required when status = failed and null otherwise.';

comment on column public.meetings.storage_object_path is
  'Path of the recording in the Storage bucket: <user_id>/<file>..., so storage policies can match the owner folder.';

comment on column public.meetings.platform is
  'Where the meeting happened (zoom, google_meet, microsoft_teams, webex, slack_huddle, in_person, other); null if unknown.';

comment on column public.meetings.participant_count is
  'Number of participants detected or declared (at least 1); null if unknown.';

-- "My meetings, newest first"; leading user_id also serves the foreign key and owner policies.
create index meetings_user_id_created_at_idx
  on public.meetings (user_id, created_at desc);

-- Pipeline workers poll the unfinished meetings; the partial index stays small.
create index meetings_status_status_changed_at_idx
  on public.meetings (status, status_changed_at)
  where status in ('uploaded', 'queued', 'transcribing', 'analysing');

create trigger set_updated_at
  before update on public.meetings
  for each row
  execute function private.set_updated_at();

create function private.set_status_changed_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is distinct from old.status then
    new.status_changed_at := pg_catalog.now();
  end if;
  return new;
end;
$$;

comment on function private.set_status_changed_at() is
  'BEFORE UPDATE trigger: stamps status_changed_at whenever status changes.';

revoke all on function private.set_status_changed_at() from public;

create trigger set_status_changed_at
  before update of status on public.meetings
  for each row
  execute function private.set_status_changed_at();
