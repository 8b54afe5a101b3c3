/**
 * resolveServer and the "never a silent pass" rule: without PostgreSQL 15 a suite fails in CI and is
 * loudly NOT RUN locally. The end-to-end cases run a child vitest through the real global setup with
 * PG15_BIN_DIR pointing nowhere, i.e. a machine without the binaries.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/ephemeral-cluster.js';
import { isCI, isUnavailable, resolveServer } from '../../src/db/resolve-postgres.js';

const NO_BINARIES = { PATH: process.env.PATH, PG15_BIN_DIR: '/nonexistent/pg15/bin' };

describe('resolveServer', () => {
  it('throws in CI without binaries, saying how to install them', async () => {
    const err = await resolveServer({ env: { ...NO_BINARIES, CI: 'true' } }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('apt-get install -y postgresql-15');
    expect((err as Error).message).toContain('.ci/run');
  });

  it('reports unavailable (not a throw, not a pass) locally without binaries', async () => {
    const s = await resolveServer({ env: { ...NO_BINARIES } });
    expect(isUnavailable(s)).toBe(true);
    if (isUnavailable(s)) expect(s.unavailable).toContain('apt-get install -y postgresql-15');
  });

  it('rejects an unusable DATABASE_URL with its host and without its password', async () => {
    const port = await freePort();
    const err = await resolveServer({
      env: { ...NO_BINARIES, DATABASE_URL: `postgres://u:pw-XYZ@127.0.0.1:${port}/db` },
    }).catch((e: Error) => e);
    expect((err as Error).message).toContain(`DATABASE_URL postgres://u:***@127.0.0.1:${port}/db is not usable`);
    expect((err as Error).message).not.toContain('pw-XYZ');
  });

  it('isCI reads CI=true / CI=1 only', () => {
    expect(isCI({ CI: 'true' })).toBe(true);
    expect(isCI({ CI: '1' })).toBe(true);
    expect(isCI({ CI: 'false' })).toBe(false);
    expect(isCI({})).toBe(false);
  });
});

describe('a suite that needs PostgreSQL, on a machine without it', () => {
  const runChild = (ci: boolean) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...NO_BINARIES, FORCE_COLOR: '0', NO_COLOR: '1' };
    delete env.DATABASE_URL;
    delete env.VITEST; // the child must behave like a top-level run
    if (ci) env.CI = 'true';
    else delete env.CI;
    const r = spawnSync(
      process.execPath,
      ['node_modules/vitest/vitest.mjs', 'run', '--config', 'tests/db/fixtures/vitest.needs-pg.config.ts'],
      // Wide: a whole vitest start-up, possibly beside other test files on two cores (testTimeout is 180 s).
      { encoding: 'utf8', env, timeout: 150_000 },
    );
    return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
  };

  it('locally: exits 0 but prints NOT RUN and reports the tests as skipped, never passed', () => {
    const { status, out } = runChild(false);
    expect(status, out).toBe(0);
    expect(out).toContain('PostgreSQL 15 NOT AVAILABLE');
    expect(out).toMatch(/NOT RUN: suite "fixture block needing PostgreSQL"/);
    expect(out).toMatch(/NOT RUN: test "fixture test needing PostgreSQL"/);
    expect(out).toMatch(/Tests\s+2 skipped \(2\)/);
    expect(out).not.toMatch(/Tests\s+\d+ passed/);
  });

  it('in CI: the run fails and says how to install PostgreSQL 15', () => {
    const { status, out } = runChild(true);
    expect(status, out).not.toBe(0);
    expect(out).toContain('apt-get install -y postgresql-15');
  });
});
