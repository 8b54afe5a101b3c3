import { DEFAULT_MAX_JSON_DEPTH } from '../../../src/rest/body.js';
import { DEFAULT_LIMITS } from '../../../src/rest/limits.js';
import type { RequestParts, RequestTarget } from '../../../src/rest/plan-request.js';
import { parsePreferences } from '../../../src/rest/preferences.js';

/**
 * A generated request (support/request-arbitrary.ts, render.test.ts), handed to the gateway two ways: as the
 * web Request the handler takes (support/to-request.ts), or as the parts its planner takes
 * (src/rest/plan-request.ts) for the tests that plan and render without a database. Only the field mapping
 * lives here; the chaining from parts to plan is the product's, so the tests cannot drift from the gateway.
 */
export interface GeneratedRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A table name, or `rpc/<name>`. */
  target: string;
  search: string;
  prefer?: string;
  range?: string;
  body?: string;
  /** `text/csv` asks for the CSV body (supabase-js `.csv()`); anything else is JSON. */
  accept?: string;
}

/** The same request as the planner's input, with the gateway's default limits, in schema `public`. */
export function toParts(r: GeneratedRequest): { target: RequestTarget; parts: RequestParts } {
  return {
    target: r.target.startsWith('rpc/') ? { rpc: r.target.slice(4) } : { table: r.target },
    parts: {
      method: r.method,
      schema: 'public',
      search: new URLSearchParams(r.search),
      prefs: parsePreferences(r.prefer ?? null),
      accept: r.accept ?? null,
      range: r.range ?? null,
      contentType: 'application/json',
      body: async () => (r.method === 'GET' ? '' : (r.body ?? '')),
      limits: DEFAULT_LIMITS,
      maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
    },
  };
}
