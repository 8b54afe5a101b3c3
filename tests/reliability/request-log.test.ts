/**
 * Access patterns (issue #16, part 6): `serve` with a request log writes one JSON line per request — time,
 * method, path, role, pseudonymous user, status, SQLSTATE, duration, request id — and never a token, a raw
 * user id, an e-mail, a query string or a body. Denials summarise per table and role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerClient } from '../../src/auth/client.js';
import { PERSONA_USERS } from '../../src/auth/signup.js';
import { mintAccessToken } from '../../src/auth/tokens.js';
import { summariseDenials, type RequestLogLine } from '../../src/serve/request-log.js';
import { DEV_JWT_SECRET, startServer, type Running } from '../../src/serve/start.js';
import { reliabilityEvidence } from './support/evidence.js';

const evidence = reliabilityEvidence('request-log', 'PGlite (serve, dev seed)');
const TRANSCRIPT = 'confidential quarterly figures said aloud';

describe('serve --request-log', () => {
  let running: Running;
  const lines: string[] = [];
  beforeAll(async () => {
    running = await startServer({
      port: 0,
      schemas: ['public'],
      anonRole: 'anon',
      jwtSecret: DEV_JWT_SECRET,
      seed: true,
      migrate: false,
      cache: true,
      log: () => undefined,
      requestLog: (l) => lines.push(l),
    });
  }, 300_000);
  afterAll(async () => running?.stop());

  it('one structured line per request, denials summarised, no token, user id, e-mail, query string or body', async () => {
    const [a, b] = [
      PERSONA_USERS.find((p) => p.persona === 'free_a')!,
      PERSONA_USERS.find((p) => p.persona === 'free_b')!,
    ];
    const tokenA = await mintAccessToken(DEV_JWT_SECRET, { sub: a.id, email: a.email }, { expiresIn: 600 });
    const asA = createServerClient(running.url, running.anonKey, { accessToken: async () => tokenA });
    const anon = createServerClient(running.url, running.anonKey);

    const own = await asA.from('profiles').select('id').eq('id', a.id);
    expect(own.error).toBeNull();
    const filtered = await asA.from('profiles').select('id').eq('display_name', b.email);
    expect(filtered.error).toBeNull();
    // A write for another user: refused by RLS (42501).
    const foreign = await asA
      .from('meetings')
      .insert({ user_id: b.id, title: TRANSCRIPT, storage_object_path: `${b.id}/x.mp4` });
    expect(foreign.error?.code).toBe('42501');
    const anonRead = await anon.from('meetings').select('id');
    const bad = await fetch(`${running.url}/rest/v1/meetings?select=id`, {
      headers: { apikey: running.anonKey, Authorization: 'Bearer not.a.jwt', 'x-request-id': 'drill-42' },
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('x-request-id')).toBe('drill-42');

    const parsed = lines.map((l) => JSON.parse(l) as RequestLogLine);
    expect(parsed.length).toBe(5);
    for (const l of parsed) {
      expect(Object.keys(l).sort()).toEqual(
        ['duration_ms', 'method', 'path', 'request_id', 'role', 'sqlstate', 'status', 'time', 'user'].sort(),
      );
      expect(l.path).not.toContain('?');
      expect(l.duration_ms).toBeGreaterThanOrEqual(0);
    }
    const mine = parsed.filter((l) => l.role === 'authenticated');
    expect(new Set(mine.map((l) => l.user)).size).toBe(1);
    expect(mine[0]!.user).toMatch(/^[0-9a-f]{16}$/);
    expect(parsed.at(-1)).toMatchObject({ request_id: 'drill-42', role: 'invalid-token', status: 401 });

    const text = lines.join('\n');
    const leaks = [a.id, b.id, a.email, b.email, tokenA, running.anonKey, TRANSCRIPT, 'not.a.jwt'].filter((s) =>
      text.includes(s),
    );
    expect(leaks).toEqual([]);

    const denials = summariseDenials(parsed);
    expect(denials).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ table: 'meetings', role: 'authenticated', status: 403, sqlstate: '42501', count: 1 }),
        expect.objectContaining({ table: 'meetings', role: 'invalid-token', status: 401 }),
      ]),
    );
    evidence.pass(
      'lines',
      'serve --request-log: one JSON line per request, pseudonymous user, SQLSTATE, no token/user id/e-mail/query string/body; denials per table and role',
      {
        requests: parsed.length,
        secretsFound: leaks.length,
        denials: denials.reduce((n, d) => n + d.count, 0),
        anonReadStatus: anonRead.status,
      },
      { sample: parsed.slice(0, 3), denials },
      'pglite',
    );
  });
});
