import { ApiError } from './errors.js';

/**
 * Paging as PostgREST does it (src/PostgREST/RangeQuery.hs): the `Range` header (GET/HEAD only) narrowed by
 * `offset`/`limit`, the `Content-Range` header, and 200/206/416 chosen from the exact count when one was asked for.
 */
export interface RowRange {
  offset: number;
  limit?: number;
}

export function requestRange(
  rangeHeader: string | null,
  limit: number | undefined,
  offset: number | undefined,
): RowRange {
  let lower = 0;
  let upper: number | undefined;
  if (rangeHeader) {
    const m = /^(?:items=)?\s*(\d+)-(\d*)\s*$/.exec(rangeHeader);
    if (m) {
      lower = Number(m[1]);
      upper = m[2] === '' ? undefined : Number(m[2]);
      if (upper !== undefined && lower > upper) {
        throw new ApiError(
          416,
          'PGRST103',
          'Requested range not satisfiable',
          'The lower boundary must be lower than or equal to the upper boundary in the Range header.',
        );
      }
    }
  }
  const start = lower + (offset ?? 0);
  let end = upper;
  if (limit !== undefined) end = end === undefined ? start + limit - 1 : Math.min(end, start + limit - 1);
  return end === undefined ? { offset: start } : { offset: start, limit: Math.max(0, end - start + 1) };
}

export function contentRange(lower: number, upper: number, total: number | undefined): string {
  const range = total !== 0 && lower <= upper ? `${lower}-${upper}` : '*';
  return `${range}/${total ?? '*'}`;
}

/** Status and Content-Range of a read: 206 when the page is a strict part of a known total, 416 past its end. */
export function readStatus(
  offset: number,
  rows: number,
  total: number | undefined,
): { status: number; contentRange: string } {
  const upper = offset + rows - 1;
  let status = 200;
  if (total !== undefined) {
    if (offset > total) status = 416;
    else if (1 + upper - offset < total) status = 206;
  }
  return { status, contentRange: contentRange(offset, upper, total) };
}
