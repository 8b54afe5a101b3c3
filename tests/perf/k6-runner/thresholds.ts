/**
 * k6 thresholds: `metric{tag:value,…}` keys with expressions such as `p(99)<100`, `avg<=5`, `rate==1`,
 * `count>0`, judged after the run on the metric's (sub-metric's) aggregate, as k6 does. Anything else is
 * refused with a clear message (k6 exits 104, invalid config).
 */
export type MetricType = 'trend' | 'rate' | 'counter' | 'gauge';

export interface ThresholdExpr {
  source: string;
  /** `avg`, `min`, `max`, `med`, `p(N)`, `rate`, `count`, `value`. */
  aggregation: string;
  percentile?: number;
  op: '<' | '<=' | '>' | '>=' | '==' | '===' | '!=';
  value: number;
}

export interface ThresholdKey {
  source: string;
  metric: string;
  tags: Record<string, string>;
}

const EXPR =
  /^\s*(avg|min|max|med|rate|count|value|p\((\d+(?:\.\d+)?)\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i;

const ALLOWED: Record<MetricType, string[]> = {
  trend: ['avg', 'min', 'max', 'med', 'p'],
  rate: ['rate'],
  counter: ['count', 'rate'],
  gauge: ['value'],
};

export function parseThresholdExpr(source: string): ThresholdExpr {
  const m = EXPR.exec(source);
  if (!m)
    throw new Error(
      `threshold "${source}": not an expression k6 understands (e.g. "p(95)<200", "avg<=5", "rate==1", "count>0")`,
    );
  const agg = m[1]!.toLowerCase();
  const percentile = m[2] === undefined ? undefined : Number(m[2]);
  if (percentile !== undefined && (percentile < 0 || percentile > 100))
    throw new Error(`threshold "${source}": percentile ${percentile} is outside 0..100`);
  return {
    source,
    aggregation: percentile === undefined ? agg : 'p',
    ...(percentile === undefined ? {} : { percentile }),
    op: m[3] as ThresholdExpr['op'],
    value: Number(m[4]),
  };
}

export function parseThresholdKey(source: string): ThresholdKey {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\{(.*)\})?$/.exec(source.trim());
  if (!m) throw new Error(`threshold key "${source}": expected metric_name or metric_name{tag:value}`);
  const tags: Record<string, string> = {};
  if (m[2] !== undefined) {
    for (const part of m[2].split(',')) {
      const i = part.indexOf(':');
      if (i <= 0) throw new Error(`threshold key "${source}": tag "${part}" must be name:value`);
      tags[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    }
  }
  return { source, metric: m[1]!, tags };
}

/** Checks an expression fits its metric's type (k6 refuses `rate` on a trend, `p(95)` on a rate, …). */
export function assertApplicable(expr: ThresholdExpr, type: MetricType, key: string): void {
  if (!ALLOWED[type].includes(expr.aggregation)) {
    throw new Error(
      `threshold ${key}: "${expr.source}" uses ${expr.aggregation === 'p' ? 'p(N)' : expr.aggregation}, which a ${type} metric does not have (it has ${ALLOWED[type].join(', ').replace('p', 'p(N)')})`,
    );
  }
}

export function compare(actual: number, op: ThresholdExpr['op'], value: number): boolean {
  switch (op) {
    case '<':
      return actual < value;
    case '<=':
      return actual <= value;
    case '>':
      return actual > value;
    case '>=':
      return actual >= value;
    case '==':
    case '===':
      return actual === value;
    case '!=':
      return actual !== value;
  }
}
