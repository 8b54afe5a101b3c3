import { runBatch } from '../db/batch.js';
import type { Database, QueryResult, Statement } from '../db/database.js';
import { ApiError, errorResponse, JSON_CONTENT_TYPE, singularityError, tableNotFound, toApiError } from './errors.js';
import { requestToken, verifyJwt, type JwtClaims } from './jwt.js';
import { appliedPreferences, parsePreferences, transactionEnd, type Preferences, type TxEnd } from './preferences.js';
import { parseQueryParams, type QueryParams, type SelectItem } from './query-params.js';
import { capRange, checkEmbedDepth, checkResponseSize, type RequestLimits } from './limits.js';
import { contentRange, readStatus, requestRange } from './range.js';
import type { RoutineInfo, SchemaCache, Table } from './schema-cache.js';
import { qualified } from './schema-cache.js';
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_JSON_DEPTH,
  invalidJson,
  isJsonObject,
  parseJsonBody,
  readBodyText,
  type JsonBody,
} from './body.js';
import {
  planDelete,
  insertParts,
  planInsert,
  planRead,
  planRpc,
  planUpdate,
  resolveRoutine,
  rpcKind,
  type BodyShape,
  type Plan,
} from './plan.js';
import { renderPlan, renderPlannedCount, renderPrelude, renderTimezone } from './render.js';
import { textResponse } from './response-text.js';
import type { PlanCache } from './plan-cache.js';

/** A GET/HEAD's plan, its rendered statement and what the response needs, remembered per URL (plan-cache.ts). */
export interface CachedRead {
  plan: Plan;
  statement: Readonly<Statement>;
  media: Media;
  range: { offset: number; limit?: number };
}

/**
 * The one request handler behind both transports (HTTP server and in-process fetch): web-standard Request in,
 * Response out. Order of work follows PostgREST: authenticate, negotiate schema and media type, parse and plan
 * against the schema cache (all before touching the database), then ONE transaction per request that first
 * impersonates the role and publishes the request (claims, method, path, headers) and then runs ONE statement.
 */
export interface HandlerConfig {
  db: Database;
  jwtKey: Uint8Array;
  jwtAudience?: string;
  schemas: string[];
  anonRole: string;
  allowedRoles: string[];
  statementTimeoutMs: number;
  /** Bounds on rows, embedding depth and response size (limits.ts). */
  limits: RequestLimits;
  /** URL path prefix of the API (Supabase: `/rest/v1`). */
  prefix: string;
  schemaCache: () => Promise<SchemaCache>;
  /** Largest request body read (bytes); more is a 413 and reading stops. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Deepest JSON nesting accepted in a body; deeper is a 400 PGRST102. Default 64. */
  maxJsonDepth?: number;
  /** PostgREST `db-tx-end` (default `commit-allow-override`, so supabase-js `.rollback()` works). */
  txEnd?: TxEnd;
  /** PostgREST `db-max-rows` as `count=estimated` uses it: exact counts up to it, the planner's estimate above. */
  estimatedCountThreshold?: number;
  /** Read plans remembered per URL and schema cache (plan-cache.ts); without it every read is planned anew. */
  plans?: PlanCache<CachedRead>;
}

interface Auth {
  role: string;
  claims: JwtClaims;
  /** PostgREST answers 42501 with 401 for the anonymous role and 403 for everyone else. */
  authenticated: boolean;
}

interface Outcome {
  n: number;
  body: string | null;
  total?: number;
  inserted?: number;
}

const DEFAULT_TX_END: TxEnd = 'commit-allow-override';

/** A path segment's %-escapes; a malformed one is the client's error (400), not the gateway's. */
function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ApiError(
      400,
      'PGRST100',
      'Invalid percent-encoding in the request path',
      `"${s}" is not a valid %-encoded UTF-8 path segment`,
    );
  }
}

