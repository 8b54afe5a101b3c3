-- Supabase platform layer, step 7: the rest of Supabase Auth's state that `shipspeak-db serve`'s local Auth
-- writes — identities, sessions and refresh tokens — as Supabase Auth's own migrations leave them.
--
-- Sources (github.com/supabase/auth, migrations/): 00_init_auth_schema.up.sql (refresh_tokens),
-- 20210909172000_create_identities_table, 20211122151130_create_user_id_idx,
-- 20220224000811_update_auth_functions (refresh_tokens parent), 20221003041349_add_mfa_schema (sessions,
-- aal_level, refresh_tokens.session_id), 20221011041400_add_mfa_indexes, 20221208132122_backfill_email_last_sign_in_at,
-- 20230322519590_add_sessions_refreshed_at/_user_agent_ip (refreshed_at, user_agent, ip),
-- 20231117164230_add_id_pkey_identities (identities.id, provider_id), 20240427152123_add_sessions_tag.
-- Columns serve does not use (factor_id, not_after, tag) are kept so production code sees the same table.
--
-- Erasure: deleting an auth.users row removes its identities and sessions (on delete cascade), and a
-- session's refresh tokens with it, exactly as in Supabase. The API roles get no privilege here.

do $$
begin
  if not exists (select from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
                 where n.nspname = 'auth' and t.typname = 'aal_level') then
    create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
  end if;
end
$$;

comment on type auth.aal_level is 'Auth: authenticator assurance level of a session (aal1 = password only).';

create table if not exists auth.identities (
  provider_id text not null,
  user_id uuid not null,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamp with time zone,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  email text generated always as (lower((identity_data ->> 'email'::text))) stored,
  id uuid not null default gen_random_uuid(),
  constraint identities_pkey primary key (id),
  constraint identities_provider_id_provider_unique unique (provider_id, provider),
  constraint identities_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
);

comment on table auth.identities is 'Auth: Stores identities associated to a user.';
comment on column auth.identities.email is 'Auth: Email is a generated column that references the optional email property in the identity_data';

create index if not exists identities_user_id_idx on auth.identities using btree (user_id);
create index if not exists identities_email_idx on auth.identities using btree (email text_pattern_ops);

create table if not exists auth.sessions (
  id uuid not null,
  user_id uuid not null,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  factor_id uuid,
  aal auth.aal_level,
  not_after timestamp with time zone,
  refreshed_at timestamp without time zone,
  user_agent text,
  ip inet,
  tag text,
  constraint sessions_pkey primary key (id),
  constraint sessions_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
);

comment on table auth.sessions is 'Auth: Stores session data associated to a user.';
comment on column auth.sessions.not_after is 'Auth: Not after is a nullable column that contains a timestamp after which the session should be regarded as expired.';

create index if not exists sessions_user_id_idx on auth.sessions using btree (user_id);
create index if not exists user_id_created_at_idx on auth.sessions using btree (user_id, created_at);
create index if not exists sessions_not_after_idx on auth.sessions using btree (not_after desc);

create sequence if not exists auth.refresh_tokens_id_seq;

create table if not exists auth.refresh_tokens (
  instance_id uuid,
  id bigint not null default nextval('auth.refresh_tokens_id_seq'::regclass),
  token character varying(255),
  user_id character varying(255),
  revoked boolean,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  parent character varying(255),
  session_id uuid,
  constraint refresh_tokens_pkey primary key (id),
  constraint refresh_tokens_token_unique unique (token),
  constraint refresh_tokens_session_id_fkey foreign key (session_id) references auth.sessions (id) on delete cascade
);

alter sequence auth.refresh_tokens_id_seq owned by auth.refresh_tokens.id;

comment on table auth.refresh_tokens is 'Auth: Store of tokens used to refresh JWT tokens once they expire.';

create index if not exists refresh_tokens_instance_id_idx on auth.refresh_tokens using btree (instance_id);
create index if not exists refresh_tokens_instance_id_user_id_idx on auth.refresh_tokens using btree (instance_id, user_id);
create index if not exists refresh_tokens_parent_idx on auth.refresh_tokens using btree (parent);
create index if not exists refresh_tokens_session_id_revoked_idx on auth.refresh_tokens using btree (session_id, revoked);
create index if not exists refresh_tokens_updated_at_idx on auth.refresh_tokens using btree (updated_at desc);

-- As for auth.users: RLS on without a policy, and no privilege for the API roles.
alter table auth.identities enable row level security;
alter table auth.sessions enable row level security;
alter table auth.refresh_tokens enable row level security;
revoke all on table auth.identities from public, anon, authenticated, service_role;
revoke all on table auth.sessions from public, anon, authenticated, service_role;
revoke all on table auth.refresh_tokens from public, anon, authenticated, service_role;
revoke all on sequence auth.refresh_tokens_id_seq from public, anon, authenticated, service_role;
