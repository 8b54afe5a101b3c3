/**
 * The one test runner behind `npm test` (src/report/run-suites.ts is its command line). It runs every suite
 * — an `npm run <script>` each, so every suite stays runnable alone — up to `jobs` at a time, past failures,
 * buffering each suite's output and printing it whole when the suite ends (concurrent output stays readable),
 * and returns one row per suite for the summary table.
 *
 * Counts come from the suites' own machine-readable results, never from their console text:
 *   - vitest: the runner hands each suite a directory in SHIPSPEAK_VITEST_JSON_DIR; vitest.config.ts then adds
 *     vitest's JSON reporter writing one file per vitest process there (`vitestJsonReporter`).
 *   - programs that are not vitest (pgTAP, the benchmarks): the evidence records (reports/results/*.json)
 *     written while the suite ran by a program its script names (or a sibling of one: tests/perf/run.ts runs
 *     tests/perf/*.ts). Files a vitest process wrote are evidence inside vitest tests, already counted.
 * A suite with neither (typecheck) shows no counts, only its exit status.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';

export const VITEST_JSON_DIR_ENV = 'SHIPSPEAK_VITEST_JSON_DIR';
/**
 * Measuring `npm test` itself (where its time goes): when set to a directory, each suite runs under
 * /usr/bin/time (its CPU-seconds, children included, land in <dir>/<suite>.time as "wall user system") and
 * vitest's JSON (per-file durations) is kept there as <dir>/<suite>-<n>.json. Off by default.
 */
export const MEASURE_DIR_ENV = 'SHIPSPEAK_SUITE_MEASURE_DIR';

/**
 * For vitest.config.ts: vitest's JSON reporter when the runner asked for it (one file per vitest process, so
 * a suite that runs vitest twice keeps both), else nothing. The variable is consumed: a vitest that a test
 * starts (tests/report/vitest-reporter.test.ts does) must not add its counts to the suite's.
 */
export function vitestJsonReporter(env: NodeJS.ProcessEnv = process.env): [string, { outputFile: string }][] {
  const dir = env[VITEST_JSON_DIR_ENV];
  delete env[VITEST_JSON_DIR_ENV];
  return dir ? [['json', { outputFile: join(dir, `vitest-${process.pid}.json`) }]] : [];
}

export interface Counts {
  tests: number;
  passed: number;
  failed: number;
  notRun: number;
}

export interface SuiteResult {
  suite: string;
  /** Exit code; null when ended by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** 'ok' | 'failed' | 'interrupted' (stopped by Ctrl-C) | 'not started' (Ctrl-C came first). */
  state: 'ok' | 'failed' | 'interrupted' | 'not started';
  seconds: number;
  /** Null when the suite left no machine-readable results (typecheck). */
  counts: Counts | null;
  /** Where the counts came from, for the table's last column. */
  source: string;
}

export interface RunOptions {
  cwd: string;
  suites: string[];
  /** Suites running at once (≥ 1). */
  jobs: number;
  env?: NodeJS.ProcessEnv;
  /** Where the suites write evidence records (default <cwd>/reports/results). */
  resultsDir?: string;
  /** Receives whole blocks of text (a suite's output, progress lines). */
  print?: (text: string) => void;
  /** Aborting stops running suites (SIGINT to each suite's process group) and starts no more. */
  signal?: AbortSignal;
}

interface VitestJson {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

function vitestCounts(dir: string): Counts | null {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return null;
  }
  if (files.length === 0) return null;
  const c: Counts = { tests: 0, passed: 0, failed: 0, notRun: 0 };
  for (const f of files) {
    const j = JSON.parse(readFileSync(join(dir, f), 'utf8')) as VitestJson;
    c.tests += j.numTotalTests;
    c.passed += j.numPassedTests;
    c.failed += j.numFailedTests;
    c.notRun += j.numPendingTests + j.numTodoTests;
  }
  return c;
}

interface EvidenceFile {
  suite: string;
  provenance?: { command?: string };
  records: { status: 'pass' | 'fail' | 'not-run' }[];
}

/**
 * Evidence files modified in [since, until] by a program the suite's script names (the file's provenance
 * command holds the writer's path, e.g. tests/pgtap/run.ts), so a concurrent suite's files are not claimed.
 */
