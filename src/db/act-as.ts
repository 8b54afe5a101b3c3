import type { Database, Queryable } from './database.js';

/**
 * Acting as an API role with JWT claims, the way PostgREST runs a request: inside one transaction, the role
 * and `request.jwt.claims` set with set_config(…, true), so both end with the transaction and nothing leaks
 * into the next user of a pooled connection. Both travel as bind parameters. The gateway renders the same
 * prelude as a fragment of its own (src/rest/render.ts); everything else that acts as a role comes here.
 */
export async function setRoleAndClaims(tx: Queryable, role: string, claims: Record<string, unknown>): Promise<void> {
  await tx.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, [
    role,
    JSON.stringify(claims),
  ]);
}

/** Runs `fn` in a transaction as `role` with `claims` (`{ sub, role }` for a user; `{ role }` without one). */
export function actAs<T>(
  db: Database,
  role: string,
  claims: Record<string, unknown>,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    await setRoleAndClaims(tx, role, claims);
    return fn(tx);
  });
}
