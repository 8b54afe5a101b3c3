/**
 * The six personas of the isolation matrix (tests/rls/matrix.json): who they are to PostgREST (which key or
 * token they carry) and, for signed-in members, the profile they must end up with. Tier and app role are
 * set on public.profiles by a privileged writer after signup — never through user_metadata, which users
 * can edit themselves — so a persona is a recipe, not a claim.
 */
import type { DatabaseSchema } from '../../types/database.js';

export type Tier = DatabaseSchema['public']['Enums']['subscription_tier'];
export type AppRole = DatabaseSchema['public']['Enums']['app_role'];

export type PersonaName = 'anon' | 'free_a' | 'free_b' | 'pro' | 'admin' | 'service_role';
export type MemberPersona = Exclude<PersonaName, 'anon' | 'service_role'>;

export type PersonaSpec =
  | { name: 'anon'; kind: 'anon'; description: string }
  | { name: 'service_role'; kind: 'service'; description: string }
  | { name: MemberPersona; kind: 'member'; tier: Tier; role: AppRole; description: string };

export const PERSONA_SPECS: Record<PersonaName, PersonaSpec> = {
  anon: { name: 'anon', kind: 'anon', description: 'no user token: the anon API key only' },
  free_a: { name: 'free_a', kind: 'member', tier: 'free', role: 'member', description: 'signed-in member, free tier' },
  free_b: {
    name: 'free_b',
    kind: 'member',
    tier: 'free',
    role: 'member',
    description: 'second free member (the other side of every cross-user check)',
  },
  pro: { name: 'pro', kind: 'member', tier: 'pro', role: 'member', description: 'signed-in member, pro tier' },
  admin: {
    name: 'admin',
    kind: 'member',
    tier: 'free',
    role: 'admin',
    description: 'signed-in member whose profile role is admin (tier free)',
  },
  service_role: { name: 'service_role', kind: 'service', description: 'backend: service_role API key (BYPASSRLS)' },
};

export const PERSONA_NAMES = Object.keys(PERSONA_SPECS) as PersonaName[];
export const MEMBER_PERSONAS = PERSONA_NAMES.filter((p): p is MemberPersona => PERSONA_SPECS[p].kind === 'member');

/** Tier order as the subscription_tier enum declares it (free < pro < enterprise); policies compare the same way. */
export const TIER_ORDER: readonly Tier[] = ['free', 'pro', 'enterprise'];

export function tierAllows(userTier: Tier, requiredTier: Tier): boolean {
  return TIER_ORDER.indexOf(requiredTier) <= TIER_ORDER.indexOf(userTier);
}
