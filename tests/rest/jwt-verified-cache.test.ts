import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../src/rest/errors.js';
import { rememberedTokens, secretKey, VERIFIED_TOKENS_PER_KEY, verifyJwt } from '../../src/rest/jwt.js';

// verifyJwt remembers tokens whose signature verified (issue 17 item 5: WebCrypto's HMAC verification was a
// large share of a request's CPU). These prove it saves the signature check and nothing else: time claims and
// the audience are judged on every use, a tampered token or another secret is never answered from it, and
// the memory is bounded.
const SECRET = 'verified-cache-secret-0123456789-0123456789';
const OTHER = 'verified-cache-other-0123456789-0123456789';

async function sign(secret: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    if (e instanceof ApiError) return `${e.code} ${e.message}`;
    throw e;
  }
}

afterEach(() => vi.restoreAllMocks());

describe('verified JWT cache', () => {
  it('checks the signature once per token and secret; the claims come back the same', async () => {
    const key = secretKey(SECRET);
    const token = await sign(SECRET, { sub: 'u1', role: 'authenticated' });
    const verify = vi.spyOn(crypto.subtle, 'verify');
    const first = await verifyJwt(token, key);
    const calls = verify.mock.calls.length;
    expect(calls).toBeGreaterThan(0);
    const second = await verifyJwt(token, key);
    expect(second).toEqual(first);
    expect(verify.mock.calls.length).toBe(calls);
    // Another secret's key is its own cache: the same token is verified (and refused) there.
    expect(await code(verifyJwt(token, secretKey(OTHER)))).toMatch(/^PGRST301/);
    expect(verify.mock.calls.length).toBeGreaterThan(calls);
  });

  it('a remembered token still expires, still waits for nbf and still answers to the audience', async () => {
    const key = secretKey(SECRET);
    const now = Math.floor(Date.now() / 1000);
    const token = await sign(SECRET, { sub: 'u2', role: 'authenticated', exp: now + 60, nbf: now - 5, aud: 'a' });
    expect((await verifyJwt(token, key)).sub).toBe('u2');
    const later = () => (now + 60 + 31) * 1000; // past exp and its 30 s of skew
    expect(await code(verifyJwt(token, key, { now: later }))).toBe('PGRST303 JWT expired');
    const earlier = () => (now - 5 - 31) * 1000; // before nbf and its skew
    expect(await code(verifyJwt(token, key, { now: earlier }))).toBe('PGRST303 JWT not yet valid');
    expect(await code(verifyJwt(token, key, { audience: 'b' }))).toBe('PGRST303 JWT not in audience');
    expect((await verifyJwt(token, key, { audience: 'a' })).sub).toBe('u2');
  });

  it('a token changed by one character is verified anew and refused', async () => {
    const key = secretKey(SECRET);
    const token = await sign(SECRET, { sub: 'u3', role: 'authenticated' });
    await verifyJwt(token, key);
    const [h, p, s] = token.split('.') as [string, string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'u3', role: 'service_role' })).toString('base64url');
    expect(await code(verifyJwt(`${h}.${forgedPayload}.${s}`, key))).toMatch(/^PGRST301/);
    const flipped = `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;
    expect(await code(verifyJwt(`${h}.${p}.${flipped}`, key))).toMatch(/^PGRST301/);
    // A token refused by its claims (expired at first sight) is not remembered either.
    const expired = await sign(SECRET, { sub: 'u4', exp: Math.floor(Date.now() / 1000) - 3600 });
    const before = rememberedTokens(key);
    expect(await code(verifyJwt(expired, key))).toBe('PGRST303 JWT expired');
    expect(rememberedTokens(key)).toBe(before);
  });

  it(`remembers at most ${VERIFIED_TOKENS_PER_KEY} tokens per secret, oldest forgotten first`, async () => {
    const key = secretKey(SECRET);
    const tokens: string[] = [];
    for (let i = 0; i < VERIFIED_TOKENS_PER_KEY + 50; i++) tokens.push(await sign(SECRET, { sub: `bulk-${i}` }));
    for (const t of tokens) await verifyJwt(t, key);
    expect(rememberedTokens(key)).toBe(VERIFIED_TOKENS_PER_KEY);
    const verify = vi.spyOn(crypto.subtle, 'verify');
    await verifyJwt(tokens.at(-1)!, key); // newest: remembered
    expect(verify).not.toHaveBeenCalled();
    await verifyJwt(tokens[0]!, key); // oldest: forgotten, verified again
    expect(verify).toHaveBeenCalled();
    expect(rememberedTokens(key)).toBe(VERIFIED_TOKENS_PER_KEY);
  });
});
