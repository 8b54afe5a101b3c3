import { ApiError } from './errors.js';
import type { SelectItem } from './query-params.js';
import type { RowRange } from './range.js';

/**
 * What one request may ask of the database, so no single request can hold it for long or fill memory (issue
 * #10): PostgREST's `db-max-rows` (Supabase projects set 1000), a maximum embedding depth (embeddings multiply:
 * rows grow as k^depth), and a cap on the response body. The statement timeout bounds the time; these bound
 * the size.
 */
export interface RequestLimits {
  /** Rows a read or RPC returns at most (null = unbounded, for test fixtures only). */
  maxRows: number | null;
  /** Nested embedding levels allowed in `select=` (1 = `a(b)`, 2 = `a(b(c))`). */
  maxEmbedDepth: number;
  /** Largest response body in bytes. */
  maxResponseBytes: number;
}

export const DEFAULT_LIMITS: RequestLimits = { maxRows: 1000, maxEmbedDepth: 4, maxResponseBytes: 32 * 1024 * 1024 };

export function validateLimits(l: RequestLimits): void {
  if (l.maxRows !== null && (!Number.isInteger(l.maxRows) || l.maxRows < 1))
    throw new Error('maxRows must be a positive integer or null (unbounded)');
  if (!Number.isInteger(l.maxEmbedDepth) || l.maxEmbedDepth < 0)
    throw new Error('maxEmbedDepth must be a non-negative integer');
  if (!Number.isInteger(l.maxResponseBytes) || l.maxResponseBytes < 1)
    throw new Error('maxResponseBytes must be a positive integer');
}

/** Deepest embedding in a select tree (0 when there is none). */
export function embedDepth(select: SelectItem[]): number {
  let deepest = 0;
  for (const item of select) if (item.kind === 'embed') deepest = Math.max(deepest, 1 + embedDepth(item.select));
  return deepest;
}

export function checkEmbedDepth(select: SelectItem[], max: number): void {
  const depth = embedDepth(select);
  if (depth > max) {
    throw new ApiError(
      400,
      'PGRST100',
      `"failed to parse select parameter" (embedding ${depth} levels deep)`,
      `Resource embedding may nest at most ${max} levels; this request nests ${depth}.`,
      'Fetch deeper levels with a separate request.',
    );
  }
}

/** PostgREST's max-rows: the page is never larger than maxRows, whatever limit or Range asked for. */
export function capRange(range: RowRange, maxRows: number | null): RowRange {
  if (maxRows === null) return range;
  return { offset: range.offset, limit: Math.min(range.limit ?? maxRows, maxRows) };
}

/** Refuses a body over the cap with SQLSTATE 54000 (program_limit_exceeded → 500, as PostgREST maps it). */
export function checkResponseSize(body: string | null, max: number): void {
  if (body === null) return;
  const bytes = Buffer.byteLength(body);
  if (bytes > max) {
    throw new ApiError(
      500,
      '54000',
      `response too large: ${bytes} bytes exceeds the gateway's limit of ${max} bytes`,
      null,
      'Select fewer columns, filter, or page with limit/offset or a Range header.',
    );
  }
}
