import type { Queryable } from '../db/database.js';
import { findAuthUser, type AuthUser } from '../auth/signup.js';
import { AuthError } from './errors.js';
import { identitiesOf } from './store.js';

/** A user as Supabase Auth's JSON prints it (GET /user, the `user` of a session, the admin API). */
export async function userJson(q: Queryable, u: AuthUser): Promise<Record<string, unknown>> {
  return {
    id: u.id,
    aud: 'authenticated',
    role: 'authenticated',
    email: u.email ?? '',
    email_confirmed_at: u.email_confirmed_at,
    phone: '',
    confirmed_at: u.email_confirmed_at,
    last_sign_in_at: u.last_sign_in_at,
    app_metadata: u.app_metadata,
    user_metadata: u.user_metadata,
    identities: await identitiesOf(q, u.id),
    created_at: u.created_at,
    updated_at: u.updated_at ?? u.created_at,
    ...(u.banned_until ? { banned_until: u.banned_until } : {}),
    is_anonymous: u.is_anonymous,
  };
}

export async function requireUser(q: Queryable, id: string): Promise<AuthUser> {
  const u = await findAuthUser(q, id);
  if (!u) throw new AuthError(404, 'user_not_found', 'User not found');
  return u;
}

/** GoTrue's e-mail check (a syntactic one: serve sends no mail). */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function checkEmail(email: unknown): string {
  if (typeof email !== 'string' || email.trim() === '')
    throw new AuthError(400, 'validation_failed', 'To signup, please provide your email');
  const e = email.trim().toLowerCase();
  if (!EMAIL.test(e) || e.length > 255)
    throw new AuthError(400, 'validation_failed', 'Unable to validate email address: invalid format');
  return e;
}

export interface UserPatch {
  email?: string;
  encryptedPassword?: string;
  /** Merged into raw_user_meta_data (jsonb ||), as GoTrue merges `data`. */
  userMetadata?: Record<string, unknown>;
  /** Merged into raw_app_meta_data: admin API only. */
  appMetadata?: Record<string, unknown>;
  /** null lifts a ban. */
  bannedUntil?: Date | null;
}

export async function updateUser(q: Queryable, id: string, p: UserPatch): Promise<AuthUser> {
  const r = await q.query(
    `update auth.users set
       email = coalesce($2::text, email),
       encrypted_password = coalesce($3::text, encrypted_password),
       raw_user_meta_data = case when $4::jsonb is null then raw_user_meta_data else coalesce(raw_user_meta_data, '{}'::jsonb) || $4::jsonb end,
       raw_app_meta_data = case when $5::jsonb is null then raw_app_meta_data else coalesce(raw_app_meta_data, '{}'::jsonb) || $5::jsonb end,
       banned_until = case when $6::boolean then $7::timestamptz else banned_until end,
       updated_at = now()
     where id = $1`,
    [
      id,
      p.email ?? null,
      p.encryptedPassword ?? null,
      p.userMetadata ? JSON.stringify(p.userMetadata) : null,
      p.appMetadata ? JSON.stringify(p.appMetadata) : null,
      p.bannedUntil !== undefined,
      p.bannedUntil ? p.bannedUntil.toISOString() : null,
    ],
  );
  if (r.rowCount !== 1) throw new AuthError(404, 'user_not_found', 'User not found');
  if (p.email) {
    await q.query(
      `update auth.identities set identity_data = identity_data || jsonb_build_object('email', $2::text), updated_at = now()
       where user_id = $1 and provider = 'email'`,
      [id, p.email],
    );
  }
  return requireUser(q, id);
}
