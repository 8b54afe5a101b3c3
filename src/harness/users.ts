/**
 * "Create a user and give me a supabase-js client as them", the same call against the local gateway and a
 * real Supabase stack. Users are real auth users, so the signup trigger creates their profile and progress
 * rows; a persona's tier and role are then set by a privileged writer, as billing or an admin would.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AccessToken, ApiClient, ApiEnvironment } from './environment.js';
import { PERSONA_SPECS, type AppRole, type MemberPersona, type Tier } from '../auth/personas.js';

export interface NewUser {
  email?: string;
  tier?: Tier;
  role?: AppRole;
  userMetadata?: Record<string, unknown>;
}

export interface CreatedUser {
  id: string;
  email: string;
  tier: Tier;
  role: AppRole;
  client: ApiClient;
  accessToken: AccessToken;
}

/** Users created through this module, per environment, so a run can remove exactly what it made. */
const created = new WeakMap<ApiEnvironment, Set<string>>();

function uniqueEmail(label: string): string {
  return `${label.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.${randomUUID().slice(0, 8)}@shipspeak-tests.example.com`;
}

export async function createUser(env: ApiEnvironment, who: MemberPersona | NewUser = {}): Promise<CreatedUser> {
  const spec = typeof who === 'string' ? PERSONA_SPECS[who] : null;
  const wanted: NewUser = spec && spec.kind === 'member' ? { tier: spec.tier, role: spec.role } : (who as NewUser);
  const label = typeof who === 'string' ? who : 'user';
  const email = wanted.email ?? uniqueEmail(label);
  const signedUp = await env.signUp({
    email,
    password: randomBytes(18).toString('base64url'),
    userMetadata: wanted.userMetadata ?? { display_name: `Test ${label}` },
  });
  let ids = created.get(env);
  if (!ids) {
    ids = new Set();
    created.set(env, ids);
  }
  ids.add(signedUp.id);
  const tier = wanted.tier ?? 'free';
  const role = wanted.role ?? 'member';
  if (tier !== 'free' || role !== 'member') await env.setProfile(signedUp.id, { tier, role });
  return {
    id: signedUp.id,
    email,
    tier,
    role,
    client: env.client(signedUp.accessToken),
    accessToken: signedUp.accessToken,
  };
}

/** No user: what a signed-out visitor's browser holds (the anon API key). */
export function anonClient(env: ApiEnvironment): ApiClient {
  return env.client();
}

/** The backend: the service_role API key, which bypasses RLS. Setup and verification only. */
export function serviceClient(env: ApiEnvironment): ApiClient {
  return env.serviceClient();
}

/** Deletes every user createUser made in this environment (their data goes with them: on delete cascade). */
export async function deleteCreatedUsers(env: ApiEnvironment): Promise<number> {
  const ids = [...(created.get(env) ?? [])];
  for (const id of ids) await env.deleteUser(id);
  created.delete(env);
  return ids.length;
}
