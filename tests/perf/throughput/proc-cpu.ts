import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time from Linux /proc, for the throughput benchmarks: what one process, or a PostgreSQL server with all
 * its backends, spent. Unlike req/s it hardly depends on what else the shared machine runs.
 */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Fields after the command name of /proc/<pid>/stat (field 3 first), or null once the process is gone. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

const ticks = (f: string[], ...at: number[]) => (at.reduce((a, i) => a + Number(f[i]), 0) * 1e6) / CLOCK_TICKS;

/** CPU time (user + system) a process has used so far, µs (fields 14 and 15 of stat). */
export function cpuMicros(pid: number): number {
  const f = statFields(pid);
  if (!f) throw new Error(`process ${pid} is gone`);
  return ticks(f, 11, 12);
}

/**
 * CPU time of a PostgreSQL server so far, µs: the postmaster and every live child (backends, background
 * workers) with what their exited children used, plus the postmaster's waited-for children (backends that
 * already exited) — pgbench's and the clients' own CPU is not in it.
 */
export function postgresCpuMicros(postmasterPid: number): number {
  const own = statFields(postmasterPid);
  if (!own) throw new Error(`postmaster ${postmasterPid} is gone`);
  let total = ticks(own, 11, 12, 13, 14);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const f = statFields(Number(d));
    if (f && Number(f[1]) === postmasterPid) total += ticks(f, 11, 12, 13, 14);
  }
  return total;
}

/**
 * How long a process's main thread (for Node: the event loop) has so far waited in the kernel's run queue —
 * runnable, not running, because other work had the cores — µs, from /proc/<pid>/schedstat (its second
 * field, ns). The throughput bench divides it by the requests answered: on a shared 2-core machine this, not
 * event-loop blocking, GC or pool waits, is where a slow run's latency goes (docs/benchmarks-throughput.md).
 */
export function runQueueWaitMicros(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1000;
  } catch {
    throw new Error(`process ${pid} is gone (or /proc/<pid>/schedstat is missing: kernel without schedstats)`);
  }
}

/**
 * How often a process's main thread (for Node: the event loop) has so far been switched out while it could still
 * run — preempted, as opposed to going to sleep waiting for I/O (/proc/<pid>/status, nonvoluntary_ctxt_switches,
 * the main thread's own count). Per request it tells a server whose bursts of work outlast the scheduler's slice,
 * and which therefore queues behind every other runnable task on a busy machine, from one that finishes and sleeps.
 */
export function preemptions(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    throw new Error(`process ${pid} is gone`);
  }
  const m = /^nonvoluntary_ctxt_switches:\s*(\d+)$/m.exec(status);
  if (!m) throw new Error(`/proc/${pid}/status has no nonvoluntary_ctxt_switches`);
  return Number(m[1]);
}

/** The postmaster's pid from a data directory's postmaster.pid. */
export function postmasterPid(dataDir: string): number {
  return Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
}
