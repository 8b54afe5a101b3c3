import { basename } from 'node:path';
import type { CheckRecord } from '../../report/results.js';

/**
 * pg_prove's verbose TAP output → evidence records: one per assertion (`<file>/<n>`), one per file (plan
 * complete and every assertion ok), with the isolation-matrix cells of 30_matrix and the policy mutants of
 * 35_policy_mutations as structured evidence for the report's grid and mutation score.
 */
const HEADER = /^(?:\[[\d:]+\]\s+)?(\S+\.sql) \.+/;
const RESULT = /^(not )?ok (\d+)(?: - (.*))?$/;
const PLAN = /^1\.\.(\d+)/;
const FAILED = /^#\s+Failed test (\d+)/;
const HAVE = /^#\s+have: (.*)$/;
const MATRIX = /^(\w+): (\w+) on (\w+) -> (\w+)$/;
const MUTANT = /^weakening (\S+) \((\w+) on (\w+)\) to true is caught by (\d+) matrix cell/;

interface FileRun {
  stem: string;
  plan: number | null;
  results: { n: number; ok: boolean; description: string }[];
  have: Map<number, string>;
}

export function parseTap(output: string): FileRun[] {
  const runs: FileRun[] = [];
  let cur: FileRun | null = null;
  let lastFailed: number | null = null;
  for (const raw of output.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const h = HEADER.exec(line);
    if (h) {
      cur = { stem: basename(h[1]!, '.sql'), plan: null, results: [], have: new Map() };
      runs.push(cur);
      lastFailed = null;
      const rest = line.slice(h[0].length).trim();
      const inline = RESULT.exec(rest) ?? PLAN.exec(rest);
      if (!inline) continue;
    }
    if (!cur) continue;
    const body = h ? line.slice(h[0].length).trim() : line;
    const p = PLAN.exec(body);
    if (p) {
      cur.plan = Number(p[1]);
      continue;
    }
    const r = RESULT.exec(body);
    if (r) {
      cur.results.push({ n: Number(r[2]), ok: !r[1], description: (r[3] ?? '').trim() });
      continue;
    }
    const f = FAILED.exec(body);
    if (f) {
      lastFailed = Number(f[1]);
      continue;
    }
    const hv = HAVE.exec(body);
    if (hv && lastFailed !== null && !cur.have.has(lastFailed)) cur.have.set(lastFailed, hv[1]!.trim());
  }
  return runs;
}

export function tapRecords(output: string, files: string[], exitCode: number): CheckRecord[] {
  const runs = parseTap(output);
  const records: CheckRecord[] = [];
  for (const file of files) {
    const stem = basename(file, '.sql');
    const run = runs.find((r) => r.stem === stem);
    if (!run) {
      records.push({
        id: stem,
        title: `${stem}.sql ran`,
        status: 'fail',
        reason: `pg_prove printed no TAP for ${stem}.sql (exit ${exitCode})`,
        engine: 'postgresql',
        figures: null,
        evidence: null,
      });
      continue;
    }
    const failed = run.results.filter((x) => !x.ok);
    const complete = run.plan !== null && run.plan === run.results.length;
    records.push({
      id: stem,
      title: `${stem}.sql: every planned assertion ran and passed`,
      status: complete && failed.length === 0 ? 'pass' : 'fail',
      reason: !complete
        ? `planned ${run.plan ?? 'nothing'}, ran ${run.results.length}`
        : failed.length
          ? `${failed.length} assertion(s) failed: ${failed
              .slice(0, 5)
              .map((x) => `#${x.n} ${x.description}`)
              .join('; ')}`
          : null,
      engine: 'postgresql',
      figures: { planned: run.plan ?? 0, ran: run.results.length, failed: failed.length },
      evidence: null,
    });
    for (const t of run.results) {
      const m = MATRIX.exec(t.description);
      const mu = MUTANT.exec(t.description);
      const have = run.have.get(t.n);
      records.push({
        id: `${stem}/${t.n}`,
        title: t.description || `${stem} assertion ${t.n}`,
        status: t.ok ? 'pass' : 'fail',
        reason: t.ok ? null : `not ok${have !== undefined ? ` (have: ${have})` : ''}`,
        engine: 'postgresql',
        figures: null,
        evidence: m
          ? {
              kind: 'matrix-cells',
              cells: [
                { persona: m[1], operation: m[2], table: m[3], expected: m[4], observed: t.ok ? m[4] : (have ?? '?') },
              ],
            }
          : mu
            ? { kind: 'policy-mutation', policy: mu[1], command: mu[2], table: mu[3], cellsChanged: Number(mu[4]) }
            : null,
      });
    }
  }
  return records;
}
