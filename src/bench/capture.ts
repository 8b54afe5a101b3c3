/**
 * What the gateway really sends: a request goes through the real PostgREST-compatible handler (src/rest) on
 * a Database wrapper that records every statement of its transaction and forwards it unchanged. The
 * benchmark then replays exactly that transaction — the gateway's own prelude (role, request.jwt.claims,
 * search_path … set with set_config(…, true)) and the one statement — so the SQL measured is the SQL a
 * supabase-js screen causes, with nothing rewritten by hand.
 */
import { readFileSync } from 'node:fs';
import type { Database, Queryable, QueryResult } from '../db/database.js';

export interface CapturedStatement {
  sql: string;
  params: unknown[];
}

export interface CapturedRequest {
  /** The statements of the request's transaction, in order (prelude first). */
  statements: CapturedStatement[];
  status: number;
  body: string;
}

/**
 * A Database that records what runs inside each transaction; `take()` returns and clears the record. By
 * default every transaction is rolled back after it ran (its result still returned), so capturing an insert
 * leaves no row behind and the replay measures the same state; `{ rollback: false }` commits as usual, for
 * benchmarks that time the gateway on the recording database itself (tests/perf/gateway-overhead.ts).
 * The one statement recorder of the repository: the hot-query catalogue, the gateway-overhead and the
 * throughput benchmarks all capture through it.
 */
export function recordingDatabase(
  db: Database,
  options: { rollback?: boolean } = {},
): Database & { take(): CapturedStatement[] } {
  let log: CapturedStatement[] = [];
  const recording = (q: Queryable): Queryable => ({
    query<T>(sql: string, params: unknown[] = []): Promise<QueryResult<T>> {
      log.push({ sql, params: [...params] });
      return q.query<T>(sql, params);
    },
    exec(sql: string) {
      log.push({ sql, params: [] });
      return q.exec(sql);
    },
  });
  return {
    engine: db.engine,
    description: `${db.description} (recording)`,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      if (options.rollback === false) return db.transaction((tx) => fn(recording(tx)));
      const rollback = new Error('capture rollback');
      let result: T | undefined;
      await db
        .transaction(async (tx) => {
          result = await fn(recording(tx));
          throw rollback;
        })
        .catch((e: unknown) => {
          if (e !== rollback) throw e;
        });
      return result as T;
    },
    close: () => db.close(),
    take() {
      const out = log;
      log = [];
      return out;
    },
  };
}

/** Runs one request through `handle` and returns what its transaction executed. */
export async function captureRequest(
  handle: (r: Request) => Promise<Response>,
  recorder: { take(): CapturedStatement[] },
  request: Request,
): Promise<CapturedRequest> {
  recorder.take();
  const res = await handle(request);
  const body = await res.text();
  return { statements: recorder.take(), status: res.status, body };
}

/**
 * The gateway prelude binds the role to impersonate as its last parameter (`set_config('role', $n, true)`).
 * Returns the same prelude with another role — how the benchmark runs the identical request bypassing RLS
 * (service_role has BYPASSRLS on Supabase and here), claims and everything else unchanged.
 */
export function withRole(prelude: CapturedStatement, role: string): CapturedStatement {
  const m = /set_config\('role', \$(\d+), true\)/.exec(prelude.sql);
  if (!m) throw new Error(`not a gateway prelude (no set_config('role', $n, true)): ${prelude.sql.slice(0, 120)}`);
  const params = [...prelude.params];
  params[Number(m[1]) - 1] = role;
  return { sql: prelude.sql, params };
}

/** A node of a JSON EXPLAIN plan (the keys the benchmark reads). */
export interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
  [key: string]: unknown;
}

export interface ExplainResult {
  plan: PlanNode;
  planningMs: number;
  executionMs: number;
  /** `Seq Scan on <table>` for every sequential scan anywhere in the plan (including InitPlans and triggers' absence). */
  seqScans: string[];
  /** Text form for humans (EXPLAIN (ANALYZE, BUFFERS) as psql shows it). */
  text: string;
}

