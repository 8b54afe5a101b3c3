import { randomBytes, randomUUID } from 'node:crypto';
import type { Queryable } from '../db/database.js';
import { AUTH_USER_COLUMNS, type AuthUser } from '../auth/signup.js';

/**
 * Supabase Auth's state for serve's local Auth, in Supabase's own tables (sql/bootstrap/0003 and 0007):
 * an identity per e-mail user, one auth.sessions row per sign-in, and a chain of refresh tokens per session
 * (each refresh revokes its token and issues a child whose `parent` names it). Every function takes a
 * Queryable so callers compose them in one transaction.
 */
export interface Identity {
  identity_id: string;
  id: string;
  user_id: string;
  identity_data: Record<string, unknown>;
  provider: string;
  last_sign_in_at: string | null;
  created_at: string | null;
  updated_at: string | null;
  email: string | null;
}

const iso = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export async function userByEmail(
  q: Queryable,
  email: string,
): Promise<(AuthUser & { encrypted_password: string | null }) | null> {
  const r = await q.query<AuthUser & { encrypted_password: string | null }>(
    `select ${AUTH_USER_COLUMNS}, encrypted_password from auth.users
     where lower(email) = lower($1) and is_sso_user = false and deleted_at is null`,
    [email],
  );
  return r.rows[0] ?? null;
}

/** The e-mail identity GoTrue creates with every e-mail sign-up (provider_id = the user id). */
export async function createEmailIdentity(q: Queryable, user: AuthUser): Promise<void> {
  await q.query(
    `insert into auth.identities (provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
     values ($1::text, $1::uuid, $2::jsonb, 'email', now(), now(), now())`,
    [
      user.id,
      JSON.stringify({
        sub: user.id,
        email: user.email,
        email_verified: user.email_confirmed_at !== null,
        phone_verified: false,
      }),
    ],
  );
}

export async function identitiesOf(q: Queryable, userId: string): Promise<Identity[]> {
  const r = await q.query<Identity>(
    `select id::text as identity_id, provider_id as id, user_id::text as user_id, identity_data, provider,
            ${iso('last_sign_in_at')} as last_sign_in_at, ${iso('created_at')} as created_at, ${iso('updated_at')} as updated_at, email
     from auth.identities where user_id = $1 order by created_at, id`,
    [userId],
  );
  return r.rows;
}

/** GoTrue's refresh tokens are short random strings (not JWTs); 12 random bytes, base64url. */
function newRefreshToken(): string {
  return randomBytes(12).toString('base64url');
}

export interface IssuedSession {
  sessionId: string;
  refreshToken: string;
}

/** A sign-in: a new session and its first refresh token; last_sign_in_at is stamped on user and identity. */
export async function createSession(q: Queryable, userId: string, userAgent: string | null): Promise<IssuedSession> {
  const sessionId = randomUUID();
  const refreshToken = newRefreshToken();
  await q.query(
    `insert into auth.sessions (id, user_id, created_at, updated_at, aal, refreshed_at, user_agent)
     values ($1, $2, now(), now(), 'aal1', null, $3)`,
    [sessionId, userId, userAgent],
  );
  await q.query(
    `insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
     values ('00000000-0000-0000-0000-000000000000', $1, $2, false, now(), now(), null, $3)`,
    [refreshToken, userId, sessionId],
  );
  await q.query(`update auth.users set last_sign_in_at = now(), updated_at = now() where id = $1`, [userId]);
  await q.query(
    `update auth.identities set last_sign_in_at = now(), updated_at = now() where user_id = $1 and provider = 'email'`,
    [userId],
  );
  return { sessionId, refreshToken };
}

export type Rotation =
  | { kind: 'rotated'; userId: string; sessionId: string; refreshToken: string }
  | { kind: 'not_found' }
  /** A revoked token was presented again: the session is ended (reuse detection). */
  | { kind: 'reused' };

/**
 * Refresh-token rotation: the presented token is revoked and a child issued. Presenting a revoked token is
 * treated as theft (GoTrue's reuse detection): the whole session — and so every token of it — is deleted.
 * Callers run this in a transaction; the row lock serialises two refreshes of the same token.
 */
export async function rotateRefreshToken(q: Queryable, token: string): Promise<Rotation> {
  const r = await q.query<{ id: string; user_id: string; revoked: boolean; session_id: string | null }>(
    `select id::text as id, user_id, coalesce(revoked, false) as revoked, session_id::text as session_id
     from auth.refresh_tokens where token = $1 for update`,
    [token],
  );
  const row = r.rows[0];
  if (!row || row.session_id === null) return { kind: 'not_found' };
  if (row.revoked) {
    await q.query(`delete from auth.sessions where id = $1`, [row.session_id]);
    return { kind: 'reused' };
  }
  const child = newRefreshToken();
  await q.query(`update auth.refresh_tokens set revoked = true, updated_at = now() where id = $1`, [row.id]);
  await q.query(
    `insert into auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, parent, session_id)
     values ('00000000-0000-0000-0000-000000000000', $1, $2, false, now(), now(), $3, $4)`,
    [child, row.user_id, token, row.session_id],
  );
  await q.query(
    `update auth.sessions set refreshed_at = (now() at time zone 'UTC'), updated_at = now() where id = $1`,
    [row.session_id],
  );
  return { kind: 'rotated', userId: row.user_id, sessionId: row.session_id, refreshToken: child };
}

export async function sessionExists(q: Queryable, sessionId: string, userId: string): Promise<boolean> {
  const r = await q.query(`select from auth.sessions where id = $1 and user_id = $2`, [sessionId, userId]);
  return r.rows.length === 1;
}

export type LogoutScope = 'global' | 'local' | 'others';

/** Ends sessions (their refresh tokens go with them: on delete cascade). Returns how many. */
export async function endSessions(
  q: Queryable,
  userId: string,
  sessionId: string,
  scope: LogoutScope,
): Promise<number> {
  const where = scope === 'local' ? 'id = $2' : scope === 'others' ? 'id <> $2' : '$2::uuid is not null';
  const r = await q.query(`delete from auth.sessions where user_id = $1 and ${where}`, [userId, sessionId]);
  return r.rowCount;
}
