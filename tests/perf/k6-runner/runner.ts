/**
 * A k6-compatible runner for the subset of the k6 API that tests/perf/k6 scripts use, so that the same
 * script files run here (no k6 binary on these machines) and under real k6 elsewhere (docs/k6.md).
 *
 * Implemented: `k6` (check, group, sleep, fail), `k6/http` (synchronous request/get/post/put/patch/del,
 * Response with status/body/headers/json()/timings), `options` with scenarios (constant-vus,
 * per-vu-iterations, shared-iterations) or the vus/duration/iterations shortcuts, setup()/teardown(),
 * __ENV/__VU/__ITER, and thresholds on the built-in metrics (http_req_duration, http_req_failed, http_reqs,
 * checks, iterations, iteration_duration, …) with tag selectors, judged after the run as k6 judges them.
 * Exit codes are k6's: 0, 99 thresholds failed, 104 invalid options, 107 script error.
 *
 * Each VU is a worker thread; its http calls block it (as in k6) while this thread performs them with fetch.
 * Traffic goes only to loopback addresses: a remote target is refused (use real k6 for that).
 */
import { Worker } from 'node:worker_threads';
import { MessageChannel } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { resolve as resolvePath } from 'node:path';
import { existsSync } from 'node:fs';
import { BUILTIN, MetricStore, type Sample } from './metrics.js';
import { InvalidConfigError, planRun, type RunPlan, type Scenario } from './options.js';
import type { FromVu, HttpRequestMsg, HttpResponseMsg, Role, VuData } from './protocol.js';
import { compare } from './thresholds.js';

export const EXIT = { ok: 0, thresholdsFailed: 99, invalidConfig: 104, scriptException: 107 } as const;

export interface ThresholdResult {
  key: string;
  expr: string;
  actual: number;
  ok: boolean;
}

export interface RunResult {
  exitCode: number;
  plan: RunPlan | null;
  thresholds: ThresholdResult[];
  /** Aggregates of every built-in metric seen, by name. */
  metrics: Record<string, { type: string; count: number; values: Record<string, number> }>;
  /** Each check by name: how often it passed and failed. */
  checks: Record<string, { passes: number; fails: number }>;
  errors: string[];
  durationMs: number;
}

