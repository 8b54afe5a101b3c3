/**
 * `npm test` (and `npm run report`, which is `npm test`): runs every suite named on the command line — the
 * suite list's one home is package.json's "test" script — through src/report/suite-runner.ts, `--jobs` at a
 * time and past failures, then builds the compliance report and runs its gate, and prints one summary table.
 *
 *   tsx src/report/run-suites.ts [--jobs N] [--no-report] [--cwd DIR] <npm script>... [--then <npm script>...]...
 *
 * `--then` starts a stage that begins when every suite before it has ended: the benchmarks want the machine
 * to themselves, and tests/report renders the real report from every other suite's evidence.
 *
 * Exit status: the gate's when it does not pass (1 fail, 2 stale/missing evidence), else 1 when any suite
 * failed, else 0; 130 after Ctrl-C (running suites are stopped, no further suite starts, no report).
 * TEST_JOBS overrides --jobs (TEST_JOBS=1 runs the suites one after another).
 */
import { resolve } from 'node:path';
import { runCli } from '../commands/dispatch.js';
import { REPO_ROOT } from './results.js';
import { runSuites, summaryTable, type SuiteResult } from './suite-runner.js';

interface Args {
  jobs: number;
  report: boolean;
  cwd: string;
  stages: string[][];
}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Args {
  const a: Args = { jobs: 1, report: true, cwd: REPO_ROOT, stages: [[]] };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--jobs') a.jobs = Number(argv[++i]);
    else if (x === '--no-report') a.report = false;
    else if (x === '--cwd') a.cwd = resolve(argv[++i] ?? '');
    else if (x === '--then') a.stages.push([]);
    else if (x.startsWith('-')) throw new Error(`unknown option ${x}`);
    else a.stages.at(-1)!.push(x);
  }
  if (env.TEST_JOBS) a.jobs = Number(env.TEST_JOBS);
  if (!Number.isInteger(a.jobs) || a.jobs < 1) throw new Error(`--jobs / TEST_JOBS must be a whole number ≥ 1`);
  if (a.stages.some((s) => s.length === 0))
    throw new Error('no suites to run (or an empty --then stage): name the npm scripts, e.g. typecheck test:rls');
  return a;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const controller = new AbortController();
  let interrupts = 0;
  const stop = (sig: NodeJS.Signals) => {
    if (++interrupts > 1) process.exit(130);
    console.error(`\n[test] ${sig}: stopping the running suites (again to quit at once)`);
    controller.abort();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const t0 = Date.now();
  console.log(`[test] ${args.jobs} suites at a time: ${args.stages.map((s) => s.join(' ')).join(' | then ')}`);
  const results: SuiteResult[] = [];
  for (const suites of args.stages)
    results.push(...(await runSuites({ cwd: args.cwd, suites, jobs: args.jobs, signal: controller.signal })));
  const extra: { label: string; state: string; seconds: number }[] = [];
  let gated = 0;
  if (args.report && !controller.signal.aborted) {
    const io = { out: (l: string) => console.log(l), err: (l: string) => console.error(l), ask: async () => null };
    const r0 = Date.now();
    console.log('\n===== shipspeak-db report =====');
    const built = await runCli(['report'], io);
    console.log('\n===== shipspeak-db gate =====');
    gated = built === 0 ? await runCli(['gate'], io) : built;
    extra.push({
      label: 'compliance report + gate',
      state: gated === 0 ? 'ok' : `exit ${gated}`,
      seconds: (Date.now() - r0) / 1000,
    });
  }
  console.log(`\n${summaryTable(results, extra)}`);
  console.log(
    `wall time ${((Date.now() - t0) / 1000).toFixed(1)} s${args.report ? '; report: reports/compliance.html' : ''}`,
  );
  if (controller.signal.aborted) return 130;
  if (gated !== 0) return gated;
  return results.some((r) => r.state !== 'ok') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`run-suites: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
