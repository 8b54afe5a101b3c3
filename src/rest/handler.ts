import { runBatch } from '../db/batch.js';
import type { Database, QueryResult, Statement } from '../db/database.js';
import { ApiError, errorResponse, JSON_CONTENT_TYPE, singularityError, toApiError } from './errors.js';
import { requestToken, verifyJwt, type JwtClaims } from './jwt.js';
import { appliedPreferences, parsePreferences, transactionEnd, type Preferences, type TxEnd } from './preferences.js';
import { checkResponseSize, type RequestLimits } from './limits.js';
import { contentRange, readStatus } from './range.js';
import type { SchemaCache, Table } from './schema-cache.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH, readBodyText } from './body.js';
import type { Plan } from './plan.js';
import type { Media } from './media.js';
import {
  findTable,
  planRpcRequest,
  planTableRead,
  planTableWrite,
  type PlannedInsert,
  type RequestParts,
} from './plan-request.js';
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

/** What planning reads from the request (plan-request.ts); the body is read, bounded, only if a plan needs it. */
function requestParts(ctx: RequestCtx): RequestParts {
  const { request, cfg } = ctx;
  return {
    method: ctx.method,
    schema: ctx.schema.name,
    search: ctx.url.searchParams,
    prefs: ctx.prefs,
    accept: request.headers.get('accept'),
    range: request.headers.get('range'),
    contentType: request.headers.get('content-type'),
    body: () => readBodyText(request, cfg.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
    limits: cfg.limits,
    maxJsonDepth: cfg.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH,
  };
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
  const { plan, media, range } = planTableRead(ctx.cache, t, requestParts(ctx));
  const read: CachedRead = { plan, statement: renderPlan(plan), media, range };
  ctx.cfg.plans?.set(ctx.cache, key, read);
  return read;
}

async function table(ctx: RequestCtx, name: string): Promise<Response> {
  const t = findTable(ctx.cache, ctx.schema.name, name);
  const { method, prefs } = ctx;
  const count = prefs.count !== undefined;
  if (method === 'GET' || method === 'HEAD') {
    const { plan, statement, media, range } = planReadRequest(ctx, t);
    const out = await run(ctx, plan, true, media.shape === 'object', statement);
    return readResponse(ctx, out, range.offset, count, media, ['count', 'tx', 'timezone']);
  }
  const planned = await planTableWrite(ctx.cache, t, requestParts(ctx));
  if (planned.route === 'insert') return insert(ctx, t, planned);
  const { plan, media, singular, representation } = planned;
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

async function insert(ctx: RequestCtx, t: Table, planned: PlannedInsert): Promise<Response> {
  const { prefs } = ctx;
  const { plan, media, singular, ret, onConflict } = planned;
  if (plan === null) {
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
  const { plan, media, kind, range, readOnly, singular } = await planRpcRequest(ctx.cache, name, requestParts(ctx));
  const count = prefs.count !== undefined;
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
