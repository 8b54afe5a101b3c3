import { compactVerify, errors as joseErrors } from 'jose';
import { assertSecret } from '../auth/tokens.js';
import { type ApiError, jwtError } from './errors.js';

/**
 * JWT verification with PostgREST's semantics (src/PostgREST/Auth/Jwt.hs): signature first (PGRST301 on any
 * decode/crypto failure), then the claims check with 30 s of clock skew (PGRST303), then the role.
 * `jose` only checks the signature here; the time and audience rules are PostgREST's own, applied by hand so
 * that e.g. a future `iat` or a non-numeric `exp` fail exactly as they do there.
 */
const ALLOWED_SKEW_SECONDS = 30;
const HS_ALGORITHMS = ['HS256', 'HS384', 'HS512'];

export type JwtClaims = Record<string, unknown>;

/** The gateway's HS256 key, after the one secret check (src/auth/tokens.ts) that minting uses too. */
export const secretKey = (secret: string): Uint8Array => assertSecret(secret);

export interface VerifyOptions {
  /** When set, an `aud` claim must contain it (PostgREST `jwt-aud`). */
  audience?: string;
  now?: () => number;
}

const HMAC_HASH: Record<string, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };
/**
 * Imported HMAC keys per secret and algorithm. Passing the raw secret to jose makes it import a CryptoKey on
 * every verification (~15 % of a gateway request's CPU, issue 17); the imported key is reused instead. Keyed
 * by the secret's bytes object, which the gateway creates once (secretKey), so nothing outlives the gateway.
 */
const importedKeys = new WeakMap<Uint8Array, Map<string, Promise<CryptoKey>>>();

function hmacKey(secret: Uint8Array, alg: string | undefined): Promise<CryptoKey> | Uint8Array {
  const hash = alg === undefined ? undefined : HMAC_HASH[alg];
  // Any other algorithm: hand jose the raw bytes and let it refuse exactly as it did before.
  if (hash === undefined) return secret;
  let byAlg = importedKeys.get(secret);
  if (!byAlg) {
    byAlg = new Map();
    importedKeys.set(secret, byAlg);
  }
  let key = byAlg.get(alg!);
  if (!key) {
    key = crypto.subtle.importKey('raw', new Uint8Array(secret), { name: 'HMAC', hash }, false, ['verify']);
    byAlg.set(alg!, key);
  }
  return key;
}

/** The most verified tokens remembered per secret (PostgREST's JWT cache is bounded the same way). */
export const VERIFIED_TOKENS_PER_KEY = 1000;

/**
 * Tokens whose signature verified, with their parsed claims, per secret (issue 17: WebCrypto's asynchronous
 * HMAC verification was ~15 % of a gateway request's CPU, and a client sends the same token on every request).
 * Only what depends on the token and the secret alone is remembered: a token is a key only byte for byte, so
 * a tampered one is verified (and refused) anew; the time claims (exp, nbf, iat) and the audience are checked
 * again on every use, so a remembered token still expires. Oldest first; bounded.
 */
const verifiedTokens = new WeakMap<Uint8Array, Map<string, Readonly<JwtClaims>>>();

/** How many verified tokens are remembered for this secret (for tests: the bound holds). */
export const rememberedTokens = (key: Uint8Array): number => verifiedTokens.get(key)?.size ?? 0;

export async function verifyJwt(token: string, key: Uint8Array, options: VerifyOptions = {}): Promise<JwtClaims> {
  let remembered = verifiedTokens.get(key);
  const known = remembered?.get(token);
  if (known) {
    checkClaims(known, Math.floor((options.now?.() ?? Date.now()) / 1000), options.audience);
    return known;
  }
  const claims = await verifySignatureAndParse(token, key);
  checkClaims(claims, Math.floor((options.now?.() ?? Date.now()) / 1000), options.audience);
  if (!remembered) {
    remembered = new Map();
    verifiedTokens.set(key, remembered);
  }
  if (remembered.size >= VERIFIED_TOKENS_PER_KEY) remembered.delete(remembered.keys().next().value!);
  remembered.set(token, Object.freeze(claims));
  return claims;
}

async function verifySignatureAndParse(token: string, key: Uint8Array): Promise<JwtClaims> {
  if (token === '') throw jwtError('PGRST301', 'Empty JWT is sent in Authorization header');
  const parts = token.split('.').length;
  if (parts !== 3) throw jwtError('PGRST301', `Expected 3 parts in JWT; got ${parts}`);
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, (header) => hmacKey(key, header.alg), { algorithms: HS_ALGORITHMS }));
  } catch (e) {
    throw decodeError(e);
  }
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    throw jwtError('PGRST303', 'Parsing claims failed');
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims))
    throw jwtError('PGRST303', 'Parsing claims failed');
  return claims as JwtClaims;
}

function decodeError(e: unknown): ApiError {
  if (e instanceof joseErrors.JOSEAlgNotAllowed || e instanceof joseErrors.JOSENotSupported) {
    return jwtError('PGRST301', 'Wrong or unsupported encoding algorithm', e.message);
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed)
    return jwtError('PGRST301', 'JWT cryptographic operation failed');
  return jwtError('PGRST301', "JWT couldn't be decoded", e instanceof Error ? e.message : null);
}

function checkClaims(claims: JwtClaims, now: number, audience: string | undefined): void {
  const time = (name: string, notNumber: string, failed: string, bad: (v: number) => boolean) => {
    const v = claims[name];
    if (v === undefined || v === null) return;
    if (typeof v !== 'number') throw jwtError('PGRST303', notNumber);
    if (bad(Math.floor(v))) throw jwtError('PGRST303', failed);
  };
  time('exp', "The JWT 'exp' claim must be a number", 'JWT expired', (exp) => now - ALLOWED_SKEW_SECONDS > exp);
  time('nbf', "The JWT 'nbf' claim must be a number", 'JWT not yet valid', (nbf) => now + ALLOWED_SKEW_SECONDS < nbf);
  time(
    'iat',
    "The JWT 'iat' claim must be a number",
    'JWT issued at future',
    (iat) => now + ALLOWED_SKEW_SECONDS < iat,
  );
  const aud = claims.aud;
  if (aud === undefined || aud === null) return;
  const list =
    typeof aud === 'string'
      ? [aud]
      : Array.isArray(aud) && aud.every((a) => typeof a === 'string')
        ? (aud as string[])
        : null;
  if (list === null) throw jwtError('PGRST303', "The JWT 'aud' claim must be a string or an array of strings");
  // Without a configured audience PostgREST accepts any aud; an empty array always matches.
  if (audience !== undefined && list.length > 0 && !list.includes(audience))
    throw jwtError('PGRST303', 'JWT not in audience');
}

/** The bearer token of a request: `Authorization: Bearer …`, else (Kong's rule) a JWT sent as `apikey`. */
export function requestToken(headers: Headers): string | null {
  const auth = headers.get('authorization');
  if (auth !== null) {
    const m = /^bearer(?:\s+(.*))?$/i.exec(auth.trim());
    if (m) return (m[1] ?? '').trim();
    return null;
  }
  const apikey = headers.get('apikey');
  return apikey !== null && apikey.split('.').length === 3 ? apikey : null;
}
