import type { MetricType } from './thresholds.js';

/** One sample as k6 records it: a value with its tags. */
export interface Sample {
  metric: string;
  value: number;
  tags: Record<string, string>;
}

/** The built-in metrics this runner emits, with k6's types. */
export const BUILTIN: Record<string, MetricType> = {
  http_req_duration: 'trend',
  http_req_waiting: 'trend',
  http_req_failed: 'rate',
  http_reqs: 'counter',
  iterations: 'counter',
  iteration_duration: 'trend',
  checks: 'rate',
  data_received: 'counter',
  data_sent: 'counter',
};

export interface Aggregate {
  type: MetricType;
  count: number;
  values: Record<string, number>;
}

/** Nearest-rank-free percentile as k6 computes it (linear interpolation between closest ranks). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  if (sorted.length === 1) return sorted[0]!;
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Holds every sample of the run; aggregates a metric or a tag-filtered sub-metric on demand. */
export class MetricStore {
  private readonly samples = new Map<string, Sample[]>();
  startedAt = Date.now();
  endedAt = Date.now();

  add(s: Sample): void {
    let list = this.samples.get(s.metric);
    if (!list) {
      list = [];
      this.samples.set(s.metric, list);
    }
    list.push(s);
  }

  /** The distinct values one tag takes across a metric's samples (e.g. every check name). */
  tagValues(metric: string, tag: string): string[] {
    return [
      ...new Set((this.samples.get(metric) ?? []).map((s) => s.tags[tag]).filter((v): v is string => v !== undefined)),
    ].sort();
  }

  names(): string[] {
    return [...this.samples.keys()].sort();
  }

  values(metric: string, tags: Record<string, string> = {}): number[] {
    const list = this.samples.get(metric) ?? [];
    const entries = Object.entries(tags);
    return list.filter((s) => entries.every(([k, v]) => s.tags[k] === v)).map((s) => s.value);
  }

  aggregate(
    metric: string,
    type: MetricType,
    tags: Record<string, string> = {},
    extraPercentiles: number[] = [],
  ): Aggregate {
    const v = this.values(metric, tags);
    const seconds = Math.max(0.001, (this.endedAt - this.startedAt) / 1000);
    switch (type) {
      case 'trend': {
        const s = [...v].sort((a, b) => a - b);
        const values: Record<string, number> = {
          avg: s.length ? s.reduce((a, b) => a + b, 0) / s.length : 0,
          min: s[0] ?? 0,
          med: percentile(s, 50),
          max: s.at(-1) ?? 0,
          'p(90)': percentile(s, 90),
          'p(95)': percentile(s, 95),
          'p(99)': percentile(s, 99),
        };
        for (const p of extraPercentiles) values[`p(${p})`] = percentile(s, p);
        return { type, count: s.length, values };
      }
      case 'rate':
        return {
          type,
          count: v.length,
          values: {
            rate: v.length ? v.filter((x) => x !== 0).length / v.length : 0,
            passes: v.filter((x) => x !== 0).length,
            fails: v.filter((x) => x === 0).length,
          },
        };
      case 'counter': {
        const count = v.reduce((a, b) => a + b, 0);
        return { type, count: v.length, values: { count, rate: count / seconds } };
      }
      case 'gauge':
        return {
          type,
          count: v.length,
          values: { value: v.at(-1) ?? 0, min: v.length ? Math.min(...v) : 0, max: v.length ? Math.max(...v) : 0 },
        };
    }
  }
}
