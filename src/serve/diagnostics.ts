import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

/**
 * `SHIPSPEAK_SERVE_DIAGNOSTICS=1 shipspeak-db serve …`: where a slow request's time goes when it is not in the
 * database (issue 17 item 5, "serve stalls"). Records the event loop's delay (perf_hooks histogram: how late
 * the loop ran what was due — blocking work and time the thread spent runnable but off the CPU both show
 * here), every garbage collection pause by kind, and how many requests waited for a pooled connection.
 * Prints one `diagnostics {json}` line on SIGUSR2 (then starts afresh, so a benchmark gets one line per run)
 * and one when serve stops. Off by default: nothing is measured, no timer runs.
 *
 * Measuring costs wake-ups: the delay histogram is a timer and the pool is sampled by one. At 1 ms
 * resolution (1,000 wake-ups a second) serve answered ~30 % fewer requests at 8 connections on the loaded
 * 2-core machine, so both run at 20 ms; the event-loop utilisation (the share of time the loop was not
 * waiting for I/O) needs no timer at all.
 */
const RESOLUTION_MS = 20;
export interface DiagnosticsSnapshot {
  seconds: number;
  /** Share of the time the event loop was running callbacks rather than waiting for I/O (or on no core). */
  eventLoopUtilization: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number; mean: number };
  gc: Record<string, { count: number; totalMs: number; maxMs: number }>;
  /** Requests queued for a pooled connection, sampled every 20 ms (node-postgres pool `waitingCount`). */
  poolWaiting?: { mean: number; max: number };
}

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};

export interface Diagnostics {
  /** The figures since the start or the last take, and a fresh start. */
  take(): DiagnosticsSnapshot;
  stop(): void;
}

export function startDiagnostics(
  log: (line: string) => void,
  pool?: { waitingCount: number },
  signal: NodeJS.Signals | null = 'SIGUSR2',
): Diagnostics {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  let elu = performance.eventLoopUtilization();
  delay.enable();
  let gc: DiagnosticsSnapshot['gc'] = {};
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = GC_KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
      const k = gc[kind] ?? { count: 0, totalMs: 0, maxMs: 0 };
      gc[kind] = k;
      k.count++;
      k.totalMs += e.duration;
      k.maxMs = Math.max(k.maxMs, e.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  let samples = 0;
  let waitingSum = 0;
  let waitingMax = 0;
  const sampler = pool
    ? setInterval(() => {
        samples++;
        waitingSum += pool.waitingCount;
        waitingMax = Math.max(waitingMax, pool.waitingCount);
      }, RESOLUTION_MS).unref()
    : undefined;
  let since = performance.now();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const take = (): DiagnosticsSnapshot => {
    const snap: DiagnosticsSnapshot = {
      seconds: Math.round(performance.now() - since) / 1000,
      eventLoopUtilization: Math.round(performance.eventLoopUtilization(elu).utilization * 1000) / 1000,
      eventLoopDelayMs: {
        p50: ms(delay.percentile(50)),
        p99: ms(delay.percentile(99)),
        max: ms(delay.max),
        mean: ms(delay.mean),
      },
      gc,
      ...(pool ? { poolWaiting: { mean: samples ? waitingSum / samples : 0, max: waitingMax } } : {}),
    };
    delay.reset();
    elu = performance.eventLoopUtilization();
    gc = {};
    samples = waitingSum = waitingMax = 0;
    since = performance.now();
    return snap;
  };
  const onSignal = () => log(`diagnostics ${JSON.stringify(take())}`);
  if (signal) process.on(signal, onSignal);
  return {
    take,
    stop() {
      if (signal) process.off(signal, onSignal);
      onSignal();
      observer.disconnect();
      delay.disable();
      if (sampler) clearInterval(sampler);
    },
  };
}
