import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runK6 } from './runner.js';

// The subset runner against a real HTTP server on loopback: the exit codes k6 gives, and the figures behind them.
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
let server: Server;
let base = '';
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    seen.push(`${u.pathname}?${u.searchParams.toString()}`);
    res.setHeader('content-type', 'application/json');
    if (u.pathname === '/setup') return void res.end(JSON.stringify({ token: 'from-setup' }));
    res.end(JSON.stringify({ vu: u.searchParams.get('vu') }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const quiet = () => undefined;

describe('k6 subset runner', () => {
  it('runs setup, every VU iteration and teardown, and passes when every threshold holds (exit 0)', async () => {
    seen.length = 0;
    const r = await runK6({ script: fixture('basic.js'), env: { BASE: base }, log: quiet });
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(EXIT.ok);
    expect(seen[0]).toBe('/setup?');
    expect(seen.at(-1)).toBe('/teardown?token=from-setup');
    const iterations = seen.filter((s) => s.startsWith('/hello')).sort();
    expect(iterations).toEqual(
      [1, 2].flatMap((vu) => [0, 1, 2].map((iter) => `/hello?vu=${vu}&iter=${iter}&token=from-setup`)).sort(),
    );
    expect(r.metrics.iterations!.values.count).toBe(6);
    expect(r.metrics.http_reqs!.values.count).toBe(8); // + setup and teardown
    expect(r.metrics.checks).toMatchObject({ count: 12, values: { rate: 1 } });
    expect(r.thresholds.every((t) => t.ok)).toBe(true);
  });

  it('fails a deliberately failing threshold with exit code 99, as k6 does', async () => {
    const r = await runK6({
      script: fixture('basic.js'),
      env: { BASE: base, DURATION_THRESHOLD: 'p(99)<0' },
      log: quiet,
    });
    expect(r.exitCode).toBe(EXIT.thresholdsFailed);
    const failed = r.thresholds.filter((t) => !t.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ key: 'http_req_duration', expr: 'p(99)<0' });
    expect(failed[0]!.actual).toBeGreaterThan(0);
  });

  it('shares iterations across VUs, never sends to a non-loopback host, and a failed check crosses checks rate==1', async () => {
    seen.length = 0;
    const r = await runK6({ script: fixture('mixed.js'), env: { BASE: base }, log: quiet });
    expect(r.exitCode).toBe(EXIT.thresholdsFailed);
    expect(seen).toHaveLength(7);
    expect(r.metrics.iterations!.values.count).toBe(7);
    expect(r.metrics.http_req_failed).toMatchObject({ count: 14, values: { rate: 0.5 } });
    expect(r.metrics.checks!.values.rate).toBe(0.5);
    expect(r.thresholds.find((t) => t.key === 'iterations')!.ok).toBe(true);
    expect(r.thresholds.find((t) => t.key === 'checks')!.ok).toBe(false);
  });

  it('refuses invalid options with exit code 104 and names the problem', async () => {
    const lines: string[] = [];
    const r = await runK6({ script: fixture('bad-options.js'), log: (l) => lines.push(l) });
    expect(r.exitCode).toBe(EXIT.invalidConfig);
    expect(lines.join('\n')).toMatch(/threshold "p99<5": not an expression/);
  });

  it('a module the runner does not implement, or a missing script, is a script error (exit 107), never a pass', async () => {
    const r = await runK6({ script: fixture('init-error.js'), log: quiet });
    expect(r.exitCode).toBe(EXIT.scriptException);
    expect(r.errors.join('\n')).toMatch(/module "k6\/ws" is not implemented by the k6 runner/);
    const missing = await runK6({ script: fixture('no-such-script.js'), log: quiet });
    expect(missing.exitCode).toBe(EXIT.scriptException);
    expect(missing.errors[0]).toMatch(/script not found/);
  });
});