export interface RunOptions {
  script: string;
  /** `-e KEY=VALUE` variables; k6 also passes the process environment into __ENV. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function isLoopback(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return LOOPBACK.has(h) || /^127\.\d+\.\d+\.\d+$/.test(h);
  } catch {
    return false;
  }
}

function canonicalHeader(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

async function perform(req: HttpRequestMsg, store: MetricStore): Promise<HttpResponseMsg> {
  const t0 = performance.now();
  let status = 0;
  let body = '';
  let error = '';
  let errorCode = 0;
  let waiting = 0;
  const headers: Record<string, string> = {};
  if (!isLoopback(req.url)) {
    error = `the k6 runner sends requests only to loopback addresses; ${req.url} is not one (use real k6 for remote targets)`;
    errorCode = 1000;
  } else {
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        redirect: 'follow',
        signal: AbortSignal.timeout(req.timeoutMs),
      });
      waiting = performance.now() - t0;
      body = await res.text();
      status = res.status;
      res.headers.forEach((v, k) => {
        headers[canonicalHeader(k)] = v;
      });
    } catch (e) {
      error = e instanceof Error ? `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}` : String(e);
      errorCode = 1000;
    }
  }
  const duration = performance.now() - t0;
  const failed = status === 0 || status >= 400;
  const tags = {
    method: req.method,
    url: req.url,
    name: req.url,
    status: String(status),
    expected_response: String(!failed),
    ...req.tags,
  };
  store.add({ metric: 'http_reqs', value: 1, tags });
  store.add({ metric: 'http_req_duration', value: duration, tags });
  store.add({ metric: 'http_req_waiting', value: waiting, tags });
  store.add({ metric: 'http_req_failed', value: failed ? 1 : 0, tags });
  store.add({ metric: 'data_received', value: Buffer.byteLength(body), tags });
  store.add({ metric: 'data_sent', value: req.body === null ? 0 : Buffer.byteLength(req.body), tags });
  return { status, body, headers, url: req.url, error, error_code: errorCode, timings: { duration, waiting } };
}

interface Context {
  scriptUrl: string;
  env: Record<string, string>;
  store: MetricStore;
  log: (line: string) => void;
  errors: string[];
}

interface WorkerOutcome {
  options?: unknown;
  exports?: string[];
  setupJson?: string | null;
  fatal?: string;
}

/** Releases the VUs together once all of them have loaded the script (k6 initialises VUs before the test). */
class StartBarrier {
  private waiting: (() => void)[] = [];
  private released = false;
  constructor(
    private expected: number,
    private readonly onRelease: () => void,
  ) {}
  arrive(go: () => void): void {
    if (this.released) {
      go();
      return;
    }
    this.waiting.push(go);
    if (this.waiting.length >= this.expected) this.release();
  }
  /** A VU that ended without arriving (init error) must not hold the others. */
  leave(): void {
    if (this.released) return;
    this.expected--;
    if (this.waiting.length >= this.expected) this.release();
  }
  private release(): void {
    this.released = true;
    this.onRelease();
    for (const go of this.waiting.splice(0)) go();
  }
}

function runWorker(
  ctx: Context,
  role: Role,
  vu: number,
  setupJson: string | null,
  scenario: Scenario | null,
  shared?: { left: number },
  barrier?: StartBarrier,
): Promise<WorkerOutcome> {
  const { port1, port2 } = new MessageChannel();
  const flag = new SharedArrayBuffer(4);
  const flagView = new Int32Array(flag);
  const env = scenario ? { ...ctx.env, ...scenario.env } : ctx.env;
  const data: VuData = {
    role,
    scriptUrl: ctx.scriptUrl,
    vu,
    env,
    setupJson,
    scenario: scenario
      ? {
          name: scenario.name,
          executor: scenario.executor,
          ...(scenario.durationMs !== undefined ? { durationMs: scenario.durationMs } : {}),
          ...(scenario.iterations !== undefined ? { iterations: scenario.iterations } : {}),
          maxDurationMs: scenario.maxDurationMs,
          exec: scenario.exec,
          tags: scenario.tags,
        }
      : null,
    flag,
    port: port2,
  };
  const worker = new Worker(new URL('./vu-boot.mjs', import.meta.url), { workerData: data, transferList: [port2] });
  const outcome: WorkerOutcome = {};
  const answer = (msg: unknown) => {
    port1.postMessage(msg);
    Atomics.store(flagView, 0, 1);
    Atomics.notify(flagView, 0);
  };
  return new Promise((resolve) => {
    let finished = false;
    let arrived = false;
    let gotDone = false;
    let exited = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      if (!arrived) barrier?.leave();
      port1.close();
      resolve(outcome);
    };
    port1.on('message', (msg: FromVu) => {
      switch (msg.type) {
        case 'http':
          void perform(msg, ctx.store).then(answer);
          break;
        case 'ready':
          arrived = true;
          if (barrier) barrier.arrive(() => answer({ go: true }));
          else answer({ go: true });
          break;
        case 'next':
          answer({ ok: shared !== undefined && shared.left-- > 0 });
          break;
        case 'samples':
          for (const s of msg.samples as Sample[]) ctx.store.add(s);
          break;
        case 'log':
          ctx.log(`${msg.level.toUpperCase().padEnd(5)}[${role === 'vu' ? `VU ${vu}` : role}] ${msg.text}`);
          if (msg.level === 'error') ctx.errors.push(msg.text);
          break;
        case 'options':
          outcome.options = msg.options;
          outcome.exports = msg.exports;
          break;
        case 'setup-data':
          outcome.setupJson = msg.json;
          break;
        case 'fatal':
          outcome.fatal = msg.message;
          break;
        case 'done':
          // The last message a worker posts: everything it sent before has been received (one port, in order).
          gotDone = true;
          if (exited) finish();
          break;
      }
    });
    worker.once('error', (e) => {
      outcome.fatal ??= `worker error: ${e.stack ?? e.message}`;
    });
    // A worker's 'exit' event is not ordered with the messages on its port: finish on 'done' (after exit),
    // and give a worker that died without 'done' a moment for its last messages to arrive.
    worker.once('exit', () => {
      exited = true;
      if (gotDone) finish();
      else setTimeout(finish, 1000);
    });
  });
}

function evaluate(plan: RunPlan, store: MetricStore): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const t of plan.thresholds) {
    const type = BUILTIN[t.key.metric]!;
    const extra = t.exprs.filter((e) => e.aggregation === 'p').map((e) => e.percentile!);
    const agg = store.aggregate(t.key.metric, type, t.key.tags, extra);
    for (const e of t.exprs) {
      const name = e.aggregation === 'p' ? `p(${e.percentile})` : e.aggregation;
      const actual = agg.values[name] ?? 0;
      out.push({ key: t.key.source, expr: e.source, actual, ok: compare(actual, e.op, e.value) });
    }
  }
  return out;
}

