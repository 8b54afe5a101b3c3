import autocannon from 'autocannon';
import { summarise, type Summary } from '../../../src/harness/stats.js';
import type { DiagnosticsSnapshot } from '../../../src/serve/diagnostics.js';

/** What one autocannon run against one target measured. */
export interface LoadResult {
  target: string;
  url: string;
  connections: number;
  seconds: number;
  requests: number;
  reqPerSec: number;
  /** Per-response latency, ms, from autocannon's `response` event (autocannon's own histogram has no p95). */
  latency: Summary;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** CPU time (user + system) the server process spent per request during the run, less its idle rate, µs. */
  cpuUsPerRequest?: number;
  /** CPU time the PostgreSQL server (postmaster and backends) spent per request, less its idle rate, µs. */
  pgCpuUsPerRequest?: number;
  /** How long the server's main thread (the event loop) waited in the run queue per request, µs (proc-cpu.ts). */
  rqWaitUsPerRequest?: number;
  /** How often the server's main thread was preempted (switched out while runnable) per request (proc-cpu.ts). */
  preemptionsPerRequest?: number;
  /** serve only: its event-loop delay, GC pauses and pool queueing over the run (src/serve/diagnostics.ts). */
  serveDiagnostics?: DiagnosticsSnapshot;
  /** 1-minute load average when the run started. */
  load1?: number;
}

/** Drives `url` with `connections` keep-alive connections for `seconds` (autocannon, bounded in time). */
export function drive(
  target: string,
  url: string,
  connections: number,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<LoadResult> {
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
    throw new Error(`load is only ever sent to this machine (loopback), not ${u.hostname}`);
  const samples: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, duration: seconds, headers, timeout: 10 }, (err, r) => {
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      if (samples.length === 0)
        return reject(new Error(`${target}: no response at all from ${url} in ${seconds} s (errors ${r.errors})`));
      resolve({
        target,
        url,
        connections,
        seconds,
        requests: r.requests.total,
        reqPerSec: r.requests.total / (r.duration || seconds),
        latency: summarise(samples),
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx,
      });
    });
    instance.on('response', (_client, _status, _bytes, responseTime) => void samples.push(responseTime));
  });
}
