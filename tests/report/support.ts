import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/commands/dispatch.js';
import { loadCatalogue } from '../../src/report/catalogue.js';
import { provenance, writeResults, type CheckRecord, type Provenance } from '../../src/report/results.js';

/** Helpers for the report and gate tests: result files written through the real writer, the CLI in-process. */
export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `shipspeak-${prefix}-`));

export function record(
  id: string,
  status: CheckRecord['status'] = 'pass',
  extra: Partial<CheckRecord> = {},
): CheckRecord {
  return {
    id,
    title: id,
    status,
    reason: status === 'pass' ? null : `${id} ${status}`,
    engine: null,
    figures: null,
    evidence: null,
    ...extra,
  };
}

export function suiteFile(dir: string, suite: string, records: CheckRecord[], prov: Partial<Provenance> = {}): string {
  return writeResults(suite, { ...provenance('test', new Date(), 'tests/report'), ...prov }, records, dir);
}

/**
 * One passing record for every specific selector of the catalogue, in the suite each selector names (the
 * `change` suite excepted: `shipspeak-db report` writes that one from the tree). Derived from the catalogue,
 * so a control added there is covered here without a second list.
 */
export function passingEvidence(dir: string): void {
  const bySuite = new Map<string, CheckRecord[]>();
  for (const c of loadCatalogue().controls) {
    if (c.targets) {
      // A control over absolute targets counts only records judged as targets.
      bySuite.set('perf-targets', [
        ...(bySuite.get('perf-targets') ?? []),
        record(`target (${c.id})`, 'pass', { figures: { judgement: 'target' } }),
      ]);
      continue;
    }
    for (const sel of c.evidence) {
      const [suite, glob] = [sel.slice(0, sel.indexOf(':')), sel.slice(sel.indexOf(':') + 1)];
      if (suite.includes('*') || suite === 'change') continue;
      const list = bySuite.get(suite) ?? [];
      list.push(record(`${glob.replace(/\*/g, 'x')} (${c.id})`));
      bySuite.set(suite, list);
    }
  }
  for (const s of loadCatalogue().expectedSuites)
    if (s.suite !== 'change' && !bySuite.has(s.suite)) bySuite.set(s.suite, [record('ran')]);
  for (const [suite, records] of bySuite) suiteFile(dir, suite, records);
}

export async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), ask: async () => null });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
