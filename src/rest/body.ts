import { ApiError } from './errors.js';

/**
 * Request bodies: bounded in size while they are read, bounded in nesting depth before they are parsed, and
 * kept as the client's own text. JavaScript only looks at the body's shape (array or object, which keys);
 * the values reach PostgreSQL as that text in one bind parameter, so PostgreSQL parses every number exactly
 * or refuses it with its own error (PostgREST does the same with json_populate_recordset).
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_JSON_DEPTH = 64;

export function payloadTooLarge(limit: number, seen: number | null): ApiError {
  return new ApiError(
    413,
    'PGRST413',
    'Payload Too Large',
    seen === null
      ? `The request body exceeds the limit of ${limit} bytes`
      : `The request body is ${seen} bytes; the limit is ${limit} bytes`,
    'Send fewer rows per request, or raise the limit (shipspeak-db serve --max-body-bytes)',
  );
}

export const invalidJson = (details: string | null = null): ApiError =>
  new ApiError(400, 'PGRST102', 'Empty or invalid json', details);

/** A JSON object (not an array, not null): what a row, a PATCH body or named RPC arguments must be. */
export const isJsonObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A Content-Length over the limit is refused before a byte of the body is read. */
export function checkDeclaredLength(headers: Headers, limit: number): void {
  const declared = headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limit)
    throw payloadTooLarge(limit, Number(declared));
}

/** Reads at most `limit` bytes of the body; one byte more and reading stops with 413. */
export async function readBodyText(request: Request, limit: number): Promise<string> {
  checkDeclaredLength(request.headers, limit);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw payloadTooLarge(limit, null);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(all);
  } catch {
    throw invalidJson('The request body is not valid UTF-8');
  }
}

/**
 * Nesting depth of a JSON text, counted without recursion (so a hostile `[[[[…` cannot overflow the stack);
 * stops counting as soon as the limit is passed.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > limit) return true;
    } else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return false;
}

export interface JsonBody {
  /** Exactly what the client sent. */
  text: string;
  /** Its structure as JavaScript sees it: used for shape and keys only, never for values sent to SQL. */
  value: unknown;
}

export function parseJsonBody(text: string, maxDepth: number): JsonBody {
  if (jsonDepthExceeds(text, maxDepth)) throw invalidJson(`JSON nesting is deeper than ${maxDepth} levels`);
  try {
    return { text, value: JSON.parse(text) as unknown };
  } catch (e) {
    throw invalidJson(e instanceof Error ? e.message : null);
  }
}
