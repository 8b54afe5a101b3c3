import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';
import { MetricStore, percentile } from './metrics.js';
import { InvalidConfigError, planRun } from './options.js';
import { compare, parseThresholdExpr, parseThresholdKey } from './thresholds.js';

describe('k6 threshold expressions', () => {
  it('parses the forms k6 scripts use', () => {
    expect(parseThresholdExpr('p(99)<100')).toMatchObject({ aggregation: 'p', percentile: 99, op: '<', value: 100 });
    expect(parseThresholdExpr('p(99.9) <= 250')).toMatchObject({
      aggregation: 'p',
      percentile: 99.9,
      op: '<=',
      value: 250,
    });
    expect(parseThresholdExpr('rate==1')).toMatchObject({ aggregation: 'rate', op: '==', value: 1 });
    expect(parseThresholdExpr('avg<5')).toMatchObject({ aggregation: 'avg', op: '<', value: 5 });
    expect(parseThresholdExpr('count>0')).toMatchObject({ aggregation: 'count', op: '>', value: 0 });
    expect(parseThresholdKey('http_req_duration{name:meeting list,method:GET}')).toEqual({
      source: 'http_req_duration{name:meeting list,method:GET}',
      metric: 'http_req_duration',
      tags: { name: 'meeting list', method: 'GET' },
    });
  });

  it('refuses what k6 would refuse, naming the expression', () => {
    expect(() => parseThresholdExpr('p99<5')).toThrow(/"p99<5": not an expression/);
    expect(() => parseThresholdExpr('p(101)<5')).toThrow(/percentile 101/);
    expect(() => parseThresholdExpr('rate=1')).toThrow(/not an expression/);
    expect(() => parseThresholdKey('http_req_duration{name}')).toThrow(/must be name:value/);
    expect(() => planRun({ thresholds: { checks: ['p(95)<1'] } })).toThrow(InvalidConfigError);
    expect(() => planRun({ thresholds: { checks: ['p(95)<1'] } })).toThrow(/rate metric does not have/);
    expect(() => planRun({ thresholds: { no_such_metric: ['count>0'] } })).toThrow(/no metric "no_such_metric"/);
    expect(() => planRun({ scenarios: { s: { executor: 'ramping-arrival-rate' } } })).toThrow(
      /not implemented by this runner/,
    );
    expect(() => planRun({ scenarios: { s: { executor: 'constant-vus', vus: 2 } } })).toThrow(/needs a duration/);
    expect(() => planRun({ scenarios: { s: { executor: 'constant-vus', vus: 0, duration: '1s' } } })).toThrow(
      /vus must be a positive integer/,
    );
  });

  it('compares as k6 does', () => {
    expect(compare(99.9, '<', 100)).toBe(true);
    expect(compare(100, '<', 100)).toBe(false);
    expect(compare(100, '<=', 100)).toBe(true);
    expect(compare(0.999, '==', 1)).toBe(false);
    expect(compare(1, '===', 1)).toBe(true);
    expect(compare(2, '!=', 1)).toBe(true);
  });
});

describe('k6 options and metrics', () => {
  it('follows k6 option shortcuts', () => {
    expect(planRun({}).scenarios).toMatchObject([{ executor: 'per-vu-iterations', vus: 1, iterations: 1 }]);
    expect(planRun({ vus: 3, duration: '1m30s' }).scenarios).toMatchObject([
      { executor: 'constant-vus', vus: 3, durationMs: 90_000 },
    ]);
    expect(planRun({ vus: 5, iterations: 2 }).scenarios).toMatchObject([
      { executor: 'shared-iterations', vus: 2, iterations: 2 },
    ]);
  });

  it('parses durations and refuses malformed ones', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration(3)).toBe(3000);
    expect(() => parseDuration('10 seconds')).toThrow(/not a k6 duration/);
    expect(() => parseDuration('')).toThrow(/not a k6 duration/);
  });

  it('aggregates trends, rates and counters with tag filters', () => {
    const m = new MetricStore();
    for (let i = 1; i <= 100; i++)
      m.add({ metric: 'http_req_duration', value: i, tags: { name: i % 2 ? 'odd' : 'even' } });
    m.add({ metric: 'checks', value: 1, tags: {} });
    m.add({ metric: 'checks', value: 0, tags: {} });
    const all = m.aggregate('http_req_duration', 'trend', {}, [99]);
    expect(all.count).toBe(100);
    expect(all.values.med).toBeCloseTo(50.5);
    expect(all.values['p(99)']).toBeCloseTo(99.01);
    expect(m.aggregate('http_req_duration', 'trend', { name: 'even' }).values.min).toBe(2);
    expect(m.aggregate('checks', 'rate').values.rate).toBe(0.5);
    expect(m.aggregate('nothing', 'rate').values.rate).toBe(0); // no data: a rate==1 threshold fails, as in k6
    expect(percentile([], 99)).toBe(0);
  });
});
