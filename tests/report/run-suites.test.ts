/**
 * The `npm test` runner (src/report/run-suites.ts) on a throw-away package: a failing suite does not stop the
 * later ones, the exit status is non-zero, the summary table's counts are the real ones (a real child vitest's
 * JSON; evidence records for a non-vitest suite) whether suites run one at a time or concurrently, and Ctrl-C
 * stops the running suite and starts no other.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/report/results.js';

const RUNNER = join(REPO_ROOT, 'src/report/run-suites.ts');
const VITEST = join(REPO_ROOT, 'node_modules/vitest/vitest.mjs');
// Random sizes: the table must report what the child vitest ran, not numbers this file knows by heart.
const rnd = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));
const PASS = rnd(1, 5);
const FAIL = rnd(1, 3);
const SKIP = rnd(1, 3);
const EV = { pass: rnd(1, 4), fail: rnd(0, 2), notRun: rnd(0, 2) };

let pkg: string;

function table(stdout: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const cells = line.trim().split(/\s{2,}/);
    if (cells.length >= 2 && /^(fail|later|unit|evidence|sleep|needmark|total)$/.test(cells[0]!))
      rows.set(cells[0]!, cells);
  }
  return rows;
}

function runRunner(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', RUNNER, '--no-report', '--cwd', pkg, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, TEST_JOBS: '' },
    timeout: 180_000,
  });
}

beforeAll(() => {
  // Inside the repository (.tmp/ is git-ignored) so the fixture's test file resolves `vitest`.
  mkdirSync(join(REPO_ROOT, '.tmp'), { recursive: true });
  pkg = mkdtempSync(join(REPO_ROOT, '.tmp', 'runner-'));
  const tests = [
    ...Array.from({ length: PASS }, (_, i) => `it('passes ${i}', () => expect(1).toBe(1));`),
    ...Array.from({ length: FAIL }, (_, i) => `it('fails ${i}', () => expect(1).toBe(2));`),
    ...Array.from({ length: SKIP }, (_, i) => `it.skip('skipped ${i}', () => undefined);`),
  ];
  writeFileSync(join(pkg, 'unit.check.ts'), `import { expect, it } from 'vitest';\n${tests.join('\n')}\n`);
  writeFileSync(
    join(pkg, 'vitest.config.ts'),
    `import { vitestJsonReporter } from ${JSON.stringify(join(REPO_ROOT, 'src/report/suite-runner.ts'))};\n` +
      `export default { test: { include: ['unit.check.ts'], reporters: ['dot', ...vitestJsonReporter()] } };\n`,
  );
  const records = [
    ...Array.from({ length: EV.pass }, (_, i) => ({ id: `p${i}`, status: 'pass' })),
    ...Array.from({ length: EV.fail }, (_, i) => ({ id: `f${i}`, status: 'fail' })),
    ...Array.from({ length: EV.notRun }, (_, i) => ({ id: `n${i}`, status: 'not-run' })),
  ];
  // Stands in for tests/pgtap/run.ts: writes an evidence file whose provenance names the writing program.
  writeFileSync(
    join(pkg, 'evidence.mjs'),
    `import { mkdirSync, writeFileSync } from 'node:fs';\n` +
      `mkdirSync('reports/results', { recursive: true });\n` +
      `setTimeout(() => writeFileSync('reports/results/fake.json', JSON.stringify({ suite: 'fake', ` +
      `provenance: { command: process.argv.slice(1).join(' ') }, records: ${JSON.stringify(records)} })), 300);\n`,
  );
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'runner-fixture',
      private: true,
      type: 'module',
      scripts: {
        fail: `node -e "console.log('failing on purpose'); process.exit(3)"`,
        later: `node -e "require('fs').writeFileSync('later.ran', '')"`,
        unit: `node ${VITEST} run --config vitest.config.ts`,
        evidence: `node ${join(pkg, 'evidence.mjs')}`,
        sleep: `node -e "setTimeout(() => {}, 60000)"`,
        slowmark: `node -e "setTimeout(() => require('fs').writeFileSync('mark', ''), 1500)"`,
        needmark: `node -e "process.exit(require('fs').existsSync('mark') ? 0 : 1)"`,
      },
    }),
  );
});

afterAll(() => {
  if (pkg) rmSync(pkg, { recursive: true, force: true });
});

describe.each([1, 3])('run-suites with --jobs %i', (jobs) => {
  it('runs every suite past a failure, exits non-zero and counts from the real results', () => {
    rmSync(join(pkg, 'later.ran'), { force: true });
    rmSync(join(pkg, 'reports'), { recursive: true, force: true });
    const r = runRunner(['--jobs', String(jobs), 'fail', 'later', 'unit', 'evidence']);
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, out).toBe(1);
    expect(existsSync(join(pkg, 'later.ran')), out).toBe(true);
    expect(out).toContain('failing on purpose');
    const t = table(r.stdout);
    // columns: suite, state, tests, passed, failed, not run, time, counts from
    expect(t.get('fail')?.slice(1, 6), out).toEqual(['failed', '-', '-', '-', '-']);
    expect(t.get('later')?.slice(1, 6), out).toEqual(['ok', '-', '-', '-', '-']);
    expect(t.get('unit')?.slice(1, 6), out).toEqual(
      ['failed', PASS + FAIL + SKIP, PASS, FAIL, SKIP].map(String), // vitest exits 1 on a failing test
    );
    const evTotal = EV.pass + EV.fail + EV.notRun;
    expect(t.get('evidence')?.slice(1, 6), out).toEqual(['ok', evTotal, EV.pass, EV.fail, EV.notRun].map(String));
    expect(t.get('total')?.slice(1, 6), out).toEqual(
      ['2 not ok', PASS + FAIL + SKIP + evTotal, PASS + EV.pass, FAIL + EV.fail, SKIP + EV.notRun].map(String),
    );
  });
});

it('exits 0 when every suite passes; a --then stage starts only after the stage before it ended', () => {
  rmSync(join(pkg, 'mark'), { force: true });
  const r = runRunner(['--jobs', '3', 'later', 'slowmark', 'evidence', '--then', 'needmark']);
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  expect(table(r.stdout).get('needmark')?.[1], r.stdout).toBe('ok');
  // Without the barrier the same suites fail: needmark runs before slowmark has written its mark.
  rmSync(join(pkg, 'mark'), { force: true });
  expect(runRunner(['--jobs', '3', 'slowmark', 'needmark']).status).toBe(1);
});

it('Ctrl-C stops the running suite, starts no other and exits 130', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', RUNNER, '--no-report', '--cwd', pkg, '--jobs', '1', 'sleep', 'later'],
    { cwd: REPO_ROOT, env: { ...process.env, TEST_JOBS: '' } },
  );
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('[test] start sleep')) setTimeout(() => child.kill('SIGINT'), 500);
  });
  rmSync(join(pkg, 'later.ran'), { force: true });
  const t0 = Date.now();
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(code, stdout).toBe(130);
  // Well under the sleeping suite's 60 s: it was stopped, not waited for.
  expect(Date.now() - t0, stdout).toBeLessThan(45_000);
  expect(existsSync(join(pkg, 'later.ran'))).toBe(false);
  const t = table(stdout);
  expect(t.get('sleep')?.[1], stdout).toBe('interrupted');
  expect(t.get('later')?.[1], stdout).toBe('not started');
});