export function createHandler(cfg: HandlerConfig): (request: Request) => Promise<Response> {
  return async function handle(request: Request): Promise<Response> {
    let auth: Auth | undefined;
    try {
      const url = new URL(request.url);
      if (!url.pathname.startsWith(cfg.prefix))
        throw new ApiError(404, 'PGRST125', 'Invalid path specified in request URL');
      const path = url.pathname.slice(cfg.prefix.length) || '/';
      auth = await authenticate(cfg, request.headers);
      const cache = await cfg.schemaCache();
      checkRole(auth, cfg, cache);
      const method = request.method.toUpperCase();
      const schema = negotiateSchema(cfg, request.headers, method);
      if (method === 'OPTIONS')
        return new Response(null, {
          status: 200,
          headers: { Allow: 'OPTIONS,GET,HEAD,POST,PATCH,DELETE', 'Access-Control-Allow-Origin': '*' },
        });
      const segments = path
        .split('/')
        .filter((s) => s !== '')
        .map(decodeSegment);
      const ctx: RequestCtx = {
        cfg,
        cache,
        schema,
        auth,
        request,
        url,
        method,
        path,
        prefs: parsePreferences(request.headers.get('prefer'), cfg.txEnd ?? DEFAULT_TX_END),
      };
      let res: Response;
      if (segments.length === 0) res = root(ctx);
      else if (segments.length === 2 && segments[0] === 'rpc') res = await rpc(ctx, segments[1]!);
      else if (segments.length === 1) res = await table(ctx, segments[0]!);
      else throw new ApiError(404, 'PGRST125', 'Invalid path specified in request URL');
      if (schema.viaProfile) res.headers.set('Content-Profile', schema.name);
      return res;
    } catch (e) {
      return errorResponse(toApiError(e, auth?.authenticated ?? false), request.method.toUpperCase());
    }
  };
}

// ---------------------------------------------------------------------------------------------- auth & negotiation

async function authenticate(cfg: HandlerConfig, headers: Headers): Promise<Auth> {
  const token = requestToken(headers);
  const claims =
    token === null ? {} : await verifyJwt(token, cfg.jwtKey, cfg.jwtAudience ? { audience: cfg.jwtAudience } : {});
  const raw = claims.role ?? cfg.anonRole;
  const role = typeof raw === 'string' ? raw : JSON.stringify(raw);
  return { role, claims: { ...claims, role }, authenticated: role !== cfg.anonRole };
}

/**
 * PostgREST's authenticator may only become roles granted to it; here `allowedRoles` is that grant. Like the
 * database would answer: an unknown role → 22023 (401, PostgREST issue #3601), a known but ungranted one → 42501.
 */
function checkRole(auth: Auth, cfg: HandlerConfig, cache: SchemaCache): void {
  if (cfg.allowedRoles.includes(auth.role) && cache.roles.has(auth.role)) return;
  if (!cache.roles.has(auth.role)) {
    throw new ApiError(401, '22023', `role "${auth.role}" does not exist`, null, null, {
      'WWW-Authenticate': 'Bearer',
    });
  }
  const status = auth.authenticated ? 403 : 401;
  throw new ApiError(
    status,
    '42501',
    `permission denied to set role "${auth.role}"`,
    null,
    null,
    status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {},
  );
}

function negotiateSchema(cfg: HandlerConfig, headers: Headers, method: string): { name: string; viaProfile: boolean } {
  const header = method === 'GET' || method === 'HEAD' ? 'accept-profile' : 'content-profile';
  const requested = headers.get(header);
  if (requested === null) return { name: cfg.schemas[0]!, viaProfile: false };
  if (!cfg.schemas.includes(requested)) {
    throw new ApiError(
      406,
      'PGRST106',
      `Invalid schema: ${requested}`,
      null,
      `Only the following schemas are exposed: ${cfg.schemas.join(', ')}`,
    );
  }
  return { name: requested, viaProfile: cfg.schemas.length > 1 };
}

interface Media {
  shape: 'array' | 'object' | 'csv';
  stripNulls: boolean;
  contentType: string;
}

function negotiateMedia(accept: string | null): Media {
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

// ---------------------------------------------------------------------------------------------- execution

interface RequestCtx {
  cfg: HandlerConfig;
  cache: SchemaCache;
  schema: { name: string; viaProfile: boolean };
  auth: Auth;
  request: Request;
  url: URL;
  method: string;
  path: string;
  prefs: Preferences;
}

/** The planner's row estimate from an `explain (format json)` result (PostgREST's `count=planned`). */
function plannedRows(r: QueryResult): number {
  const raw = (r.rows[0] as { 'QUERY PLAN': unknown })['QUERY PLAN'];
  const doc = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: { 'Plan Rows': number } }[];
  return Math.round(doc[0]!.Plan['Plan Rows']);
}

