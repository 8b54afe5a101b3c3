import { invalidJson, isJsonObject, parseJsonBody, type JsonBody } from './body.js';
import { ApiError, tableNotFound } from './errors.js';
import { capRange, checkEmbedDepth, type RequestLimits } from './limits.js';
import { negotiateMedia, type Media } from './media.js';
import {
  insertParts,
  planDelete,
  planInsert,
  planRead,
  planRpc,
  planUpdate,
  resolveRoutine,
  rpcKind,
  type BodyShape,
  type InsertRequest,
  type Plan,
  type RpcKind,
} from './plan.js';
import type { Preferences } from './preferences.js';
import { parseQueryParams, type SelectItem } from './query-params.js';
import { requestRange, type RowRange } from './range.js';
import { qualified, type RoutineInfo, type SchemaCache, type Table } from './schema-cache.js';

/**
 * Request parts → plan: how the gateway chains the query-string parser, the Prefer and Range headers, media
 * negotiation, the body and the planner for each route (table read, table write, RPC). The one home of that
 * chaining: handler.ts calls it for every request, and the renderer's unit and property tests call it too, so
 * what they prove is what the gateway plans. No HTTP and no database here; every refusal is an ApiError thrown
 * before any SQL exists, in the order PostgREST checks (query string, embedding depth, media type, body).
 */
export interface RequestParts {
  /** Upper-case HTTP method. */
  method: string;
  /** The negotiated schema (Accept-Profile / Content-Profile). */
  schema: string;
  search: URLSearchParams;
  prefs: Preferences;
  /** Raw header values (null when absent). */
  accept: string | null;
  range: string | null;
  contentType: string | null;
  /**
   * The body text, read only when a plan needs it — after the query string and headers passed — so a request
   * refused for its URL never has its body read. The caller bounds its size (handler: readBodyText).
   */
  body: () => Promise<string>;
  /** maxRows and maxEmbedDepth are used here; maxResponseBytes when the answer comes back. */
  limits: RequestLimits;
  maxJsonDepth: number;
}

/** A table read (GET/HEAD): the plan and what the response needs. */
export interface PlannedRead {
  route: 'read';
  plan: Plan;
  media: Media;
  range: RowRange;
  /** The client asked for one object: ≠ 1 row is an error (PGRST116). */
  singular: boolean;
}

/** PATCH or DELETE on a table. */
export interface PlannedChange {
  route: 'change';
  plan: Plan;
  media: Media;
  singular: boolean;
  /** `Prefer: return=representation`: the changed rows are the body. */
  representation: boolean;
}

/** POST on a table. */
export interface PlannedInsert {
  route: 'insert';
  /** null for an empty array body: nothing to insert, no statement (PostgREST answers 201 without a query). */
  plan: Plan | null;
  media: Media;
  singular: boolean;
  ret: NonNullable<Preferences['return']>;
  onConflict?: InsertRequest['onConflict'];
}

export interface PlannedRpc {
  route: 'rpc';
  plan: Plan;
  media: Media;
  singular: boolean;
  kind: RpcKind;
  range: RowRange;
  /** GET is always read-only; POST too when the function promises not to write (STABLE/IMMUTABLE). */
  readOnly: boolean;
}

export type PlannedRequest = PlannedRead | PlannedChange | PlannedInsert | PlannedRpc;

/** What a request addresses below the API prefix: `/<table>` or `/rpc/<function>`. */
export type RequestTarget = { table: string } | { rpc: string };

/** Every route in one call (the tests' entry); handler.ts calls the per-route functions below directly. */
export function planRequest(cache: SchemaCache, target: RequestTarget, parts: RequestParts): Promise<PlannedRequest> {
  if ('rpc' in target) return planRpcRequest(cache, target.rpc, parts);
  const t = findTable(cache, parts.schema, target.table);
  if (parts.method === 'GET' || parts.method === 'HEAD') return Promise.resolve(planTableRead(cache, t, parts));
  return planTableWrite(cache, t, parts);
}

export function findTable(cache: SchemaCache, schema: string, name: string): Table {
  const t = cache.tables.get(qualified(schema, name));
  if (!t)
    throw tableNotFound(
      schema,
      name,
      suggest(
        name,
        [...cache.tables.values()].filter((x) => x.schema === schema).map((x) => x.name),
        schema,
      ),
    );
  return t;
}

