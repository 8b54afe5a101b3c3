/**
 * How a vitest test attaches evidence to its own record (read by src/report/vitest-reporter.ts):
 *
 *   it('…', ({ task }) => { attachEvidence(task, { figures: { head }, evidence: {...}, engine: 'postgresql' }); });
 *
 * The values travel in vitest's task meta (JSON-serialisable), so the reporter needs no side channel.
 */
import type { CheckRecord } from './results.js';

export interface TestEvidence {
  figures?: CheckRecord['figures'];
  evidence?: unknown;
  engine?: CheckRecord['engine'];
}

declare module '@vitest/runner' {
  interface TaskMeta {
    shipspeakEvidence?: TestEvidence;
  }
}

export function attachEvidence(task: { meta: { shipspeakEvidence?: TestEvidence } }, e: TestEvidence): void {
  const prev = task.meta.shipspeakEvidence ?? {};
  task.meta.shipspeakEvidence = {
    ...prev,
    ...e,
    figures: e.figures || prev.figures ? { ...(prev.figures ?? {}), ...(e.figures ?? {}) } : undefined,
  };
}
