import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { RealtimeChannel, RealtimePostgresChangesPayload, Session, SupabaseClient } from '@supabase/supabase-js';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createAppClient, createServerClient } from '../../src/auth/client.js';
import { MIN_BCRYPT_COST } from '../../src/auth-api/passwords.js';
import { mintAccessToken } from '../../src/auth/tokens.js';
import { summarise } from '../../src/harness/stats.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { provenance, writeResults, type CheckRecord } from '../../src/report/results.js';
import { DEV_JWT_SECRET, startServer, type Running } from '../../src/serve/start.js';
import { describePg, pgUrl } from '../support/pg.js';
import { tamper } from './support.js';

/**
 * `shipspeak-db serve` as a local Supabase for an app, through supabase-js only (real HTTP and a real
 * WebSocket): Auth sign-up, sign-in, refresh, sign-out and the admin API; Realtime postgres_changes on
 * public.meetings with RLS deciding what each subscriber receives. The same suite runs on PGlite (trigger
 * queue) and on PostgreSQL 15 (wal2json). Negative checks ("B never receives A's change") wait for a later
 * change the subscriber *does* receive — delivery is in commit order — plus a grace period, never on a
 * bare timeout. Figures (sign-in and commit→client delivery latency) go to reports/results/auth-realtime.json.
 */
const OTHER_SECRET = 'another-secret-that-is-also-at-least-32-characters';
const PASSWORD = 'correct horse battery';
// Every waitFor waits for something that must happen (negative checks never wait on a bare timeout), so this only
// catches a hang: wide, because on a 2-core machine running two suites and other work a delivery took > 15 s
// (npm test at load average 25, 2026-12-03). Below testTimeout (180 s).
const EVENT_TIMEOUT_MS = 60_000;
/** Lifetime of the short-lived token in the expiry test. */
const TOKEN_LIFETIME_S = 10;
const NEGATIVE_GRACE_MS = 300;
/** Wide ceilings only: the machine is shared; these catch a broken pipeline, not a slow one. */
const DELIVERY_P99_CEILING_MS = 5_000;
const SIGN_IN_P99_CEILING_MS = 5_000;

type MeetingChange = RealtimePostgresChangesPayload<Record<string, unknown>>;

const records: CheckRecord[] = [];
const startedAt = new Date();
const engines: string[] = [];

afterAll(() => {
  if (records.length) writeResults('auth-realtime', provenance(engines.join(' + '), startedAt), records);
});

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Subscription {
  channel: RealtimeChannel;
  events: { at: number; payload: MeetingChange }[];
  statuses: string[];
  errors: string[];
}

/** Subscribes to changes of public.meetings and resolves once the server confirmed (or refused) the join. */
async function subscribe(client: SupabaseClient, name: string, filter?: string): Promise<Subscription> {
  const sub: Subscription = { channel: undefined as never, events: [], statuses: [], errors: [] };
  sub.channel = client
    .channel(`${name}-${randomUUID().slice(0, 8)}`)
    .on(
      'postgres_changes',
      { event: '*', schema: 'public', table: 'meetings', ...(filter ? { filter } : {}) },
      (payload) => sub.events.push({ at: performance.now(), payload: payload as MeetingChange }),
    );
  sub.channel.subscribe((status, err) => {
    sub.statuses.push(status);
    if (err) sub.errors.push(err.message);
  });
  await waitFor(`${name}'s subscription to be answered`, () => sub.statuses.length > 0);
  return sub;
}

const idsOf = (s: Subscription) =>
  s.events.map((e) => (e.payload.new as { id?: string }).id ?? (e.payload.old as { id?: string }).id);

interface Member {
  client: SupabaseClient;
  id: string;
  email: string;
  accessToken: string;
}

