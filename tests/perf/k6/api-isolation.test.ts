import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, startServe, type Served } from '../../serve/support.js';
import { EXIT, runK6 } from '../k6-runner/runner.js';

// tests/perf/k6/api-isolation.js — the file real k6 runs — through the subset runner against a real
// `shipspeak-db serve --seed` (PGlite), as three seeded users. The latency threshold is made wide here
// (P99_MS): this suite proves the script and its isolation checks, `npm run k6` measures latency.
const SCRIPT = fileURLToPath(new URL('./api-isolation.js', import.meta.url));
const USERS = ['free_a', 'free_b', 'pro'];
let serve: Served;
let tokens: string[];
const quiet = () => undefined;

function env(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SUPABASE_URL: url,
    SUPABASE_ANON_KEY: serve.anonKey,
    K6_USERS: JSON.stringify(tokens),
    VUS: '2',
    DURATION: '2s',
    P99_MS: '60000',
    ...extra,
  };
}

beforeAll(async () => {
  serve = await startServe(['--port', '0', '--seed'], childEnv(), 120_000);
  tokens = USERS.map((u) => serve.personaTokens[u]!);
  expect(tokens.every(Boolean)).toBe(true);
}, 180_000);
afterAll(async () => {
  await serve?.stop();
});

describe('k6 api-isolation.js', () => {
  it('holds every threshold against serve: each user sees only their own rows on every request', async () => {
    const r = await runK6({ script: SCRIPT, env: env(serve.url), log: quiet });
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(EXIT.ok);
    expect(Object.keys(r.checks)).toEqual(
      expect.arrayContaining(['meeting list: only own rows', "other user's meeting: hidden", 'profiles: only own']),
    );
    for (const [name, c] of Object.entries(r.checks)) {
      expect(c.fails, name).toBe(0);
      expect(c.passes, name).toBeGreaterThan(0);
    }
  }, 120_000);

  it('fails (exit 99) when a gateway leaks another user’s rows: a proxy that swaps the users of the meeting list', async () => {
    // The fault the checks exist for: a request answered with another user's claims (e.g. a pooled
    // connection keeping the previous request's role). The proxy answers user i's list with user i+1's token.
    const target = new URL(serve.url);
    const proxy: Server = createServer((req, res) => {
      const headers = { ...req.headers };
      if (req.url?.startsWith('/rest/v1/meetings') && req.url.includes('limit=20')) {
        const i = tokens.findIndex((t) => headers.authorization === `Bearer ${t}`);
        if (i >= 0) headers.authorization = `Bearer ${tokens[(i + 1) % tokens.length]}`;
      }
      const up = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const r = await runK6({ script: SCRIPT, env: env(url), log: quiet });
      expect(r.exitCode).toBe(EXIT.thresholdsFailed);
      expect(r.checks['meeting list: only own rows']!.fails).toBeGreaterThan(0);
      expect(r.checks['meeting list: only own rows']!.passes).toBe(0);
      expect(r.checks['profiles: only own']!.fails).toBe(0);
      expect(r.thresholds.find((t) => t.key === 'checks')!.ok).toBe(false);
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  }, 120_000);
});