function evidenceCounts(
  dir: string,
  since: number,
  until: number,
  cwd: string,
  script: string,
): { counts: Counts; files: string[] } | null {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return null;
  }
  const c: Counts = { tests: 0, passed: 0, failed: 0, notRun: 0 };
  const used: string[] = [];
  for (const n of names) {
    const path = join(dir, n);
    const mtime = statSync(path).mtimeMs;
    if (mtime < since || mtime > until) continue;
    let file: EvidenceFile;
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as EvidenceFile;
    } catch {
      continue;
    }
    if (!Array.isArray(file.records) || !writtenByScript(file.provenance?.command ?? '', cwd, script)) continue;
    used.push(n);
    for (const r of file.records) {
      c.tests++;
      if (r.status === 'pass') c.passed++;
      else if (r.status === 'fail') c.failed++;
      else c.notRun++;
    }
  }
  return used.length > 0 ? { counts: c, files: used } : null;
}

/** The files a script runs with node or tsx. */
function programs(script: string): string[] {
  const tokens = script.split(/\s+/);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (!/(^|\/)(node|tsx)$/.test(tokens[i]!)) continue;
    let j = i + 1;
    while (tokens[j]?.startsWith('-')) j += tokens[j] === '--import' ? 2 : 1;
    const file = tokens[j];
    if (file && /\.[cm]?[jt]s$/.test(file) && !/vitest/.test(file)) out.push(file);
  }
  return out;
}

function writtenByScript(command: string, cwd: string, script: string): boolean {
  // Folders of the programs the script runs (`node|tsx [--import x] <file>`): tests/perf/run.ts runs its
  // sibling benchmarks, each a writer. Arguments (a --config file) are not programs.
  const named = programs(script).map((t) => dirname(resolve(cwd, t)));
  return command.split(/\s+/).some((t) => {
    if (!t || /vitest/.test(t)) return false;
    const abs = resolve(cwd, t);
    if (!existsSync(abs) || !statSync(abs).isFile()) return false;
    const rel = relative(cwd, abs).split(sep).join('/');
    return script.includes(abs) || (!rel.startsWith('..') && script.includes(rel)) || named.includes(dirname(abs));
  });
}

