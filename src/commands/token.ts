import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertSecret, mintApiKey, mintUserToken } from '../auth/tokens.js';
import { ensureUser, parseUserSpec, USER_SPEC_CHOICES, type AuthUser, type UserSpec } from '../auth/signup.js';
import { openPGlite } from '../db/pglite.js';
import { lockDataDir, readLock } from '../serve/lock.js';
import { DEFAULT_PORT } from '../serve/start.js';
import { resolveSecret } from './serve.js';
import { positiveIntArg, UsageError, type Command } from './command.js';

/**
 * `shipspeak-db token --user <persona|uuid>`: prints a user access token (stdout: the token only, so
 * `TOKEN=$(shipspeak-db token --user pro)` works). The user is created through the signup path when missing.
 *
 * Which database: DATABASE_URL (opened directly); --data-dir (opened directly when no server holds it,
 * otherwise through the server recorded in its lock); else a running `serve` at --url (default
 * http://127.0.0.1:54321), reached through its Supabase Auth admin endpoint with a service_role key — the only
 * way into an in-memory PGlite, which lives inside the server process.
 */
export interface TokenArgs {
  user?: string;
  url?: string;
  dataDir?: string;
  jwtSecret?: string;
  expiresIn?: string;
}

class TokenError extends Error {}

async function viaServer(url: string, secret: string, spec: UserSpec, note: (l: string) => void): Promise<AuthUser> {
  const service = await mintApiKey(secret, 'service_role');
  const headers = { apikey: service, authorization: `Bearer ${service}`, 'content-type': 'application/json' };
  const id = spec.kind === 'persona' ? spec.persona.id : spec.id;
  const call = async (path: string, init: RequestInit = {}) => {
    try {
      return await fetch(`${url}${path}`, {
        ...init,
        headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
      });
    } catch {
      throw new TokenError(
        `no shipspeak-db serve is answering at ${url}: start one, or pass --url, --data-dir or DATABASE_URL`,
      );
    }
  };
  const got = await call(`/auth/v1/admin/users/${id}`);
  if (got.status === 401 || got.status === 403) {
    throw new TokenError(
      `the server at ${url} rejected a service_role key signed with this secret: pass the secret serve uses (--jwt-secret or SHIPSPEAK_JWT_SECRET)`,
    );
  }
  if (got.ok) return (await got.json()) as AuthUser;
  if (got.status !== 404)
    throw new TokenError(`GET ${url}/auth/v1/admin/users/${id}: HTTP ${got.status} ${await got.text()}`);
  const body =
    spec.kind === 'persona'
      ? { id, email: spec.persona.email, user_metadata: { display_name: spec.persona.displayName } }
      : { id };
  const created = await call('/auth/v1/admin/users', { method: 'POST', body: JSON.stringify(body) });
  if (!created.ok)
    throw new TokenError(`creating user ${id} at ${url}: HTTP ${created.status} ${await created.text()}`);
  const user = (await created.json()) as AuthUser;
  if (spec.kind === 'persona' && (spec.persona.role !== 'member' || spec.persona.tier !== 'free')) {
    // Role and tier are set by a privileged writer after signup, as in production: here the service role.
    const patched = await call(`/rest/v1/profiles?id=eq.${id}`, {
      method: 'PATCH',
      body: JSON.stringify({ role: spec.persona.role, tier: spec.persona.tier }),
      headers: { prefer: 'return=minimal' },
    });
    if (!patched.ok)
      throw new TokenError(
        `setting ${spec.persona.persona}'s role/tier at ${url}: HTTP ${patched.status} ${await patched.text()}`,
      );
  }
  note(`created user ${id} through the signup path (${url}/auth/v1/admin/users)`);
  return user;
}

async function resolveUser(
  args: TokenArgs,
  secret: string,
  spec: UserSpec,
  note: (l: string) => void,
): Promise<AuthUser> {
  if (args.url) return viaServer(args.url.replace(/\/+$/, ''), secret, spec, note);
  const direct = async (open: () => Promise<import('../db/database.js').Database>) => {
    const db = await open();
    try {
      const { user, created } = await ensureUser(db, spec);
      if (created) note(`created user ${user.id} through the signup path (${db.description})`);
      return user;
    } finally {
      await db.close();
    }
  };
  if (process.env.DATABASE_URL) {
    if (args.dataDir)
      throw new TokenError('--data-dir is for PGlite: unset DATABASE_URL to use it, or drop --data-dir');
    return direct(async () =>
      (await import('../db/node-postgres.js')).openNodePostgres(process.env.DATABASE_URL!, { max: 2 }),
    );
  }
  if (args.dataDir) {
    const holder = readLock(args.dataDir);
    if (holder?.url) return viaServer(holder.url, secret, spec, note);
    if (!existsSync(join(args.dataDir, 'PG_VERSION'))) {
      throw new TokenError(
        `no database in ${args.dataDir}: run \`shipspeak-db serve --data-dir ${args.dataDir}\` once to create and migrate it`,
      );
    }
    const lock = lockDataDir(args.dataDir, 'token');
    try {
      return await direct(() => openPGlite({ dataDir: args.dataDir! }));
    } finally {
      lock.release();
    }
  }
  return viaServer(`http://127.0.0.1:${DEFAULT_PORT}`, secret, spec, note);
}

export async function tokenCommand(
  args: TokenArgs,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  // Which user is part of how the command is called: a missing or unknown one is a usage error (exit 2).
  if (!args.user) throw new UsageError(`token needs --user: ${USER_SPEC_CHOICES}`, tokenCliCommand);
  let spec: UserSpec;
  try {
    spec = parseUserSpec(args.user);
  } catch (e) {
    throw new UsageError((e as Error).message, tokenCliCommand);
  }
  const { secret } = resolveSecret(args.jwtSecret);
  assertSecret(secret);
  // Seconds; a malformed value is a usage error (exit 2), checked by the one option parser.
  const expiresIn = positiveIntArg('--expires-in', args.expiresIn, tokenCliCommand) ?? 3600;
  const user = await resolveUser(args, secret, spec, err);
  out(await mintUserToken(secret, user, { expiresIn }));
  return 0;
}

export const tokenCliCommand: Command = {
  name: 'token',
  synopsis:
    'token --user <free_a|free_b|pro|admin|uuid> [--url URL] [--data-dir DIR] [--jwt-secret S] [--expires-in SECONDS]',
  summary:
    'Print a user access token (stdout: the token only), creating the user through the signup path when missing.',
  options: {
    user: { type: 'string' },
    url: { type: 'string' },
    'data-dir': { type: 'string' },
    'jwt-secret': { type: 'string' },
    'expires-in': { type: 'string' },
  },
  run({ values: v }, io) {
    const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
    return tokenCommand(
      {
        user: str('user'),
        url: str('url'),
        dataDir: str('data-dir'),
        jwtSecret: str('jwt-secret'),
        expiresIn: str('expires-in'),
      },
      io.out,
      io.err,
    );
  },
};
