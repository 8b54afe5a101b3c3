/**
 * The hot-query benchmark: every request of the catalogue (tests/perf/queries.json) goes once per sampled
 * user through the real gateway to capture its SQL (src/bench/capture.ts), then that SQL is timed as the
 * signed-in user (role authenticated: RLS on) and as service_role (BYPASSRLS) with identical claims,
 * interleaved in the same loop (alternating which goes first) over many different users — so the ratio is
 * measured side by side, under the same machine load. Also: EXPLAIN (ANALYZE, BUFFERS) for the heaviest
 * sampled user, sequential scans on large tables, and statements per gateway request from
 * pg_stat_statements (the N+1 check).
 */
import { readFileSync } from 'node:fs';
import { LOCAL_JWT_SECRET } from '../harness/environment.js';
import { mintUserToken } from '../auth/tokens.js';
import type { Database } from '../db/database.js';
import { createGateway } from '../rest/index.js';
import {
  captureRequest,
  explainCaptured,
  recordingDatabase,
  timeCaptured,
  type Timing,
  withRole,
  type CapturedStatement,
  type ExplainResult,
} from './capture.js';
import { summarise, type Summary } from '../harness/stats.js';

export type BenchUserKind = 'member' | 'uploader' | 'admin';

export interface CatalogueQuery {
  id: string;
  screen: string;
  supabase_js: string;
  user: BenchUserKind;
  method: 'GET' | 'POST';
  path: string;
  query?: string;
  accept?: string;
  prefer?: string;
  body?: unknown;
  /** false: measured for the record, outside the hot-path targets. Default true. */
  hot?: boolean;
}

const USER_KINDS: readonly BenchUserKind[] = ['member', 'uploader', 'admin'];

/** Reads and validates the catalogue; a malformed entry is an error naming the entry and the field. */
export function loadCatalogue(path: string): CatalogueQuery[] {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { queries?: unknown };
  if (!Array.isArray(doc.queries) || doc.queries.length === 0)
    throw new Error(`${path}: "queries" must be a non-empty array`);
  const seen = new Set<string>();
  return doc.queries.map((q: Record<string, unknown>, i: number) => {
    const where = `${path}: queries[${i}]${typeof q.id === 'string' ? ` (${q.id})` : ''}`;
    for (const f of ['id', 'screen', 'supabase_js', 'path'] as const) {
      if (typeof q[f] !== 'string' || (q[f] as string).length === 0)
        throw new Error(`${where}: "${f}" must be a non-empty string`);
    }
    if (!/^[a-z][a-z0-9_]*$/.test(q.id as string)) throw new Error(`${where}: "id" must be lower_snake_case`);
    if (seen.has(q.id as string)) throw new Error(`${where}: duplicate id`);
    seen.add(q.id as string);
    if (!USER_KINDS.includes(q.user as BenchUserKind))
      throw new Error(`${where}: "user" must be one of ${USER_KINDS.join(', ')}`);
    if (q.method !== 'GET' && q.method !== 'POST') throw new Error(`${where}: "method" must be GET or POST`);
    if (!(q.path as string).startsWith('/')) throw new Error(`${where}: "path" must start with /`);
    if (q.hot !== undefined && typeof q.hot !== 'boolean') throw new Error(`${where}: "hot" must be a boolean`);
    return q as unknown as CatalogueQuery;
  });
}

export interface BenchUser {
  id: string;
  email: string;
  /** Newest meeting with a transcript, else newest meeting. */
  meetingId: string | null;
  /** created_at of the 20th newest meeting (or the oldest): the keyset cursor of page 2. */
  cursor: string | null;
  meetings: number;
}

/**
 * A deterministic sample of users of one kind (ordered by a hash of their id, so not the first-created
 * ones): members with at least one meeting; uploaders on pro/enterprise (under their monthly quota); admins.
 */
