/**
 * Errors the way Supabase Auth (GoTrue) writes them. supabase-js sends `X-Supabase-Api-Version: 2024-01-01`
 * and then reads `{ code: <error code>, message }`; older clients get the legacy `{ code: <status>,
 * error_code, msg }`. Either way auth-js turns it into an AuthApiError with `status` and `code`.
 */
export const API_VERSION = '2024-01-01';
const JSON_TYPE = 'application/json; charset=utf-8';

export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function wantsVersioned(request: Request): boolean {
  const v = request.headers.get('x-supabase-api-version');
  return v !== null && /^\d{4}-\d{2}-\d{2}$/.test(v) && v >= API_VERSION;
}

export function errorResponse(request: Request, e: AuthError): Response {
  const body = wantsVersioned(request)
    ? { code: e.errorCode, message: e.message, ...e.extra }
    : { code: e.status, error_code: e.errorCode, msg: e.message, ...e.extra };
  return new Response(JSON.stringify(body), {
    status: e.status,
    headers: { 'content-type': JSON_TYPE, 'x-supabase-api-version': API_VERSION },
  });
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': JSON_TYPE, 'x-supabase-api-version': API_VERSION, ...headers },
  });
}

/** The request's JSON object body, or GoTrue's 400 bad_json. */
export async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new AuthError(
      400,
      'bad_json',
      `Could not parse request body as JSON: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new AuthError(400, 'bad_json', 'Could not parse request body as JSON: expected an object');
  return body as Record<string, unknown>;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
