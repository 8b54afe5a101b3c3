import bcrypt from 'bcryptjs';
import { AuthError } from './errors.js';

/**
 * Passwords as Supabase Auth stores them: bcrypt (`$2a$`/`$2b$`, cost 10) in auth.users.encrypted_password,
 * so a database moved to Supabase keeps working logins. bcryptjs is pure JavaScript (no native build).
 */
export const BCRYPT_COST = 10;
/** bcrypt's minimum cost: still a real bcrypt hash, 64× cheaper to check; for test suites only. */
export const MIN_BCRYPT_COST = 4;
/** GoTrue's default GOTRUE_PASSWORD_MIN_LENGTH. */
export const DEFAULT_MIN_PASSWORD_LENGTH = 6;
/** bcrypt reads at most 72 bytes; GoTrue refuses longer passwords rather than silently truncating. */
const MAX_PASSWORD_BYTES = 72;

/**
 * A hash compared against when the user does not exist, so timing does not reveal which e-mails exist.
 * Made on first use, not at import: every CLI command loads this module and must not pay for a hash.
 */
let dummyHash: Promise<string> | undefined;

export function checkPassword(password: unknown, minLength: number): string {
  if (typeof password !== 'string' || password === '')
    throw new AuthError(422, 'validation_failed', 'Signup requires a valid password');
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) {
    throw new AuthError(422, 'validation_failed', `Password cannot be longer than ${MAX_PASSWORD_BYTES} characters`);
  }
  if ([...password].length < minLength) {
    throw new AuthError(422, 'weak_password', `Password should be at least ${minLength} characters.`, {
      weak_password: { reasons: ['length'] },
    });
  }
  return password;
}

export function hashPassword(password: string, cost = BCRYPT_COST): Promise<string> {
  if (!Number.isInteger(cost) || cost < MIN_BCRYPT_COST || cost > 31)
    throw new Error(`bcrypt cost must be an integer from ${MIN_BCRYPT_COST} to 31 (got ${cost})`);
  return bcrypt.hash(password, cost);
}

/** A hash of no one's password, made once, so an unknown user costs the same bcrypt comparison as a known one. */
function dummyPasswordHash(): Promise<string> {
  dummyHash ??= bcrypt.hash('shipspeak-db: no such user', BCRYPT_COST);
  return dummyHash;
}

/** True only for a stored hash that matches; a missing hash still costs one bcrypt comparison. */
export async function verifyPassword(password: string, hash: string | null | undefined): Promise<boolean> {
  const ok = await bcrypt.compare(password, hash ?? (await dummyPasswordHash()));
  return ok && !!hash;
}
