import { isPgError } from '../db/database.js';
import { AUTH_USER_COLUMNS, createAuthUser, UUID, type AuthUser } from '../auth/signup.js';
import { AuthError, isObject, jsonResponse, readJsonObject } from './errors.js';
import { bearerClaims, type Ctx } from './context.js';
import { checkPassword, hashPassword } from './passwords.js';
import { createEmailIdentity } from './store.js';
import { checkEmail, requireUser, updateUser, userJson, type UserPatch } from './users.js';

/**
 * Supabase Auth's admin API (supabase.auth.admin.*), service_role only, as GoTrue answers it:
 *   GET    /admin/users?page=&per_page=   listUsers: { users, aud } + X-Total-Count and Link headers
 *   POST   /admin/users                   createUser: id, email, password, user_metadata, app_metadata
 *   GET    /admin/users/{id}              getUserById
 *   PUT    /admin/users/{id}              updateUserById: email, password, user_metadata, app_metadata, ban_duration
 *   DELETE /admin/users/{id}              deleteUser: the erasure path (the auth.users row goes; everything
 *                                         referencing it cascades, the audit trail pseudonymises)
 * Creation is the signup INSERT into auth.users, so the signup trigger builds profile and progress rows.
 */
const MAX_PER_PAGE = 1000;

function positiveInt(v: string | null, name: string, fallback: number): number {
  if (v === null || v === '') return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new AuthError(400, 'validation_failed', `${name} must be a positive integer (got ${JSON.stringify(v)})`);
  return Number(v);
}

/** GoTrue's ban_duration: "none" lifts the ban, else a Go duration such as "24h", "90m", "1h30m". */
function banUntil(v: unknown): Date | null {
  if (v === 'none') return null;
  const m = typeof v === 'string' ? /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v) : null;
  if (!m || v === '')
    throw new AuthError(
      400,
      'validation_failed',
      `ban_duration must be "none" or a duration like "24h" (got ${JSON.stringify(v)})`,
    );
  const seconds = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  return new Date(Date.now() + seconds * 1000);
}

async function patchFrom(ctx: Ctx, body: Record<string, unknown>): Promise<UserPatch> {
  for (const k of ['user_metadata', 'app_metadata'] as const) {
    if (body[k] !== undefined && !isObject(body[k]))
      throw new AuthError(400, 'validation_failed', `${k} must be a JSON object`);
  }
  return {
    ...(body.email !== undefined ? { email: checkEmail(body.email) } : {}),
    ...(body.password !== undefined
      ? { encryptedPassword: await hashPassword(checkPassword(body.password, ctx.minPasswordLength), ctx.bcryptCost) }
      : {}),
    ...(isObject(body.user_metadata) ? { userMetadata: body.user_metadata } : {}),
    ...(isObject(body.app_metadata) ? { appMetadata: body.app_metadata } : {}),
    ...(body.ban_duration !== undefined ? { bannedUntil: banUntil(body.ban_duration) } : {}),
  };
}

export async function adminUsers(ctx: Ctx, request: Request, url: URL, path: string): Promise<Response> {
  const claims = await bearerClaims(ctx, request);
  if (claims.role !== 'service_role') throw new AuthError(403, 'not_admin', 'User not allowed');
  const rawId = path === '/admin/users' ? undefined : decodeURIComponent(path.slice('/admin/users/'.length));
  if (rawId !== undefined && (rawId.includes('/') || !UUID.test(rawId)))
    throw new AuthError(404, 'user_not_found', 'User not found');
  const id = rawId?.toLowerCase();
  const m = request.method;
  try {
    if (id === undefined && m === 'GET') {
      const page = positiveInt(url.searchParams.get('page'), 'page', 1);
      const perPage = Math.min(positiveInt(url.searchParams.get('per_page'), 'per_page', 50), MAX_PER_PAGE);
      const total = Number(
        (await ctx.db.query<{ n: string }>(`select count(*)::text as n from auth.users`)).rows[0]!.n,
      );
      const rows = await ctx.db.query<AuthUser>(
        `select ${AUTH_USER_COLUMNS} from auth.users order by created_at desc, id limit $1 offset $2`,
        [perPage, (page - 1) * perPage],
      );
      const users = [];
      for (const u of rows.rows) users.push(await userJson(ctx.db, u));
      const last = Math.max(1, Math.ceil(total / perPage));
      const base = `${url.origin}${url.pathname}`;
      const links = [
        ...(page < last ? [`<${base}?page=${page + 1}&per_page=${perPage}>; rel="next"`] : []),
        `<${base}?page=${last}&per_page=${perPage}>; rel="last"`,
      ];
      return jsonResponse({ users, aud: 'authenticated' }, 200, {
        'x-total-count': String(total),
        link: links.join(', '),
      });
    }
    if (id === undefined && m === 'POST') {
      const body = await readJsonObject(request);
      if (body.id !== undefined && (typeof body.id !== 'string' || !UUID.test(body.id)))
        throw new AuthError(400, 'validation_failed', 'id must be a UUID');
      const email = body.email === undefined ? null : checkEmail(body.email);
      const patch = await patchFrom(ctx, { ...body, email: undefined });
      const out = await ctx.db.transaction(async (tx) => {
        const user = await createAuthUser(tx, {
          ...(typeof body.id === 'string' ? { id: body.id } : {}),
          email,
          encrypted_password: patch.encryptedPassword ?? null,
          ...(patch.userMetadata ? { user_metadata: patch.userMetadata } : {}),
          ...(patch.appMetadata
            ? { app_metadata: { provider: 'email', providers: ['email'], ...patch.appMetadata } }
            : {}),
        });
        if (email) await createEmailIdentity(tx, user);
        return userJson(tx, await requireUser(tx, user.id));
      });
      return jsonResponse(out);
    }
    if (id !== undefined && m === 'GET') return jsonResponse(await userJson(ctx.db, await requireUser(ctx.db, id)));
    if (id !== undefined && m === 'PUT') {
      const patch = await patchFrom(ctx, await readJsonObject(request));
      return jsonResponse(await ctx.db.transaction(async (tx) => userJson(tx, await updateUser(tx, id, patch))));
    }
    if (id !== undefined && m === 'DELETE') {
      const r = await ctx.db.query(`delete from auth.users where id = $1`, [id]);
      if (r.rowCount !== 1) throw new AuthError(404, 'user_not_found', 'User not found');
      return jsonResponse({});
    }
    throw new AuthError(405, 'method_not_allowed', `${m} is not supported on ${url.pathname}`);
  } catch (e) {
    if (isPgError(e) && e.code === '23505')
      throw new AuthError(422, 'email_exists', 'A user with this email address or id has already been registered');
    throw e;
  }
}
