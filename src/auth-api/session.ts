import type { Queryable } from '../db/database.js';
import type { AuthUser } from '../auth/signup.js';
import { mintUserToken } from '../auth/tokens.js';
import { userJson } from './users.js';

/** GoTrue's token response: what signUp (auto-confirmed), signInWithPassword and refreshSession receive. */
export async function sessionJson(
  q: Queryable,
  cfg: { jwtSecret: string; accessTokenTtl: number },
  user: AuthUser,
  session: { sessionId: string; refreshToken: string },
): Promise<Record<string, unknown>> {
  const now = Math.floor(Date.now() / 1000);
  const accessToken = await mintUserToken(cfg.jwtSecret, user, {
    expiresIn: cfg.accessTokenTtl,
    now,
    sessionId: session.sessionId,
  });
  return {
    access_token: accessToken,
    token_type: 'bearer',
    expires_in: cfg.accessTokenTtl,
    expires_at: now + cfg.accessTokenTtl,
    refresh_token: session.refreshToken,
    user: await userJson(q, user),
  };
}