/** Whether the statement's answer carries a body (whose size is checked), or only counts. */
function hasBody(plan: Plan): boolean {
  if (plan.kind === 'call-scalar') return !plan.isVoid;
  return 'returning' in plan ? plan.returning.shape !== 'none' : plan.shape !== 'none';
}

/**
 * One request's transaction as ONE batch: begin, the role/claims prelude, the optional time zone probe, the
 * statement, the optional EXPLAIN for a planned/estimated count, and — whenever the answer cannot change it —
 * commit (or rollback for `tx=rollback`), all sent together: one database round trip. The end waits for the
 * answer (a second round trip) only where a check on the answer must undo the statement's writes: a singular
 * mutation touching ≠ 1 row, or a mutation's returned body over the size limit. A read-only transaction
 * (`transaction_read_only` is set by the prelude, and PostgreSQL refuses to lift it after the first query)
 * cannot write, so a check failing after its commit has nothing to undo. Any error from the database rolls
 * back. PostgREST's `count=estimated` planned figure is computed up front and used only above the threshold.
 */
async function run(
  ctx: RequestCtx,
  plan: Plan,
  readOnly: boolean,
  singular: boolean,
  /** `renderPlan(plan)` when already made (a remembered read). */
  rendered?: Readonly<Statement>,
): Promise<Outcome> {
  const { cfg, auth, request } = ctx;
  const original = plan;
  const counted = plan.kind === 'read' || plan.kind === 'call-scalar-set' ? plan : undefined;
  const mode = counted ? ctx.prefs.count : undefined;
  // A planned count needs no exact count from the statement; an estimated one needs it to pick.
  if (counted && mode === 'planned') plan = { ...counted, count: false };
  const rollback = transactionEnd(ctx.prefs, cfg.txEnd ?? DEFAULT_TX_END) === 'rollback';
  const prelude = renderPrelude({
    searchPath: [ctx.schema.name, ...['public', 'extensions'].filter((s) => s !== ctx.schema.name)],
    claims: JSON.stringify(auth.claims),
    method: ctx.method,
    path: ctx.path,
    headers: JSON.stringify(Object.fromEntries(request.headers)),
    statementTimeoutMs: cfg.statementTimeoutMs,
    readOnly,
    role: auth.role,
  });
  const statements: Statement[] = [prelude];
  const tzAt = ctx.prefs.timezone !== undefined ? statements.push(renderTimezone(ctx.prefs.timezone)) - 1 : -1;
  const stmtAt = statements.push(rendered && plan === original ? rendered : renderPlan(plan)) - 1;
  const explainAt =
    counted && (mode === 'planned' || (mode === 'estimated' && cfg.estimatedCountThreshold !== undefined))
      ? statements.push(renderPlannedCount(counted)) - 1
      : -1;

  const outcome = (results: QueryResult[]): Outcome => {
    const row = results[stmtAt]!.rows[0] as unknown as Outcome;
    // Thrown inside the transaction so a singular mutation touching ≠ 1 row is rolled back, as in PostgREST.
    if (singular && row.n !== 1) throw singularityError(row.n);
    checkResponseSize(row.body, cfg.limits.maxResponseBytes);
    let total = row.total;
    if (explainAt >= 0) {
      const limit = cfg.estimatedCountThreshold;
      if (mode === 'planned' || (limit !== undefined && row.total !== undefined && row.total > limit))
        total = plannedRows(results[explainAt]!);
    }
    return { ...row, ...(total !== undefined ? { total } : {}) };
  };
  const end: 'commit' | 'rollback' = rollback ? 'rollback' : 'commit';
  const decidedUpFront = rollback || readOnly || (!singular && !hasBody(plan));
  let out: Outcome | undefined;
  const results = await runBatch(
    cfg.db,
    statements,
    decidedUpFront
      ? end
      : (rs) => {
          out = outcome(rs);
          return end;
        },
  );
  // Not a zone PostgreSQL knows: not applied, so not echoed in Preference-Applied.
  if (tzAt >= 0 && results[tzAt]!.rows.length === 0) delete ctx.prefs.timezone;
  return out ?? outcome(results);
}

