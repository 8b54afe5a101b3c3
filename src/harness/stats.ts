import type { CheckRecord } from '../report/results.js';

/** Percentiles of a sample (nearest-rank), for benchmarks that print p50/p95/p99 instead of adjectives. */
export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
}

export function summarise(samples: number[]): Summary {
  if (samples.length === 0) throw new Error('summarise: no samples');
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return {
    n: s.length,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    min: s[0]!,
    max: s.at(-1)!,
  };
}

export function formatMs(x: Summary, digits = 2): string {
  const f = (v: number) => v.toFixed(digits);
  return `n=${x.n} p50=${f(x.p50)} ms p95=${f(x.p95)} ms p99=${f(x.p99)} ms mean=${f(x.mean)} ms`;
}

export type Op = '<=' | '>=';

/**
 * How a figure is judged:
 * - `gate`: a check that is stable on a loaded, shared 2-core machine — a ratio of two things measured side by
 *   side in the same run, or an absolute ceiling with a wide margin. Missing it fails the benchmark (exit 1)
 *   and so `npm test`.
 * - `target`: an absolute figure the specification asks for (e.g. "serve starts in ≤ 3 s"). Wall-clock times
 *   move with whatever else the machine runs, so a target never fails the process: it is written as an
 *   evidence record (pass/fail, by how much) that the compliance report judges, and printed loudly.
 */
export type Judgement = 'gate' | 'target';

export interface Verdict {
  id: string;
  title: string;
  judgement: Judgement;
  actual: number;
  op: Op;
  limit: number;
  unit: string;
  met: boolean;
  /** How far past the limit a missed figure is, in the figure's unit (0 when met). */
  missedBy: number;
}

export function judge(
  id: string,
  title: string,
  judgement: Judgement,
  actual: number,
  op: Op,
  limit: number,
  unit = '',
): Verdict {
  if (!Number.isFinite(actual)) throw new Error(`judge ${id}: the measured figure is ${actual}, not a number`);
  if (!Number.isFinite(limit)) throw new Error(`judge ${id}: the limit is ${limit}, not a number`);
  const met = op === '<=' ? actual <= limit : actual >= limit;
  return { id, title, judgement, actual, op, limit, unit, met, missedBy: met ? 0 : Math.abs(actual - limit) };
}

function describe(v: Verdict): string {
  const n = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(3));
  const base = `${v.title}: ${n(v.actual)}${v.unit} ${v.op} ${n(v.limit)}${v.unit}`;
  if (v.met) return `${base} -> met`;
  const pct = v.limit === 0 ? '' : ` (${((v.missedBy / Math.abs(v.limit)) * 100).toFixed(0)} %)`;
  return `${base} -> MISSED by ${n(v.missedBy)}${v.unit}${pct}`;
}

/** The uniform evidence record of a verdict (src/report/results.ts). */
export function verdictRecord(v: Verdict, engine: CheckRecord['engine'], evidence: unknown = null): CheckRecord {
  return {
    id: v.id,
    title: v.title,
    status: v.met ? 'pass' : 'fail',
    reason: v.met ? null : `${v.judgement === 'gate' ? 'gate' : 'target'} missed: ${describe(v)}`,
    engine,
    figures: { actual: v.actual, limit: v.limit, op: v.op, unit: v.unit, judgement: v.judgement, missedBy: v.missedBy },
    evidence,
  };
}

/**
 * Collects a benchmark's verdicts: prints each one as it is judged, keeps the records for writeResults, and
 * sets a non-zero exit code only for a missed gate (see {@link Judgement}).
 */
export class Verdicts {
  readonly records: CheckRecord[] = [];
  private missedGates = 0;

  constructor(private readonly engine: CheckRecord['engine']) {}

  /** A ratio or wide ceiling: a miss fails the run. */
  gate(id: string, title: string, actual: number, op: Op, limit: number, unit = '', evidence: unknown = null): Verdict {
    return this.add(judge(id, title, 'gate', actual, op, limit, unit), evidence);
  }

  /** An absolute target: a miss is recorded and printed loudly, and judged by the report, not by the exit code. */
  target(
    id: string,
    title: string,
    actual: number,
    op: Op,
    limit: number,
    unit = '',
    evidence: unknown = null,
  ): Verdict {
    return this.add(judge(id, title, 'target', actual, op, limit, unit), evidence);
  }

  /** A figure recorded without a verdict (status pass: it was measured). */
  measured(
    id: string,
    title: string,
    figures: Record<string, number | string | boolean>,
    evidence: unknown = null,
  ): void {
    this.records.push({ id, title, status: 'pass', reason: null, engine: this.engine, figures, evidence });
  }

  get failedGates(): number {
    return this.missedGates;
  }

  private add(v: Verdict, evidence: unknown): Verdict {
    console.log(`[${v.judgement}] ${describe(v)}`);
    if (!v.met && v.judgement === 'target')
      console.log(`[target] ^ recorded for the report: an absolute time on this machine is evidence, not a gate`);
    if (!v.met && v.judgement === 'gate') {
      this.missedGates++;
      process.exitCode = 1;
    }
    this.records.push(verdictRecord(v, this.engine, evidence));
    return v;
  }
}
