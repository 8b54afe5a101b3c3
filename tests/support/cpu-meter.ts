/**
 * Per-file CPU meter for measuring the suites themselves (where `npm test`'s CPU-seconds go), opt-in:
 * SHIPSPEAK_FILE_CPU=<file> makes vitest.config.ts add this setup file, which appends one JSON line per test
 * file: the worker's own CPU (PGlite runs in-process, so its work counts here) and the CPU of the child
 * processes it waited for (CLI runs, sqlfluff, initdb), both from /proc/self/stat, plus how many children.
 * Servers that detach (a cluster's postgres) are not counted: the same blind spot as `/usr/bin/time npm test`.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { afterAll, expect } from 'vitest';

const TICK_S = 0.01; // USER_HZ is 100 on Linux

function stat(): { self: number; children: number } {
  // Fields after the ")" of the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i - 3]);
  return { self: (n(14) + n(15)) * TICK_S, children: (n(16) + n(17)) * TICK_S };
}

const out = process.env.SHIPSPEAK_FILE_CPU;
if (out) {
  // Setup files run before each test file is imported: its imports (PGlite's WASM, tsx) count too.
  const t0 = performance.now();
  const s0 = stat();
  afterAll(() => {
    const s1 = stat();
    const file = expect.getState().testPath ?? '';
    appendFileSync(
      out,
      `${JSON.stringify({
        file: file.replace(/.*\/tests\//, 'tests/'),
        wallS: (performance.now() - t0) / 1000,
        selfCpuS: s1.self - s0.self,
        childCpuS: s1.children - s0.children,
      })}\n`,
    );
  });
}
