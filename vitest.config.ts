import { defineConfig } from 'vitest/config';

// One vitest project per suite so each npm script runs its suite alone; `npm test` chains them.
// Suites that need a real PostgreSQL get it from tests/support/global-setup.ts (DATABASE_URL or a
// throw-away cluster started from the local binaries).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'migrations',
          include: ['tests/migrations/**/*.test.ts', 'tests/bootstrap/**/*.test.ts', 'tests/db/**/*.test.ts', 'tests/cli/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'rls',
          include: ['tests/rls/**/*.test.ts', 'tests/rest/**/*.test.ts', 'tests/pooling/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'privacy',
          include: ['tests/privacy/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'serve',
          include: ['tests/serve/**/*.test.ts'],
          globalSetup: ['tests/support/global-setup.ts'],
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
