/**
 * `SHIPSPEAK_SERVE_DIAGNOSTICS=1` (src/serve/diagnostics.ts): what the throughput bench reads to tell a stalled
 * event loop from a starved one. A loop blocked on purpose must show as delay; a forced GC as a pause; a take
 * starts the figures afresh; the line logged on the signal is the same JSON.
 */
import { expect, it } from 'vitest';
import { startDiagnostics } from '../../src/serve/diagnostics.js';

const block = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* a synchronous stall, as a long request would cause */
  }
};
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('a blocked event loop shows as delay, and a take starts afresh', async () => {
  const pool = { waitingCount: 3 };
  const d = startDiagnostics(() => undefined, pool, null);
  try {
    await tick(30);
    block(120);
    await tick(30);
    const first = d.take();
    // A machine stall can only add delay, never hide the planted block (the histogram's 20 ms timer runs late
    // by about the block's length).
    expect(first.eventLoopDelayMs.max).toBeGreaterThanOrEqual(80);
    expect(first.eventLoopUtilization).toBeGreaterThan(0);
    expect(first.poolWaiting?.max).toBe(3);
    // What take() guarantees: the window is reset. Taken again at once — no turn of the event loop in between,
    // so the histogram's timer cannot have recorded anything — the delay is empty, whatever the machine does
    // (comparing against a later window let a stall longer than the block fail the test). Without the reset
    // this would repeat the first window's ≥ 80 ms.
    const empty = d.take();
    expect(empty.eventLoopDelayMs.max).toBe(0);
    expect(empty.poolWaiting).toEqual({ mean: 0, max: 0 });
    expect(empty.gc).toEqual({});
    await tick(50);
    const second = d.take();
    expect(second.seconds).toBeGreaterThan(0);
    expect(second.poolWaiting?.max).toBe(3);
  } finally {
    d.stop();
  }
});

it('logs one "diagnostics {json}" line on its signal and one at stop', async () => {
  const lines: string[] = [];
  const d = startDiagnostics((l) => lines.push(l), undefined, 'SIGUSR2');
  process.kill(process.pid, 'SIGUSR2');
  for (let i = 0; i < 100 && lines.length === 0; i++) await tick(10);
  d.stop();
  expect(lines).toHaveLength(2);
  for (const l of lines) {
    const m = /^diagnostics (\{.*\})$/.exec(l);
    expect(m).not.toBeNull();
    expect(JSON.parse(m![1]!)).toHaveProperty('eventLoopDelayMs.p99');
  }
  // Stopped: the signal is no longer ours (a listener left behind would swallow it for the whole process).
  expect(process.listenerCount('SIGUSR2')).toBe(0);
});
