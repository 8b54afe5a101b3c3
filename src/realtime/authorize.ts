import type { Database } from '../db/database.js';
import { isPgError } from '../db/database.js';
import { actAs, setRoleAndClaims } from '../db/act-as.js';
import type { JwtClaims } from '../rest/jwt.js';
// Names come from the catalog (PublishedTable), quoted by the gateway's one quoting function.
import { quoteIdent as ident } from '../rest/sql.js';
import type { PublishedTable } from './changes.js';

/**
 * "May this subscriber see this row?", answered by the database as the subscriber: role and JWT claims set
 * for one transaction exactly as the data API sets them, so RLS policies, column grants and auth.uid() decide.
 *
 * - INSERT/UPDATE: the row is selected by primary key (Supabase Realtime's WALRUS does the same).
 * - DELETE: the row is gone, so the table's SELECT policies that apply to the role are evaluated on the old
 *   row (jsonb_populate_record aliased as the table): permissive ones OR-ed, restrictive ones AND-ed, none =
 *   denied; a role that bypasses RLS, or a table without RLS, needs only the SELECT privilege. The policy
 *   expressions come from the catalog (pg_get_expr), never from a client. They are parsed as the server and
 *   run as the subscriber (deletedRowVisible): a policy's text names helpers in schema private, which the API
 *   roles may execute but not look up by name (no usage on private, by design), exactly as PostgreSQL itself
 *   runs a stored policy — bound to the function when it was created, executed with the caller's rights.
 */
export interface Subscriber {
  role: string;
  claims: JwtClaims;
}

/**
 * Whether an error raised while checking as the subscriber means "not visible". 42501 (insufficient_privilege)
 * is PostgreSQL refusing the subscriber something the check needed: SELECT on the table or a key column, a
 * table a policy reads, or the lookup of a policy's private helper. Whatever the subscriber may not read, it may
 * not be told about, so the event is withheld — the check fails closed instead of failing the whole delivery.
 * Any other error is a real fault and is raised.
 */
function deniedToSubscriber(e: unknown): boolean {
  return isPgError(e) && e.code === '42501';
}

async function asSubscriber(db: Database, who: Subscriber, sql: string, params: unknown[]): Promise<boolean> {
  try {
    return await actAs(db, who.role, who.claims, async (tx) => {
      const r = await tx.query<{ ok: boolean }>(sql, params);
      return r.rows[0]?.ok === true;
    });
  } catch (e) {
    if (deniedToSubscriber(e)) return false;
    throw e;
  }
}

const text = (v: unknown) => (v === null || v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));

export async function rowVisible(
  db: Database,
  t: PublishedTable,
  who: Subscriber,
  record: Record<string, unknown>,
): Promise<boolean> {
  if (t.pk.length === 0) return false;
  const cols = t.pk.map((name) => t.columns.find((c) => c.name === name)!);
  const where = cols.map((c, i) => `${ident(c.name)} = cast($${i + 1} as ${c.sqlType})`).join(' and ');
  return asSubscriber(
    db,
    who,
    `select exists (select from ${ident(t.schema)}.${ident(t.name)} where ${where}) as ok`,
    cols.map((c) => text(record[c.name])),
  );
}

interface PolicyFacts {
  rls: boolean;
  bypass: boolean;
  select: boolean;
  permissive: (string | null)[];
  restrictive: (string | null)[];
}

async function policyFacts(db: Database, t: PublishedTable, role: string): Promise<PolicyFacts> {
  const rel = `${ident(t.schema)}.${ident(t.name)}`;
  const r = await db.query<PolicyFacts>(
    `select c.relrowsecurity as rls,
            (select r.rolbypassrls from pg_catalog.pg_roles r where r.rolname = $2) as bypass,
            pg_catalog.has_table_privilege($2, c.oid, 'select') as select,
            coalesce((select pg_catalog.array_agg(pg_catalog.pg_get_expr(p.polqual, p.polrelid)) from pg_catalog.pg_policy p
                      where p.polrelid = c.oid and p.polpermissive and p.polcmd in ('r', '*')
                        and ('0'::oid = any(p.polroles) or exists (select from pg_catalog.pg_roles g where g.oid = any(p.polroles) and pg_catalog.pg_has_role($2, g.oid, 'member')))), '{}') as permissive,
            coalesce((select pg_catalog.array_agg(pg_catalog.pg_get_expr(p.polqual, p.polrelid)) from pg_catalog.pg_policy p
                      where p.polrelid = c.oid and not p.polpermissive and p.polcmd in ('r', '*')
                        and ('0'::oid = any(p.polroles) or exists (select from pg_catalog.pg_roles g where g.oid = any(p.polroles) and pg_catalog.pg_has_role($2, g.oid, 'member')))), '{}') as restrictive
     from pg_catalog.pg_class c where c.oid = pg_catalog.to_regclass($1)`,
    [rel, role],
  );
  const f = r.rows[0];
  if (!f) throw new Error(`table ${rel} not found`);
  return f;
}

let deleteChecks = 0;

export async function deletedRowVisible(
  db: Database,
  t: PublishedTable,
  who: Subscriber,
  oldRecord: Record<string, unknown>,
): Promise<boolean> {
  const f = await policyFacts(db, t, who.role);
  if (!f.select) return false;
  if (!f.rls || f.bypass) return true;
  if (f.permissive.length === 0) return false;
  const or = f.permissive.map((q) => `(${q ?? 'true'})`).join(' or ');
  const and = f.restrictive.map((q) => ` and (${q ?? 'true'})`).join('');
  const rel = `${ident(t.schema)}.${ident(t.name)}`;
  // The old row travels as a transaction-local setting written with a bind parameter (a prepared statement's
  // EXECUTE takes no bind parameters), so no row value is ever spliced into SQL.
  const check = `select exists (select from pg_catalog.jsonb_populate_record(null::${rel}, pg_catalog.current_setting('shipspeak.realtime_old_record')::jsonb) as ${ident(t.name)} where (${or})${and}) as ok`;
  const name = ident(`shipspeak_realtime_delete_${++deleteChecks}`);
  return db.transaction(async (tx) => {
    await tx.query(`select pg_catalog.set_config('shipspeak.realtime_old_record', $1, true)`, [
      JSON.stringify(oldRecord),
    ]);
    // Parsed (names resolved) here, as the server; planned and executed below as the subscriber. Should
    // PostgreSQL re-parse it as the subscriber (a policy reading another RLS table makes the plan depend on the
    // role), the lookup of a private helper fails with 42501, which denies (deniedToSubscriber).
    await tx.query(`prepare ${name} as ${check}`);
    await tx.query('savepoint subscriber');
    let ok = false;
    let failure: unknown;
    try {
      await setRoleAndClaims(tx, who.role, who.claims);
      const r = await tx.query<{ ok: boolean }>(`execute ${name}`);
      ok = r.rows[0]?.ok === true;
    } catch (e) {
      if (!deniedToSubscriber(e)) failure = e;
    }
    // Back to the server's role (the savepoint undoes the role and claims) to drop the statement: prepared
    // statements belong to the connection, not the transaction, and this one may go back to a pool.
    await tx.query('rollback to savepoint subscriber');
    await tx.query(`deallocate ${name}`);
    if (failure) throw failure;
    return ok;
  });
}
