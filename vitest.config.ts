import { defineConfig } from 'vitest/config';
import { vitestJsonReporter } from './src/report/suite-runner.js';

// One vitest project per suite so each npm script runs its suite alone; `npm test` runs them all
// (src/report/run-suites.ts).
// Suites that need a real PostgreSQL get it from tests/support/global-setup.ts (DATABASE_URL or a
// throw-away cluster started from the local binaries).
// vitest 4 runs (available cores − 1) files at once: 1 on the 2-core CI machine. The projects below spend
// much of each file waiting on the PostgreSQL server, a child process or PGlite start-up, and every file works
// on its own scratch database / PGlite / port / temp dir, so rls, migrations and serve run PG_WORKERS files at
// once (TEST_PG_WORKERS to change it; 1 = the old serial behaviour). Checked for migrations and serve: scratch
// databases are uniquely named (createScratchDatabase, random suffixes), PGlite data dirs and sql trees are
// mkdtemp folders, serve listens on --port 0, the shared PGlite dumps and PostgreSQL templates are built under a
// lock, and the only cluster-wide objects (bootstrap's roles) are created idempotently.
const PG_WORKERS = Number(process.env.TEST_PG_WORKERS) || 3;
// Measuring the suites (SHIPSPEAK_FILE_CPU=<file>): one line per test file with its CPU-seconds.
const setupFiles = process.env.SHIPSPEAK_FILE_CPU ? ['tests/support/cpu-meter.ts'] : [];

export default defineConfig({
  test: {
    // Wide on purpose: with PG_WORKERS files per suite and two suites at once, 2 cores are shared by up to six
    // test processes (plus their servers), so a test that needs 20 CPU s can take a minute or more of wall time.
    // A timeout only catches hangs; no test asserts on it.
    testTimeout: 180_000,
    // Every test also becomes an evidence record in reports/results/vitest-<project>.json (the compliance report).
    // Under `npm test` the runner also asks for vitest's JSON (its summary table counts come from it).
    reporters: ['default', './src/report/vitest-reporter.ts', ...vitestJsonReporter()],
    // Hooks build shared starting states (PGlite dumps, template databases) that other files wait for: the same
    // reasoning, wider still.
    hookTimeout: 300_000,
    setupFiles,
    projects: [
      {
        extends: true,
        test: {
          name: 'migrations',
          maxWorkers: PG_WORKERS,
          include: [
            'tests/migrations/**/*.test.ts',
            'tests/bootstrap/**/*.test.ts',
            'tests/db/**/*.test.ts',
            'tests/cli/**/*.test.ts',
            'tests/docs/**/*.test.ts',
          ],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'rls',
          maxWorkers: PG_WORKERS,
          include: ['tests/rls/**/*.test.ts', 'tests/rest/**/*.test.ts', 'tests/pooling/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          // One file at a time: retention's per-policy loop is long, and 3 files gain little beside it.
          name: 'privacy',
          include: ['tests/privacy/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'report',
          include: ['tests/report/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'serve',
          maxWorkers: PG_WORKERS,
          include: ['tests/serve/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          // Fault drills, TLS, backup/restore, fuzz, monitoring: the quick half runs in `npm test` (~30 s).
          name: 'reliability',
          include: ['tests/reliability/**/*.test.ts'],
          exclude: ['tests/reliability/**/*.full.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          // The heavy drills (`npm run test:reliability:full`): kill at every step, 10 runner processes,
          // restore into a fresh cluster, 10,000-operation fuzz.
          name: 'reliability-full',
          include: ['tests/reliability/**/*.full.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
          testTimeout: 600_000,
        },
      },
      {
        // The k6 subset runner and the k6 scripts run through it (no PostgreSQL: serve runs on PGlite).
        extends: true,
        test: {
          name: 'k6',
          include: ['tests/perf/k6/**/*.test.ts', 'tests/perf/k6-runner/**/*.test.ts'],
        },
      },
    ],
  },
});
