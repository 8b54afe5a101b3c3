import type { Database } from '../db/database.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH } from './body.js';
import { fetchAdapter } from './fetch-adapter.js';
import { createHandler, type CachedRead } from './handler.js';
import { DEFAULT_PLANS_PER_SCHEMA_CACHE, PlanCache } from './plan-cache.js';
import { DEFAULT_LIMITS, validateLimits, type RequestLimits } from './limits.js';
import { secretKey } from './jwt.js';
import { buildSchemaCache, loadSchemaCache, type RawCatalog, type SchemaCache } from './schema-cache.js';
import { listen, type RunningServer } from './http-server.js';
import { TX_END_SETTINGS, type TxEnd } from './preferences.js';

/**
 * A small PostgREST-compatible gateway over a `Database`, so unmodified supabase-js can run our suites
 * against PGlite or plain PostgreSQL. See handler.ts for the request life cycle.
 */
export interface GatewayOptions {
  db: Database;
  /** HS256 secret the JWTs are signed with; at least 32 characters, as PostgREST requires. */
  jwtSecret: string;
  /** Exposed schemas (PostgREST `db-schemas`); the first is the default. */
  schemas?: string[];
  anonRole?: string;
  /** Roles a JWT may ask for (the roles granted to PostgREST's `authenticator`). */
  allowedRoles?: string[];
  statementTimeoutMs?: number;
  /**
   * PostgREST `db-max-rows`: the most rows one read returns (default 1000, as Supabase sets it). null =
   * unbounded, only for test environments whose assertions need every row.
   */
  maxRows?: number | null;
  /** Deepest resource embedding allowed in `select=` (default 4). */
  maxEmbedDepth?: number;
  /** Largest response body in bytes (default 32 MiB). */
  maxResponseBytes?: number;
  /** When set, JWTs carrying an `aud` claim must name it (PostgREST `jwt-aud`). */
  jwtAudience?: string;
  /** Largest request body accepted, in bytes (default 1 MiB); larger is 413 PGRST413. */
  maxBodyBytes?: number;
  /** Deepest JSON nesting accepted in a body (default 64); deeper is 400 PGRST102. */
  maxJsonDepth?: number;
  /** PostgREST `db-tx-end` (default `commit-allow-override`: commits unless `Prefer: tx=rollback`). */
  txEnd?: TxEnd;
  /** PostgREST `db-max-rows` as `Prefer: count=estimated` reads it (exact up to it, planner estimate above). */
  estimatedCountThreshold?: number;
  /**
   * The catalog rows of `schemas` as read from this very database (serve's verified snapshot cache): the first
   * schema cache is built from them instead of querying the catalog; reloadSchemaCache always queries.
   */
  catalog?: RawCatalog;
  /** Read plans remembered per URL (plan-cache.ts; default 500, 0 = plan every request anew). */
  planCacheSize?: number;
}

export interface Gateway {
  handle(request: Request): Promise<Response>;
  /** In-process transport: pass as supabase-js `global.fetch`. */
  fetch: typeof fetch;
  /** HTTP transport on 127.0.0.1 (port 0 = any free port). */
  listen(port?: number): Promise<RunningServer>;
  /** Re-reads tables, columns, foreign keys, functions and roles (PostgREST `NOTIFY pgrst, 'reload schema'`). */
  reloadSchemaCache(): Promise<void>;
  /** How many read plans are remembered for the current schema cache. */
  rememberedPlans(): Promise<number>;
}

export function createGateway(options: GatewayOptions): Gateway {
  const {
    db,
    jwtSecret,
    schemas = ['public'],
    anonRole = 'anon',
    allowedRoles = ['anon', 'authenticated', 'service_role'],
    statementTimeoutMs = 8000,
    maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
    maxJsonDepth = DEFAULT_MAX_JSON_DEPTH,
  } = options;
  const jwtKey = secretKey(jwtSecret);
  const limits: RequestLimits = {
    maxRows: options.maxRows === undefined ? DEFAULT_LIMITS.maxRows : options.maxRows,
    maxEmbedDepth: options.maxEmbedDepth ?? DEFAULT_LIMITS.maxEmbedDepth,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_LIMITS.maxResponseBytes,
  };
  validateLimits(limits);
  if (schemas.length === 0) throw new Error('createGateway: at least one schema must be exposed');
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 0)
    throw new Error('createGateway: statementTimeoutMs must be a non-negative integer');
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1)
    throw new Error('createGateway: maxBodyBytes must be a positive integer');
  if (!Number.isInteger(maxJsonDepth) || maxJsonDepth < 1)
    throw new Error('createGateway: maxJsonDepth must be a positive integer');
  if (options.txEnd !== undefined && !TX_END_SETTINGS.includes(options.txEnd))
    throw new Error(`createGateway: txEnd must be one of ${TX_END_SETTINGS.join(', ')}`);
  const threshold = options.estimatedCountThreshold;
  if (threshold !== undefined && (!Number.isSafeInteger(threshold) || threshold < 0))
    throw new Error('createGateway: estimatedCountThreshold must be a non-negative integer');
  if (options.catalog && options.catalog.schemas.join('\n') !== schemas.join('\n'))
    throw new Error('createGateway: the catalog given describes other schemas than those exposed');
  let cache: Promise<SchemaCache> | undefined = options.catalog
    ? Promise.resolve(buildSchemaCache(options.catalog))
    : undefined;
  const schemaCache = () => {
    cache ??= loadSchemaCache(db, schemas).catch((e: unknown) => {
      cache = undefined;
      throw e;
    });
    return cache;
  };
  const plans = new PlanCache<CachedRead>(options.planCacheSize ?? DEFAULT_PLANS_PER_SCHEMA_CACHE);
  const handle = createHandler({
    plans,
    db,
    jwtKey,
    ...(options.jwtAudience ? { jwtAudience: options.jwtAudience } : {}),
    schemas,
    anonRole,
    allowedRoles,
    statementTimeoutMs,
    limits,
    prefix: '/rest/v1',
    schemaCache,
    maxBodyBytes,
    maxJsonDepth,
    ...(options.txEnd !== undefined ? { txEnd: options.txEnd } : {}),
    ...(threshold !== undefined ? { estimatedCountThreshold: threshold } : {}),
  });
  return {
    handle,
    fetch: fetchAdapter(handle),
    listen: (port = 0) => listen(handle, port, { maxBodyBytes }),
    async reloadSchemaCache() {
      cache = undefined;
      await schemaCache();
    },
    rememberedPlans: async () => plans.size(await schemaCache()),
  };
}

export type { RunningServer } from './http-server.js';