function respond(
  status: number,
  body: string | null,
  headers: Record<string, string | null>,
  method: string,
): Response {
  const h = new Headers();
  for (const [k, v] of Object.entries(headers)) if (v !== null) h.set(k, v);
  const empty = body === null || method === 'HEAD' || status === 204;
  return textResponse(empty ? null : body, { status, headers: h });
}

/** The JSON request body (bounded in size and depth); `emptyAs` is what an empty body means (RPC without arguments). */
async function readBody(ctx: RequestCtx, emptyAs?: string): Promise<JsonBody> {
  const type = (ctx.request.headers.get('content-type') ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== '')
    throw new ApiError(415, 'PGRST107', `None of these media types are available: ${type}`);
  const text = await readBodyText(ctx.request, ctx.cfg.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  return parseJsonBody(
    emptyAs !== undefined && text.trim() === '' ? emptyAs : text,
    ctx.cfg.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH,
  );
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

// ---------------------------------------------------------------------------------------------- routes

function root(ctx: RequestCtx): Response {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD')
    throw new ApiError(405, 'PGRST117', `Unsupported HTTP method: ${ctx.method}`);
  const paths: Record<string, object> = { '/': {} };
  for (const t of ctx.cache.tables.values()) if (t.schema === ctx.schema.name) paths[`/${t.name}`] = {};
  for (const [key] of ctx.cache.routines)
    if (key.startsWith(`${ctx.schema.name}.`)) paths[`/rpc/${key.slice(ctx.schema.name.length + 1)}`] = {};
  const doc = {
    swagger: '2.0',
    info: { title: 'ShipSpeak gateway (PostgREST-compatible subset)', version: '0' },
    basePath: '/',
    paths,
  };
  return respond(200, JSON.stringify(doc), { 'Content-Type': 'application/openapi+json; charset=utf-8' }, ctx.method);
}

function findTable(ctx: RequestCtx, name: string): Table {
  const t = ctx.cache.tables.get(qualified(ctx.schema.name, name));
  if (!t)
    throw tableNotFound(
      ctx.schema.name,
      name,
      suggest(
        name,
        [...ctx.cache.tables.values()].filter((x) => x.schema === ctx.schema.name).map((x) => x.name),
        ctx.schema.name,
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
 * A GET or HEAD on a table: planned once per distinct request (plan-cache.ts). The key holds every input the
 * plan is made of — schema, table, method, the query string, Accept, Range and whether a count is asked for —
 * and nothing else reaches the planner (the limits are the gateway's own); a request that fails to plan is
 * never remembered, so it fails the same way every time.
 */
function planReadRequest(ctx: RequestCtx, t: Table): CachedRead {
  const { method, request } = ctx;
  const accept = request.headers.get('accept');
  const rangeHeader = request.headers.get('range');
  const count = ctx.prefs.count !== undefined;
  const key = JSON.stringify([ctx.schema.name, t.name, method, ctx.url.search, accept, rangeHeader, count]);
  const hit = ctx.cfg.plans?.get(ctx.cache, key);
  if (hit) return hit;
  const q = parseQueryParams(ctx.url.searchParams);
  checkEmbedDepth(q.select, ctx.cfg.limits.maxEmbedDepth);
  const media = negotiateMedia(accept);
  const top = q.levels.get('')!;
  const range = capRange(requestRange(rangeHeader, top.limit, top.offset), ctx.cfg.limits.maxRows);
  const shape: BodyShape = method === 'HEAD' ? 'none' : media.shape;
  const plan = planRead(ctx.cache, ctx.schema.name, t, {
    select: q.select,
    levels: q.levels,
    ...range,
    count,
    shape,
    stripNulls: media.stripNulls,
  });
  const read: CachedRead = { plan, statement: renderPlan(plan), media, range };
  ctx.cfg.plans?.set(ctx.cache, key, read);
  return read;
}

async function table(ctx: RequestCtx, name: string): Promise<Response> {
  const t = findTable(ctx, name);
  const { method, prefs } = ctx;
  const count = prefs.count !== undefined;
  if (method === 'GET' || method === 'HEAD') {
    const { plan, statement, media, range } = planReadRequest(ctx, t);
    const out = await run(ctx, plan, true, media.shape === 'object', statement);
    return readResponse(ctx, out, range.offset, count, media, ['count', 'tx', 'timezone']);
  }
  const q = parseQueryParams(ctx.url.searchParams);
  checkEmbedDepth(q.select, ctx.cfg.limits.maxEmbedDepth);
  const media = negotiateMedia(ctx.request.headers.get('accept'));
  const singular = media.shape === 'object';
  if (method === 'POST') return insert(ctx, t, q, media);
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
      const body = await readBody(ctx);
      if (!isJsonObject(body.value)) throw invalidJson();
      plan = planUpdate(ctx.cache, ctx.schema.name, t, {
        ...o,
        columns: Object.keys(body.value),
        body: { text: body.text, kind: 'object' },
      });
    } else plan = planDelete(ctx.cache, ctx.schema.name, t, o);
    const out = await run(ctx, plan, false, singular);
    const cr =
      method === 'PATCH'
        ? contentRange(0, out.n - 1, count ? out.n : undefined)
        : contentRange(1, 0, count ? out.n : undefined);
    return respond(
      representation ? 200 : 204,
      representation ? (out.body ?? (singular ? 'null' : '[]')) : null,
      {
        'Content-Type': representation ? media.contentType : null,
        'Content-Range': cr,
        'Preference-Applied': appliedPreferences(prefs, ['return', 'count', 'tx', 'timezone']),
      },
      method,
    );
  }
  throw new ApiError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
}

function readResponse(
  ctx: RequestCtx,
  out: Outcome,
  offset: number,
  count: boolean,
  media: Media,
  applied: (keyof Preferences)[],
): Response {
  const total = count ? out.total : undefined;
  const { status, contentRange: cr } = readStatus(offset, out.n, total);
  if (status === 416) {
    const err = new ApiError(
      416,
      'PGRST103',
      'Requested range not satisfiable',
      `An offset of ${offset} was requested, but there are only ${total} rows.`,
      null,
      { 'Content-Range': cr },
    );
    return errorResponse(err, ctx.method);
  }
  return respond(
    status,
    out.body ?? (media.shape === 'object' ? 'null' : '[]'),
    {
      'Content-Type': media.contentType,
      'Content-Range': cr,
      'Preference-Applied': appliedPreferences(ctx.prefs, applied),
    },
    ctx.method,
  );
}

async function insert(ctx: RequestCtx, t: Table, q: QueryParams, media: Media): Promise<Response> {
  const { prefs } = ctx;
  const { rows, columns, body, onConflict } = insertParts(t, await readBody(ctx), q, prefs);
  const ret = prefs.return ?? 'minimal';
  // headers-only needs the primary key of the new row for Location; representation the requested select.
  const pkSelect: SelectItem[] = t.pk.map((c) => ({ kind: 'column', field: { name: c, json: [] } }));
  const select = ret === 'headers-only' ? pkSelect : q.select;
  const shape: BodyShape =
    ret === 'minimal' ? 'none' : ret === 'headers-only' ? (t.pk.length ? 'array' : 'none') : media.shape;
  const levels = ret === 'headers-only' ? new Map([['', { conditions: [], order: [] }]]) : q.levels;
  const singular = media.shape === 'object';
  if (rows === 0) {
    return respond(
      201,
      ret === 'representation' ? (singular ? 'null' : '[]') : null,
      {
        'Content-Type': ret === 'representation' ? media.contentType : null,
        'Content-Range': contentRange(1, 0, prefs.count ? 0 : undefined),
      },
      ctx.method,
    );
  }
  const plan = planInsert(ctx.cache, ctx.schema.name, t, {
    select,
    levels,
    shape,
    stripNulls: media.stripNulls,
    columns,
    body,
    ...(onConflict ? { onConflict } : {}),
  });
  const out = await run(ctx, plan, false, singular);
  let location: string | null = null;
  if (ret === 'headers-only' && out.body && t.pk.length) {
    const first = JSON.parse(out.body) as Record<string, unknown>[] | Record<string, unknown>;
    const row = Array.isArray(first) ? first[0] : first;
    if (row)
      location = `/${t.name}?${t.pk.map((c) => `${encodeURIComponent(c)}=eq.${encodeURIComponent(String(row[c]))}`).join('&')}`;
  }
  const status = onConflict?.action === 'merge' && out.inserted === 0 ? 200 : 201;
  return respond(
    status,
    ret === 'representation' ? (out.body ?? (singular ? 'null' : '[]')) : null,
    {
      'Content-Type': ret === 'representation' ? media.contentType : null,
      Location: location,
      'Content-Range': contentRange(1, 0, prefs.count ? out.n : undefined),
      'Preference-Applied': appliedPreferences(
        prefs,
        onConflict
          ? ['resolution', 'missing', 'return', 'count', 'tx', 'timezone']
          : ['missing', 'return', 'count', 'tx', 'timezone'],
      ),
    },
    ctx.method,
  );
}

async function rpc(ctx: RequestCtx, name: string): Promise<Response> {
  const { method, prefs } = ctx;
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST')
    throw new ApiError(405, 'PGRST101', `Cannot use the ${method} method on RPC`);
  const overloads = ctx.cache.routines.get(qualified(ctx.schema.name, name)) ?? [];
  const known = new Set<string>(overloads.flatMap((r) => r.args.map((a) => a.name)));
  const viaPost = method === 'POST';
  const q = parseQueryParams(ctx.url.searchParams, viaPost ? () => false : (k) => known.has(k));
  checkEmbedDepth(q.select, ctx.cfg.limits.maxEmbedDepth);
  let argNames: string[];
  let argsJson: string;
  let routine: RoutineInfo;
  let rawArg: string | undefined;
  const contentType = (ctx.request.headers.get('content-type') ?? 'application/json')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  const unnamed = viaPost ? singleUnnamedParam(overloads, contentType) : undefined;
  if (unnamed && contentType === 'text/plain') {
    // PostgREST: a text/plain body is the single unnamed text argument, as sent.
    rawArg = await readBodyText(ctx.request, ctx.cfg.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
    [routine, argNames, argsJson] = [unnamed, [], '{}'];
  } else if (viaPost) {
    // The body goes to PostgreSQL as sent (json_to_record); JavaScript only reads its keys.
    const body = await readBody(ctx, '{}');
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
      routine = resolveRoutine(ctx.cache, ctx.schema.name, name, argNames, viaPost);
    }
  } else {
    argNames = [...q.args.keys()];
    argsJson = JSON.stringify(Object.fromEntries(q.args));
    routine = resolveRoutine(ctx.cache, ctx.schema.name, name, argNames, viaPost);
  }
  const media = negotiateMedia(ctx.request.headers.get('accept'));
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
  const requested = requestRange(viaPost ? null : ctx.request.headers.get('range'), top.limit, top.offset);
  const range = kind === 'row-set' || kind === 'scalar-set' ? capRange(requested, ctx.cfg.limits.maxRows) : requested;
  const count = prefs.count !== undefined;
  const plan = planRpc(ctx.cache, ctx.schema.name, routine, {
    argNames,
    argsJson,
    ...(rawArg !== undefined ? { rawArg } : {}),
    select: q.select,
    levels: q.levels,
    ...range,
    count,
    shape: method === 'HEAD' ? 'none' : media.shape,
    stripNulls: media.stripNulls,
  });
  // GET is always read-only; POST too when the function promises not to write (STABLE/IMMUTABLE).
  const readOnly = !viaPost || routine.volatility !== 'v';
  const singular = media.shape === 'object' && (kind === 'row-set' || kind === 'scalar-set');
  const out = await run(ctx, plan, readOnly, singular);
  if (kind === 'void')
    return respond(204, null, { 'Preference-Applied': appliedPreferences(prefs, ['tx', 'timezone']) }, method);
  if (kind === 'scalar' || kind === 'row') {
    return respond(
      200,
      out.body ?? 'null',
      {
        'Content-Type': JSON_CONTENT_TYPE,
        'Content-Range': contentRange(0, 0, count ? 1 : undefined),
        'Preference-Applied': appliedPreferences(prefs, ['tx', 'timezone']),
      },
      method,
    );
  }
  return readResponse(ctx, out, range.offset, count, media, ['count', 'tx', 'timezone']);
}
