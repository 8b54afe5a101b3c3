import { isPgError, PoolTimeoutError } from '../db/database.js';
import { textResponse } from './response-text.js';

/**
 * PostgREST's error vocabulary: every failure leaves the gateway as `{code, message, details, hint}` (nulls for
 * absent parts) with the HTTP status PostgREST would pick (src/PostgREST/Error.hs, `mapSQLtoHTTP`).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** A sentence, or (PGRST201/PGRST203) the candidate list PostgREST puts here as JSON objects. */
    readonly details: string | Record<string, string>[] | null = null,
    readonly hint: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): { code: string; message: string; details: string | Record<string, string>[] | null; hint: string | null } {
    return { code: this.code, message: this.message, details: this.details, hint: this.hint };
  }
}

/** PGRST100: the query string does not follow the grammar (filters, select, order, logic trees). */
export function parseError(what: string, input: string, details: string): ApiError {
  return new ApiError(400, 'PGRST100', `"failed to parse ${what} (${input})" (line 1, column 1)`, details);
}

/** PGRST205: table or view unknown in the exposed schemas. */
export function tableNotFound(schema: string, name: string, hint: string | null): ApiError {
  return new ApiError(404, 'PGRST205', `Could not find the table '${schema}.${name}' in the schema cache`, null, hint);
}

/** 42703 as PostgreSQL reports it when PostgREST forwards an unknown column in select/filters/order. */
export function columnNotFound(table: string, column: string): ApiError {
  return new ApiError(400, '42703', `column ${table}.${column} does not exist`);
}

/** PGRST204: a payload or `columns=` key that is not a column of the target. */
export function payloadColumnNotFound(table: string, column: string): ApiError {
  return new ApiError(400, 'PGRST204', `Could not find the '${column}' column of '${table}' in the schema cache`);
}

export function noRelationship(parent: string, child: string, schema: string, hint?: string): ApiError {
  return new ApiError(
    400,
    'PGRST200',
    `Could not find a relationship between '${parent}' and '${child}' in the schema cache`,
    `Searched for a foreign key relationship between '${parent}' and '${child}'${hint ? ` using the hint '${hint}'` : ''} in the schema '${schema}', but no matches were found.`,
  );
}

export function singularityError(rows: number): ApiError {
  return new ApiError(
    406,
    'PGRST116',
    'Cannot coerce the result to a single JSON object',
    `The result contains ${rows} rows`,
  );
}

/** JWT failures carry the WWW-Authenticate header PostgREST sends (RFC 6750 `invalid_token`). */
export function jwtError(code: 'PGRST301' | 'PGRST303', message: string, details: string | null = null): ApiError {
  return new ApiError(401, code, message, details, null, {
    'WWW-Authenticate': `Bearer error="invalid_token", error_description=${JSON.stringify(message)}`,
  });
}

/** SQLSTATE → HTTP status, in the order PostgREST's `mapSQLtoHTTP` tests them. */
export function statusForSqlState(code: string, message: string, authenticated: boolean): number {
  const p2 = code.slice(0, 2);
  if (p2 === '08') return 503;
  if (p2 === '09') return 500;
  if (p2 === '0L' || p2 === '0P') return 403;
  if (code === '23503' || code === '23505') return 409;
  if (code === '25006') return 405;
  if (code === '21000') return message.endsWith('requires a WHERE clause') ? 400 : 500;
  // A JWT naming a role that does not exist is an authentication failure (PostgREST issue #3601).
  if (code === '22023') return message.startsWith('role') && message.endsWith('does not exist') ? 401 : 400;
  if (p2 === '25' || p2 === '2D' || p2 === '38' || p2 === '39' || p2 === '3B' || p2 === '40') return 500;
  if (p2 === '28') return 403;
  if (code === '53400') return 500;
  if (p2 === '53') return 503;
  if (p2 === '54' || p2 === '55') return 500;
  if (code === '57P01') return 503;
  if (p2 === '57' || p2 === '58' || p2 === 'F0' || p2 === 'HV') return 500;
  if (code === 'P0001') return 400;
  if (p2 === 'P0' || p2 === 'XX') return 500;
  if (code === '42883') return 404;
  if (code === '42P01') return 404;
  if (code === '42P17') return 500;
  if (code === '42501') return authenticated ? 403 : 401;
  if (p2 === 'PT') {
    const n = Number(code.slice(2));
    return Number.isInteger(n) && n >= 100 && n <= 599 ? n : 500;
  }
  return 400;
}

/** Socket-level failures of a database connection (node-postgres surfaces them as Node system errors). */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);
const UNREACHABLE_MESSAGES =
  /connection terminated|timeout exceeded when trying to connect|client has encountered a connection error|connection is closed|pglite is closed/i;

export function isDatabaseUnreachable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e instanceof AggregateError && e.errors.length > 0) return e.errors.every(isDatabaseUnreachable);
  const code = (e as { code?: unknown }).code;
  return (typeof code === 'string' && UNREACHABLE_CODES.has(code)) || UNREACHABLE_MESSAGES.test(e.message);
}

/**
 * PGRST001 as PostgREST answers a lost database: 503, and nothing about where the database is (no host, port
 * or driver message, which would name internal addresses).
 */
export function databaseUnreachable(): ApiError {
  return new ApiError(
    503,
    'PGRST001',
    'Database client error. Retrying the connection.',
    'The database could not be reached',
    null,
    { 'Retry-After': '1' },
  );
}

/** Any thrown value → ApiError. Database errors keep their SQLSTATE, message, detail and hint verbatim. */
export function toApiError(e: unknown, authenticated: boolean): ApiError {
  if (e instanceof ApiError) return e;
  if (isDatabaseUnreachable(e)) return databaseUnreachable();
  // PostgREST: every pooled connection busy for longer than db-pool-acquisition-timeout.
  if (e instanceof PoolTimeoutError)
    return new ApiError(504, 'PGRST003', 'Timed out acquiring connection from connection pool.');
  if (isPgError(e)) {
    const status = statusForSqlState(e.code, e.message, authenticated);
    // PostgREST answers every 401 coming from the database with a bare Bearer challenge.
    const headers: Record<string, string> = status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {};
    return new ApiError(status, e.code, e.message, e.detail ?? null, e.hint ?? null, headers);
  }
  const message = e instanceof Error ? e.message : String(e);
  return new ApiError(500, 'PGRSTX00', message);
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export function errorResponse(err: ApiError, method = 'GET'): Response {
  const body = JSON.stringify(err.body());
  const headers = new Headers({
    'Content-Type': JSON_CONTENT_TYPE,
    'Proxy-Status': `PostgREST; error=${err.code}`,
    ...err.headers,
  });
  return textResponse(method === 'HEAD' ? null : body, { status: err.status, headers });
}
