import { ApiError, JSON_CONTENT_TYPE } from './errors.js';

/** The response body's form the client accepted: JSON array, single object (singular), or CSV. */
export interface Media {
  shape: 'array' | 'object' | 'csv';
  stripNulls: boolean;
  contentType: string;
}

/** PostgREST's media type negotiation: the first `Accept` range the gateway can produce wins; none is a 406. */
export function negotiateMedia(accept: string | null): Media {
  const ranges = (accept ?? '*/*')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  for (const r of ranges) {
    const [type = '', ...params] = r.split(';').map((p) => p.trim().toLowerCase());
    const stripNulls = params.includes('nulls=stripped');
    if (type === 'application/vnd.pgrst.object+json' || type === 'application/vnd.pgrst.object') {
      return {
        shape: 'object',
        stripNulls,
        contentType: `application/vnd.pgrst.object+json${stripNulls ? '; nulls=stripped' : ''}; charset=utf-8`,
      };
    }
    if (type === 'application/vnd.pgrst.array+json' || type === 'application/vnd.pgrst.array') {
      return {
        shape: 'array',
        stripNulls,
        contentType: `application/vnd.pgrst.array+json${stripNulls ? '; nulls=stripped' : ''}; charset=utf-8`,
      };
    }
    if (type === 'text/csv') return { shape: 'csv', stripNulls: false, contentType: 'text/csv; charset=utf-8' };
    if (type === 'application/json' || type === '*/*' || type === 'application/*')
      return { shape: 'array', stripNulls: false, contentType: JSON_CONTENT_TYPE };
  }
  throw new ApiError(406, 'PGRST107', `None of these media types are available: ${ranges.join(', ')}`);
}
