/**
 * The compliance report and its gate over evidence files written by the real writer (no database needed):
 * pass, a failing record in a suite no control names, a missing suite, stale evidence, corrupt and foreign
 * files, a catalogue naming an unknown control, and a really edited landed migration (a copy of sql/).
 */
import { appendFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildReport, currentTree } from '../../src/report/build.js';
import { CatalogueError, loadCatalogue } from '../../src/report/catalogue.js';
import { changeRecords } from '../../src/report/change-evidence.js';
import type { Compliance } from '../../src/report/compliance.js';
import { gate } from '../../src/report/gate.js';
import { REPO_ROOT, writeResults, provenance } from '../../src/report/results.js';
import { cli, passingEvidence, record, suiteFile, tempDir } from './support.js';

const tree = currentTree();

/** Results dir with passing evidence for every control, the real `change` suite, then the report; returns paths. */
async function report(plant: (dir: string) => void = () => undefined) {
  const results = tempDir('results');
  const out = tempDir('report');
  passingEvidence(results);
  plant(results);
  const r = await cli(['report', '--results', results, '--out', out]);
  expect(r.code, r.err).toBe(0);
  const path = join(out, 'compliance.json');
  return {
    results,
    out,
    path,
    compliance: JSON.parse(readFileSync(path, 'utf8')) as Compliance,
    gate: await cli(['gate', '--report', path]),
  };
}

