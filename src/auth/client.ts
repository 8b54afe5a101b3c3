import { createClient, type SupabaseClient } from '@supabase/supabase-js';

/**
 * Node 20 has no global WebSocket and supabase-js builds its realtime client eagerly; nothing here
 * subscribes (and the gateway serves no Realtime), so the transport refuses loudly if anything ever tries.
 */
class NoRealtime {
  constructor() {
    throw new Error('realtime is not available here (Node 20 has no WebSocket, and the gateway serves no Realtime)');
  }
}

export interface ServerClientOptions {
  /** In-process transport (the gateway's fetch adapter); omitted = real HTTP. */
  fetch?: typeof fetch;
  /** supabase-js's `accessToken` option: the user's JWT instead of the API key. */
  accessToken?: () => Promise<string>;
  /** A schema other than the first exposed one (PostgREST Accept-Profile / Content-Profile). */
  schema?: string;
}

/**
 * supabase-js configured as server-side code uses it: no session storage or refresh, no realtime. The one
 * place the suites, the personas and the serve tests create clients, so they all talk to the API alike.
 */
// biome-ignore lint/suspicious/noExplicitAny: supabase-js's own default; callers without the generated DatabaseSchema type get an untyped client
export function createServerClient<DB = any>(
  url: string,
  key: string,
  options: ServerClientOptions = {},
): SupabaseClient<DB> {
  return createClient<DB>(url, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: NoRealtime as never },
    ...(options.fetch ? { global: { fetch: options.fetch } } : {}),
    ...(options.schema ? { db: { schema: options.schema as never } } : {}),
    ...(options.accessToken ? { accessToken: options.accessToken } : {}),
  }) as SupabaseClient<DB>;
}

/**
 * supabase-js as an app uses it: signs in through Auth (session kept in memory), and Realtime over the `ws`
 * package, because Node 20 has no global WebSocket (`realtime.transport`; browsers and Node ≥ 22 need none).
 */
// biome-ignore lint/suspicious/noExplicitAny: supabase-js's own default; callers without the generated DatabaseSchema type get an untyped client
export async function createAppClient<DB = any>(
  url: string,
  anonKey: string,
  options: { fetch?: typeof fetch } = {},
): Promise<SupabaseClient<DB>> {
  const { WebSocket } = await import('ws');
  return createClient<DB>(url, anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: WebSocket as never },
    ...(options.fetch ? { global: { fetch: options.fetch } } : {}),
  }) as SupabaseClient<DB>;
}