export async function sampleUsers(db: Database, kind: BenchUserKind, count: number): Promise<BenchUser[]> {
  const where =
    kind === 'admin'
      ? `p.role = 'admin'`
      : kind === 'uploader'
        ? `p.tier in ('pro', 'enterprise') and p.role = 'member'`
        : `p.role = 'member'`;
  const r = await db.query<BenchUser>(
    `select u.id::text as id, u.email,
            (select m.id::text from public.meetings m
              where m.user_id = u.id
              order by exists (select 1 from public.meeting_transcripts t where t.meeting_id = m.id) desc, m.created_at desc
              limit 1) as "meetingId",
            (select m.created_at::text from (select x.created_at from public.meetings x where x.user_id = u.id order by x.created_at desc limit 20) m
              order by m.created_at limit 1) as cursor,
            (select count(*)::int from public.meetings m where m.user_id = u.id) as meetings
       from auth.users u join public.profiles p on p.id = u.id
      where ${where} and exists (select 1 from public.meetings m where m.user_id = u.id)
      order by md5(u.id::text)
      limit $1`,
    [count],
  );
  if (r.rows.length === 0)
    throw new Error(`no ${kind} user with meetings in the database: load a seed first (shipspeak-db seed --scale N)`);
  return r.rows;
}

export interface RequestContext {
  now: Date;
  /** Distinct per call, for unique storage paths. */
  tag: string;
}

/** Fills {placeholders}; an unknown placeholder or a missing value is an error, never an empty string. */
export function fillTemplate(template: string, user: BenchUser, ctx: RequestContext): string {
  const monthStart = new Date(Date.UTC(ctx.now.getUTCFullYear(), ctx.now.getUTCMonth(), 1));
  const nextMonthStart = new Date(Date.UTC(ctx.now.getUTCFullYear(), ctx.now.getUTCMonth() + 1, 1));
  const values: Record<string, string | null> = {
    uid: user.id,
    meeting_id: user.meetingId,
    cursor: user.cursor,
    month_start: monthStart.toISOString(),
    next_month_start: nextMonthStart.toISOString(),
    month_start_date: monthStart.toISOString().slice(0, 10),
    path_tag: `bench-${ctx.tag}`,
  };
  return template.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`unknown placeholder {${name}} in ${JSON.stringify(template)}`);
    const v = values[name];
    if (v === null || v === undefined) throw new Error(`placeholder {${name}} has no value for user ${user.id}`);
    return v;
  });
}

function fillBody(body: unknown, user: BenchUser, ctx: RequestContext): unknown {
  if (typeof body === 'string') return fillTemplate(body, user, ctx);
  if (Array.isArray(body)) return body.map((b) => fillBody(b, user, ctx));
  if (body && typeof body === 'object')
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, fillBody(v, user, ctx)]));
  return body;
}

/** The HTTP request supabase-js would send for `q` as `user`. */
export async function buildRequest(
  q: CatalogueQuery,
  user: BenchUser,
  ctx: RequestContext,
  jwtSecret = LOCAL_JWT_SECRET,
): Promise<Request> {
  const token = await mintUserToken(jwtSecret, { id: user.id, email: user.email });
  const qs = q.query ? `?${fillTemplate(q.query, user, ctx)}` : '';
  // PostgREST query strings keep their own syntax; only characters a URL cannot carry raw are escaped.
  const url = `http://bench.local/rest/v1${q.path}${qs.replace(/\+/g, '%2B')}`;
  const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: q.accept ?? 'application/json' };
  if (q.prefer) headers.Prefer = q.prefer;
  let body: string | undefined;
  if (q.method === 'POST') {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(fillBody(q.body ?? {}, user, ctx));
  }
  return new Request(url, { method: q.method, headers, body });
}

export interface QueryResult {
  id: string;
  screen: string;
  hot: boolean;
  users: number;
  rls: Summary;
  bypass: Summary;
  /**
   * RLS overhead: the median over interleaved pairs of (RLS time ÷ bypass time), each pair the same user's
   * request timed back to back. Pairs adjacent in time share the machine's load, so this is what a gate on a
   * busy machine can rely on; `ratioOfMedians` (p50 RLS ÷ p50 bypass) is reported beside it.
   */
  ratio: number;
  ratioOfMedians: number;
  /**
   * The same pairs measured by the PostgreSQL backend's CPU time instead of the client's wall time: the median
   * of (RLS CPU ÷ bypass CPU) and each side's p50 in µs. What RLS costs the server, much less moved by other
   * work on a shared machine than wall time. Null when the server's processes cannot be read (remote server).
   */
  cpu: { ratio: number; rlsP50Us: number; bypassP50Us: number } | null;
  /** The SQL the gateway ran (first sampled user), without the prelude. */
  sql: string;
  /** Statements per gateway request besides the transaction prelude, from pg_stat_statements (null: extension missing). */
  statementsPerRequest: number | null;
  explain: ExplainResult & { user: string; meetings: number };
  /** Sequential scans on tables holding at least `largeTableRows` rows. */
  largeSeqScans: string[];
}

