/**
 * Where supabase-js clients point: a local gateway over one of our databases, or a real Supabase stack
 * (`supabase start` or a staging project). Both answer the same four questions — which URL and keys, how
 * to make a client, how a user signs up, how a privileged writer changes a profile — so the suites that
 * use them never know which one they run against.
 */
import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { createServerClient } from '../auth/client.js';
import type { Database } from '../db/database.js';
import type { DatabaseSchema } from '../../types/database.js';
import { createGateway, type Gateway, type RunningServer } from '../rest/index.js';
import { mintApiKey, mintUserToken } from '../auth/tokens.js';
import { createAuthUser, setProfileAccess } from '../auth/signup.js';
import type { AppRole, Tier } from '../auth/personas.js';

export type ApiClient = SupabaseClient<DatabaseSchema>;
export type AccessToken = () => Promise<string>;

export interface SignUpInput {
  email: string;
  password: string;
  userMetadata: Record<string, unknown>;
}

export interface SignedUp {
  id: string;
  accessToken: AccessToken;
}

export interface ApiEnvironment {
  kind: 'local' | 'remote';
  /** pglite / postgres / remote: used in test names. */
  name: string;
  url: string;
  anonKey: string;
  serviceKey: string;
  /** A client carrying the anon key, plus a user's token when given. */
  client(accessToken?: AccessToken): ApiClient;
  /** A client whose API key is the service_role key (works for JWT keys and Supabase's newer secret keys). */
  serviceClient(): ApiClient;
  /** Creates a real auth user (the signup trigger runs) and returns a way to act as them. */
  signUp(input: SignUpInput): Promise<SignedUp>;
  /** Sets role/tier the way a backend or admin does: never as the user. */
  setProfile(userId: string, patch: { tier?: Tier; role?: AppRole }): Promise<void>;
  deleteUser(userId: string): Promise<void>;
  close(): Promise<void>;
}

function makeClient(
  url: string,
  anonKey: string,
  fetchImpl: typeof fetch | undefined,
  accessToken?: AccessToken,
): ApiClient {
  return createServerClient<DatabaseSchema>(url, anonKey, {
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
    ...(accessToken ? { accessToken } : {}),
  });
}

export interface LocalEnvironmentOptions {
  db: Database;
  /** HS256 secret shared by the gateway and the token minter (>= 32 characters). */
  jwtSecret?: string;
  /** 'fetch' (default): in-process adapter; 'http': a real HTTP server on 127.0.0.1. */
  transport?: 'fetch' | 'http';
  name?: string;
}

export const LOCAL_JWT_SECRET = 'shipspeak-local-jwt-secret-0123456789-abcdefgh';

/**
 * The gateway over a migrated database. Users are rows the database owner inserts into auth.users (what
 * Supabase Auth does on signup), and their access tokens carry Supabase Auth's claim set.
 */
export async function localEnvironment(
  options: LocalEnvironmentOptions,
): Promise<ApiEnvironment & { gateway: Gateway }> {
  const { db, jwtSecret = LOCAL_JWT_SECRET, transport = 'fetch' } = options;
  const gateway = createGateway({ db, jwtSecret, maxRows: null });
  const [anonKey, serviceKey] = await Promise.all([
    mintApiKey(jwtSecret, 'anon'),
    mintApiKey(jwtSecret, 'service_role'),
  ]);
  let server: RunningServer | undefined;
  let url = 'http://gateway.local';
  let fetchImpl: typeof fetch | undefined = gateway.fetch;
  if (transport === 'http') {
    server = await gateway.listen(0);
    url = server.url;
    fetchImpl = undefined;
  }
  return {
    kind: 'local',
    name: options.name ?? db.engine,
    url,
    anonKey,
    serviceKey,
    gateway,
    client: (accessToken) => makeClient(url, anonKey, fetchImpl, accessToken),
    serviceClient: () => makeClient(url, serviceKey, fetchImpl),
    async signUp({ email, userMetadata }) {
      const { id, app_metadata } = await createAuthUser(db, { email, user_metadata: userMetadata });
      const sessionId = randomUUID();
      return {
        id,
        accessToken: () =>
          mintUserToken(jwtSecret, { id, email, app_metadata, user_metadata: userMetadata }, { sessionId }),
      };
    },
    setProfile: (userId, patch) => setProfileAccess(db, userId, patch),
    async deleteUser(userId) {
      await db.query('delete from auth.users where id = $1', [userId]);
    },
    async close() {
      await server?.close();
    },
  };
}

export interface RemoteSettings {
  url: string;
  anonKey: string;
  serviceKey: string;
}

/** SUPABASE_URL, SUPABASE_ANON_KEY and SUPABASE_SERVICE_ROLE_KEY, all three or none. */
export function remoteSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): RemoteSettings | null {
  const url = env.SUPABASE_URL;
  const anonKey = env.SUPABASE_ANON_KEY;
  const serviceKey = env.SUPABASE_SERVICE_ROLE_KEY;
  const set = [url, anonKey, serviceKey].filter(Boolean).length;
  if (set === 0) return null;
  if (!url || !anonKey || !serviceKey) {
    throw new Error('set all three of SUPABASE_URL, SUPABASE_ANON_KEY and SUPABASE_SERVICE_ROLE_KEY, or none');
  }
  return { url, anonKey, serviceKey };
}

/**
 * A real Supabase stack: users through the Auth admin API (email confirmed), tokens from a password
 * sign-in, profile changes through the service-role client. Nothing here touches SQL.
 */
export function remoteEnvironment(settings: RemoteSettings): ApiEnvironment {
  const { url, anonKey, serviceKey } = settings;
  const service = makeClient(url, serviceKey, undefined);
  const client = (accessToken?: AccessToken) => makeClient(url, anonKey, undefined, accessToken);
  return {
    kind: 'remote',
    name: 'remote',
    url,
    anonKey,
    serviceKey,
    client,
    serviceClient: () => makeClient(url, serviceKey, undefined),
    async signUp({ email, password, userMetadata }) {
      const created = await service.auth.admin.createUser({
        email,
        password,
        email_confirm: true,
        user_metadata: userMetadata,
      });
      if (created.error || !created.data.user)
        throw new Error(`auth.admin.createUser(${email}): ${created.error?.message ?? 'no user'}`);
      const signer = makeClient(url, anonKey, undefined);
      const signedIn = await signer.auth.signInWithPassword({ email, password });
      if (signedIn.error || !signedIn.data.session)
        throw new Error(`signInWithPassword(${email}): ${signedIn.error?.message ?? 'no session'}`);
      const token = signedIn.data.session.access_token;
      return { id: created.data.user.id, accessToken: async () => token };
    },
    async setProfile(userId, patch) {
      const { data, error } = await service.from('profiles').update(patch).eq('id', userId).select('id');
      if (error) throw new Error(`setProfile(${userId}): ${error.code} ${error.message}`);
      if (data.length !== 1) throw new Error(`setProfile: no profile for ${userId} (did the signup trigger run?)`);
    },
    async deleteUser(userId) {
      const { error } = await service.auth.admin.deleteUser(userId);
      if (error) throw new Error(`auth.admin.deleteUser(${userId}): ${error.message}`);
    },
    async close() {},
  };
}
