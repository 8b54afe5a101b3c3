import type { Database } from '../db/database.js';
import { isPgError } from '../db/database.js';
import { createAuthUser, findAuthUser, type AuthUser } from '../auth/signup.js';
import type { Handle } from '../rest/fetch-adapter.js';
import { verifyJwt } from '../rest/jwt.js';

/**
 * The two endpoints of Supabase Auth's admin API that a local data API needs so users can be made while the
 * server runs (PGlite lives inside the server process; nothing else can open its database):
 *   GET  /auth/v1/admin/users/{id}   (supabase.auth.admin.getUserById)
 *   POST /auth/v1/admin/users        (supabase.auth.admin.createUser: id, email, user_metadata, app_metadata)
 * Same request and response shapes as GoTrue, and like GoTrue only a service_role JWT may call them. Creation
 * is the signup INSERT into auth.users, so the signup trigger runs. Everything else under /auth/v1 is 404:
 * this is not an Auth server (no passwords, sessions or e-mail); user tokens are minted with the JWT secret.
 */
const JSON_TYPE = 'application/json; charset=utf-8';

function authError(status: number, errorCode: string, msg: string): Response {
  return new Response(JSON.stringify({ code: status, error_code: errorCode, msg }), { status, headers: { 'content-type': JSON_TYPE } });
}

function userJson(u: AuthUser): Record<string, unknown> {
  return {
    id: u.id,
    aud: 'authenticated',
    role: 'authenticated',
    email: u.email ?? '',
    phone: '',
    app_metadata: u.app_metadata,
    user_metadata: u.user_metadata,
    identities: [],
    created_at: u.created_at,
    updated_at: u.created_at,
    is_anonymous: false,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createAdminHandler(options: { db: Database; jwtKey: Uint8Array }): Handle {
  const { db, jwtKey } = options;
  return async (request) => {
    const url = new URL(request.url);
    const m = /^\/auth\/v1\/admin\/users(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (!m) return authError(404, 'not_found', 'shipspeak-db serve implements only /auth/v1/admin/users of Supabase Auth');
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
    if (!bearer) return authError(401, 'no_authorization', 'This endpoint requires a Bearer token');
    let role: unknown;
    try {
      role = (await verifyJwt(bearer, jwtKey)).role;
    } catch (e) {
      return authError(401, 'bad_jwt', `invalid JWT: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (role !== 'service_role') return authError(403, 'not_admin', 'User not allowed');
    const id = m[1] ? decodeURIComponent(m[1]) : undefined;
    try {
      if (request.method === 'GET' && id !== undefined) {
        if (!UUID.test(id)) return authError(404, 'user_not_found', 'User not found');
        const user = await findAuthUser(db, id);
        return user ? Response.json(userJson(user)) : authError(404, 'user_not_found', 'User not found');
      }
      if (request.method === 'POST' && id === undefined) {
        const body = (await request.json().catch(() => null)) as Record<string, unknown> | null;
        if (body === null || typeof body !== 'object') return authError(400, 'validation_failed', 'Could not parse request body as JSON');
        if (body.id !== undefined && (typeof body.id !== 'string' || !UUID.test(body.id))) return authError(400, 'validation_failed', 'id must be a UUID');
        const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
        const user = await db.transaction((tx) =>
          createAuthUser(tx, {
            ...(typeof body.id === 'string' ? { id: body.id } : {}),
            email: typeof body.email === 'string' ? body.email.toLowerCase() : null,
            ...(obj(body.user_metadata) ? { user_metadata: obj(body.user_metadata)! } : {}),
            ...(obj(body.app_metadata) ? { app_metadata: { provider: 'email', providers: ['email'], ...obj(body.app_metadata)! } } : {}),
          }),
        );
        return Response.json(userJson(user));
      }
      return authError(405, 'method_not_allowed', `${request.method} is not supported on ${url.pathname}`);
    } catch (e) {
      if (isPgError(e) && e.code === '23505') return authError(422, 'email_exists', 'A user with this email address or id has already been registered');
      throw e;
    }
  };
}
