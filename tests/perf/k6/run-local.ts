/**
 * `npm run k6 [-- script.js]`: runs a tests/perf/k6 script against a local `shipspeak-db serve --seed` (in-memory
 * PGlite, or DATABASE_URL's PostgreSQL when set) as the dev seed's three non-admin users. With a real `k6` on
 * PATH (or K6_BIN) it runs that; otherwise the subset runner (tests/perf/k6-runner) runs the same file.
 * Writes reports/results/k6.json (one record per threshold) and exits with k6's exit code (99 = thresholds
 * crossed). VUS / DURATION / P99_MS pass through to the script.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Verdicts } from '../../../src/harness/stats.js';
import { provenance, writeResults } from '../../../src/report/results.js';
import { childEnv, startServe } from '../../serve/support.js';
import { runK6 } from '../k6-runner/runner.js';

const USERS = ['free_a', 'free_b', 'pro'];

function findK6(): string | null {
  if (process.env.K6_BIN) return process.env.K6_BIN;
  const r = spawnSync('k6', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? 'k6' : null;
}

async function main(): Promise<number> {
  const startedAt = new Date();
  const script = process.argv[2] ?? fileURLToPath(new URL('./api-isolation.js', import.meta.url));
  const pg = process.env.DATABASE_URL;
  const serve = await startServe(['--port', '0', '--seed'], childEnv(pg ? { DATABASE_URL: pg } : {}), 180_000);
  try {
    const tokens = USERS.map((u) => serve.personaTokens[u]);
    if (tokens.some((t) => !t))
      throw new Error(`serve --seed printed no token for ${USERS.join(', ')}:\n${serve.stdout()}`);
    const env = { SUPABASE_URL: serve.url, SUPABASE_ANON_KEY: serve.anonKey, K6_USERS: JSON.stringify(tokens) };
    const engine = pg
      ? 'PostgreSQL (DATABASE_URL) via shipspeak-db serve'
      : 'PGlite (in memory) via shipspeak-db serve';
    const k6 = findK6();
    const verdicts = new Verdicts(pg ? 'postgresql' : 'pglite');
    let code: number;
    if (k6) {
      console.log(`running real k6 (${k6}) on ${script} against ${serve.url}`);
      const r = spawnSync(k6, ['run', ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]), script], {
        stdio: 'inherit',
      });
      code = r.status ?? 1;
      verdicts.gate('k6.exit_code', `k6 run ${script}: exit code (0 = every threshold held)`, code, '<=', 0);
    } else {
      console.log(
        `no k6 binary here: running ${script} with the subset runner (tests/perf/k6-runner) against ${serve.url}`,
      );
      const r = await runK6({ script, env });
      code = r.exitCode;
      for (const t of r.thresholds) {
        verdicts.measured(
          `k6.threshold.${`${t.key}.${t.expr}`.replace(/[^A-Za-z0-9_.]+/g, '_')}`,
          `k6 threshold ${t.key} '${t.expr}'`,
          { actual: t.actual, ok: t.ok },
          null,
        );
        if (!t.ok)
          Object.assign(verdicts.records.at(-1)!, {
            status: 'fail',
            reason: `threshold crossed: ${t.key} '${t.expr}', actual ${t.actual.toFixed(3)}`,
          });
      }
      verdicts.gate(
        'k6.exit_code',
        `subset runner on ${script}: exit code (0 = every threshold held)`,
        code,
        '<=',
        0,
        '',
        { metrics: r.metrics, errors: r.errors.slice(0, 20) },
      );
    }
    console.log(`evidence: ${writeResults('k6', provenance(engine, startedAt), verdicts.records)}`);
    return code;
  } finally {
    await serve.stop();
  }
}

process.exitCode = await main();
