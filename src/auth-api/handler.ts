import type { Database } from '../db/database.js';
import { isPgError } from '../db/database.js';
import { createAuthUser } from '../auth/signup.js';
import { assertSecret } from '../auth/tokens.js';
import type { Handle } from '../rest/fetch-adapter.js';
import { bearerClaims, type Ctx } from './context.js';
import { adminUsers } from './admin.js';
import { AuthError, errorResponse, isObject, jsonResponse, readJsonObject } from './errors.js';
import { BCRYPT_COST, checkPassword, DEFAULT_MIN_PASSWORD_LENGTH, hashPassword, verifyPassword } from './passwords.js';
import { sessionJson } from './session.js';
import {
  createEmailIdentity,
  createSession,
  endSessions,
  rotateRefreshToken,
  sessionExists,
  userByEmail,
  type LogoutScope,
} from './store.js';
import { checkEmail, requireUser, updateUser, userJson } from './users.js';

/**
 * The Supabase Auth (GoTrue) endpoints supabase-js calls, served under /auth/v1 by `shipspeak-db serve`:
 *   POST /signup                           auth.signUp (e-mail + password; auto-confirmed, as `supabase start`)
 *   POST /token?grant_type=password        auth.signInWithPassword
 *   POST /token?grant_type=refresh_token   auth.refreshSession (rotation + reuse detection)
 *   GET  /user, PUT /user                  auth.getUser, auth.updateUser (email, password, data)
 *   POST /logout?scope=global|local|others auth.signOut
 *   /admin/users[/{id}]                    auth.admin.* (service_role only): list, create, get, update, delete
 *   GET  /health, GET /settings
 * State lives in Supabase Auth's tables (auth.users, identities, sessions, refresh_tokens); access tokens are
 * minted by src/auth/tokens.ts. Not provided: e-mail/phone delivery, OTP, magic links, OAuth, MFA, SSO.
 */
export interface AuthApiConfig {
  db: Database;
  jwtSecret: string;
  /** Access token lifetime in seconds (GoTrue's JWT_EXP default: 3600). */
  accessTokenTtl?: number;
  minPasswordLength?: number;
  /** bcrypt cost of new password hashes (GoTrue: 10). Existing hashes verify at whatever cost they carry. */
  bcryptCost?: number;
}

export const AUTH_PREFIX = '/auth/v1';

/** A signed-in user's claims whose session still exists (GoTrue: 403 session_not_found after sign-out). */
async function userClaims(ctx: Ctx, request: Request): Promise<{ sub: string; sessionId: string }> {
  const claims = await bearerClaims(ctx, request);
  if (claims.role !== 'authenticated' || typeof claims.sub !== 'string')
    throw new AuthError(403, 'bad_jwt', 'invalid claim: missing sub claim');
  const sessionId = typeof claims.session_id === 'string' ? claims.session_id : '';
  if (!/^[0-9a-f-]{36}$/i.test(sessionId) || !(await sessionExists(ctx.db, sessionId, claims.sub))) {
    throw new AuthError(403, 'session_not_found', 'Session from session_id claim in JWT does not exist');
  }
  return { sub: claims.sub, sessionId };
}

async function signup(ctx: Ctx, request: Request): Promise<Response> {
  const body = await readJsonObject(request);
  const email = checkEmail(body.email);
  const password = checkPassword(body.password, ctx.minPasswordLength);
  if (body.data !== undefined && !isObject(body.data))
    throw new AuthError(400, 'validation_failed', 'data must be a JSON object');
  const encrypted = await hashPassword(password, ctx.bcryptCost);
  try {
    const out = await ctx.db.transaction(async (tx) => {
      const user = await createAuthUser(tx, {
        email,
        encrypted_password: encrypted,
        user_metadata: (body.data as Record<string, unknown>) ?? {},
      });
      await createEmailIdentity(tx, user);
      const session = await createSession(tx, user.id, request.headers.get('user-agent'));
      return sessionJson(tx, ctx, await requireUser(tx, user.id), session);
    });
    return jsonResponse(out);
  } catch (e) {
    if (isPgError(e) && e.code === '23505') throw new AuthError(422, 'user_already_exists', 'User already registered');
    throw e;
  }
}

const invalidCredentials = () => new AuthError(400, 'invalid_credentials', 'Invalid login credentials');

