import { existsSync, readFileSync } from 'node:fs';
import type { Compliance } from './compliance.js';
import { check } from './json-schema.js';
import { staleness, type TreeState } from './load-results.js';

/**
 * The CI gate over reports/compliance.json. Exit codes: 0 every required control passes on evidence of the
 * current commit and sql/ hash; 1 a required control fails; 2 the report or its evidence is missing,
 * corrupt, partial (a suite missing, a control not run) or stale. One line per reason.
 */
export const GATE_PASS = 0;
export const GATE_FAIL = 1;
export const GATE_INCOMPLETE = 2;

export function gate(reportPath: string, tree: TreeState, strict: boolean): { code: number; lines: string[] } {
  if (!existsSync(reportPath))
    return { code: GATE_INCOMPLETE, lines: [`${reportPath}: no report (run shipspeak-db report first)`] };
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(reportPath, 'utf8'));
  } catch (e) {
    return { code: GATE_INCOMPLETE, lines: [`${reportPath}: not valid JSON (${(e as Error).message})`] };
  }
  const violations = check('compliance', data);
  if (violations.length)
    return { code: GATE_INCOMPLETE, lines: violations.map((v) => `${reportPath}: not a compliance report: ${v}`) };
  const c = data as Compliance;
  const incomplete: string[] = [];
  const built = staleness({ ...c.tree, engine: '', startedAt: '', endedAt: '', command: '' }, tree, strict);
  if (built) incomplete.push(`${reportPath}: stale report: ${built.message}`);
  for (const su of c.suites) {
    const st = staleness(su.provenance, tree, strict);
    if (st) incomplete.push(`${su.file}: stale evidence of suite ${su.suite}: ${st.message}`);
  }
  for (const p of c.problems)
    if (!incomplete.some((l) => l.includes(p.message))) incomplete.push(`${p.kind}: ${p.message}`);
  const failed = c.controls
    .filter((x) => x.required && x.status === 'fail')
    .map((x) => `FAIL ${x.id} ${x.title}: ${x.reason ?? ''}`);
  const notRun = c.controls
    .filter((x) => x.required && x.status === 'not-run')
    .map((x) => `NOT RUN ${x.id} ${x.title}: ${x.reason ?? ''}`);
  if (failed.length) return { code: GATE_FAIL, lines: [...failed, ...incomplete, ...notRun] };
  if (incomplete.length || notRun.length) return { code: GATE_INCOMPLETE, lines: [...incomplete, ...notRun] };
  const n = c.controls.filter((x) => x.required).length;
  return {
    code: GATE_PASS,
    lines: [
      `gate passed: ${n} of ${n} required controls pass on commit ${tree.commit.slice(0, 12)} (${c.summary.records.pass} checks passed, ${c.summary.records.notRun} not run)`,
    ],
  };
}