function walk(node: PlanNode, visit: (n: PlanNode) => void): void {
  visit(node);
  for (const child of node.Plans ?? []) walk(child, visit);
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the captured statement, inside the captured prelude, rolled back (writes
 * included: nothing the explain executes survives).
 */
export async function explainCaptured(
  db: Database,
  prelude: CapturedStatement,
  statement: CapturedStatement,
): Promise<ExplainResult> {
  // JSON for the facts, text for humans: two runs, each in its own rolled-back transaction (a write
  // explained twice in one transaction would collide with itself).
  const json = await inRolledBack(db, prelude, (tx) =>
    tx.query<{ 'QUERY PLAN': { Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }[] }>(
      `explain (analyze, buffers, format json) ${statement.sql}`,
      statement.params,
    ),
  );
  const text = await inRolledBack(db, prelude, (tx) =>
    tx.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, format text) ${statement.sql}`, statement.params),
  );
  const top = json.rows[0]!['QUERY PLAN'][0]!;
  const seqScans: string[] = [];
  walk(top.Plan, (n) => {
    if (n['Node Type'] === 'Seq Scan' && n['Relation Name']) seqScans.push(n['Relation Name']);
  });
  return {
    plan: top.Plan,
    planningMs: top['Planning Time'],
    executionMs: top['Execution Time'],
    seqScans,
    text: text.rows.map((r) => r['QUERY PLAN']).join('\n'),
  };
}

async function inRolledBack<T>(
  db: Database,
  prelude: CapturedStatement,
  fn: (tx: Queryable) => Promise<T>,
): Promise<T> {
  const rollback = new Error('rollback');
  let out: T | undefined;
  await db
    .transaction(async (tx) => {
      await tx.query(prelude.sql, prelude.params);
      out = await fn(tx);
      throw rollback;
    })
    .catch((e: unknown) => {
      if (e !== rollback) throw e;
    });
  return out as T;
}

/** One timed statement: its wall time, and the server backend's CPU time for it when that can be read. */
export interface Timing {
  /** Client round trip of the statement alone, in ms. */
  ms: number;
  /**
   * CPU time the PostgreSQL backend spent on the statement, in µs (from /proc/<backend pid>/schedstat, in
   * nanoseconds): what the statement cost the server, without the time it waited for a core. Null when the
   * server's processes are not readable here (a remote server). On a shared machine the wall time of both
   * halves of a pair grows with the load; this grows far less.
   */
  cpuUs: number | null;
}

/**
 * Runs prelude + statement in one transaction and returns the statement's own wall time (client round trip of
 * the statement alone; begin, prelude and rollback are not counted) and its backend CPU time. Always rolled
 * back, so repeated inserts measure the same state.
 */
export async function timeCaptured(
  db: Database,
  prelude: CapturedStatement,
  statement: CapturedStatement,
): Promise<Timing> {
  const rollback = new Error('timing rollback');
  let timing: Timing = { ms: Number.NaN, cpuUs: null };
  await db
    .transaction(async (tx) => {
      // Through PgBouncer in transaction mode too, the transaction keeps one server backend: this is it.
      const pid = (await tx.query<{ pid: number }>('select pg_catalog.pg_backend_pid() as pid')).rows[0]!.pid;
      await tx.query(prelude.sql, prelude.params);
      const cpu0 = backendCpuNs(pid);
      const t0 = performance.now();
      await tx.query(statement.sql, statement.params);
      const ms = performance.now() - t0;
      const cpu1 = backendCpuNs(pid);
      timing = { ms, cpuUs: cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / 1000 };
      throw rollback;
    })
    .catch((e: unknown) => {
      if (e !== rollback) throw e;
    });
  return timing;
}

/**
 * Nanoseconds the process `pid` has run on a CPU, or null when it is not a PostgreSQL process of this machine
 * (a remote server's pid can name any local process, so the process's name is checked).
 */
function backendCpuNs(pid: number): number | null {
  try {
    if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres')) return null;
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}