export interface HotQueryOptions {
  /** Superuser/owner connection for sampling, explain and pg_stat_statements. */
  admin: Database;
  /** Where the timed transactions run (direct, or through pgbouncer). */
  timing: Database;
  catalogue: CatalogueQuery[];
  /** Distinct users per kind (members); uploaders and admins are capped by what exists. */
  users: number;
  /** Timed rounds over all sampled users (each round times every user once with RLS and once bypassing). */
  rounds: number;
  /** Untimed iterations before measuring. */
  warmup?: number;
  largeTableRows?: number;
  log?: (line: string) => void;
  only?: string[];
}

async function largeTables(db: Database, minRows: number): Promise<Set<string>> {
  const r = await db.query<{ name: string }>(
    `select c.relname as name from pg_catalog.pg_class c
      where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and c.reltuples >= $1`,
    [minRows],
  );
  return new Set(r.rows.map((x) => x.name));
}

async function statementsPerRequest(
  admin: Database,
  handle: (r: Request) => Promise<Response>,
  request: () => Promise<Request>,
): Promise<number | null> {
  const ext = await admin.query(`select 1 from pg_catalog.pg_extension where extname = 'pg_stat_statements'`);
  if (ext.rowCount === 0) {
    try {
      await admin.exec('create extension if not exists pg_stat_statements');
    } catch {
      return null;
    }
  }
  // The first request of a gateway loads its schema cache; count a request served from a warm cache.
  await (await handle(await request())).text();
  const counted = await request();
  await admin.query('select pg_stat_statements_reset()');
  const res = await handle(counted);
  const body = await res.text();
  if (res.status >= 300) throw new Error(`statement count: the gateway answered ${res.status}: ${body.slice(0, 300)}`);
  const r = await admin.query<{ n: string | null }>(
    `select sum(s.calls)::text as n from pg_stat_statements s
      where s.dbid = (select d.oid from pg_catalog.pg_database d where d.datname = current_database())
        and s.query !~* '^\\s*(begin|commit|rollback)'
        and s.query not like 'select set_config(%'
        and s.query not like '%pg_stat_statements%'`,
  );
  return Number(r.rows[0]?.n ?? 0);
}

