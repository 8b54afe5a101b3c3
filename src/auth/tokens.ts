import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * JWTs shaped like the ones Supabase issues, signed HS256 with the project's JWT secret: API keys (anon,
 * service_role) like `supabase start` prints, and user access tokens with the claims Supabase Auth puts
 * there, so RLS sees exactly what it would see in production.
 */
export const MIN_SECRET_LENGTH = 32;

/** The one check of an HS256 secret, for minting (here) and verifying (the gateway's rest/jwt.ts) alike. */
export function assertSecret(secret: string): Uint8Array {
  const length = typeof secret === 'string' ? secret.length : 0;
  if (length < MIN_SECRET_LENGTH) {
    throw new Error(
      `JWT secret must be at least ${MIN_SECRET_LENGTH} characters (got ${length}), as PostgREST and Supabase Auth require`,
    );
  }
  return new TextEncoder().encode(secret);
}

export type ApiKeyRole = 'anon' | 'service_role';

/** An API key: a long-lived JWT naming only a role, as Supabase's anon and service_role keys are. */
export async function mintApiKey(secret: string, role: ApiKeyRole, issuer = 'shipspeak-db'): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(issuer)
    .setIssuedAt(now)
    .setExpirationTime(now + 10 * 365 * 24 * 3600)
    .sign(assertSecret(secret));
}

export interface UserClaims {
  sub: string;
  email?: string | null;
  phone?: string;
  /** Set by the server only; the place for authorization hints (never user_metadata). */
  app_metadata?: Record<string, unknown>;
  /** Editable by the user themselves: must never drive authorization. */
  user_metadata?: Record<string, unknown>;
  role?: 'authenticated';
  session_id?: string;
  is_anonymous?: boolean;
}

export interface MintOptions {
  /** Lifetime in seconds (Supabase's default JWT expiry is 3600). */
  expiresIn?: number;
  issuer?: string;
  /** Seconds since the epoch; lets tests mint expired or not-yet-valid tokens. */
  now?: number;
  notBefore?: number;
}

/** A user access token with Supabase Auth's claim set (aud, role, aal, amr, session_id …). */
export async function mintAccessToken(secret: string, claims: UserClaims, options: MintOptions = {}): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({
    email: claims.email ?? '',
    phone: claims.phone ?? '',
    app_metadata: claims.app_metadata ?? { provider: 'email', providers: ['email'] },
    user_metadata: claims.user_metadata ?? {},
    role: claims.role ?? 'authenticated',
    aal: 'aal1',
    amr: [{ method: 'password', timestamp: now }],
    session_id: claims.session_id ?? randomUUID(),
    is_anonymous: claims.is_anonymous ?? false,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setAudience('authenticated')
    .setIssuer(options.issuer ?? 'shipspeak-db/auth/v1')
    .setIssuedAt(now)
    .setExpirationTime(now + (options.expiresIn ?? 3600));
  if (options.notBefore !== undefined) jwt.setNotBefore(options.notBefore);
  return jwt.sign(assertSecret(secret));
}

/** What a token needs to know of a user: their auth.users row, or as much of it as the caller has. */
export interface TokenUser {
  id: string;
  email?: string | null;
  app_metadata?: Record<string, unknown>;
  user_metadata?: Record<string, unknown>;
  is_anonymous?: boolean;
}

/**
 * A user's access token: the one mapping from a user to Supabase Auth's claims (the CLI's `token`, serve's
 * banner and its Auth sessions, and the harness all mint through here, so their tokens cannot drift apart).
 */
export function mintUserToken(
  secret: string,
  user: TokenUser,
  options: MintOptions & { sessionId?: string } = {},
): Promise<string> {
  const { sessionId, ...mint } = options;
  return mintAccessToken(
    secret,
    {
      sub: user.id,
      email: user.email,
      app_metadata: user.app_metadata,
      user_metadata: user.user_metadata,
      ...(sessionId === undefined ? {} : { session_id: sessionId }),
      ...(user.is_anonymous === undefined ? {} : { is_anonymous: user.is_anonymous }),
    },
    mint,
  );
}