async function token(ctx: Ctx, request: Request, url: URL): Promise<Response> {
  const grant = url.searchParams.get('grant_type');
  if (grant === 'password') {
    const body = await readJsonObject(request);
    if (typeof body.email !== 'string' || typeof body.password !== 'string' || body.password === '')
      throw invalidCredentials();
    const user = await userByEmail(ctx.db, body.email.trim());
    const ok = await verifyPassword(body.password, user?.encrypted_password);
    if (!user || !ok) throw invalidCredentials();
    if (user.banned_until && Date.parse(user.banned_until) > Date.now())
      throw new AuthError(400, 'user_banned', 'User is banned');
    const out = await ctx.db.transaction(async (tx) => {
      const session = await createSession(tx, user.id, request.headers.get('user-agent'));
      return sessionJson(tx, ctx, await requireUser(tx, user.id), session);
    });
    return jsonResponse(out);
  }
  if (grant === 'refresh_token') {
    const body = await readJsonObject(request);
    if (typeof body.refresh_token !== 'string' || body.refresh_token === '')
      throw new AuthError(400, 'validation_failed', 'refresh_token required');
    const refresh = body.refresh_token;
    const out = await ctx.db.transaction(async (tx) => {
      const r = await rotateRefreshToken(tx, refresh);
      if (r.kind === 'not_found') return r;
      if (r.kind === 'reused') return r;
      return sessionJson(tx, ctx, await requireUser(tx, r.userId), r);
    });
    // Thrown after commit: the reuse detection's session delete must stay done.
    if ('kind' in out && out.kind === 'not_found')
      throw new AuthError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
    if ('kind' in out && out.kind === 'reused')
      throw new AuthError(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used');
    return jsonResponse(out);
  }
  throw new AuthError(
    400,
    'validation_failed',
    `unsupported_grant_type: ${grant === null ? '(none)' : JSON.stringify(grant)} (serve supports password and refresh_token)`,
  );
}

async function user(ctx: Ctx, request: Request): Promise<Response> {
  const { sub } = await userClaims(ctx, request);
  if (request.method === 'GET') return jsonResponse(await userJson(ctx.db, await requireUser(ctx.db, sub)));
  if (request.method !== 'PUT')
    throw new AuthError(405, 'method_not_allowed', `${request.method} is not supported on ${AUTH_PREFIX}/user`);
  const body = await readJsonObject(request);
  if (body.data !== undefined && !isObject(body.data))
    throw new AuthError(400, 'validation_failed', 'data must be a JSON object');
  const email = body.email === undefined ? undefined : checkEmail(body.email);
  const encryptedPassword =
    body.password === undefined
      ? undefined
      : await hashPassword(checkPassword(body.password, ctx.minPasswordLength), ctx.bcryptCost);
  try {
    const out = await ctx.db.transaction(async (tx) =>
      userJson(
        tx,
        await updateUser(tx, sub, {
          ...(email ? { email } : {}),
          ...(encryptedPassword ? { encryptedPassword } : {}),
          ...(isObject(body.data) ? { userMetadata: body.data } : {}),
        }),
      ),
    );
    return jsonResponse(out);
  } catch (e) {
    if (isPgError(e) && e.code === '23505')
      throw new AuthError(422, 'email_exists', 'A user with this email address has already been registered');
    throw e;
  }
}

async function logout(ctx: Ctx, request: Request, url: URL): Promise<Response> {
  const scope = (url.searchParams.get('scope') ?? 'global') as LogoutScope;
  if (!['global', 'local', 'others'].includes(scope))
    throw new AuthError(
      400,
      'validation_failed',
      `scope must be global, local or others (got ${JSON.stringify(scope)})`,
    );
  const { sub, sessionId } = await userClaims(ctx, request);
  await endSessions(ctx.db, sub, sessionId, scope);
  return new Response(null, { status: 204 });
}

export function createAuthApi(cfg: AuthApiConfig): Handle {
  const ctx: Ctx = {
    db: cfg.db,
    jwtSecret: cfg.jwtSecret,
    jwtKey: assertSecret(cfg.jwtSecret),
    accessTokenTtl: cfg.accessTokenTtl ?? 3600,
    minPasswordLength: cfg.minPasswordLength ?? DEFAULT_MIN_PASSWORD_LENGTH,
    bcryptCost: cfg.bcryptCost ?? BCRYPT_COST,
  };
  return async (request) => {
    const url = new URL(request.url);
    const path = url.pathname.slice(AUTH_PREFIX.length).replace(/\/+$/, '') || '/';
    try {
      const m = request.method;
      if (path === '/health' && m === 'GET')
        return jsonResponse({ version: 'shipspeak-db', name: 'GoTrue', description: 'shipspeak-db serve local Auth' });
      if (path === '/settings' && m === 'GET') {
        return jsonResponse({
          external: { email: true, phone: false },
          disable_signup: false,
          mailer_autoconfirm: true,
          phone_autoconfirm: false,
          sms_provider: '',
        });
      }
      if (path === '/signup' && m === 'POST') return await signup(ctx, request);
      if (path === '/token' && m === 'POST') return await token(ctx, request, url);
      if (path === '/user') return await user(ctx, request);
      if (path === '/logout' && m === 'POST') return await logout(ctx, request, url);
      if (path === '/admin/users' || path.startsWith('/admin/users/')) return await adminUsers(ctx, request, url, path);
      throw new AuthError(
        404,
        'not_found',
        `${m} ${AUTH_PREFIX}${path} is not provided by shipspeak-db serve's local Auth (see docs/serve.md)`,
      );
    } catch (e) {
      if (e instanceof AuthError) return errorResponse(request, e);
      // Anything else (the database unreachable, a bug) is GoTrue's 500 unexpected_failure, still JSON.
      return errorResponse(
        request,
        new AuthError(500, 'unexpected_failure', e instanceof Error ? e.message : String(e)),
      );
    }
  };
}