/** Kills a suite's whole process group (npm → sh → vitest → workers, PostgreSQL clusters they started). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

export async function runSuites(options: RunOptions): Promise<SuiteResult[]> {
  const { cwd, suites } = options;
  const jobs = Math.max(1, Math.floor(options.jobs));
  const print = options.print ?? ((t: string) => process.stdout.write(t));
  const resultsDir = options.resultsDir ?? join(cwd, 'reports', 'results');
  const results: SuiteResult[] = suites.map((suite) => ({
    suite,
    code: null,
    signal: null,
    state: 'not started',
    seconds: 0,
    counts: null,
    source: '',
  }));
  const scripts =
    (JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  const running = new Set<ChildProcess>();
  let aborted = options.signal?.aborted ?? false;
  const onAbort = () => {
    aborted = true;
    // SIGINT first so vitest and the pgTAP runner stop their throw-away clusters; SIGKILL if still there.
    for (const c of running) killGroup(c, 'SIGINT');
    const t = setTimeout(() => {
      for (const c of running) killGroup(c, 'SIGKILL');
    }, 10_000);
    t.unref();
  };
  options.signal?.addEventListener('abort', onAbort);

  const runOne = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const suite = suites[i]!;
      const jsonDir = mkdtempSync(join(tmpdir(), 'shipspeak-suite-'));
      const t0 = Date.now();
      const chunks: Buffer[] = [];
      print(`[test] start ${suite}\n`);
      // detached: its own process group, so Ctrl-C reaches the whole suite through us and the group can be
      // killed as one; output is piped (both streams into one buffer, in arrival order).
      const measure = (options.env ?? process.env)[MEASURE_DIR_ENV];
      if (measure) mkdirSync(measure, { recursive: true });
      const argv = ['npm', 'run', '--silent', suite];
      const cmd = measure ? ['/usr/bin/time', '-f', '%e %U %S', '-o', join(measure, `${suite}.time`), ...argv] : argv;
      const child = spawn(cmd[0]!, cmd.slice(1), {
        cwd,
        env: { ...process.env, ...options.env, [VITEST_JSON_DIR_ENV]: jsonDir },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      running.add(child);
      child.stdout!.on('data', (d: Buffer) => chunks.push(d));
      child.stderr!.on('data', (d: Buffer) => chunks.push(d));
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        running.delete(child);
        const t1 = Date.now();
        const r = results[i]!;
        r.code = code;
        r.signal = signal;
        r.seconds = (t1 - t0) / 1000;
        r.state = aborted ? 'interrupted' : code === 0 ? 'ok' : 'failed';
        const v = vitestCounts(jsonDir);
        const e = evidenceCounts(resultsDir, t0, t1 + 1000, cwd, scripts[suite] ?? '');
        const sources = [...(v ? ['vitest json'] : []), ...(e?.files.map((f) => `results/${f}`) ?? [])];
        if (v || e) {
          const add = (a: Counts | undefined, b: Counts | undefined): Counts => ({
            tests: (a?.tests ?? 0) + (b?.tests ?? 0),
            passed: (a?.passed ?? 0) + (b?.passed ?? 0),
            failed: (a?.failed ?? 0) + (b?.failed ?? 0),
            notRun: (a?.notRun ?? 0) + (b?.notRun ?? 0),
          });
          r.counts = add(v ?? undefined, e?.counts);
          r.source = sources.join(' ');
        }
        if (measure && existsSync(jsonDir))
          for (const [n, f] of readdirSync(jsonDir).entries())
            copyFileSync(join(jsonDir, f), join(measure, `${suite}-${n}.json`));
        rmSync(jsonDir, { recursive: true, force: true });
        const out = Buffer.concat(chunks).toString('utf8');
        const status = r.state === 'ok' ? 'ok' : `${r.state} (${signal ?? `exit ${code}`})`;
        print(
          `\n===== npm run ${suite}: ${status}, ${r.seconds.toFixed(1)} s =====\n${out}${out.endsWith('\n') || !out ? '' : '\n'}` +
            `===== end of ${suite} =====\n\n`,
        );
        resolve();
      };
      child.on('error', (e) => {
        chunks.push(Buffer.from(`could not start npm run ${suite}: ${e.message}\n`));
        finish(127, null);
      });
      child.on('close', finish);
    });

  let next = 0;
  const lane = async () => {
    while (!aborted && next < suites.length) await runOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(jobs, suites.length) }, lane));
  options.signal?.removeEventListener('abort', onAbort);
  return results;
}

/** The one summary table: suite, tests, passed, failed, not run, time (and where the counts came from). */
export function summaryTable(results: SuiteResult[], extra: { label: string; state: string; seconds: number }[] = []) {
  const head = ['suite', 'state', 'tests', 'passed', 'failed', 'not run', 'time', 'counts from'];
  const n = (x: number | undefined) => (x === undefined ? '-' : String(x));
  const rows = results.map((r) => [
    r.suite,
    r.state,
    n(r.counts?.tests),
    n(r.counts?.passed),
    n(r.counts?.failed),
    n(r.counts?.notRun),
    r.state === 'not started' ? '-' : `${r.seconds.toFixed(1)} s`,
    r.counts ? r.source : r.state === 'not started' ? '' : 'exit status only',
  ]);
  const total = results.reduce(
    (t, r) => {
      if (!r.counts) return t;
      return {
        tests: t.tests + r.counts.tests,
        passed: t.passed + r.counts.passed,
        failed: t.failed + r.counts.failed,
        notRun: t.notRun + r.counts.notRun,
      };
    },
    { tests: 0, passed: 0, failed: 0, notRun: 0 },
  );
  for (const e of extra) rows.push([e.label, e.state, '', '', '', '', `${e.seconds.toFixed(1)} s`, '']);
  const failedSuites = results.filter((r) => r.state !== 'ok').length;
  rows.push([
    'total',
    failedSuites === 0 ? 'ok' : `${failedSuites} not ok`,
    String(total.tests),
    String(total.passed),
    String(total.failed),
    String(total.notRun),
    '',
    '',
  ]);
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const numeric = new Set([2, 3, 4, 5, 6]);
  const line = (row: string[]) =>
    row
      .map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...rows.slice(0, -1).map(line), rule, line(rows.at(-1)!)].join('\n');
}
