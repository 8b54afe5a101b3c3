/**
 * `npm run bench:throughput` — issue 17 item 5: the Data API's throughput over loopback, with the same
 * statements over plain node-postgres side by side in the same run.
 *
 * Targets (each its own process, each a node-postgres pool of POOL connections to the same database):
 *   serve      `shipspeak-db serve` on DATABASE_URL (the gateway: JWT, parse, plan, one transaction in one
 *              round trip — node-postgres pipeline mode, src/db/node-postgres.ts)
 *   serve-4rt  the same with `--no-db-pipeline`: one round trip per statement (the gateway before pipelining)
 *   pg-bare    the request's statement alone (no transaction, no role switch)
 *   pg-tx      begin; role + claims prelude; statement; commit — what the gateway sends (4 round trips)
 *   pg-pipe    the same four written at once on a pipeline-mode client (1 round trip)
 *   serve-base with BASELINE=<another checkout>: that checkout's serve (e.g. the commit before a change)
 *   pg-prep    pg-pipe with the prelude and the statement as named prepared statements (as serve keeps them)
 * The statements are the gateway's own, captured from a request, so the only difference between serve
 * and pg-tx is the gateway's code. Every run is checked first: each target's body for each case must equal
 * the gateway's (pg-bare: the same rows where the filter pins them, else the same count).
 *
 * Load: autocannon in this process, CONNECTIONS (default 8,32) keep-alive connections, DURATION seconds
 * (default 5) per target after an unrecorded warm-up (WARMUP-second slices, default 2, cycling through the
 * cases for at least WARMUP_MIN s, default 16, then until the target's CPU per request stops falling, at most
 * WARMUP_MAX s, default 60) and REWARM s (default 2) of unrecorded load just before each timed run, targets interleaved
 * per case, ROUNDS times (default 1). Prints req/s, p50/p95/p99, the server process's CPU µs per request
 * (/proc/<pid>/stat, less its idle rate: far less sensitive to other load on the machine than req/s) and the
 * load average at the start of each run; writes reports/results/throughput.json. Gate: 0 errors, 0 non-2xx. The issue's anchor
 * (≥ 2,000 req/s GET single row, real PostgREST on a t3a.nano) is a target record judged by the report.
 *
 *   npm run bench:throughput
 *   DURATION=10 CONNECTIONS=8,32,64 ROUNDS=2 npm run bench:throughput
 *   DATABASE_URL=postgres://… npm run bench:throughput   (a superuser: it creates a scratch database)
 *   WRITE_DOCS=1 npm run bench:throughput                 (also rewrites the figures of docs/benchmarks-throughput.md)
 *   BASELINE=/tmp/base npm run bench:throughput           (adds serve-base: that checkout's serve, same run)
 *   SERVE_CPU_PROF=/tmp/prof npm run bench:throughput      (serve writes a V8 CPU profile there)
 *   SERVE_NODE_ARGS='--max-semi-space-size=4' BASELINE=. … (node flags for serve only: an A/B against serve-base)
 *   TARGETS=serve,pg-prep,pg-bare CASES=single …          (only these targets and cases)
 *   SERVE_DIAGNOSTICS=1 …                                  (serve's event-loop delay, GC, pool queue per run)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { mintAccessToken } from '../../../src/auth/tokens.js';
import { Verdicts, summarise } from '../../../src/harness/stats.js';
import { createScratchDatabase } from '../../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../../src/db/node-postgres.js';
import { isUnavailable, resolveServer } from '../../../src/db/resolve-postgres.js';
import { createGateway } from '../../../src/rest/index.js';
import { provenance, writeResults } from '../../../src/report/results.js';
import { childEnv, startServe } from '../../serve/support.js';
import { recordingDatabase, type CapturedStatement as Recorded } from '../../../src/bench/capture.js';
import { BENCH_USER, CASES, fillBenchDatabase } from './cases.js';
import { drive, type LoadResult } from './load.js';
import type { DiagnosticsSnapshot } from '../../../src/serve/diagnostics.js';
import { cpuMicros, postgresCpuMicros, postmasterPid, preemptions, runQueueWaitMicros } from './proc-cpu.js';

const DURATION = Number(process.env.DURATION ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const WARMUP = Number(process.env.WARMUP ?? 2);
/** The shortest and longest warm-up per target (s): past the longest the target is measured as it is, and the run says so. */
const WARMUP_MIN = Number(process.env.WARMUP_MIN ?? 16);
const WARMUP_MAX = Number(process.env.WARMUP_MAX ?? 60);
/** Seconds of unrecorded load on a target just before each of its timed runs (0: none). */
const REWARM = Number(process.env.REWARM ?? 2);
const CONNECTIONS = (process.env.CONNECTIONS ?? '8,32').split(',').map(Number);
const ONLY = process.env.CASES?.split(',');
/**
 * SERVE_DIAGNOSTICS=1: serve measures its event-loop delay and utilisation, GC pauses and pool queueing per run
 * (src/serve/diagnostics.ts). Off by default: the measuring timers wake serve up, which costs it throughput on
 * a loaded machine, and serve-base runs without them.
 */
