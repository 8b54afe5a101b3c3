/** The subset of the `k6` module the runner implements: check, group, sleep, fail. */
import { bridge } from '../bridge.js';

type Checker<T> = ((value: T) => unknown) | boolean;

export function check<T>(value: T, sets: Record<string, Checker<T>>, tags: Record<string, string> = {}): boolean {
  const b = bridge();
  let all = true;
  const samples = [];
  for (const [name, fn] of Object.entries(sets)) {
    const ok = typeof fn === 'function' ? Boolean(fn(value)) : Boolean(fn);
    all &&= ok;
    samples.push({ metric: 'checks', value: ok ? 1 : 0, tags: { ...b.tags(), ...tags, check: name } });
  }
  b.emit(samples);
  return all;
}

export function group<T>(_name: string, fn: () => T): T {
  return fn();
}

export function sleep(seconds: number): void {
  bridge().sleep(seconds * 1000);
}

export function fail(message?: string): never {
  throw new Error(message ?? 'fail() called');
}

export default { check, group, sleep, fail };