describe('gate', () => {
  it('passes (exit 0) when every control has passing evidence of this commit', async () => {
    const r = await report();
    expect(r.compliance.problems).toEqual([]);
    expect(r.compliance.controls.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
    expect(r.gate.code, r.gate.err).toBe(0);
    expect(r.gate.out).toMatch(/gate passed: (\d+) of \1 required controls pass/);
    for (const f of ['compliance.md', 'compliance.html', 'junit.xml'])
      expect(readFileSync(join(r.out, f), 'utf8').length).toBeGreaterThan(500);
    expect(readFileSync(join(r.out, 'junit.xml'), 'utf8')).toMatch(/<testsuite name="change" tests="\d+" failures="0"/);
  });

  it('a failing record in a suite no control names turns ALL-1 red, exit 1, and the suite shows up as extra', async () => {
    const r = await report((dir) =>
      suiteFile(dir, 'reliability-drills', [record('failover', 'fail'), record('restore')]),
    );
    const all = r.compliance.controls.find((c) => c.id === 'ALL-1')!;
    expect(all.status).toBe('fail');
    expect(all.reason).toContain('reliability-drills:failover');
    expect(r.compliance.suites.find((s) => s.suite === 'reliability-drills')).toMatchObject({
      expected: false,
      counts: { pass: 1, fail: 1, notRun: 0 },
    });
    expect(r.compliance.unmapped).toContainEqual({ suite: 'reliability-drills', records: 2 });
    expect(r.gate.code).toBe(1);
    expect(r.gate.err).toContain('FAIL ALL-1');
    expect(readFileSync(join(r.out, 'compliance.html'), 'utf8')).toContain('reliability-drills');
  });

  it('a missed absolute target turns PERF-2 red and leaves the gate green; a missed ratio gate fails PERF-1 and the gate', async () => {
    const target = (status: 'pass' | 'fail', judgement: 'target' | 'gate') =>
      record(`serve-start-${judgement}`, status, { figures: { judgement, actual: 5.5, limit: 3 } });
    const missedTarget = await report((dir) =>
      suiteFile(dir, 'perf-serve-startup', [target('fail', 'target'), target('pass', 'gate')]),
    );
    const byId = (c: Compliance, id: string) => c.controls.find((x) => x.id === id)!;
    expect(byId(missedTarget.compliance, 'PERF-2').status).toBe('fail');
    expect(byId(missedTarget.compliance, 'PERF-1').status).toBe('pass');
    expect(byId(missedTarget.compliance, 'ALL-1').status).toBe('pass');
    expect(missedTarget.gate.code, missedTarget.gate.err).toBe(0);
    const missedGate = await report((dir) =>
      suiteFile(dir, 'perf-serve-startup', [target('pass', 'target'), target('fail', 'gate')]),
    );
    expect(byId(missedGate.compliance, 'PERF-1').status).toBe('fail');
    expect(missedGate.gate.code).toBe(1);
  });

  it('a missing suite leaves its controls not run: exit 2, naming the suite', async () => {
    const r = await report((dir) => rmSync(join(dir, 'pgtap.json')));
    expect(r.gate.code).toBe(2);
    expect(r.gate.err).toContain('no results from suite "pgtap"');
    expect(r.gate.err).toMatch(/NOT RUN ISO-2 .*pgtap:35_policy_mutations/);
    expect(r.compliance.verdict).toBe('incomplete');
  });

  it('evidence from another commit or another sql/ is stale: exit 2, naming the file, never green', async () => {
    for (const prov of [{ commit: '0'.repeat(40) }, { sqlHash: 'f'.repeat(64) }]) {
      const r = await report((dir) => suiteFile(dir, 'vitest-rls', [record('tests/rls/x')], prov));
      expect(r.gate.code).toBe(2);
      expect(r.gate.err).toMatch(/vitest-rls\.json: (stale|produced)/);
      expect(r.compliance.problems.map((p) => p.kind)).toContain('stale');
    }
  });

  it('a corrupt or foreign results file is named and fails the gate (exit 2)', async () => {
    const corrupt = await report((dir) =>
      writeFileSync(join(dir, 'vitest-serve.json'), '{"format": "shipspeak-results/1", '),
    );
    expect(corrupt.gate.code).toBe(2);
    expect(corrupt.gate.err).toMatch(/vitest-serve\.json: not valid JSON/);
    const foreign = await report((dir) =>
      writeFileSync(join(dir, 'perf.json'), JSON.stringify({ numTotalTests: 3, testResults: [] })),
    );
    expect(foreign.gate.code).toBe(2);
    expect(foreign.gate.err).toMatch(/perf\.json: not a shipspeak-results\/1 file/);
    const empty = await report((dir) => writeFileSync(join(dir, 'pgtap.json'), ''));
    expect(empty.gate.code).toBe(2);
    expect(empty.gate.err).toMatch(/pgtap\.json: not valid JSON/);
    const renamed = await report((dir) =>
      writeFileSync(join(dir, 'other.json'), readFileSync(join(dir, 'pgtap.json'))),
    );
    expect(renamed.gate.err).toMatch(/other\.json: names suite "pgtap"/);
  });

  it('strict mode (CI=true) refuses evidence produced from uncommitted changes', () => {
    const results = tempDir('results');
    passingEvidence(results);
    writeResults('change', provenance('none', new Date()), changeRecords(), results);
    const out = tempDir('report');
    const clean = { ...tree, dirty: false };
    suiteFile(results, 'vitest-serve', [record('x')], { dirty: true, commit: tree.commit, sqlHash: tree.sqlHash });
    const built = buildReport({ resultsDir: results, outDir: out, strict: true, tree: clean });
    expect(
      built.compliance.problems
        .filter((p) => p.kind === 'dirty')
        .map((p) => p.message)
        .join('\n'),
    ).toContain('vitest-serve.json: produced from uncommitted changes');
    const g = gate(join(out, 'compliance.json'), clean, true);
    expect(g.code).toBe(2);
    expect(g.lines.join('\n')).toContain('uncommitted changes');
  });

  it('a corrupt or missing compliance.json fails the gate with exit 2', async () => {
    const dir = tempDir('report');
    expect((await cli(['gate', '--report', join(dir, 'compliance.json')])).code).toBe(2);
    writeFileSync(join(dir, 'compliance.json'), '{"format":"shipspeak-compliance/1"}');
    const g = await cli(['gate', '--report', join(dir, 'compliance.json')]);
    expect(g.code).toBe(2);
    expect(g.err).toContain('not a compliance report');
  });
});

describe('catalogue', () => {
  it('validates: every control is mapped to a framework clause or is ALL-1/PERF-1, ids unique', () => {
    const cat = loadCatalogue();
    const mapped = new Set(cat.clauses.flatMap((c) => c.controls));
    expect(cat.controls.filter((c) => !mapped.has(c.id)).map((c) => c.id)).toEqual([]);
    expect(cat.controls.map((c) => c.id)).toContain('ALL-1');
  });

  it('docs/compliance.md lists every control of the catalogue, and no other', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/compliance.md'), 'utf8');
    const listed = [...doc.matchAll(/^\| ([A-Z]+-\d+) \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(
      loadCatalogue()
        .controls.map((c) => c.id)
        .sort(),
    );
  });

  it('an unknown control id in a clause is a clear error naming the file; report exits 2', async () => {
    const dir = tempDir('catalogue');
    const cat = JSON.parse(readFileSync(join(REPO_ROOT, 'src/report/controls.json'), 'utf8')) as {
      clauses: { controls: string[] }[];
      $schema?: string;
    };
    delete cat.$schema;
    cat.clauses[0]!.controls.push('ISO-99');
    const path = join(dir, 'controls.json');
    writeFileSync(path, JSON.stringify(cat));
    expect(() => loadCatalogue(path)).toThrow(CatalogueError);
    expect(() => loadCatalogue(path)).toThrow(
      /controls\.json: invalid controls catalogue:\n.*unknown control id "ISO-99"/,
    );
    const r = await cli(['report', '--results', tempDir('results'), '--out', tempDir('out'), '--catalogue', path]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('ISO-99');
    writeFileSync(path, '{"version": 1, "controls": "none"}');
    expect(() => loadCatalogue(path)).toThrow(/controls\.json: invalid controls catalogue/);
  });
});

describe('change management evidence (the change suite)', () => {
  it('an edited landed migration fails change:manifest and turns CHG-2 red, gate exit 1 naming it', async () => {
    const copy = tempDir('sql');
    cpSync(join(REPO_ROOT, 'sql'), copy, { recursive: true });
    const before = changeRecords(copy);
    expect(before.filter((r) => r.status !== 'pass')).toEqual([]);
    appendFileSync(join(copy, 'migrations', '0001_types_and_helpers.sql'), '\n-- an innocent-looking edit\n');
    const records = changeRecords(copy);
    expect(records.find((r) => r.id === 'manifest')).toMatchObject({ status: 'fail' });
    expect(records.find((r) => r.id === 'migration/0001_types_and_helpers')?.status).toBe('fail');
    const results = tempDir('results');
    passingEvidence(results);
    const out = tempDir('report');
    writeResults('change', provenance('none', new Date()), records, results);
    const built = buildReport({ resultsDir: results, outDir: out, strict: false, tree });
    const chg2 = built.compliance.controls.find((c) => c.id === 'CHG-2')!;
    expect(chg2.status).toBe('fail');
    expect(chg2.reason).toContain('0001');
    const g = gate(join(out, 'compliance.json'), tree, false);
    expect(g.code).toBe(1);
    expect(g.lines.join('\n')).toMatch(/FAIL CHG-2 .*0001/);
    expect(g.lines.join('\n')).toContain('FAIL ALL-1');
  });
});
