/**
 * A vitest reporter that turns every test into an evidence record: reports/results/vitest-<project>.json, one
 * record per test (pass / fail with the first error / not-run with the skip reason), the figures and evidence
 * a test attached (src/report/test-evidence.ts), and one failing record per test file that could not run
 * (import error, failing beforeAll) or unhandled error, so a crash never reads as a pass.
 *
 * A filtered run (file filters or -t) writes nothing: its records would be a partial suite.
 */
import { relative } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { provenance, REPO_ROOT, writeResults, type CheckRecord } from './results.js';
import './test-evidence.js';

const engineOf = (name: string): CheckRecord['engine'] =>
  /\bpglite\b/i.test(name) ? 'pglite' : /\bpostgres(ql)?\b/i.test(name) ? 'postgresql' : null;

/** Why a skipped test did not run when a suite around it failed (its beforeAll, typically). */
function notReached(failed: { name: string; message: string }[], testName: string): string | undefined {
  const f = failed.find((x) => testName.startsWith(`${x.name} > `));
  return f ? `not reached: "${f.name}" failed (${f.message.split('\n')[0]})` : undefined;
}

export default class EvidenceReporter implements Reporter {
  private ctx: Vitest | undefined;
  private startedAt = new Date();

  /** `dir`: where the results files go (default reports/results); the reporter's own test points it elsewhere. */
  constructor(private readonly options: { dir?: string } = {}) {}

  onInit(ctx: Vitest): void {
    this.ctx = ctx;
    this.startedAt = new Date();
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<{ message?: string }>): void {
    const filters = (this.ctx as unknown as { filenamePattern?: string[] } | undefined)?.filenamePattern ?? [];
    if (filters.length > 0 || this.ctx?.config.testNamePattern) {
      console.log('[evidence] filtered vitest run: reports/results not written (a partial suite is no evidence)');
      return;
    }
    const byProject = new Map<string, CheckRecord[]>();
    const push = (project: string, r: CheckRecord) => {
      const list = byProject.get(project) ?? [];
      list.push(r);
      byProject.set(project, list);
    };
    for (const m of modules) {
      const file = relative(REPO_ROOT, m.moduleId).split('\\').join('/');
      const project = m.project.name || 'default';
      const moduleErrors = m.errors();
      if (moduleErrors.length > 0 || m.state() === 'failed') {
        const msg =
          moduleErrors.map((e) => e.message).join('\n') ||
          'the test file failed outside its tests (a hook or the import)';
        if (moduleErrors.length > 0)
          push(project, {
            id: `${file} > (file)`,
            title: `${file} loads and its hooks succeed`,
            status: 'fail',
            reason: msg,
            engine: null,
            figures: null,
            evidence: null,
          });
      }
      // A failing beforeAll/afterAll leaves its tests skipped: the suite itself becomes a failing record.
      const failedSuites: { name: string; message: string }[] = [];
      for (const su of m.children.allSuites()) {
        const errs = su.errors();
        if (errs.length === 0) continue;
        const message = errs
          .map((e) => e.message)
          .join('\n')
          .slice(0, 4000);
        failedSuites.push({ name: su.fullName, message });
        push(project, {
          id: `${file} > ${su.fullName} (suite)`,
          title: `${su.fullName}: its hooks succeed`,
          status: 'fail',
          reason: message,
          engine: engineOf(su.fullName),
          figures: null,
          evidence: null,
        });
      }
      const seen = new Map<string, number>();
      for (const t of m.children.allTests()) {
        const base = `${file} > ${t.fullName}`;
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        const r = t.result();
        const meta = t.meta().shipspeakEvidence;
        const duration = t.diagnostic()?.duration;
        const status = r.state === 'passed' ? 'pass' : r.state === 'failed' ? 'fail' : 'not-run';
        const reason =
          r.state === 'failed'
            ? r.errors
                .map((e) => e.message)
                .join('\n')
                .slice(0, 4000) || 'failed'
            : status === 'not-run'
              ? (r.state === 'skipped' && r.note) ||
                notReached(failedSuites, t.fullName) ||
                /NOT RUN: ([^\]>]+)/.exec(t.fullName)?.[1]?.trim() ||
                `${r.state} (skip, todo or not reached)`
              : null;
        push(project, {
          id: n > 1 ? `${base} #${n}` : base,
          title: t.fullName,
          status,
          reason,
          engine: meta?.engine ?? engineOf(t.fullName),
          figures: {
            ...(meta?.figures ?? {}),
            ...(duration !== undefined ? { durationMs: Math.round(duration) } : {}),
          },
          evidence: meta?.evidence ?? null,
        });
      }
    }
    if (unhandled.length > 0) {
      for (const project of byProject.keys())
        push(project, {
          id: '(unhandled errors)',
          title: 'no unhandled error during the run',
          status: 'fail',
          reason: unhandled
            .map((e) => e.message ?? String(e))
            .join('\n')
            .slice(0, 4000),
          engine: null,
          figures: { count: unhandled.length },
          evidence: null,
        });
    }
    for (const [project, records] of byProject) {
      const engines = [...new Set(records.map((r) => r.engine).filter(Boolean))].join(' + ') || 'none';
      const path = writeResults(
        `vitest-${project}`,
        provenance(`vitest: ${engines}`, this.startedAt),
        records,
        this.options.dir,
      );
      const c = (s: string) => records.filter((r) => r.status === s).length;
      console.log(
        `[evidence] ${relative(process.cwd(), path)}: ${records.length} records (${c('pass')} pass, ${c('fail')} fail, ${c('not-run')} not run)`,
      );
    }
  }
}
