import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, jwtVerify } from 'jose';
import { client, descendants, isRunning, runCli, startServe, tamper, type Served } from './support.js';

/**
 * `shipspeak-db serve --seed` on in-memory PGlite, driven from outside the process: the printed keys and
 * tokens with supabase-js, users made by `shipspeak-db token`, and a clean SIGTERM at the end.
 */
const TIER_RANK: Record<string, number> = { free: 0, pro: 1 };

interface ModuleRow {
  id: string;
  slug: string;
  required_tier: string;
  is_published: boolean;
}

describe('shipspeak-db serve (PGlite, --seed)', () => {
  let served: Served;
  let children: number[] = [];

  beforeAll(async () => {
    served = await startServe(['--port', '0', '--seed']);
    children = descendants(served.pid);
  });
  afterAll(async () => {
    if (served && isRunning(served.pid)) await served.stop('SIGKILL');
  });

  it('prints a ready line with the start-up time and the API URL on 127.0.0.1', () => {
    expect(served.readyMs).toBeGreaterThan(0);
    expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(served.stdout()).toMatch(/^\s*REST URL: http:\/\/127\.0\.0\.1:\d+\/rest\/v1$/m);
    expect(served.stdout()).toMatch(/^User tokens: shipspeak-db token --user/m);
  });

  it('prints the documented local dev secret and anon/service_role keys signed with it', async () => {
    expect(served.secret).toBe('super-secret-jwt-token-with-at-least-32-characters-long');
    expect(served.stdout()).toMatch(/local use only/);
    const key = new TextEncoder().encode(served.secret);
    expect((await jwtVerify(served.anonKey, key)).payload.role).toBe('anon');
    expect((await jwtVerify(served.serviceKey, key)).payload.role).toBe('service_role');
    for (const persona of ['free_a', 'free_b', 'pro', 'admin']) {
      const token = served.personaTokens[persona];
      expect(token, `token printed for ${persona}`).toBeDefined();
      const { payload } = await jwtVerify(token!, key, { audience: 'authenticated' });
      expect(payload.role).toBe('authenticated');
    }
  });

  it('anon key: accepted as the anon role, which the schema keeps out of the catalogue (42501, 401)', async () => {
    const anon = client(served.url, served.anonKey);
    const { data, error, status } = await anon.from('modules').select('id');
    expect(data).toBeNull();
    expect(status).toBe(401);
    expect(error?.code).toBe('42501');
  });

  it('service_role key sees every module; printed user tokens see exactly their tier', async () => {
    const service = client(served.url, served.anonKey, { accessToken: served.serviceKey });
    const all = await service.from('modules').select('id, slug, required_tier, is_published').order('id');
    expect(all.error).toBeNull();
    const modules = all.data as ModuleRow[];
    expect(modules.some((m) => !m.is_published)).toBe(true);
    for (const m of modules)
      expect(TIER_RANK[m.required_tier], `tier ${m.required_tier} known to this test`).toBeDefined();

    for (const [persona, tier] of [
      ['free_a', 'free'],
      ['pro', 'pro'],
    ] as const) {
      const user = client(served.url, served.anonKey, { accessToken: served.personaTokens[persona]! });
      const seen = await user.from('modules').select('id').order('id');
      expect(seen.error).toBeNull();
      const expected = modules
        .filter((m) => m.is_published && TIER_RANK[m.required_tier]! <= TIER_RANK[tier]!)
        .map((m) => m.id);
      expect(seen.data!.map((r) => r.id)).toEqual(expected);
    }
  });

  it('a tampered key or token gets 401 PGRST301 from the data API and 403 bad_jwt from Auth (as GoTrue)', async () => {
    for (const bad of [tamper(served.anonKey), tamper(served.serviceKey), tamper(served.personaTokens.pro!)]) {
      const res = await fetch(`${served.url}/rest/v1/modules?select=id`, {
        headers: { apikey: bad, authorization: `Bearer ${bad}` },
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('PGRST301');
    }
    const admin = await fetch(`${served.url}/auth/v1/admin/users/${randomUUID()}`, {
      headers: { authorization: `Bearer ${tamper(served.serviceKey)}` },
    });
    expect(admin.status).toBe(403);
    expect(((await admin.json()) as { error_code: string }).error_code).toBe('bad_jwt');
  });

  it('`token --user <uuid>` creates the user through the signup path; the token reads its own profile', async () => {
    const id = randomUUID();
    const r = await runCli(['token', '--user', id, '--url', served.url]);
    expect(r.stderr).toContain(`created user ${id} through the signup path`);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    expect(decodeJwt(token).sub).toBe(id);

    const user = client(served.url, served.anonKey, { accessToken: token });
    const own = await user.from('profiles').select('id, tier, role');
    expect(own.error).toBeNull();
    expect(own.data).toEqual([{ id, tier: 'free', role: 'member' }]);
    // The signup trigger also made the progress rows; the service role sees them through the same API.
    const service = client(served.url, served.anonKey, { accessToken: served.serviceKey });
    const progress = await service.from('user_progress').select('user_id').eq('user_id', id);
    expect(progress.error).toBeNull();
    expect(progress.data!.length).toBeGreaterThan(0);

    // A second call finds the user instead of creating it.
    const again = await runCli(['token', '--user', id, '--url', served.url]);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('created user');
  });

  it('`token --user pro` for a seeded persona returns carol, who sees pro modules', async () => {
    const r = await runCli(['token', '--user', 'pro', '--url', served.url]);
    expect(r.code).toBe(0);
    const user = client(served.url, served.anonKey, { accessToken: r.stdout.trim() });
    const me = await user.from('profiles').select('tier');
    expect(me.data).toEqual([{ tier: 'pro' }]);
  });

  it('the Auth admin endpoint answers supabase.auth.admin.getUserById with the service_role key', async () => {
    const admin = client(served.url, served.serviceKey);
    const id = decodeJwt(served.personaTokens.free_a!).sub!;
    const { data, error } = await admin.auth.admin.getUserById(id);
    expect(error).toBeNull();
    expect(data.user?.id).toBe(id);
    const anonAdmin = client(served.url, served.anonKey);
    const denied = await anonAdmin.auth.admin.getUserById(id);
    expect(denied.error?.status).toBe(403);
  });

  it('`token` signed with another secret is refused with a one-line error', async () => {
    const r = await runCli([
      'token',
      '--user',
      'pro',
      '--url',
      served.url,
      '--jwt-secret',
      'another-secret-that-is-long-enough-0123456789',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/rejected a service_role key/);
  });

  it('SIGTERM: exit 0, the process and any child are gone', async () => {
    const code = await served.stop('SIGTERM');
    expect(code).toBe(0);
    expect(served.stderr()).toMatch(/stopped: all requests answered, database closed/);
    expect(isRunning(served.pid)).toBe(false);
    for (const child of children) expect(isRunning(child), `child ${child}`).toBe(false);
    await expect(fetch(`${served.url}/rest/v1/`)).rejects.toThrow();
  });
});
