import { afterAll } from 'vitest';
import { type CheckRecord, provenance, writeResults } from '../../../src/report/results.js';

/**
 * Collects this file's evidence records and writes them as reports/results/reliability-<area>.json when the
 * file finishes (src/report/results.ts is the one record shape). A test adds its record only after its
 * assertions, so a failed assertion leaves a `fail` record made by `failed()` instead.
 */
export function reliabilityEvidence(area: string, engine: string) {
  const records: CheckRecord[] = [];
  const started = new Date();
  afterAll(() => {
    if (records.length > 0) writeResults(`reliability-${area}`, provenance(engine, started), records);
  });
  return {
    records,
    pass(
      id: string,
      title: string,
      figures: CheckRecord['figures'],
      evidence: unknown = null,
      recordEngine: CheckRecord['engine'] = 'postgresql',
    ): void {
      records.push({
        id: `reliability.${area}.${id}`,
        title,
        status: 'pass',
        reason: null,
        engine: recordEngine,
        figures,
        evidence,
      });
    },
    /** Runs `fn`; records a `fail` with the error message when it throws, then re-throws. */
    async check<T>(
      id: string,
      title: string,
      fn: () => Promise<T>,
      recordEngine: CheckRecord['engine'] = 'postgresql',
    ): Promise<T> {
      try {
        return await fn();
      } catch (e) {
        records.push({
          id: `reliability.${area}.${id}`,
          title,
          status: 'fail',
          reason: (e as Error).message,
          engine: recordEngine,
          figures: null,
          evidence: null,
        });
        throw e;
      }
    },
  };
}