const DIAGNOSTICS = process.env.SERVE_DIAGNOSTICS === '1';
const POOL = 10; // openNodePostgres's default, which serve uses
const ANCHOR_RPS = 2000;
/**
 * serve's CPU per request may be at most this multiple of pg-prep's (the same statements, prepared, in one
 * exchange, from a bare node:http server). Warm, it measured 1.6–2.8 on the loaded machine; the cold or
 * "slow" processes of earlier runs were 4–10.
 */
const CPU_RATIO_TARGET = 3;
const SECRET = 'throughput-bench-secret-0123456789-abcdefgh';
if (!Number.isInteger(REWARM) || REWARM < 0)
  throw new Error(`REWARM must be a whole number of seconds (got ${String(REWARM)})`);
for (const [name, v] of [
  ['DURATION', DURATION],
  ['ROUNDS', ROUNDS],
  ['WARMUP', WARMUP],
  ['WARMUP_MIN', WARMUP_MIN],
  ['WARMUP_MAX', WARMUP_MAX],
  ...CONNECTIONS.map((c) => ['CONNECTIONS', c] as const),
] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer (got ${String(v)})`);
}

/** BASELINE=<another checkout, e.g. `git worktree add … <commit>` with node_modules>: its serve runs beside ours. */
const BASELINE = process.env.BASELINE;
const ALL_TARGETS = ['serve', 'serve-base', 'serve-4rt', 'pg-bare', 'pg-tx', 'pg-pipe', 'pg-prep'] as const;
type Target = (typeof ALL_TARGETS)[number];
/** TARGETS=serve,pg-prep,pg-bare: only these (the ratio columns need their reference targets in the run). */
const ONLY_TARGETS = process.env.TARGETS?.split(',');
for (const t of ONLY_TARGETS ?? [])
  if (!(ALL_TARGETS as readonly string[]).includes(t))
    throw new Error(`TARGETS: unknown target "${t}" (known: ${ALL_TARGETS.join(', ')})`);
const TARGETS: Target[] = ALL_TARGETS.filter(
  (t) => (t !== 'serve-base' || BASELINE) && (!ONLY_TARGETS || ONLY_TARGETS.includes(t)),
);

function startPgHttp(
  url: string,
  statementsFile: string,
): Promise<{ base: string; proc: ChildProcess & { pid: number } }> {
  const script = fileURLToPath(new URL('./pg-http.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script, url, statementsFile, String(POOL)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening (\S+)/.exec(out);
      if (m) resolve({ base: m[1]!, proc: proc as ChildProcess & { pid: number } });
    });
    proc.once('exit', (code) => reject(new Error(`pg-http exited with ${code}: ${out}`)));
  });
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const server = await resolveServer();
  if (isUnavailable(server)) throw new Error(`bench:throughput needs a real PostgreSQL 15: ${server.unavailable}`);
  const scratch = await createScratchDatabase(server.url, 'throughput');
  const db = await openNodePostgres(scratch.url);
  const tmp = mkdtempSync(join(tmpdir(), 'throughput-'));
  const children: ChildProcess[] = [];
  let stopServe: (() => Promise<unknown>) | undefined;
  try {
    await fillBenchDatabase(db);
    const version = (await db.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v;

    // The gateway's statements for each case, captured from real requests.
    const token = await mintAccessToken(
      SECRET,
      { sub: BENCH_USER.id, email: BENCH_USER.email },
      { expiresIn: 6 * 3600 },
    );
    const headers = { authorization: `Bearer ${token}`, apikey: token };
    const rec = recordingDatabase(db, { rollback: false });
    const gateway = createGateway({ db: rec, jwtSecret: SECRET });
    const cases = CASES.filter((c) => !ONLY || ONLY.includes(c.key));
    const statements: Record<string, [Recorded, Recorded]> = {};
    const expected: Record<string, unknown[]> = {};
    for (const c of cases) {
      const get = () => gateway.fetch(`http://bench.test/rest/v1${c.path}`, { headers });
      await (await get()).text(); // first request loads the schema cache
      rec.take();
      const res = await get();
      const body = await res.text();
      if (res.status !== 200) throw new Error(`${c.title}: gateway answered ${res.status} ${body}`);
      const got = rec.take();
      if (got.length !== 2)
        throw new Error(`${c.title}: expected the prelude and one statement, recorded ${got.length}`);
      statements[c.key] = [got[0]!, got[1]!];
      expected[c.key] = JSON.parse(body) as unknown[];
      if (expected[c.key]!.length === 0)
        throw new Error(`${c.title}: the gateway returned no rows; the benchmark would measure nothing`);
    }
    const statementsFile = join(tmp, 'statements.json');
    writeFileSync(statementsFile, JSON.stringify(statements));

    const pgHttp = await startPgHttp(scratch.url, statementsFile);
    children.push(pgHttp.proc);
    // SERVE_CPU_PROF=<dir>: serve writes a V8 CPU profile there when it stops (open it in Chrome DevTools, or
    // summarise self time per function with tests/perf/throughput/profile-summary.ts).
    const prof = process.env.SERVE_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SERVE_CPU_PROF}`] : [];
    // SERVE_NODE_ARGS="--flag …": node/V8 flags for serve only (serve-base runs without them): an A/B in one run.
    prof.push(...(process.env.SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean));
    const serve = await startServe(
      ['--port', '0'],
      childEnv({
        DATABASE_URL: scratch.url,
        SHIPSPEAK_JWT_SECRET: SECRET,
        ...(DIAGNOSTICS ? { SHIPSPEAK_SERVE_DIAGNOSTICS: '1' } : {}),
      }),
      120_000,
      prof,
    );
    // The gateway before pipelining, in the same run: one database round trip per statement. Only when it is
    // measured: an idle extra serve still takes memory and start-up CPU from the two cores.
    const serve4 = TARGETS.includes('serve-4rt')
      ? await startServe(
          ['--port', '0', '--no-db-pipeline'],
          childEnv({ DATABASE_URL: scratch.url, SHIPSPEAK_JWT_SECRET: SECRET }),
          120_000,
        )
      : undefined;
    // The same gateway from another checkout (before a change), in the same run: the fair before/after.
    const serveBase = BASELINE
      ? await startServe(
          ['--port', '0'],
          childEnv({ DATABASE_URL: scratch.url, SHIPSPEAK_JWT_SECRET: SECRET }),
          120_000,
          [],
          BASELINE,
        )
      : undefined;
    stopServe = () => Promise.all([serve.stop(), serve4?.stop(), serveBase?.stop()]);
    const pidOf = (t: Target): number =>
      t === 'serve'
        ? serve.pid
        : t === 'serve-4rt'
          ? serve4!.pid
          : t === 'serve-base'
            ? serveBase!.pid
            : pgHttp.proc.pid;
    const urlOf = (t: Target, key: string): string => {
      const c = cases.find((x) => x.key === key)!;
      if (t === 'serve') return `${serve.url}/rest/v1${c.path}`;
      if (t === 'serve-4rt') return `${serve4!.url}/rest/v1${c.path}`;
      if (t === 'serve-base') return `${serveBase!.url}/rest/v1${c.path}`;
      return `${pgHttp.base}/${{ 'pg-bare': 'bare', 'pg-tx': 'tx', 'pg-pipe': 'pipelined', 'pg-prep': 'prepared' }[t]}/${key}`;
    };

    // Every target must answer every case with the gateway's rows before anything is timed.
    const verdicts = new Verdicts('postgresql');
    for (const c of cases) {
      for (const t of TARGETS) {
        const res = await fetch(urlOf(t, c.key), { headers });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`${t} ${c.title}: HTTP ${res.status} ${text}`);
        const rows = JSON.parse(text) as unknown[];
        const same =
          t === 'pg-bare' && !c.sameRowsWithoutRls
            ? rows.length === expected[c.key]!.length
            : isDeepStrictEqual(rows, expected[c.key]);
        verdicts.gate(
          `throughput.same_body.${c.key}.${t}`,
          `${t} answers "${c.title}" with the gateway's rows (1 = same)`,
          same ? 1 : 0,
          '>=',
          1,
        );
      }
    }

    const loadBefore = loadavg()[0]!;
    console.log(
      `\nthroughput over loopback on ${server.description}; PostgreSQL ${version}; pool ${POOL} per target; autocannon ${DURATION} s per run, ${ROUNDS} round(s); user ${BENCH_USER.alias} (RLS)`,
    );
    // Warm-up, not recorded, until each target's CPU per request has settled (warmUp below), so that the timed
    // runs measure the steady state and not a process still compiling and growing its heap.
    const warmups = new Map<Target, WarmUp>();
    for (const t of TARGETS) {
      const w = await warmUp(cases.length, (i) => {
        const c = cases[i % cases.length]!;
        const cpu0 = cpuMicros(pidOf(t));
        return drive(
          `${t}|${c.key}`,
          urlOf(t, c.key),
          Math.max(...CONNECTIONS),
          WARMUP,
          t.startsWith('serve') ? headers : {},
        ).then((r) => (cpuMicros(pidOf(t)) - cpu0) / r.requests);
      });
      warmups.set(t, w);
      console.log(
        `warm-up ${t}: ${w.slices.length * WARMUP} s, CPU µs/request ${w.slices.map((x) => x.toFixed(0)).join(' → ')}${w.settled ? '' : ` (not settled within ${WARMUP_MAX} s)`}`,
      );
    }
    // What each server process burns with no request at all (timers, Realtime polling), µs per second: taken
    // off its CPU per request, which would otherwise grow as req/s fall on a busy machine.
    // PostgreSQL's CPU is measured too (the postmaster and its backends; only on the benchmark's own cluster).
    const postmaster = server.cluster ? postmasterPid(server.cluster.dataDir) : undefined;
    const idleUsPerSecond = new Map<number, number>();
    let pgIdleUsPerSecond = 0;
    {
      const pids = [...new Set(TARGETS.map(pidOf))];
      const c0 = pids.map(cpuMicros);
      const pg0 = postmaster ? postgresCpuMicros(postmaster) : 0;
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, 2000));
      const ms = performance.now() - t0;
      for (const [i, pid] of pids.entries()) idleUsPerSecond.set(pid, ((cpuMicros(pid) - c0[i]!) * 1000) / ms);
      if (postmaster) pgIdleUsPerSecond = ((postgresCpuMicros(postmaster) - pg0) * 1000) / ms;
    }
    const results: LoadResult[] = [];
    for (const connections of CONNECTIONS) {
      for (const c of cases) {
        for (let round = 0; round < ROUNDS; round++) {
          // Rotate the order each round so no target always runs first (cold) or last.
          const order = TARGETS.map((_, i) => TARGETS[(i + round) % TARGETS.length]!);
          for (const t of order) {
            // Unrecorded: a target that sat idle while the others ran is measured as under continuous load, not
            // as it comes back (node-postgres closes pooled connections idle for 10 s, so the first requests
            // reconnect and PostgreSQL re-prepares; serve measured ~5× its warm CPU per request in a first run
            // 2.7 min after its warm-up).
            if (REWARM > 0)
              await drive(`${t}|${c.key}`, urlOf(t, c.key), connections, REWARM, t.startsWith('serve') ? headers : {});
            const load1 = loadavg()[0]!;
            if (t === 'serve' && DIAGNOSTICS) await serveDiagnostics(serve); // starts its figures afresh
            const rq0 = runQueueWaitMicros(pidOf(t));
            const pre0 = preemptions(pidOf(t));
            const cpu0 = cpuMicros(pidOf(t));
            const pg0 = postmaster ? postgresCpuMicros(postmaster) : 0;
            const t0 = performance.now();
            const r = await drive(
              `${t}|${c.key}`,
              urlOf(t, c.key),
              connections,
              DURATION,
              t.startsWith('serve') ? headers : {},
            );
            const seconds = (performance.now() - t0) / 1000;
            const idle = idleUsPerSecond.get(pidOf(t))! * seconds;
            const rqWait = runQueueWaitMicros(pidOf(t)) - rq0;
            results.push({
              ...r,
              load1,
              rqWaitUsPerRequest: rqWait / r.requests,
              preemptionsPerRequest: (preemptions(pidOf(t)) - pre0) / r.requests,
              ...(t === 'serve' && DIAGNOSTICS ? { serveDiagnostics: await serveDiagnostics(serve) } : {}),
              cpuUsPerRequest: Math.max(0, cpuMicros(pidOf(t)) - cpu0 - idle) / r.requests,
              ...(postmaster
                ? {
                    pgCpuUsPerRequest:
                      Math.max(0, postgresCpuMicros(postmaster) - pg0 - pgIdleUsPerSecond * seconds) / r.requests,
                  }
                : {}),
            });
          }
        }
      }
    }

    const fmt = (x: number, d = 2) => x.toFixed(d).padStart(8);
    const doc: string[] = [];
    for (const connections of CONNECTIONS) {
      for (const c of cases) {
        console.log(`\n${c.title} (${c.path}) — ${connections} connections`);
        doc.push(
          '',
          `**${c.title}**, ${connections} connections`,
          '',
          '| target | req/s | p50 ms | p95 ms | p99 ms | CPU µs/req | CPU ÷ pg-prep | PG CPU µs/req | run-queue wait µs/req | preempted /req | errors | ÷ pg-bare | ÷ pg-prep | load |',
          '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
        );
        console.log(
          `  ${'target'.padEnd(10)}   req/s   p50 ms   p95 ms   p99 ms CPU µs/r CPU÷prep  PG µs/r  RQ µs/r  preempt   errors  non2xx ÷pg-bare ÷pg-prep     load`,
        );
        const runs = (t: Target) =>
          results.filter((r) => r.target === `${t}|${c.key}` && r.connections === connections);
        const rps = (t: Target) => summarise(runs(t).map((r) => r.reqPerSec)).p50;
        const cpuOf = (t: Target) => summarise(runs(t).map((r) => r.cpuUsPerRequest!)).p50;
        /** This target's req/s ÷ a reference target's in the same run; undefined when the reference did not run. */
        const ratio = (t: Target, to: Target) => (TARGETS.includes(to) ? rps(t) / rps(to) : undefined);
        const ratioText = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(2));
        const diagLines: string[] = [];
        for (const t of TARGETS) {
          const rs = runs(t);
          const lat = summarise(rs.flatMap((r) => [r.latency.p50])); // per-run p50s (one per round)
          const p95 = summarise(rs.map((r) => r.latency.p95)).p50;
          const p99 = summarise(rs.map((r) => r.latency.p99)).p50;
          const cpu = cpuOf(t);
          const rq = summarise(rs.map((r) => r.rqWaitUsPerRequest!)).p50;
          const pre = summarise(rs.map((r) => r.preemptionsPerRequest!)).p50;
          const pgRuns = rs.flatMap((r) => (r.pgCpuUsPerRequest === undefined ? [] : [r.pgCpuUsPerRequest]));
          const pgCpu = pgRuns.length ? summarise(pgRuns).p50 : undefined;
          const pgText = pgCpu === undefined ? 'n/a' : pgCpu.toFixed(0);
          const load = summarise(rs.map((r) => r.load1!)).p50;
          const errors = rs.reduce((a, r) => a + r.errors + r.timeouts, 0);
          const non2xx = rs.reduce((a, r) => a + r.non2xx, 0);
          const toBare = ratio(t, 'pg-bare');
          const toPrep = ratio(t, 'pg-prep');
          const cpuToPrep = TARGETS.includes('pg-prep') ? cpu / cpuOf('pg-prep') : undefined;
          console.log(
            `  ${t.padEnd(10)}${fmt(rps(t), 0)} ${fmt(lat.p50)} ${fmt(p95)} ${fmt(p99)} ${fmt(cpu, 0)} ${ratioText(cpuToPrep).padStart(8)} ${pgText.padStart(8)} ${fmt(rq, 0)} ${fmt(pre, 3)} ${String(errors).padStart(8)} ${String(non2xx).padStart(7)} ${ratioText(toBare).padStart(8)} ${ratioText(toPrep).padStart(8)} ${fmt(load, 1)}`,
          );
          doc.push(
            `| ${t} | ${rps(t).toFixed(0)} | ${lat.p50.toFixed(2)} | ${p95.toFixed(2)} | ${p99.toFixed(2)} | ${cpu.toFixed(0)} | ${ratioText(cpuToPrep)} | ${pgText} | ${rq.toFixed(0)} | ${pre.toFixed(3)} | ${errors + non2xx} | ${ratioText(toBare)} | ${ratioText(toPrep)} | ${load.toFixed(1)} |`,
          );
          const diag = rs.flatMap((r) => (r.serveDiagnostics ? [r.serveDiagnostics] : []));
          if (diag.length) {
            const line = describeDiagnostics(diag);
            console.log(`             ${line}`);
            diagLines.push(line);
          }
          const id = `throughput.${c.key}.c${connections}.${t}`;
          verdicts.measured(
            id,
            `${t}: ${c.title}, ${connections} connections`,
            {
              reqPerSec: rps(t),
              p50Ms: lat.p50,
              p95Ms: p95,
              p99Ms: p99,
              requests: rs.reduce((a, r) => a + r.requests, 0),
              ...(toBare === undefined ? {} : { ratioToPgBare: toBare }),
              ...(toPrep === undefined ? {} : { ratioToPgPrep: toPrep }),
              cpuUsPerRequest: cpu,
              runQueueWaitUsPerRequest: rq,
              preemptionsPerRequest: pre,
              ...(pgCpu === undefined ? {} : { postgresCpuUsPerRequest: pgCpu }),
              loadAverage1m: load,
              warmUpSeconds: warmups.get(t)!.slices.length * WARMUP,
              warmUpSettled: warmups.get(t)!.settled,
              ...(cpuToPrep === undefined ? {} : { cpuRatioToPgPrep: cpuToPrep }),
            },
            rs,
          );
          verdicts.gate(
            `${id}.errors`,
            `${t}: ${c.title}, ${connections} connections — errors + timeouts + non-2xx`,
            errors + non2xx,
            '<=',
            0,
          );
        }
        if (diagLines.length) doc.push('', ...diagLines.map((l) => `${l[0]!.toUpperCase()}${l.slice(1)}.`));
        if (c.key === 'single' && TARGETS.includes('serve') && TARGETS.includes('pg-prep')) {
          // serve's own CPU per request beside the same SQL sent the same way over bare node-postgres, measured
          // in the same run: hardly moved by the machine's load, unlike req/s. A process measured cold, or a
          // gateway change that adds work per request, shows here (a target judged by the report, not a gate).
          verdicts.target(
            `throughput.single.c${connections}.serve_cpu_vs_pg_prep`,
            `serve GET single row CPU per request ÷ pg-prep's, ${connections} connections`,
            cpuOf('serve') / cpuOf('pg-prep'),
            '<=',
            CPU_RATIO_TARGET,
          );
        }
        if (c.key === 'single' && TARGETS.includes('serve')) {
          verdicts.target(
            `throughput.single.c${connections}.serve_anchor`,
            `serve GET single row req/s at ${connections} connections (anchor: PostgREST ~2,000 req/s on a t3a.nano)`,
            rps('serve'),
            '>=',
            ANCHOR_RPS,
            ' req/s',
          );
        }
      }
    }
    if (process.env.WRITE_DOCS === '1') writeDocs(doc, `${server.description}; PostgreSQL ${version}`, loadBefore);
    console.log(
      `\nevidence: ${writeResults('throughput', provenance(`${server.description}; PostgreSQL ${version}`, startedAt), verdicts.records)}`,
    );
    if (verdicts.failedGates) console.log(`${verdicts.failedGates} gate(s) missed`);
  } finally {
    await stopServe?.().catch(() => undefined);
    for (const p of children) if (p.exitCode === null) p.kill('SIGTERM');
    await db.close();
    await scratch.drop();
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

interface WarmUp {
  /** CPU µs per request of each warm-up slice, in order. */
  slices: number[];
  /** Whether the CPU per request stopped falling before WARMUP_MAX. */
  settled: boolean;
}
/** A pass that costs no less than (1 − SETTLED) × the pass before it, case by case, means the fall has stopped. */
const SETTLED = 0.1;

/**
 * Drives one target in WARMUP-second slices, cycling through the `perPass` cases, for at least WARMUP_MIN seconds
 * and then until a whole pass costs, case by case, no less CPU per request than the pass before it (within
 * SETTLED), or WARMUP_MAX seconds have passed. A fixed 2 s was not enough for serve: on the shared 2-core machine
 * its CPU per request kept falling for 10–25 s of load (1.1–2.5 ms → 0.2–0.3 ms) while V8 optimised its code
 * (`--trace-opt`: ~260 functions; the fall stopped when that count did) and grew its heap (page faults per
 * request fell from 10–25 to under 1; each costs ~15 µs of CPU in this VM). Tier-up is driven by requests
 * served, so the busier the machine the longer it takes — whether a serve looked "fast" or "slow" depended on
 * how far its warm-up had got. Every target is warmed the same way.
 */
async function warmUp(perPass: number, slice: (i: number) => Promise<number>): Promise<WarmUp> {
  // A pass covers every case twice (one slice alone is too noisy on the busy machine).
  const pass = 2 * perPass;
  const slices: number[] = [];
  const minSlices = Math.max(2 * pass, Math.ceil(WARMUP_MIN / WARMUP));
  const maxSlices = Math.max(minSlices, Math.floor(WARMUP_MAX / WARMUP));
  /** Mean CPU per request of case `c` over the pass that ends at slice `end`. */
  const mean = (end: number, c: number) => {
    const xs = slices.slice(end - pass, end).filter((_, i) => i % perPass === c);
    return xs.reduce((a, x) => a + x, 0) / xs.length;
  };
  while (slices.length < maxSlices) {
    slices.push(await slice(slices.length));
    const n = slices.length;
    if (n >= minSlices && n % pass === 0) {
      let settled = true;
      for (let c = 0; c < perPass; c++) if (mean(n, c) < (1 - SETTLED) * mean(n - pass, c)) settled = false;
      if (settled) return { slices, settled: true };
    }
  }
  return { slices, settled: false };
}

/** Asks serve (SHIPSPEAK_SERVE_DIAGNOSTICS=1) for its figures since the last ask (src/serve/diagnostics.ts). */
async function serveDiagnostics(serve: { proc: ChildProcess; stderr(): string }): Promise<DiagnosticsSnapshot> {
  const before = serve.stderr().length; // serve logs to standard error
  serve.proc.kill('SIGUSR2');
  for (let i = 0; i < 200; i++) {
    const m = /^diagnostics (\{.*\})$/m.exec(serve.stderr().slice(before));
    if (m) return JSON.parse(m[1]!) as DiagnosticsSnapshot;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('serve printed no diagnostics line within 5 s of SIGUSR2');
}

/** Event-loop delay and GC of serve's runs, one line: the medians of the runs' figures. */
function describeDiagnostics(runs: DiagnosticsSnapshot[]): string {
  const med = (f: (d: DiagnosticsSnapshot) => number) => summarise(runs.map(f)).p50;
  const gcMs = (d: DiagnosticsSnapshot) => Object.values(d.gc).reduce((a, g) => a + g.totalMs, 0);
  const gcMax = (d: DiagnosticsSnapshot) => Math.max(0, ...Object.values(d.gc).map((g) => g.maxMs));
  return (
    `serve event loop busy ${(100 * med((d) => d.eventLoopUtilization)).toFixed(0)} %, delay p50 ${med((d) => d.eventLoopDelayMs.p50).toFixed(1)} ms, p99 ${med((d) => d.eventLoopDelayMs.p99).toFixed(1)} ms, ` +
    `max ${med((d) => d.eventLoopDelayMs.max).toFixed(1)} ms; GC ${((100 * med(gcMs)) / (1000 * med((d) => d.seconds))).toFixed(1)} % of the time ` +
    `(longest pause ${med(gcMax).toFixed(1)} ms); requests waiting for a pooled connection: mean ${med((d) => d.poolWaiting?.mean ?? 0).toFixed(1)}`
  );
}

/** Replaces the generated figures section of docs/benchmarks-throughput.md with this run's tables. */
function writeDocs(lines: string[], engine: string, loadBefore: number): void {
  const file = fileURLToPath(new URL('../../../docs/benchmarks-throughput.md', import.meta.url));
  const text = readFileSync(file, 'utf8');
  const start = '<!-- figures:start -->';
  const end = '<!-- figures:end -->';
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} has no ${start} … ${end} section`);
  const p = provenance(engine, new Date());
  const head = [
    `Run ${p.endedAt} on commit \`${p.commit.slice(0, 12)}\`${p.dirty ? ' (uncommitted changes)' : ''}; ${engine}; autocannon ${DURATION} s per run, ${ROUNDS} round(s);`,
    `load average ${loadBefore.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end on ${cpus().length} cores (other work on the machine lowers req/s; compare the ratios).`,
  ];
  writeFileSync(file, `${text.slice(0, a + start.length)}\n${[...head, ...lines].join('\n')}\n${text.slice(b)}`);
  console.log(`figures written to ${file}`);
}

await main();
