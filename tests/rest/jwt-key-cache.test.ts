import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/rest/errors.js';
import { secretKey, verifyJwt } from '../../src/rest/jwt.js';

// verifyJwt reuses one imported HMAC key per secret and algorithm (issue 17: re-importing it was ~15 % of a
// request's CPU). These prove the cache changes nothing a caller can observe: every HS algorithm still
// verifies, and a second secret or a forged token is never answered from the first secret's cached key.
const SECRET_A = 'secret-a-0123456789-0123456789-0123456789';
const SECRET_B = 'secret-b-0123456789-0123456789-0123456789';

async function sign(secret: string, alg: string, sub: string): Promise<string> {
  return new SignJWT({ role: 'authenticated' })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setSubject(sub)
    .sign(new TextEncoder().encode(secret));
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
}

describe('JWT verification key cache', () => {
  it('verifies HS256, HS384 and HS512 repeatedly with the same key object', async () => {
    const key = secretKey(SECRET_A);
    for (const alg of ['HS256', 'HS384', 'HS512', 'HS256', 'HS512']) {
      const claims = await verifyJwt(await sign(SECRET_A, alg, `user-${alg}`), key);
      expect(claims.sub).toBe(`user-${alg}`);
    }
  });

  it('never answers another secret from a cached key', async () => {
    const a = secretKey(SECRET_A);
    const b = secretKey(SECRET_B);
    const tokenA = await sign(SECRET_A, 'HS256', 'a');
    const tokenB = await sign(SECRET_B, 'HS256', 'b');
    expect((await verifyJwt(tokenA, a)).sub).toBe('a');
    expect((await verifyJwt(tokenB, b)).sub).toBe('b');
    expect(await code(verifyJwt(tokenB, a))).toBe('PGRST301');
    expect(await code(verifyJwt(tokenA, b))).toBe('PGRST301');
    // A token whose header says HS384 but whose signature was made for HS256 fails on the cached HS384 key.
    const [, payload, sig] = tokenA.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'HS384', typ: 'JWT' })).toString('base64url');
    expect(await code(verifyJwt(`${header}.${payload}.${sig}`, a))).toBe('PGRST301');
  });

  it('still refuses algorithms outside HS256/384/512', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'x', role: 'service_role' })).toString('base64url');
    expect(await code(verifyJwt(`${header}.${payload}.`, secretKey(SECRET_A)))).toBe('PGRST301');
  });
});