export async function runK6(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? ((l: string) => console.log(l));
  const started = Date.now();
  const scriptPath = resolvePath(options.script);
  const result: RunResult = {
    exitCode: EXIT.ok,
    plan: null,
    thresholds: [],
    metrics: {},
    checks: {},
    errors: [],
    durationMs: 0,
  };
  const done = (code: number, error?: string): RunResult => {
    if (error) {
      result.errors.push(error);
      log(`ERRO ${error}`);
    }
    result.exitCode = code;
    result.durationMs = Date.now() - started;
    return result;
  };
  if (!existsSync(scriptPath)) return done(EXIT.scriptException, `script not found: ${scriptPath}`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, options.env ?? {});
  const store = new MetricStore();
  const ctx: Context = { scriptUrl: pathToFileURL(scriptPath).href, env, store, log, errors: result.errors };

  const init = await runWorker(ctx, 'init', 0, null, null);
  if (init.fatal) return done(EXIT.scriptException, init.fatal);
  let plan: RunPlan;
  try {
    plan = planRun(init.options);
  } catch (e) {
    if (e instanceof InvalidConfigError) return done(EXIT.invalidConfig, `invalid options: ${e.message}`);
    throw e;
  }
  result.plan = plan;
  for (const s of plan.scenarios)
    if (!init.exports!.includes(s.exec))
      return done(EXIT.scriptException, `scenario "${s.name}": the script exports no function "${s.exec}"`);
  const setupJson = init.setupJson ?? null;

  log(
    `k6-runner: ${options.script}; ${plan.scenarios.map((s) => `${s.name}: ${s.executor}, ${s.vus} VU(s), ${s.durationMs !== undefined ? `${s.durationMs / 1000} s` : `${s.iterations} iteration(s)`}`).join('; ')}`,
  );
  // Scenarios with a startTime are not held by the barrier: they start on their own clock.
  const barrier = new StartBarrier(
    plan.scenarios.filter((s) => s.startTimeMs === 0).reduce((a, s) => a + s.vus, 0),
    () => (store.startedAt = Date.now()),
  );
  let vuId = 0;
  const fatal: string[] = [];
  await Promise.all(
    plan.scenarios.map(async (s) => {
      if (s.startTimeMs > 0) await new Promise((r) => setTimeout(r, s.startTimeMs));
      const shared = s.executor === 'shared-iterations' ? { left: s.iterations! } : undefined;
      const vus = Array.from({ length: s.vus }, () => ++vuId);
      const outcomes = await Promise.all(
        vus.map((id) => runWorker(ctx, 'vu', id, setupJson, s, shared, s.startTimeMs === 0 ? barrier : undefined)),
      );
      for (const o of outcomes) if (o.fatal) fatal.push(o.fatal);
    }),
  );
  store.endedAt = Date.now();
  if (fatal.length) return done(EXIT.scriptException, fatal[0]);
  const teardown = await runWorker(ctx, 'teardown', 0, setupJson, null);
  if (teardown.fatal) return done(EXIT.scriptException, teardown.fatal);

  for (const name of store.names()) {
    const type = BUILTIN[name];
    if (type) result.metrics[name] = store.aggregate(name, type);
  }
  for (const name of store.tagValues('checks', 'check')) {
    const v = store.values('checks', { check: name });
    const passes = v.filter((x) => x !== 0).length;
    result.checks[name] = { passes, fails: v.length - passes };
  }
  result.thresholds = evaluate(plan, store);
  printSummary(result, log);
  const failed = result.thresholds.filter((t) => !t.ok);
  if (failed.length)
    log(`ERRO thresholds on metrics '${[...new Set(failed.map((f) => f.key))].join("', '")}' have been crossed`);
  return done(failed.length ? EXIT.thresholdsFailed : EXIT.ok);
}

function printSummary(r: RunResult, log: (l: string) => void): void {
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
  log('');
  for (const [name, m] of Object.entries(r.metrics)) {
    const mine = r.thresholds.filter((t) => t.key === name || t.key.startsWith(`${name}{`));
    const mark = mine.length === 0 ? ' ' : mine.every((t) => t.ok) ? '✓' : '✗';
    const shown = Object.entries(m.values)
      .filter(([k]) => !(m.type === 'rate' && (k === 'passes' || k === 'fails')))
      .map(([k, v]) =>
        m.type === 'trend'
          ? `${k}=${fmt(v)}${name.includes('duration') || name.includes('waiting') ? 'ms' : ''}`
          : m.type === 'rate'
            ? `${(v * 100).toFixed(2)}% (${m.values.passes} of ${m.count})`
            : `${k}=${fmt(v)}${k === 'rate' ? '/s' : ''}`,
      )
      .join(' ');
    log(`  ${mark} ${name.padEnd(20, '.')}: ${shown}`);
  }
  for (const [name, c] of Object.entries(r.checks))
    if (c.fails) log(`    ✗ check '${name}': ${c.fails} of ${c.passes + c.fails} failed`);
  for (const t of r.thresholds) log(`    ${t.ok ? '✓' : '✗'} ${t.key} '${t.expr}' (actual ${t.actual.toFixed(4)})`);
}
