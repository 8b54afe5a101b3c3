/**
 * The evidence reporter on a real child vitest run: a pass (with the figures the test attached), a failure
 * (with its message), a skip (not-run), and a beforeAll that throws — a failing suite record, its test
 * not-run with the reason, so a broken set-up never reads as a pass or vanishes.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT, type ResultsFile } from '../../src/report/results.js';
import { tempDir } from './support.js';

it('records pass, fail, skip and a failing beforeAll as evidence', () => {
  const dir = tempDir('reporter');
  const r = spawnSync(
    process.execPath,
    ['node_modules/vitest/vitest.mjs', 'run', '--config', 'tests/report/fixtures/vitest.reporter.config.ts'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, REPORTER_RESULTS_DIR: dir, CI: '' },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(1);
  const file = JSON.parse(readFileSync(join(dir, 'vitest-fixture.json'), 'utf8')) as ResultsFile;
  const by = (suffix: string) => file.records.find((x) => x.id.endsWith(suffix));
  expect(by('> passes with figures')).toMatchObject({ status: 'pass', engine: 'postgresql', figures: { answer: 42 } });
  expect(by('> fails')?.status).toBe('fail');
  expect(by('> fails')?.reason).toContain('one is two');
  expect(by('> is skipped')?.status).toBe('not-run');
  expect(by('> a suite whose beforeAll throws (suite)')).toMatchObject({ status: 'fail' });
  expect(by('> a suite whose beforeAll throws (suite)')?.reason).toContain('fixture set-up exploded');
  expect(by('> never runs')).toMatchObject({ status: 'not-run' });
  expect(by('> never runs')?.reason).toContain('not reached');
  expect(file.records).toHaveLength(5);
});
