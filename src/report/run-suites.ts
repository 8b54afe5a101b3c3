/**
 * `npm run report`: runs every suite of `npm test` (read from package.json's "test" script, so the list has
 * one home), continuing past a failing suite so its evidence still reaches the report, then builds the
 * compliance report and runs the gate. Exit status: the gate's when it does not pass, else 1 when any suite
 * failed, else 0.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../commands/dispatch.js';
import { REPO_ROOT } from './results.js';

/** The `npm run <name>` steps of the test script, the final compliance step excepted (it runs last here). */
export function suiteScripts(testScript: string): string[] {
  return testScript
    .split('&&')
    .map((s) => /^\s*npm run ([\w:.-]+)\s*$/.exec(s)?.[1])
    .filter((s): s is string => s !== undefined && s !== 'compliance');
}

async function main(): Promise<number> {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const steps = suiteScripts(pkg.scripts.test ?? '');
  if (steps.length === 0) throw new Error('package.json "test" runs no `npm run <suite>` step');
  const ran: { step: string; code: number | null; seconds: number }[] = [];
  for (const step of steps) {
    console.log(`\n=== npm run ${step}`);
    const t0 = performance.now();
    const r = spawnSync('npm', ['run', step], { cwd: REPO_ROOT, stdio: 'inherit', env: process.env });
    ran.push({ step, code: r.status, seconds: (performance.now() - t0) / 1000 });
    if (r.signal) {
      // Interrupted (Ctrl-C, kill): stop here rather than start the next suite.
      console.error(`npm run ${step} ended by ${r.signal}: stopping`);
      return 130;
    }
  }
  const io = { out: (l: string) => console.log(l), err: (l: string) => console.error(l), ask: async () => null };
  console.log('\n=== shipspeak-db report');
  const built = await runCli(['report'], io);
  console.log('\n=== shipspeak-db gate');
  const gated = built === 0 ? await runCli(['gate'], io) : built;
  console.log('\n=== suites');
  for (const r of ran)
    console.log(`  ${r.code === 0 ? 'ok    ' : 'FAILED'} npm run ${r.step.padEnd(18)} ${r.seconds.toFixed(1)} s`);
  console.log(`  gate: exit ${gated}; report: reports/compliance.html`);
  if (gated !== 0) return gated;
  return ran.some((r) => r.code !== 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`npm run report: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
