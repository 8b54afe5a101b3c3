import { createAuthApi, AUTH_PREFIX } from '../auth-api/handler.js';
import type { Database } from '../db/database.js';
import type { Handle } from '../rest/fetch-adapter.js';
import { pgliteChangeSource } from '../realtime/capture-pglite.js';
import type { ChangeSource } from '../realtime/changes.js';
import { createRealtime, type Realtime } from '../realtime/websocket.js';

/**
 * The Supabase services `serve` puts beside the data API, routed by URL prefix like Kong does in the
 * Supabase stack: /auth/v1 (local Auth), /realtime/v1/websocket (Realtime, via the HTTP upgrade hook),
 * /storage/v1 (not provided: a clear 501), everything else to the PostgREST-compatible gateway.
 */
export interface Services {
  route(rest: Handle): Handle;
  realtime: Realtime;
  /** What captures changes ("wal2json …" / "PGlite trigger queue"). */
  capture: string;
  stop(): Promise<void>;
}

const STORAGE_PREFIX = '/storage/v1';

function storageNotProvided(request: Request): Response {
  return Response.json(
    {
      statusCode: '501',
      error: 'not_implemented',
      message: `Storage is not provided by shipspeak-db serve (${request.method} ${new URL(request.url).pathname}): use \`supabase start\` or a Supabase project for Storage`,
    },
    { status: 501 },
  );
}

export async function startServices(opts: {
  db: Database;
  jwtSecret: string;
  databaseUrl?: string;
  bcryptCost?: number;
  log: (line: string) => void;
}): Promise<Services> {
  const auth = createAuthApi({
    db: opts.db,
    jwtSecret: opts.jwtSecret,
    ...(opts.bcryptCost !== undefined ? { bcryptCost: opts.bcryptCost } : {}),
  });
  // The PostgreSQL capture (and pg) loads only when serving PostgreSQL: ~0.1 s of CPU at a PGlite start otherwise.
  const source: ChangeSource = opts.databaseUrl
    ? (await import('../realtime/capture-postgres.js')).postgresChangeSource(opts.databaseUrl)
    : pgliteChangeSource(opts.db);
  const realtime = createRealtime({ db: opts.db, jwtSecret: opts.jwtSecret, source, log: opts.log });
  return {
    realtime,
    capture: `${source.kind}, started by the first subscription`,
    route: (rest) => (request) => {
      const path = new URL(request.url).pathname;
      if (path === AUTH_PREFIX || path.startsWith(`${AUTH_PREFIX}/`)) return auth(request);
      if (path === STORAGE_PREFIX || path.startsWith(`${STORAGE_PREFIX}/`))
        return Promise.resolve(storageNotProvided(request));
      return rest(request);
    },
    stop: () => realtime.stop(),
  };
}
