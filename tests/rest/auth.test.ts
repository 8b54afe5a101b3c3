import { UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/rest/index.js';
import { describeEachEngine } from './support/engines.js';
import { JWT_SECRET, SUPABASE_URL, USER_A, token } from './support/fixture.js';

/** PostgREST's JWT rules (Auth/Jwt.hs, Error.hs): which token gets which status, code, message and header. */
const now = () => Math.floor(Date.now() / 1000);

async function expectJwtError(res: Response, code: string, message: string): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(res.headers.get('www-authenticate')).toBe(
    `Bearer error="invalid_token", error_description=${JSON.stringify(message)}`,
  );
  expect(await res.json()).toEqual({
    code,
    message,
    details: expect.toSatisfy((d: unknown) => d === null || typeof d === 'string'),
    hint: null,
  });
}

describe('gateway configuration', () => {
  it('refuses a JWT secret shorter than 32 characters', () => {
    expect(() => createGateway({ db: {} as never, jwtSecret: 'x'.repeat(31) })).toThrow(/at least 32 characters/);
    expect(() => createGateway({ db: {} as never, jwtSecret: 'x'.repeat(32) })).not.toThrow();
  });
});

describeEachEngine('JWT authentication like PostgREST', (ctx) => {
  const whoami = async (headers: Record<string, string>) => {
    const res = await ctx().c.gateway.handle(new Request(`${SUPABASE_URL}/rest/v1/rpc/whoami`, { headers }));
    return {
      res,
      body:
        res.status === 200
          ? ((await res.json()) as { role: string; uid: string | null; claims: Record<string, unknown> })
          : null,
    };
  };

  it('runs a request without Authorization as the anon role with claims {role: anon}', async () => {
    const { res, body } = await whoami({});
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ role: 'anon', uid: null, claims: { role: 'anon' } });
  });

  it('switches to the role and publishes the claims of a valid token', async () => {
    const t = await token({
      sub: USER_A,
      role: 'authenticated',
      extra: { aud: 'authenticated', app_metadata: { tier: 'pro' } },
    });
    const { res, body } = await whoami({ Authorization: `Bearer ${t}` });
    expect(res.status).toBe(200);
    expect(body).toMatchObject({
      role: 'authenticated',
      uid: USER_A,
      claims: { sub: USER_A, app_metadata: { tier: 'pro' } },
    });
  });

  it('accepts a token whose role claim is absent as the anon role', async () => {
    const t = await token({ role: undefined, sub: USER_A, extra: {} });
    const raw = await ctx().c.raw('/rpc/whoami', { token: t });
    expect(raw.status).toBe(200);
  });

  it('verifies a JWT sent only as apikey (Kong), and rejects a forged one', async () => {
    const service = await token({ role: 'service_role', expiresIn: null });
    expect((await whoami({ apikey: service })).body).toMatchObject({ role: 'service_role' });
    const forged = await token({ role: 'service_role', secret: 'another-secret-that-is-long-enough-000' });
    await expectJwtError((await whoami({ apikey: forged })).res, 'PGRST301', 'JWT cryptographic operation failed');
  });

  it('rejects a bad signature with 401 PGRST301', async () => {
    const forged = await token({ role: 'service_role', secret: 'another-secret-that-is-long-enough-000' });
    await expectJwtError(
      await ctx().c.raw('/items?select=id&limit=1', { token: forged }),
      'PGRST301',
      'JWT cryptographic operation failed',
    );
  });

  it('rejects alg=none with 401 PGRST301', async () => {
    const unsigned = new UnsecuredJWT({ role: 'service_role' }).encode();
    await expectJwtError(
      await ctx().c.raw('/items', { token: unsigned }),
      'PGRST301',
      'Wrong or unsupported encoding algorithm',
    );
  });

  it('rejects undecodable and empty tokens with 401 PGRST301', async () => {
    await expectJwtError(
      await ctx().c.raw('/items', { headers: { Authorization: 'Bearer abc.def' } }),
      'PGRST301',
      'Expected 3 parts in JWT; got 2',
    );
    await expectJwtError(
      await ctx().c.raw('/items', { headers: { Authorization: 'Bearer ' } }),
      'PGRST301',
      'Empty JWT is sent in Authorization header',
    );
    await expectJwtError(
      await ctx().c.raw('/items', { headers: { Authorization: 'Bearer a.b.c' } }),
      'PGRST301',
      "JWT couldn't be decoded",
    );
  });

  it('rejects an expired token (beyond 30 s of skew) with 401 PGRST303 and accepts one within the skew', async () => {
    const expired = await token({ sub: USER_A, extra: { exp: now() - 31 }, expiresIn: null });
    await expectJwtError(await ctx().c.raw('/items', { token: expired }), 'PGRST303', 'JWT expired');
    const withinSkew = await token({ sub: USER_A, extra: { exp: now() - 10 }, expiresIn: null });
    expect((await ctx().c.raw('/items?limit=1', { token: withinSkew })).status).toBe(200);
  });

  it('rejects nbf and iat in the future with 401 PGRST303', async () => {
    await expectJwtError(
      await ctx().c.raw('/items', { token: await token({ sub: USER_A, extra: { nbf: now() + 60 } }) }),
      'PGRST303',
      'JWT not yet valid',
    );
    await expectJwtError(
      await ctx().c.raw('/items', { token: await token({ sub: USER_A, extra: { iat: now() + 60 } }) }),
      'PGRST303',
      'JWT issued at future',
    );
    expect(
      (await ctx().c.raw('/items?limit=1', { token: await token({ sub: USER_A, extra: { nbf: now() + 10 } }) })).status,
    ).toBe(200);
  });

  it('rejects a non-numeric exp with 401 PGRST303', async () => {
    const t = await token({ sub: USER_A, extra: { exp: 'tomorrow' }, expiresIn: null });
    await expectJwtError(await ctx().c.raw('/items', { token: t }), 'PGRST303', "The JWT 'exp' claim must be a number");
  });

  it('checks aud only when an audience is configured', async () => {
    const gw = createGateway({ db: ctx().db, jwtSecret: JWT_SECRET, jwtAudience: 'authenticated' });
    const call = async (t: string) =>
      gw.handle(new Request(`${SUPABASE_URL}/rest/v1/items?limit=1`, { headers: { Authorization: `Bearer ${t}` } }));
    await expectJwtError(
      await call(await token({ sub: USER_A, extra: { aud: 'somebody-else' } })),
      'PGRST303',
      'JWT not in audience',
    );
    expect((await call(await token({ sub: USER_A, extra: { aud: ['x', 'authenticated'] } }))).status).toBe(200);
    expect(
      (await ctx().c.raw('/items?limit=1', { token: await token({ sub: USER_A, extra: { aud: 'somebody-else' } }) }))
        .status,
    ).toBe(200);
  });

  it('answers a role that does not exist with 401 (22023, as PostgREST) and an existing but not allowed role with 403', async () => {
    const unknown = await ctx().c.raw('/items', { token: await token({ role: 'nobody_at_all' }) });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toBe('Bearer');
    expect(await unknown.json()).toEqual({
      code: '22023',
      message: 'role "nobody_at_all" does not exist',
      details: null,
      hint: null,
    });
    const superuser = await ctx().c.raw('/items', { token: await token({ role: 'postgres' }) });
    expect(superuser.status).toBe(403);
    expect((await superuser.json()).code).toBe('42501');
  });

  it('maps 42501 to 401 with a Bearer challenge for anon and to 403 for a signed-in user', async () => {
    const anon = await ctx().c.raw('/secrets');
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toBe('Bearer');
    expect(await anon.json()).toMatchObject({ code: '42501', details: null, hint: null });
    const user = await ctx().c.raw('/secrets', { token: ctx().c.userA });
    expect(user.status).toBe(403);
    expect(user.headers.get('www-authenticate')).toBeNull();
    const service = await ctx().c.service.from('secrets').select('id');
    expect(service.error).toBeNull();
    expect(service.data).toHaveLength(1);
  });

  it('sets request.method, request.path, request.headers, statement_timeout and read-only per request', async () => {
    const { data, error } = await ctx().c.a.rpc('whoami', {}, { get: true });
    expect(error).toBeNull();
    expect(data).toMatchObject({
      method: 'GET',
      path: '/rpc/whoami',
      read_only: 'on',
      timeout: '8s',
      role: 'authenticated',
      uid: USER_A,
    });
    expect(String((data as { client: string }).client)).toMatch(/^supabase-js\//);
  });
});
