import type { Database } from '../db/database.js';
import { verifyJwt, type JwtClaims } from '../rest/jwt.js';
import { AuthError } from './errors.js';

/** What every Auth route needs: the database, the signing secret and the configured limits. */
export interface Ctx {
  db: Database;
  jwtSecret: string;
  jwtKey: Uint8Array;
  accessTokenTtl: number;
  minPasswordLength: number;
  bcryptCost: number;
}

/** The verified claims of the request's bearer token, or GoTrue's 401/403. */
export async function bearerClaims(ctx: Ctx, request: Request): Promise<JwtClaims> {
  const token = /^bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  if (!token) throw new AuthError(401, 'no_authorization', 'This endpoint requires a Bearer token');
  try {
    return await verifyJwt(token, ctx.jwtKey);
  } catch (e) {
    throw new AuthError(
      403,
      'bad_jwt',
      `invalid JWT: unable to parse or verify signature, ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
