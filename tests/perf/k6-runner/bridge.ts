import type { FromVu, HttpRequestMsg, HttpResponseMsg } from './protocol.js';
import type { Sample } from './metrics.js';

/**
 * What the k6 module shims (modules/*.ts) use inside a VU worker: a synchronous call to the runner (k6's
 * http.get returns the response, it does not return a promise), sample emission, and the VU's tags.
 */
export interface Bridge {
  http(req: HttpRequestMsg): HttpResponseMsg;
  emit(samples: Sample[]): void;
  log(level: 'info' | 'warn' | 'error', text: string): void;
  /** Tags every sample of this VU carries (scenario + the scenario's tags). */
  tags(): Record<string, string>;
  sleep(ms: number): void;
}

const KEY = Symbol.for('shipspeak.k6-runner.bridge');

export function setBridge(b: Bridge): void {
  (globalThis as Record<symbol, unknown>)[KEY] = b;
}

export function bridge(): Bridge {
  const b = (globalThis as Record<symbol, unknown>)[KEY] as Bridge | undefined;
  if (!b) throw new Error('k6 modules are only available inside a script run by the k6 runner');
  return b;
}

export type { FromVu };
