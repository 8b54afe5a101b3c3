import { parseDuration } from './duration.js';
import { BUILTIN } from './metrics.js';
import {
  assertApplicable,
  parseThresholdExpr,
  parseThresholdKey,
  type ThresholdExpr,
  type ThresholdKey,
} from './thresholds.js';

/** The executors this runner implements (k6 has more; any other is refused, not approximated). */
export type Executor = 'constant-vus' | 'per-vu-iterations' | 'shared-iterations';

export interface Scenario {
  name: string;
  executor: Executor;
  vus: number;
  /** constant-vus: how long every VU loops. */
  durationMs?: number;
  /** per-vu-iterations: per VU; shared-iterations: in total. */
  iterations?: number;
  /** Iteration-based executors stop here even if iterations remain (k6 default 10m). */
  maxDurationMs: number;
  startTimeMs: number;
  exec: string;
  env: Record<string, string>;
  tags: Record<string, string>;
}

export interface Threshold {
  key: ThresholdKey;
  exprs: ThresholdExpr[];
}

export interface RunPlan {
  scenarios: Scenario[];
  thresholds: Threshold[];
}

/** A bad `options` export: k6 exits 104 (invalid config) on it. */
export class InvalidConfigError extends Error {}

const EXECUTORS: Executor[] = ['constant-vus', 'per-vu-iterations', 'shared-iterations'];

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new InvalidConfigError(`${what} must be a positive integer (got ${JSON.stringify(v)})`);
  return v;
}

function duration(v: unknown, what: string): number {
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new InvalidConfigError(`${what} must be a duration such as "30s" (got ${JSON.stringify(v)})`);
  try {
    return parseDuration(v, what);
  } catch (e) {
    throw new InvalidConfigError((e as Error).message);
  }
}

function stringRecord(v: unknown, what: string): Record<string, string> {
  if (v === undefined) return {};
  if (
    v === null ||
    typeof v !== 'object' ||
    Array.isArray(v) ||
    !Object.values(v).every((x) => typeof x === 'string')
  ) {
    throw new InvalidConfigError(`${what} must be an object of strings`);
  }
  return v as Record<string, string>;
}

function scenario(name: string, raw: Record<string, unknown>): Scenario {
  const executor = raw.executor;
  if (typeof executor !== 'string' || !EXECUTORS.includes(executor as Executor)) {
    throw new InvalidConfigError(
      `scenario "${name}": executor ${JSON.stringify(executor)} is not implemented by this runner (it has ${EXECUTORS.join(', ')}); run the script with real k6 for others`,
    );
  }
  const vus = raw.vus === undefined ? 1 : positiveInt(raw.vus, `scenario "${name}": vus`);
  const s: Scenario = {
    name,
    executor: executor as Executor,
    vus,
    maxDurationMs:
      raw.maxDuration === undefined ? 600_000 : duration(raw.maxDuration, `scenario "${name}": maxDuration`),
    startTimeMs: raw.startTime === undefined ? 0 : duration(raw.startTime, `scenario "${name}": startTime`),
    exec:
      raw.exec === undefined
        ? 'default'
        : typeof raw.exec === 'string'
          ? raw.exec
          : (() => {
              throw new InvalidConfigError(`scenario "${name}": exec must be a function name`);
            })(),
    env: stringRecord(raw.env, `scenario "${name}": env`),
    tags: stringRecord(raw.tags, `scenario "${name}": tags`),
  };
  if (s.executor === 'constant-vus') {
    if (raw.duration === undefined) throw new InvalidConfigError(`scenario "${name}": constant-vus needs a duration`);
    s.durationMs = duration(raw.duration, `scenario "${name}": duration`);
  } else {
    s.iterations = raw.iterations === undefined ? 1 : positiveInt(raw.iterations, `scenario "${name}": iterations`);
    if (s.executor === 'shared-iterations' && s.iterations < s.vus) s.vus = s.iterations; // k6 caps VUs at iterations
  }
  return s;
}

/** k6's option rules: `scenarios`, else the vus/duration/iterations shortcuts, else one VU, one iteration. */
export function planRun(options: unknown): RunPlan {
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || Array.isArray(o)) throw new InvalidConfigError('options must be an object');
  let scenarios: Scenario[];
  if (o.scenarios !== undefined) {
    if (o.scenarios === null || typeof o.scenarios !== 'object')
      throw new InvalidConfigError('options.scenarios must be an object');
    scenarios = Object.entries(o.scenarios as Record<string, Record<string, unknown>>).map(([n, s]) => scenario(n, s));
    if (scenarios.length === 0) throw new InvalidConfigError('options.scenarios is empty');
  } else if (o.duration !== undefined) {
    scenarios = [scenario('default', { executor: 'constant-vus', vus: o.vus ?? 1, duration: o.duration })];
  } else if (o.iterations !== undefined) {
    scenarios = [scenario('default', { executor: 'shared-iterations', vus: o.vus ?? 1, iterations: o.iterations })];
  } else {
    scenarios = [scenario('default', { executor: 'per-vu-iterations', vus: o.vus ?? 1, iterations: 1 })];
  }
  const thresholds: Threshold[] = [];
  const raw = o.thresholds ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new InvalidConfigError('options.thresholds must be an object');
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    try {
      const key = parseThresholdKey(k);
      const list = Array.isArray(v) ? v : [v];
      const exprs = list.map((item) => {
        const src =
          typeof item === 'string'
            ? item
            : item && typeof item === 'object' && typeof (item as { threshold?: unknown }).threshold === 'string'
              ? (item as { threshold: string }).threshold
              : null;
        if (src === null) throw new Error(`threshold ${k}: each entry must be a string or { threshold: string }`);
        return parseThresholdExpr(src);
      });
      const type = BUILTIN[key.metric];
      if (!type)
        throw new Error(
          `threshold ${k}: no metric "${key.metric}" (this runner has ${Object.keys(BUILTIN).join(', ')})`,
        );
      for (const e of exprs) assertApplicable(e, type, k);
      thresholds.push({ key, exprs });
    } catch (e) {
      throw new InvalidConfigError((e as Error).message);
    }
  }
  return { scenarios, thresholds };
}
