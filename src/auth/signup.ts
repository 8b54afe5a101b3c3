import type { Database, Queryable } from '../db/database.js';
import { PERSONA_SPECS, type AppRole, type MemberPersona, type Tier } from './personas.js';

/**
 * Users created the way Supabase Auth creates them: one INSERT into auth.users run by the owner, so the
 * signup trigger (private.handle_new_user) builds the profile and progress rows exactly as in production.
 * Role and tier are then set by a privileged writer (the owner here, the service role over HTTP), never from
 * user_metadata.
 *
 * The CLI personas are the dev seed's four users (fixtures/dev-seed.sql), so `token --user pro` after
 * `serve --seed` is carol with carol's data, and on an unseeded database the same ids are created.
 */
export interface PersonaUser {
  persona: MemberPersona;
  /** The dev seed's first name for the same user (accepted as an alias). */
  alias: string;
  id: string;
  email: string;
  displayName: string;
  role: AppRole;
  tier: Tier;
}

/** The dev seed's users, one per member persona; tier and role come from the persona definitions. */
function seedUser(persona: MemberPersona, alias: string, id: string, displayName: string): PersonaUser {
  const spec = PERSONA_SPECS[persona];
  if (spec.kind !== 'member') throw new Error(`${persona} is not a member persona`);
  return { persona, alias, id, email: `${alias}@example.test`, displayName, role: spec.role, tier: spec.tier };
}

export const PERSONA_USERS: readonly PersonaUser[] = [
  seedUser('free_a', 'alice', '00000000-0000-4000-8000-00000000000a', 'Alice Example'),
  seedUser('free_b', 'bob', '00000000-0000-4000-8000-00000000000b', 'Bob Example'),
  seedUser('pro', 'carol', '00000000-0000-4000-8000-00000000000c', 'Carol Example'),
  seedUser('admin', 'dave', '00000000-0000-4000-8000-00000000000d', 'Dave Admin'),
];

/** A user id as auth.users stores it (any UUID version); the one pattern the CLI and serve's Auth check ids with. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What `--user` names: a persona (or its seed alias), or any user id. */
export type UserSpec = { kind: 'persona'; persona: PersonaUser } | { kind: 'uuid'; id: string };

/** The values `--user` accepts, for messages: each persona with its seed alias, then "a user uuid". */
export const USER_SPEC_CHOICES = `a persona — ${PERSONA_USERS.map((p) => `${p.persona} (${p.alias})`).join(', ')} — or a user uuid`;

export function parseUserSpec(value: string): UserSpec {
  const persona = PERSONA_USERS.find((p) => p.persona === value || p.alias === value);
  if (persona) return { kind: 'persona', persona };
  if (UUID.test(value)) return { kind: 'uuid', id: value.toLowerCase() };
  throw new Error(`--user must be ${USER_SPEC_CHOICES} (got ${JSON.stringify(value)})`);
}

/** The auth.users columns a token and the admin API need. */
export interface AuthUser {
  id: string;
  email: string | null;
  app_metadata: Record<string, unknown>;
  user_metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string | null;
  email_confirmed_at: string | null;
  last_sign_in_at: string | null;
  banned_until: string | null;
  is_anonymous: boolean;
}

/** Timestamps in ISO 8601 UTC, as GoTrue's JSON prints them. */
const iso = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const USER_COLUMNS = `id::text as id, email, coalesce(raw_app_meta_data, '{}'::jsonb) as app_metadata,
  coalesce(raw_user_meta_data, '{}'::jsonb) as user_metadata, ${iso('created_at')} as created_at, ${iso('updated_at')} as updated_at,
  ${iso('email_confirmed_at')} as email_confirmed_at, ${iso('last_sign_in_at')} as last_sign_in_at, ${iso('banned_until')} as banned_until,
  is_anonymous`;

/** The columns of an AuthUser, for other modules' queries on auth.users (one spelling of the user shape). */
export const AUTH_USER_COLUMNS = USER_COLUMNS;

export async function findAuthUser(q: Queryable, id: string): Promise<AuthUser | null> {
  const r = await q.query<AuthUser>(`select ${USER_COLUMNS} from auth.users where id = $1`, [id]);
  return r.rows[0] ?? null;
}

export interface NewAuthUser {
  id?: string;
  email?: string | null;
  user_metadata?: Record<string, unknown>;
  app_metadata?: Record<string, unknown>;
  /** A bcrypt hash (Supabase Auth's encrypted_password); null = no password sign-in. */
  encrypted_password?: string | null;
}

/**
 * The signup INSERT, as Supabase Auth performs it (aud/role 'authenticated', provider email, confirmed).
 * Runs as the connecting owner so the AFTER INSERT trigger fires with the owner's rights.
 */
export async function createAuthUser(q: Queryable, user: NewAuthUser): Promise<AuthUser> {
  const appMeta = user.app_metadata ?? { provider: 'email', providers: ['email'] };
  const r = await q.query<AuthUser>(
    `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, raw_app_meta_data, raw_user_meta_data, email_confirmed_at, created_at, updated_at)
     values ('00000000-0000-0000-0000-000000000000', coalesce($1::uuid, gen_random_uuid()), 'authenticated', 'authenticated', $2::text, $5::text, $3::jsonb, $4::jsonb,
             case when $2::text is null then null else now() end, now(), now())
     returning ${USER_COLUMNS}`,
    [
      user.id ?? null,
      user.email ?? null,
      JSON.stringify(appMeta),
      JSON.stringify(user.user_metadata ?? {}),
      user.encrypted_password ?? null,
    ],
  );
  return r.rows[0]!;
}

export interface EnsuredUser {
  user: AuthUser;
  created: boolean;
}

/**
 * Returns the user, creating it through the signup path when missing; a persona created here also gets its
 * role and tier, set by the owner after the trigger ran (as billing or an admin would).
 */
export async function ensureUser(db: Database, spec: UserSpec | string): Promise<EnsuredUser> {
  const s = typeof spec === 'string' ? parseUserSpec(spec) : spec;
  const id = s.kind === 'persona' ? s.persona.id : s.id;
  return db.transaction(async (tx) => {
    const existing = await findAuthUser(tx, id);
    if (existing) return { user: existing, created: false };
    if (s.kind === 'uuid') return { user: await createAuthUser(tx, { id }), created: true };
    const p = s.persona;
    const user = await createAuthUser(tx, { id: p.id, email: p.email, user_metadata: { display_name: p.displayName } });
    if (p.role !== 'member' || p.tier !== 'free') await setProfileAccess(tx, p.id, { role: p.role, tier: p.tier });
    return { user, created: true };
  });
}

/**
 * Sets a profile's tier and/or app role as a privileged writer (the owner connection), the way billing or
 * the back office does; users cannot (column privileges). Fails when the signup trigger made no profile.
 */
export async function setProfileAccess(
  q: Queryable,
  userId: string,
  patch: { tier?: Tier; role?: AppRole },
): Promise<void> {
  const r = await q.query(
    `update public.profiles set tier = coalesce($2::public.subscription_tier, tier), role = coalesce($3::public.app_role, role) where id = $1`,
    [userId, patch.tier ?? null, patch.role ?? null],
  );
  if (r.rowCount !== 1) throw new Error(`no profile for user ${userId} (did the signup trigger run?)`);
}
