/**
 * `k6 run`-shaped entry of the subset runner:
 *   tsx tests/perf/k6-runner/cli.ts run [-e KEY=VALUE]… [--summary-export file.json] <script.js>
 * Exit codes as k6: 0 ok, 99 thresholds crossed, 104 invalid options, 107 script error, 2 usage.
 */
import { writeFileSync } from 'node:fs';
import { runK6 } from './runner.js';

const USAGE = 'usage: k6-runner run [-e KEY=VALUE]... [--summary-export FILE] <script.js>';

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd !== 'run') {
    console.error(USAGE);
    return 2;
  }
  const env: Record<string, string> = {};
  let script: string | undefined;
  let summaryExport: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '-e' || a === '--env') {
      const kv = rest[++i];
      const eq = kv?.indexOf('=') ?? -1;
      if (!kv || eq <= 0) {
        console.error(`${a} needs KEY=VALUE\n${USAGE}`);
        return 2;
      }
      env[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (a === '--summary-export') {
      summaryExport = rest[++i];
      if (!summaryExport) {
        console.error(`--summary-export needs a file\n${USAGE}`);
        return 2;
      }
    } else if (a.startsWith('-')) {
      console.error(`unknown option ${a}\n${USAGE}`);
      return 2;
    } else if (script === undefined) script = a;
    else {
      console.error(`one script only (got ${script} and ${a})\n${USAGE}`);
      return 2;
    }
  }
  if (!script) {
    console.error(USAGE);
    return 2;
  }
  const r = await runK6({ script, env });
  if (summaryExport)
    writeFileSync(
      summaryExport,
      `${JSON.stringify({ metrics: r.metrics, thresholds: r.thresholds, exitCode: r.exitCode }, null, 2)}\n`,
    );
  return r.exitCode;
}

process.exitCode = await main(process.argv.slice(2));