/** "Perhaps you meant …" for a close table name (PostgREST uses a fuzzy match, ≥ 0.75 similarity). */
function suggest(name: string, candidates: string[], schema: string): string | null {
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = d[0]!;
      d[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const tmp = d[j]!;
        d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = tmp;
      }
    }
    return d[b.length]!;
  };
  let best: string | null = null;
  let bestScore = 0.75;
  for (const c of candidates) {
    const score = 1 - dist(name, c) / Math.max(name.length, c.length);
    if (score >= bestScore) [best, bestScore] = [c, score];
  }
  return best ? `Perhaps you meant the table '${schema}.${best}'` : null;
}

/**
 * A GET or HEAD on a table. Synchronous and made only of the query string, Accept, Range, whether a count is
 * asked for and the gateway's own limits, so handler.ts can remember the result per URL (plan-cache.ts).
 */
export function planTableRead(cache: SchemaCache, t: Table, parts: RequestParts): PlannedRead {
  const q = parseQueryParams(parts.search);
  checkEmbedDepth(q.select, parts.limits.maxEmbedDepth);
  const media = negotiateMedia(parts.accept);
  const top = q.levels.get('')!;
  const range = capRange(requestRange(parts.range, top.limit, top.offset), parts.limits.maxRows);
  const shape: BodyShape = parts.method === 'HEAD' ? 'none' : media.shape;
  const plan = planRead(cache, parts.schema, t, {
    select: q.select,
    levels: q.levels,
    ...range,
    count: parts.prefs.count !== undefined,
    shape,
    stripNulls: media.stripNulls,
  });
  return { route: 'read', plan, media, range, singular: media.shape === 'object' };
}

/** POST, PATCH or DELETE on a table (any other method is a 405, after the URL and Accept are checked). */
export async function planTableWrite(
  cache: SchemaCache,
  t: Table,
  parts: RequestParts,
): Promise<PlannedInsert | PlannedChange> {
  const { method, prefs } = parts;
  const q = parseQueryParams(parts.search);
  checkEmbedDepth(q.select, parts.limits.maxEmbedDepth);
  const media = negotiateMedia(parts.accept);
  const singular = media.shape === 'object';
  if (method === 'POST') {
    const { rows, columns, body, onConflict } = insertParts(t, await readJson(parts), q, prefs);
    const ret = prefs.return ?? 'minimal';
    // headers-only needs the primary key of the new row for Location; representation the requested select.
    const pkSelect: SelectItem[] = t.pk.map((c) => ({ kind: 'column', field: { name: c, json: [] } }));
    const select = ret === 'headers-only' ? pkSelect : q.select;
    const shape: BodyShape =
      ret === 'minimal' ? 'none' : ret === 'headers-only' ? (t.pk.length ? 'array' : 'none') : media.shape;
    const levels = ret === 'headers-only' ? new Map([['', { conditions: [], order: [] }]]) : q.levels;
    const planned = { route: 'insert' as const, media, singular, ret, ...(onConflict ? { onConflict } : {}) };
    if (rows === 0) return { ...planned, plan: null };
    const plan = planInsert(cache, parts.schema, t, {
      select,
      levels,
      shape,
      stripNulls: media.stripNulls,
      columns,
      body,
      ...(onConflict ? { onConflict } : {}),
    });
    return { ...planned, plan };
  }
  if (method === 'PATCH' || method === 'DELETE') {
    const top = q.levels.get('')!;
    if (top.limit !== undefined || top.offset !== undefined || top.order.length > 0) {
      // PostgREST can limit an update/delete; this gateway cannot, and must not silently touch more rows.
      throw new ApiError(
        400,
        'PGRST127',
        'Feature not implemented',
        `limit, offset and order on ${method} are not supported by this gateway`,
      );
    }
    const representation = prefs.return === 'representation';
    const o = {
      select: q.select,
      levels: q.levels,
      shape: representation ? media.shape : ('none' as BodyShape),
      stripNulls: media.stripNulls,
    };
    let plan: Plan;
    if (method === 'PATCH') {
      const body = await readJson(parts);
      if (!isJsonObject(body.value)) throw invalidJson();
      plan = planUpdate(cache, parts.schema, t, {
        ...o,
        columns: Object.keys(body.value),
        body: { text: body.text, kind: 'object' },
      });
    } else plan = planDelete(cache, parts.schema, t, o);
    return { route: 'change', plan, media, singular, representation };
  }
  throw new ApiError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
}

