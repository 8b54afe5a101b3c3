import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { requestToken, verifyJwt } from '../rest/jwt.js';

/**
 * The opt-in access log of `shipspeak-db serve --request-log FILE` (issue #16, access patterns): one JSON line
 * per request with what an operator needs to see who is denied what, and nothing that identifies a person
 * or carries content:
 *   {"time","request_id","method","path","role","user","status","sqlstate","duration_ms"}
 * - path is the URL path only: the query string (filter values such as `email=eq.…`) is never written;
 * - user is a pseudonym: HMAC-SHA256 of the JWT `sub` under a key drawn at start-up, first 16 hex digits —
 *   stable within one server run (so one user's requests can be followed), unlinkable across runs;
 * - role comes from a token that verifies; an unverifiable token is logged as role "invalid-token";
 * - no header, token, e-mail or body is written.
 */
export interface RequestLogLine {
  time: string;
  request_id: string;
  method: string;
  path: string;
  role: string;
  user: string | null;
  status: number;
  /** SQLSTATE or PGRST code of an error answer, else null. */
  sqlstate: string | null;
  duration_ms: number;
}

export type Handler = (request: Request) => Promise<Response>;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function withRequestLog(
  handler: Handler,
  opts: { jwtKey: Uint8Array; anonRole: string; write: (line: string) => void },
): Handler {
  const pepper = randomBytes(32);
  const pseudonym = (sub: string) => createHmac('sha256', pepper).update(sub).digest('hex').slice(0, 16);
  return async (request) => {
    const started = performance.now();
    const given = request.headers.get('x-request-id');
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    let role = opts.anonRole;
    let user: string | null = null;
    const token = requestToken(request.headers);
    if (token) {
      try {
        const claims = await verifyJwt(token, opts.jwtKey);
        if (typeof claims.role === 'string') role = claims.role;
        if (typeof claims.sub === 'string' && claims.sub) user = pseudonym(claims.sub);
      } catch {
        role = 'invalid-token';
      }
    }
    let response: Response;
    try {
      response = await handler(request);
    } catch (e) {
      opts.write(JSON.stringify(line(request, requestId, role, user, 500, null, started)));
      throw e;
    }
    let sqlstate: string | null = null;
    if (response.status >= 400 && (response.headers.get('content-type') ?? '').includes('json')) {
      try {
        const body = (await response.clone().json()) as { code?: unknown };
        if (typeof body.code === 'string') sqlstate = body.code;
      } catch {
        /* not a PostgREST error body */
      }
    }
    try {
      response.headers.set('x-request-id', requestId);
    } catch {
      /* immutable headers (a fetched response): the id is still in the log */
    }
    opts.write(JSON.stringify(line(request, requestId, role, user, response.status, sqlstate, started)));
    return response;
  };
}

function line(
  request: Request,
  requestId: string,
  role: string,
  user: string | null,
  status: number,
  sqlstate: string | null,
  started: number,
): RequestLogLine {
  return {
    time: new Date().toISOString(),
    request_id: requestId,
    method: request.method,
    path: new URL(request.url).pathname,
    role,
    user,
    status,
    sqlstate,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
  };
}

export interface DenialCount {
  table: string;
  role: string;
  status: number;
  sqlstate: string | null;
  count: number;
}

/** Denials (401, 403, or SQLSTATE 42501) per table and role, most frequent first. */
export function summariseDenials(lines: RequestLogLine[]): DenialCount[] {
  const counts = new Map<string, DenialCount>();
  for (const l of lines) {
    if (l.status !== 401 && l.status !== 403 && l.sqlstate !== '42501') continue;
    const m = /^\/rest\/v1\/(rpc\/)?([^/]+)/.exec(l.path);
    const table = m ? `${m[1] ?? ''}${decodeURIComponent(m[2]!)}` : l.path;
    const key = `${table}\0${l.role}\0${l.status}\0${l.sqlstate}`;
    const c = counts.get(key) ?? { table, role: l.role, status: l.status, sqlstate: l.sqlstate, count: 0 };
    c.count++;
    counts.set(key, c);
  }
  return [...counts.values()].sort((a, b) => b.count - a.count || a.table.localeCompare(b.table));
}