export async function runHotQueries(o: HotQueryOptions): Promise<QueryResult[]> {
  const log = o.log ?? (() => undefined);
  const recorder = recordingDatabase(o.admin);
  const gateway = createGateway({ db: recorder, jwtSecret: LOCAL_JWT_SECRET });
  const plainGateway = createGateway({ db: o.admin, jwtSecret: LOCAL_JWT_SECRET });
  const now = new Date();
  const big = await largeTables(o.admin, o.largeTableRows ?? 10_000);
  const samples = new Map<BenchUserKind, BenchUser[]>();
  for (const kind of USER_KINDS) {
    if (o.catalogue.some((q) => q.user === kind)) samples.set(kind, await sampleUsers(o.admin, kind, o.users));
  }
  let tagCounter = 0;
  // Storage paths of the committed statement-count requests must not repeat across runs on one database.
  const runTag = `${process.pid}-${Date.now().toString(36)}`;
  const results: QueryResult[] = [];
  for (const q of o.catalogue) {
    if (o.only?.length && !o.only.includes(q.id)) continue;
    const users = samples.get(q.user)!;
    // Capture each user's transaction once: prelude + statement, exactly as the gateway ran them.
    const captured: {
      user: BenchUser;
      prelude: CapturedStatement;
      bypass: CapturedStatement;
      statement: CapturedStatement;
    }[] = [];
    for (const user of users) {
      const req = await buildRequest(q, user, { now, tag: `${runTag}-${++tagCounter}` });
      const c = await captureRequest(gateway.handle, recorder, req);
      if (c.status >= 300)
        throw new Error(`${q.id}: the gateway answered ${c.status} for user ${user.id}: ${c.body.slice(0, 300)}`);
      if (c.statements.length !== 2)
        throw new Error(`${q.id}: expected the prelude and one statement, the gateway ran ${c.statements.length}`);
      const [prelude, statement] = c.statements as [CapturedStatement, CapturedStatement];
      captured.push({ user, prelude, bypass: withRole(prelude, 'service_role'), statement });
    }
    for (let i = 0; i < (o.warmup ?? 20); i++) {
      const c = captured[i % captured.length]!;
      await timeCaptured(o.timing, c.prelude, c.statement);
      await timeCaptured(o.timing, c.bypass, c.statement);
    }
    const rls: number[] = [];
    const bypass: number[] = [];
    const pairs: number[] = [];
    const cpuPairs: number[] = [];
    const rlsCpu: number[] = [];
    const bypassCpu: number[] = [];
    for (let round = 0; round < o.rounds; round++) {
      for (const [i, c] of captured.entries()) {
        let a: Timing;
        let b: Timing;
        if ((i + round) % 2 === 0) {
          a = await timeCaptured(o.timing, c.prelude, c.statement);
          b = await timeCaptured(o.timing, c.bypass, c.statement);
        } else {
          b = await timeCaptured(o.timing, c.bypass, c.statement);
          a = await timeCaptured(o.timing, c.prelude, c.statement);
        }
        rls.push(a.ms);
        bypass.push(b.ms);
        pairs.push(a.ms / b.ms);
        if (a.cpuUs !== null && b.cpuUs !== null && a.cpuUs > 0 && b.cpuUs > 0) {
          rlsCpu.push(a.cpuUs);
          bypassCpu.push(b.cpuUs);
          cpuPairs.push(a.cpuUs / b.cpuUs);
        }
      }
    }
    const heaviest = captured.reduce((a, b) => (b.user.meetings > a.user.meetings ? b : a));
    const explain = await explainCaptured(o.admin, heaviest.prelude, heaviest.statement);
    const statements = await statementsPerRequest(o.admin, plainGateway.handle, () =>
      buildRequest(q, heaviest.user, { now, tag: `${runTag}-${++tagCounter}` }),
    );
    const r: QueryResult = {
      id: q.id,
      screen: q.screen,
      hot: q.hot !== false,
      users: captured.length,
      rls: summarise(rls),
      bypass: summarise(bypass),
      ratio: summarise(pairs).p50,
      ratioOfMedians: summarise(rls).p50 / summarise(bypass).p50,
      // Only when every pair's backend was readable: a partial set would not be the same sample.
      cpu:
        cpuPairs.length === pairs.length
          ? { ratio: summarise(cpuPairs).p50, rlsP50Us: summarise(rlsCpu).p50, bypassP50Us: summarise(bypassCpu).p50 }
          : null,
      sql: captured[0]!.statement.sql,
      statementsPerRequest: statements,
      explain: { ...explain, user: heaviest.user.id, meetings: heaviest.user.meetings },
      largeSeqScans: [...new Set(explain.seqScans.filter((t) => big.has(t)))],
    };
    log(
      `${q.id.padEnd(26)} users=${String(r.users).padStart(4)} n=${r.rls.n} RLS p50=${r.rls.p50.toFixed(3)} p95=${r.rls.p95.toFixed(3)} p99=${r.rls.p99.toFixed(3)} ms | ` +
        `bypass p50=${r.bypass.p50.toFixed(3)} p99=${r.bypass.p99.toFixed(3)} ms | RLS/bypass ${r.ratio.toFixed(2)} paired (${r.ratioOfMedians.toFixed(2)} of medians, backend CPU ${r.cpu ? r.cpu.ratio.toFixed(2) : 'n/a'}) | statements ${r.statementsPerRequest ?? 'n/a'} | seq scans on large tables: ${r.largeSeqScans.join(', ') || 'none'}`,
    );
    results.push(r);
  }
  return results;
}