function authRealtimeSuite(
  engine: 'pglite' | 'postgresql',
  open: () => Promise<{ running: Running; close: () => Promise<void> }>,
) {
  let running: Running;
  let close: () => Promise<void>;
  let service: SupabaseClient;
  const apps: SupabaseClient[] = [];
  const app = async () => {
    const c = await createAppClient(running.url, running.anonKey);
    apps.push(c);
    return c;
  };
  const signUp = async (label: string): Promise<Member> => {
    const client = await app();
    const email = `${label}.${randomUUID().slice(0, 8)}@example.test`;
    const { data, error } = await client.auth.signUp({
      email,
      password: PASSWORD,
      options: { data: { display_name: label } },
    });
    expect(error).toBeNull();
    return { client, id: data.user!.id, email, accessToken: data.session!.access_token };
  };
  const newMeeting = async (m: Member) => {
    const { data, error } = await m.client
      .from('meetings')
      .insert({ user_id: m.id, title: 'standup', storage_object_path: `${m.id}/${randomUUID()}.webm` })
      .select('id')
      .single();
    expect(error).toBeNull();
    return (data as { id: string }).id;
  };
  const setStatus = async (id: string, status: string) => {
    const { error } = await service.from('meetings').update({ status }).eq('id', id);
    expect(error).toBeNull();
  };

  beforeAll(async () => {
    ({ running, close } = await open());
    service = createServerClient(running.url, running.serviceRoleKey);
    engines.push(engine);
  });
  afterAll(async () => {
    for (const c of apps) await c.removeAllChannels();
    await close?.();
  });

  describe('Auth', () => {
    it('signUp: auto-confirmed session with Supabase claims; the signup trigger made profile and progress rows with the defaults', async () => {
      const m = await signUp('signup');
      const claims = decodeJwt(m.accessToken);
      expect(claims).toMatchObject({
        sub: m.id,
        role: 'authenticated',
        aud: 'authenticated',
        email: m.email,
        aal: 'aal1',
        is_anonymous: false,
      });
      expect(claims.session_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(claims.amr).toEqual([expect.objectContaining({ method: 'password' })]);
      const profile = await m.client.from('profiles').select('id, role, tier').single();
      expect(profile.error).toBeNull();
      expect(profile.data).toEqual({ id: m.id, role: 'member', tier: 'free' });
      const progress = await service.from('user_progress').select('user_id').eq('user_id', m.id);
      expect(progress.error).toBeNull();
      expect(progress.data!.length).toBeGreaterThan(0);
      const user = await m.client.auth.getUser();
      expect(user.data.user?.identities?.map((i) => i.provider)).toEqual(['email']);
      expect(user.data.user?.email_confirmed_at).toBeTruthy();
      // Where Supabase Auth keeps it: a bcrypt hash, an e-mail identity, the session named by the token and its refresh token.
      const state = await running.db.query<{ hash: string; identities: number; sessions: number; tokens: number }>(
        `select u.encrypted_password as hash,
                (select count(*)::int from auth.identities i where i.user_id = u.id and i.provider = 'email') as identities,
                (select count(*)::int from auth.sessions s where s.user_id = u.id and s.id = $2::uuid) as sessions,
                (select count(*)::int from auth.refresh_tokens r where r.session_id = $2::uuid and not r.revoked) as tokens
         from auth.users u where u.id = $1`,
        [m.id, claims.session_id],
      );
      expect(state.rows[0]!.hash).toMatch(/^\$2[aby]\$\d\d\$.{53}$/);
      expect(state.rows[0]).toMatchObject({ identities: 1, sessions: 1, tokens: 1 });
    });

    it('signIn, refresh (rotation: the old refresh token is refused afterwards, and its reuse ends the session), signOut', async () => {
      const m = await signUp('rotate');
      const samples: number[] = [];
      let session: Session | undefined;
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const r = await m.client.auth.signInWithPassword({ email: m.email, password: PASSWORD });
        samples.push(performance.now() - t0);
        expect(r.error).toBeNull();
        session = r.data.session!;
      }
      const first = session!.refresh_token;
      const refreshed = await m.client.auth.refreshSession();
      expect(refreshed.error).toBeNull();
      expect(refreshed.data.session!.refresh_token).not.toBe(first);
      expect(decodeJwt(refreshed.data.session!.access_token).session_id).toBe(
        decodeJwt(session!.access_token).session_id,
      );
      const second = refreshed.data.session!.refresh_token;

      const reuse = await (await app()).auth.refreshSession({ refresh_token: first });
      expect(reuse.error?.status).toBe(400);
      expect(reuse.error?.code).toBe('refresh_token_already_used');
      // Reuse detection ended the session: its newest token is gone too.
      const after = await (await app()).auth.refreshSession({ refresh_token: second });
      expect(after.error?.code).toBe('refresh_token_not_found');

      const again = await m.client.auth.signInWithPassword({ email: m.email, password: PASSWORD });
      expect(again.error).toBeNull();
      const token = again.data.session!.access_token;
      const refresh = again.data.session!.refresh_token;
      expect((await m.client.auth.signOut()).error).toBeNull();
      const dead = await (await app()).auth.refreshSession({ refresh_token: refresh });
      expect(dead.error?.code).toBe('refresh_token_not_found');
      const gone = await m.client.auth.getUser(token);
      expect(gone.error?.name).toBe('AuthSessionMissingError');

      const s = summarise(samples);
      console.log(
        `[${engine}] sign-in latency (signInWithPassword over HTTP, bcrypt cost ${MIN_BCRYPT_COST}: the cost-10 figure is in npm run bench:auth-realtime): p50=${s.p50.toFixed(1)} ms p95=${s.p95.toFixed(1)} ms p99=${s.p99.toFixed(1)} ms`,
      );
      const ok = s.p99 <= SIGN_IN_P99_CEILING_MS;
      records.push({
        id: `auth-realtime.${engine}.sign_in_latency`,
        title: `signInWithPassword round trip on ${engine} (ceiling ${SIGN_IN_P99_CEILING_MS} ms p99)`,
        status: ok ? 'pass' : 'fail',
        reason: ok ? null : `p99 ${s.p99.toFixed(1)} ms > ${SIGN_IN_P99_CEILING_MS} ms`,
        engine,
        figures: { n: s.n, p50_ms: s.p50, p95_ms: s.p95, p99_ms: s.p99 },
        evidence: null,
      });
      expect(s.p99).toBeLessThan(SIGN_IN_P99_CEILING_MS);
    });

    it("wrong password and unknown user get GoTrue's 400 invalid_credentials", async () => {
      const m = await signUp('creds');
      const c = await app();
      for (const creds of [
        { email: m.email, password: 'wrong password' },
        { email: `nobody.${randomUUID()}@example.test`, password: PASSWORD },
      ]) {
        const r = await c.auth.signInWithPassword(creds);
        expect(r.data.session).toBeNull();
        expect(r.error?.status).toBe(400);
        expect(r.error?.code).toBe('invalid_credentials');
        expect(r.error?.message).toBe('Invalid login credentials');
      }
    });

    it('bad input: weak password, duplicate e-mail, invalid e-mail, malformed JSON, missing fields, foreign-secret token — each a GoTrue error, nothing written', async () => {
      const c = await app();
      const weak = await c.auth.signUp({ email: `weak.${randomUUID()}@example.test`, password: '123' });
      expect(weak.error?.status).toBe(422);
      expect(weak.error?.code).toBe('weak_password');
      expect((weak.error as { reasons?: string[] }).reasons).toEqual(['length']);
      const m = await signUp('dup');
      const dup = await c.auth.signUp({ email: m.email.toUpperCase(), password: PASSWORD });
      expect(dup.error?.status).toBe(422);
      expect(dup.error?.code).toBe('user_already_exists');
      const invalid = await c.auth.signUp({ email: 'not-an-email', password: PASSWORD });
      expect(invalid.error?.status).toBe(400);
      expect(invalid.error?.code).toBe('validation_failed');
      const users = await service.auth.admin.listUsers({ page: 1, perPage: 1000 });
      expect(
        users.data.users.filter(
          (u) => u.email === m.email || u.email === 'not-an-email' || u.email?.startsWith('weak.'),
        ),
      ).toHaveLength(1);

      const post = (path: string, body: string, headers: Record<string, string> = {}) =>
        fetch(`${running.url}/auth/v1${path}`, {
          method: 'POST',
          headers: {
            apikey: running.anonKey,
            'content-type': 'application/json',
            'x-supabase-api-version': '2024-01-01',
            ...headers,
          },
          body,
        });
      const malformed = await post('/signup', '{"email": ');
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ code: 'bad_json' });
      const missing = await post('/signup', '{"email": "x@example.test"}');
      expect(missing.status).toBe(422);
      expect(await missing.json()).toMatchObject({ code: 'validation_failed' });
      const noGrant = await post('/token', '{}');
      expect(noGrant.status).toBe(400);
      const noRefresh = await post('/token?grant_type=refresh_token', '{}');
      expect(noRefresh.status).toBe(400);

      const foreign = await mintAccessToken(OTHER_SECRET, { sub: m.id, email: m.email });
      const who = await fetch(`${running.url}/auth/v1/user`, {
        headers: { apikey: running.anonKey, authorization: `Bearer ${foreign}` },
      });
      expect(who.status).toBe(403);
      expect(await who.json()).toMatchObject({ error_code: 'bad_jwt' });
      // The server keeps serving: the user still signs in.
      expect((await c.auth.signInWithPassword({ email: m.email, password: PASSWORD })).error).toBeNull();
    });

    it('updateUser: user_metadata is the user’s to edit and grants nothing (role and tier stay server-controlled)', async () => {
      const m = await signUp('meta');
      const u = await m.client.auth.updateUser({ data: { role: 'admin', tier: 'pro', display_name: 'Renamed' } });
      expect(u.error).toBeNull();
      expect(u.data.user!.user_metadata).toMatchObject({ role: 'admin', tier: 'pro', display_name: 'Renamed' });
      const r = await m.client.auth.refreshSession();
      expect(decodeJwt(r.data.session!.access_token).user_metadata).toMatchObject({ role: 'admin', tier: 'pro' });
      const profile = await m.client.from('profiles').select('role, tier').single();
      expect(profile.data).toEqual({ role: 'member', tier: 'free' });
      const pw = await m.client.auth.updateUser({ password: 'a brand new password' });
      expect(pw.error).toBeNull();
      expect((await (await app()).auth.signInWithPassword({ email: m.email, password: PASSWORD })).error?.code).toBe(
        'invalid_credentials',
      );
      expect(
        (await (await app()).auth.signInWithPassword({ email: m.email, password: 'a brand new password' })).error,
      ).toBeNull();
    });

    it('admin API (service_role): create with password, list with pagination, get, update, delete = erasure; a user token is refused', async () => {
      const email = `admin-made.${randomUUID().slice(0, 8)}@example.test`;
      const created = await service.auth.admin.createUser({
        email,
        password: PASSWORD,
        email_confirm: true,
        user_metadata: { display_name: 'Made' },
      });
      expect(created.error).toBeNull();
      const id = created.data.user!.id;
      const signedIn = await (await app()).auth.signInWithPassword({ email, password: PASSWORD });
      expect(signedIn.error).toBeNull();
      const total = (await service.auth.admin.listUsers({ page: 1, perPage: 1000 })).data.users.length;
      expect(total).toBeGreaterThanOrEqual(2);
      const page1 = await service.auth.admin.listUsers({ page: 1, perPage: 1 });
      expect(page1.data.users).toHaveLength(1);
      expect((page1.data as { total?: number }).total).toBe(total);
      expect((page1.data as { nextPage?: number | null }).nextPage).toBe(2);
      const updated = await service.auth.admin.updateUserById(id, {
        user_metadata: { plan: 'x' },
        app_metadata: { cohort: 'b' },
      });
      expect(updated.data.user!.user_metadata).toMatchObject({ display_name: 'Made', plan: 'x' });
      expect(updated.data.user!.app_metadata).toMatchObject({ provider: 'email', cohort: 'b' });
      expect((await service.auth.admin.getUserById(id)).data.user!.email).toBe(email);

      const asUser = createServerClient(running.url, signedIn.data.session!.access_token);
      const refused = await asUser.auth.admin.listUsers();
      expect(refused.error?.status).toBe(403);

      const owner = signedIn.data.session!;
      const client = createServerClient(running.url, running.anonKey, { accessToken: async () => owner.access_token });
      expect(
        (await client.from('meetings').insert({ user_id: id, title: 'erase me', storage_object_path: `${id}/a.webm` }))
          .error,
      ).toBeNull();
      expect((await service.auth.admin.deleteUser(id)).error).toBeNull();
      expect((await service.auth.admin.getUserById(id)).error?.status).toBe(404);
      const auth = await running.db.query<{ n: number }>(
        `select ((select count(*) from auth.identities where user_id = $1) + (select count(*) from auth.sessions where user_id = $1)
                 + (select count(*) from auth.refresh_tokens where user_id = $1::text))::int as n`,
        [id],
      );
      expect(auth.rows[0]!.n).toBe(0);
      const left = await service.from('meetings').select('id').eq('user_id', id);
      expect(left.data).toEqual([]);
      expect((await (await app()).auth.signInWithPassword({ email, password: PASSWORD })).error?.code).toBe(
        'invalid_credentials',
      );
    });

    it('storage answers 501 with a clear JSON error instead of a PostgREST 404', async () => {
      const r = await service.storage.from('recordings').list();
      expect(r.error).not.toBeNull();
      const raw = await fetch(`${running.url}/storage/v1/bucket`, { headers: { apikey: running.anonKey } });
      expect(raw.status).toBe(501);
      expect(((await raw.json()) as { message: string }).message).toMatch(/not provided by shipspeak-db serve/);
    });
  });

  describe('Realtime postgres_changes', () => {
    it('two users each receive their own meetings’ status changes and never the other’s; anon receives nothing', async () => {
      const a = await signUp('rt-a');
      const b = await signUp('rt-b');
      const subA = await subscribe(a.client, 'a');
      const subB = await subscribe(b.client, 'b');
      const anon = await subscribe(await app(), 'anon');
      expect([subA.statuses, subB.statuses, anon.statuses]).toEqual([['SUBSCRIBED'], ['SUBSCRIBED'], ['SUBSCRIBED']]);
      const ma = await newMeeting(a);
      const mb = await newMeeting(b);
      await waitFor('A to see its insert', () => idsOf(subA).includes(ma));
      await waitFor('B to see its insert', () => idsOf(subB).includes(mb));

      const latencies: number[] = [];
      const statuses = ['queued', 'transcribing', 'analysing', 'completed'];
      for (const status of statuses) {
        for (const [m, sub] of [
          [ma, subA],
          [mb, subB],
        ] as const) {
          const n = sub.events.length;
          const t0 = performance.now();
          await setStatus(m, status);
          const e = await waitFor(`${status} of ${m}`, () =>
            sub.events.slice(n).find((x) => (x.payload.new as { status?: string }).status === status),
          );
          latencies.push(e.at - t0);
          expect(e.payload).toMatchObject({
            schema: 'public',
            table: 'meetings',
            eventType: 'UPDATE',
            new: { id: m, status },
          });
          expect(Object.keys(e.payload.old)).toEqual(['id']);
        }
      }
      // Owner-visible fields of B's meeting change, then B deletes it; then A's meeting changes once more (the sentinel A must see).
      expect((await b.client.from('meetings').update({ title: 'renamed by B' }).eq('id', mb)).error).toBeNull();
      await waitFor('B to see its rename', () =>
        subB.events.some((x) => (x.payload.new as { title?: string }).title === 'renamed by B'),
      );
      expect((await b.client.from('meetings').delete().eq('id', mb)).error).toBeNull();
      const deleted = await waitFor('B to see its delete', () =>
        subB.events.find((x) => x.payload.eventType === 'DELETE'),
      );
      expect(deleted.payload.old).toEqual({ id: mb });
      expect((await a.client.from('meetings').update({ title: 'renamed by A' }).eq('id', ma)).error).toBeNull();
      await waitFor('A to see its rename', () =>
        subA.events.some((x) => (x.payload.new as { title?: string }).title === 'renamed by A'),
      );
      await new Promise((r) => setTimeout(r, NEGATIVE_GRACE_MS));
      expect(new Set(idsOf(subA))).toEqual(new Set([ma]));
      expect(new Set(idsOf(subB))).toEqual(new Set([mb]));
      expect(anon.events).toEqual([]);
      expect(subA.events.length).toBe(1 + statuses.length + 1);

      const s = summarise(latencies);
      console.log(
        `[${engine}] change delivery (update request sent → supabase-js callback): p50=${s.p50.toFixed(1)} ms p95=${s.p95.toFixed(1)} ms p99=${s.p99.toFixed(1)} ms (n=${s.n})`,
      );
      const ok = s.p99 <= DELIVERY_P99_CEILING_MS;
      records.push({
        id: `auth-realtime.${engine}.delivery_latency`,
        title: `postgres_changes delivery, commit to supabase-js callback, on ${engine} (ceiling ${DELIVERY_P99_CEILING_MS} ms p99)`,
        status: ok ? 'pass' : 'fail',
        reason: ok ? null : `p99 ${s.p99.toFixed(1)} ms > ${DELIVERY_P99_CEILING_MS} ms`,
        engine,
        figures: {
          n: s.n,
          p50_ms: s.p50,
          p95_ms: s.p95,
          p99_ms: s.p99,
          capture: engine === 'pglite' ? 'trigger queue' : 'wal2json',
        },
        evidence: null,
      });
      expect(s.p99).toBeLessThan(DELIVERY_P99_CEILING_MS);
    });

    it('filters (user_id=eq.…) narrow delivery, deletes included; delete events carry only the primary key', async () => {
      const a = await signUp('rt-filter');
      const filtered = await subscribe(a.client, 'filtered', `id=eq.${randomUUID()}`);
      const all = await subscribe(a.client, 'all', `user_id=eq.${a.id}`);
      const m = await newMeeting(a);
      await waitFor('the insert', () => idsOf(all).includes(m));
      expect((await a.client.from('meetings').delete().eq('id', m)).error).toBeNull();
      const del = await waitFor('the delete', () => all.events.find((e) => e.payload.eventType === 'DELETE'));
      expect(del.payload.old).toEqual({ id: m });
      await new Promise((r) => setTimeout(r, NEGATIVE_GRACE_MS));
      expect(filtered.events).toEqual([]);
      const bad = await subscribe(a.client, 'bad-filter', 'no_such_column=eq.1');
      expect(bad.statuses).toEqual(['CHANNEL_ERROR']);
      expect(bad.errors.join()).toMatch(/invalid column for filter no_such_column/);
    });

    it('an expired token stops delivery; a token replaced by an invalid one stops delivery; a foreign-secret token cannot join', async () => {
      const a = await signUp('rt-exp');
      const watcher = await subscribe(a.client, 'watcher');
      const shortLived = await createAppClient(running.url, running.anonKey);
      apps.push(shortLived);
      const claims = decodeJwt(a.accessToken);
      await shortLived.realtime.setAuth(
        await mintAccessToken(
          DEV_JWT_SECRET,
          { sub: a.id, email: a.email, session_id: String(claims.session_id) },
          // Long enough that the sign-up, three subscriptions and the insert below are delivered before it expires
          // on a loaded machine (2 s was not: at load average 20-30 the insert reached the subscriber after expiry,
          // 2026-12-03); the close that follows is waited for, not timed.
          { expiresIn: TOKEN_LIFETIME_S },
        ),
      );
      const expiring = await subscribe(shortLived, 'expiring');
      const replacedClient = await createAppClient(running.url, running.anonKey);
      apps.push(replacedClient);
      await replacedClient.realtime.setAuth(a.accessToken);
      const replaced = await subscribe(replacedClient, 'replaced');
      const m = await newMeeting(a);
      await waitFor('all three to see the insert', () =>
        [watcher, expiring, replaced].every((s) => idsOf(s).includes(m)),
      );

      await replacedClient.realtime.setAuth(tamper(a.accessToken));
      await waitFor('the replaced channel to close', () =>
        replaced.statuses.some((s) => s === 'CLOSED' || s === 'CHANNEL_ERROR'),
      );
      await waitFor(
        'the expiring channel to close',
        () => expiring.statuses.some((s) => s === 'CLOSED' || s === 'CHANNEL_ERROR'),
        TOKEN_LIFETIME_S * 1000 + EVENT_TIMEOUT_MS,
      );

      const before = [expiring.events.length, replaced.events.length];
      await setStatus(m, 'queued');
      await waitFor('the watcher to see the change', () =>
        watcher.events.some((e) => (e.payload.new as { status?: string }).status === 'queued'),
      );
      await new Promise((r) => setTimeout(r, NEGATIVE_GRACE_MS));
      expect([expiring.events.length, replaced.events.length]).toEqual(before);

      const foreign = await createAppClient(running.url, running.anonKey);
      apps.push(foreign);
      await foreign.realtime.setAuth(await mintAccessToken(OTHER_SECRET, { sub: a.id }));
      const refused = await subscribe(foreign, 'foreign');
      expect(refused.statuses).toEqual(['CHANNEL_ERROR']);
      expect(refused.errors.join()).toMatch(/Invalid token/);
    });

    it('a frame that is not a Phoenix frame closes only that socket (1007); other subscribers keep receiving', async () => {
      const a = await signUp('rt-garbage');
      const sub = await subscribe(a.client, 'steady');
      const ws = new WebSocket(
        `${running.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${running.anonKey}&vsn=2.0.0`,
      );
      await once(ws, 'open');
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      ws.send('this is not a phoenix frame');
      expect(await closed).toBe(1007);
      const heartbeat = new WebSocket(
        `${running.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${running.anonKey}&vsn=2.0.0`,
      );
      await once(heartbeat, 'open');
      const replyP = new Promise<unknown>((r) => heartbeat.once('message', (d) => r(JSON.parse(String(d)))));
      heartbeat.send(JSON.stringify([null, '1', 'phoenix', 'heartbeat', {}]));
      expect(await replyP).toEqual([null, '1', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
      heartbeat.close();
      const v1 = new WebSocket(
        `${running.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${running.anonKey}&vsn=1.0.0`,
      );
      await once(v1, 'open');
      const v1Reply = new Promise<unknown>((r) => v1.once('message', (d) => r(JSON.parse(String(d)))));
      v1.send(JSON.stringify({ topic: 'realtime:nobody', event: 'phx_leave', payload: {}, ref: '7', join_ref: null }));
      expect(await v1Reply).toEqual({
        join_ref: null,
        ref: '7',
        topic: 'realtime:nobody',
        event: 'phx_reply',
        payload: { status: 'error', response: { reason: 'unmatched topic' } },
      });
      v1.close();
      const foreignKey = await mintAccessToken(OTHER_SECRET, { sub: a.id });
      const refused = new WebSocket(
        `${running.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${foreignKey}&vsn=2.0.0`,
      );
      const status = await new Promise<number>((r) =>
        refused.once('unexpected-response', (_req, res) => r(res.statusCode ?? 0)),
      );
      expect(status).toBe(403);
      const m = await newMeeting(a);
      await waitFor('the steady subscriber to see the insert', () => idsOf(sub).includes(m));
    });
  });
}

authRealtimeSuite('pglite', async () => {
  const running = await startServer({
    port: 0,
    schemas: ['public'],
    anonRole: 'anon',
    jwtSecret: DEV_JWT_SECRET,
    seed: false,
    migrate: true,
    cache: true,
    bcryptCost: MIN_BCRYPT_COST,
    log: () => undefined,
  });
  return { running, close: async () => void (await running.stop()) };
});

describePg('serve Auth + Realtime on PostgreSQL 15 (wal2json)', () => {
  let scratch: ScratchDatabase | undefined;
  authRealtimeSuite('postgresql', async () => {
    scratch = await createScratchDatabase(pgUrl(), 'authrt');
    const running = await startServer({
      port: 0,
      schemas: ['public'],
      anonRole: 'anon',
      jwtSecret: DEV_JWT_SECRET,
      databaseUrl: scratch.url,
      seed: false,
      migrate: true,
      cache: false,
      bcryptCost: MIN_BCRYPT_COST,
      log: () => undefined,
    });
    // Migration 0032 sets replica identity full (wal2json then carries the deleted row the DELETE check needs).
    const identity = await running.db.query<{ r: string }>(
      `select relreplident::text as r from pg_catalog.pg_class where oid = 'public.meetings'::regclass`,
    );
    expect(identity.rows[0]!.r).toBe('f');
    return {
      running,
      close: async () => {
        await running.stop();
        await scratch?.drop();
      },
    };
  });
});
