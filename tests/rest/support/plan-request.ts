import { isJsonObject, parseJsonBody } from '../../../src/rest/body.js';
import { ApiError } from '../../../src/rest/errors.js';
import {
  insertParts,
  planDelete,
  planInsert,
  planRead,
  planRpc,
  planUpdate,
  resolveRoutine,
  type Plan,
} from '../../../src/rest/plan.js';
import { parsePreferences } from '../../../src/rest/preferences.js';
import { parseQueryParams } from '../../../src/rest/query-params.js';
import { requestRange } from '../../../src/rest/range.js';
import { qualified, type SchemaCache } from '../../../src/rest/schema-cache.js';

/**
 * Request parts → plan without HTTP or a database, the way handler.ts chains parser and planner for each
 * method (query string, Prefer header, Range header, body text). Used by the renderer's unit and property tests.
 */
export interface RequestParts {
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

export function planRequest(cache: SchemaCache, r: RequestParts): Plan {
  const prefs = parsePreferences(r.prefer ?? null);
  const count = prefs.count !== undefined && prefs.count !== 'planned';
  const json = r.accept === 'text/csv' ? ('csv' as const) : ('array' as const);
  if (r.target.startsWith('rpc/')) {
    const name = r.target.slice(4);
    const known = new Set<string>(
      (cache.routines.get(qualified('public', name)) ?? []).flatMap((x) => x.args.map((a) => a.name)),
    );
    const viaPost = r.method === 'POST';
    const q = parseQueryParams(new URLSearchParams(r.search), viaPost ? () => false : (k) => known.has(k));
    const body = viaPost ? parseJsonBody(r.body?.trim() ? r.body : '{}', 64) : null;
    if (body && !isJsonObject(body.value)) throw new ApiError(400, 'PGRST102', 'Empty or invalid json');
    const argNames = body ? Object.keys(body.value as object) : [...q.args.keys()];
    const argsJson = body ? body.text : JSON.stringify(Object.fromEntries(q.args));
    const routine = resolveRoutine(cache, 'public', name, argNames, viaPost);
    const top = q.levels.get('')!;
    const range = requestRange(r.range ?? null, top.limit, top.offset);
    return planRpc(cache, 'public', routine, {
      argNames,
      argsJson,
      select: q.select,
      levels: q.levels,
      ...range,
      count,
      shape: json,
      stripNulls: false,
    });
  }
  const table = cache.tables.get(qualified('public', r.target));
  if (!table) throw new ApiError(404, 'PGRST205', 'no such table');
  const q = parseQueryParams(new URLSearchParams(r.search));
  const shape = prefs.return === 'minimal' || (r.method !== 'GET' && prefs.return === undefined) ? 'none' : json;
  if (r.method === 'GET') {
    const top = q.levels.get('')!;
    const range = requestRange(r.range ?? null, top.limit, top.offset);
    return planRead(cache, 'public', table, {
      select: q.select,
      levels: q.levels,
      ...range,
      count,
      shape: json,
      stripNulls: false,
    });
  }
  if (r.method === 'DELETE')
    return planDelete(cache, 'public', table, { select: q.select, levels: q.levels, shape, stripNulls: false });
  const body = parseJsonBody(r.body ?? '', 64);
  if (r.method === 'PATCH') {
    if (!isJsonObject(body.value)) throw new ApiError(400, 'PGRST102', 'Empty or invalid json');
    return planUpdate(cache, 'public', table, {
      select: q.select,
      levels: q.levels,
      shape,
      stripNulls: false,
      columns: Object.keys(body.value),
      body: { text: body.text, kind: 'object' },
    });
  }
  const { columns, body: text, onConflict } = insertParts(table, body, q, prefs);
  return planInsert(cache, 'public', table, {
    select: q.select,
    levels: q.levels,
    shape,
    stripNulls: false,
    columns,
    body: text,
    ...(onConflict ? { onConflict } : {}),
  });
}
