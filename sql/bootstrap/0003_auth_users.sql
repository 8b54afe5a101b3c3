-- Supabase platform layer, step 3: auth.users as Supabase Auth's own migrations leave it today.
--
-- Sources (github.com/supabase/auth, migrations/): 00_init_auth_schema.up.sql (base table),
-- 20210710035447_alter_users (phone*, confirmed_at renamed to email_confirmed_at),
-- 20210722035447_adds_confirmed_at (confirmed_at generated), 20210730183235_add_email_change_confirmed
-- (email_change_token_new/current, email_change_confirm_status + check), 20220114185340_add_banned_until,
-- 20220323170000_add_user_reauthentication, 20221130112646_add_deleted_at,
-- 20221215195500_modify_users_email_unique_index (is_sso_user, users_email_partial_key),
-- 20230116124310_alter_phone_type (phone text), 20240214120130_add_is_anonymous_column,
-- 20240612123726_enable_rls_update_grants (row level security on). Column order and types match a
-- pg_dump of a current Supabase database.
--
-- Owner is the role running the bootstrap (on Supabase it is supabase_auth_admin). The API roles get no
-- privilege on it: clients never read auth.users directly, only through their own public.profiles.

create table if not exists auth.users (
  instance_id uuid,
  id uuid not null,
  aud character varying(255),
  role character varying(255),
  email character varying(255),
  encrypted_password character varying(255),
  email_confirmed_at timestamp with time zone,
  invited_at timestamp with time zone,
  confirmation_token character varying(255),
  confirmation_sent_at timestamp with time zone,
  recovery_token character varying(255),
  recovery_sent_at timestamp with time zone,
  email_change_token_new character varying(255),
  email_change character varying(255),
  email_change_sent_at timestamp with time zone,
  last_sign_in_at timestamp with time zone,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  phone text default null::character varying,
  phone_confirmed_at timestamp with time zone,
  phone_change text default ''::character varying,
  phone_change_token character varying(255) default ''::character varying,
  phone_change_sent_at timestamp with time zone,
  confirmed_at timestamp with time zone generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current character varying(255) default ''::character varying,
  email_change_confirm_status smallint default 0,
  banned_until timestamp with time zone,
  reauthentication_token character varying(255) default ''::character varying,
  reauthentication_sent_at timestamp with time zone,
  is_sso_user boolean not null default false,
  deleted_at timestamp with time zone,
  is_anonymous boolean not null default false,
  constraint users_pkey primary key (id),
  constraint users_phone_key unique (phone),
  constraint users_email_change_confirm_status_check check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2)
);

comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
comment on column auth.users.is_sso_user is 'Auth: Set this column to true when the account comes from SSO. These accounts can have duplicate emails.';
comment on column auth.users.raw_app_meta_data is 'Claims only the service can set (the JWT app_metadata): the one metadata source fit for authorisation.';
comment on column auth.users.raw_user_meta_data is 'Claims the user can edit themselves (the JWT user_metadata): never use for authorisation.';

-- Email is unique among non-SSO accounts only (SSO accounts may share an email).
create unique index if not exists users_email_partial_key on auth.users using btree (email) where (is_sso_user = false);
comment on index auth.users_email_partial_key is 'Auth: A partial unique index that applies only when is_sso_user is false';
create index if not exists users_instance_id_email_idx on auth.users using btree (instance_id, lower((email)::text));
create index if not exists users_instance_id_idx on auth.users using btree (instance_id);
create index if not exists users_is_anonymous_idx on auth.users using btree (is_anonymous);
-- A token column holds either a token or a hashed numeric code; only real tokens are unique.
create unique index if not exists confirmation_token_idx on auth.users using btree (confirmation_token) where ((confirmation_token)::text !~ '^[0-9 ]*$'::text);
create unique index if not exists recovery_token_idx on auth.users using btree (recovery_token) where ((recovery_token)::text !~ '^[0-9 ]*$'::text);
create unique index if not exists email_change_token_current_idx on auth.users using btree (email_change_token_current) where ((email_change_token_current)::text !~ '^[0-9 ]*$'::text);
create unique index if not exists email_change_token_new_idx on auth.users using btree (email_change_token_new) where ((email_change_token_new)::text !~ '^[0-9 ]*$'::text);
create unique index if not exists reauthentication_token_idx on auth.users using btree (reauthentication_token) where ((reauthentication_token)::text !~ '^[0-9 ]*$'::text);

-- Supabase Auth enables RLS on its tables (20240612123726) and defines no policy: only the owner and
-- BYPASSRLS roles see rows. The API roles additionally hold no table privilege at all.
alter table auth.users enable row level security;
revoke all on table auth.users from public, anon, authenticated, service_role;