/** GET, HEAD or POST on `/rpc/<name>`. */
export async function planRpcRequest(cache: SchemaCache, name: string, parts: RequestParts): Promise<PlannedRpc> {
  const { method, prefs } = parts;
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST')
    throw new ApiError(405, 'PGRST101', `Cannot use the ${method} method on RPC`);
  const overloads = cache.routines.get(qualified(parts.schema, name)) ?? [];
  const known = new Set<string>(overloads.flatMap((r) => r.args.map((a) => a.name)));
  const viaPost = method === 'POST';
  const q = parseQueryParams(parts.search, viaPost ? () => false : (k) => known.has(k));
  checkEmbedDepth(q.select, parts.limits.maxEmbedDepth);
  let argNames: string[];
  let argsJson: string;
  let routine: RoutineInfo;
  let rawArg: string | undefined;
  const contentType = bodyType(parts);
  const unnamed = viaPost ? singleUnnamedParam(overloads, contentType) : undefined;
  if (unnamed && contentType === 'text/plain') {
    // PostgREST: a text/plain body is the single unnamed text argument, as sent.
    rawArg = await parts.body();
    [routine, argNames, argsJson] = [unnamed, [], '{}'];
  } else if (viaPost) {
    // The body goes to PostgreSQL as sent (json_to_record); JavaScript only reads its keys.
    const body = await readJson(parts, '{}');
    const keys = isJsonObject(body.value) ? Object.keys(body.value) : null;
    const named =
      keys &&
      overloads.some(
        (r) =>
          r.args.length > 0 &&
          keys.every((k) => r.args.some((a) => a.name === k)) &&
          r.args.every((a) => a.hasDefault || keys.includes(a.name)),
      );
    if (unnamed && !named) {
      // A function with one unnamed json/jsonb parameter takes the whole body (any JSON value), as PostgREST.
      rawArg = body.text;
      [routine, argNames, argsJson] = [unnamed, [], '{}'];
    } else {
      if (!keys) throw invalidJson();
      argNames = keys;
      argsJson = body.text;
      routine = resolveRoutine(cache, parts.schema, name, argNames, viaPost);
    }
  } else {
    argNames = [...q.args.keys()];
    argsJson = JSON.stringify(Object.fromEntries(q.args));
    routine = resolveRoutine(cache, parts.schema, name, argNames, viaPost);
  }
  const media = negotiateMedia(parts.accept);
  if (media.shape === 'csv' && rpcKind(routine) !== 'row' && rpcKind(routine) !== 'row-set') {
    // CSV needs named columns; a scalar or void function has none here.
    throw new ApiError(
      406,
      'PGRST107',
      'None of these media types are available: text/csv',
      `${name} does not return rows with named columns`,
    );
  }
  const top = q.levels.get('')!;
  const kind = rpcKind(routine);
  const requested = requestRange(viaPost ? null : parts.range, top.limit, top.offset);
  const range = kind === 'row-set' || kind === 'scalar-set' ? capRange(requested, parts.limits.maxRows) : requested;
  const plan = planRpc(cache, parts.schema, routine, {
    argNames,
    argsJson,
    ...(rawArg !== undefined ? { rawArg } : {}),
    select: q.select,
    levels: q.levels,
    ...range,
    count: prefs.count !== undefined,
    shape: method === 'HEAD' ? 'none' : media.shape,
    stripNulls: media.stripNulls,
  });
  return {
    route: 'rpc',
    plan,
    media,
    kind,
    range,
    readOnly: !viaPost || routine.volatility !== 'v',
    singular: media.shape === 'object' && (kind === 'row-set' || kind === 'scalar-set'),
  };
}

/** The body's media type without parameters; an absent Content-Type means JSON, as in PostgREST. */
function bodyType(parts: RequestParts): string {
  return (parts.contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
}

/** The JSON request body (bounded in depth); `emptyAs` is what an empty body means (RPC without arguments). */
async function readJson(parts: RequestParts, emptyAs?: string): Promise<JsonBody> {
  const type = bodyType(parts);
  if (type !== 'application/json' && type !== '')
    throw new ApiError(415, 'PGRST107', `None of these media types are available: ${type}`);
  const text = await parts.body();
  return parseJsonBody(emptyAs !== undefined && text.trim() === '' ? emptyAs : text, parts.maxJsonDepth);
}

/** The overload with one unnamed parameter a body of this media type can fill (json/jsonb for JSON, text for text/plain). */
function singleUnnamedParam(overloads: RoutineInfo[], contentType: string): RoutineInfo | undefined {
  const types =
    contentType === 'text/plain'
      ? ['text']
      : contentType === 'application/json' || contentType === ''
        ? ['json', 'jsonb']
        : [];
  return overloads.find(
    (r) =>
      r.args.length === 1 &&
      r.args[0]!.name === '' &&
      r.args[0]!.typeRef.schema === 'pg_catalog' &&
      types.includes(r.args[0]!.typeRef.name),
  );
}
