import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childEnv, ROOT } from '../serve/support.js';

/**
 * `npm run bench -- --database NAME --load-evidence FILE` measures again on a database an earlier `--keep` run
 * loaded. Every way of asking for it wrongly must stop before any database is opened, with exit 2 and a message
 * naming what is wrong (a wrong reuse would measure some other database, or publish a load it never had).
 */
const dir = mkdtempSync(join(tmpdir(), 'shipspeak-bench-args-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bench(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/bench/main.ts', '--catalogue', 'tests/perf/queries.json', ...args],
    // No DATABASE_URL unless a case sets one: nothing here may reach a server.
    { cwd: ROOT, env: { ...childEnv(), DATABASE_URL: '', ...env }, encoding: 'utf8', timeout: 120_000 },
  );
  return { code: r.status, err: r.stderr };
}

const url = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };

describe('bench: reusing a loaded database', () => {
  it('--database without --load-evidence (and the reverse) is a usage error', () => {
    for (const args of [
      ['--database', 'bench_x'],
      ['--load-evidence', join(dir, 'perf.json')],
    ]) {
      const r = bench(args, url);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain('--database NAME and --load-evidence FILE go together');
    }
  });

  it('--users or --random-seed beside --database is a usage error (the load evidence gives them)', () => {
    for (const extra of [
      ['--users', '500'],
      ['--random-seed', 'other'],
    ]) {
      const r = bench(['--database', 'bench_x', '--load-evidence', join(dir, 'perf.json'), ...extra], url);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain('--users and --random-seed describe a new load');
    }
  });

  it('--database needs DATABASE_URL, the server that holds it', () => {
    const r = bench(['--database', 'bench_x', '--load-evidence', join(dir, 'perf.json')]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toContain('--database NAME needs DATABASE_URL');
  });

  it('an evidence file that is missing, not JSON, or has no load record is refused', () => {
    const notJson = join(dir, 'not-json.json');
    writeFileSync(notJson, '{ half');
    const noLoad = join(dir, 'no-load.json');
    writeFileSync(noLoad, JSON.stringify({ records: [{ id: 'perf.hot_query.own_profile', figures: {} }] }));
    for (const [file, says] of [
      [join(dir, 'missing.json'), 'ENOENT'],
      [notJson, 'JSON'],
      [noLoad, 'no perf.scale_seed.load record'],
    ] as const) {
      const r = bench(['--database', 'bench_x', '--load-evidence', file], url);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain(`--load-evidence ${file}`);
      expect(r.err).toContain(says);
    }
  });
});
