/**
 * Isolation as users meet it: A's meeting (with its transcript and analysis) seen from B's side by id, by
 * filter, by embedding and by count; B's attempts to change, replace or re-parent A's rows; children
 * attached to someone else's parent; anon; the tier-gated catalogue; the quota error as a client sees it;
 * the backend's view; profile escalation; the exposed functions per persona. Everything goes through
 * supabase-js; verification uses A's own client or the service_role client, never SQL.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMatrix } from '../../src/harness/matrix.js';
import { untyped } from './support/tables.js';
import { describeEachEnvironment } from './support/environments.js';
import {
  buildWorld,
  destroyWorld,
  meetingRow,
  must,
  sessionRow,
  transcriptRow,
  analysisRow,
  type World,
} from './support/world.js';
import { MATRIX_PATH } from '../paths.js';

const matrix = loadMatrix(MATRIX_PATH);
const TABLES = Object.keys(matrix.tables).sort();
const QUOTA_MESSAGE = /^meeting quota exceeded: the free tier allows (\d+) meetings per calendar month$/;

describeEachEnvironment('isolation flows through supabase-js', (ctx) => {
  let w: World;
  let A: World['users']['free_a'];
  let B: World['users']['free_b'];
  let aFix: World['owned'][string];
  let bFix: World['owned'][string];
  let startedAt = 0;
  beforeAll(async () => {
    startedAt = performance.now();
    w = await buildWorld(ctx().env);
    A = w.users.free_a;
    B = w.users.free_b;
    aFix = w.owned[A.id]!;
    bFix = w.owned[B.id]!;
  });
  afterAll(async () => {
    if (w) await destroyWorld(w);
    console.log(
      `[figures] ${ctx().env.name}: flows ran in ${Math.round(performance.now() - startedAt)} ms (users created and removed through the environment)`,
    );
  });

  describe("A's meeting is invisible to B", () => {
    it('by id (A sees it in the same instant)', async () => {
      const [bm, bt, ba, am, at, aa] = await Promise.all([
        B.client.from('meetings').select('*').eq('id', aFix.meeting),
        B.client.from('meeting_transcripts').select('*').eq('id', aFix.transcript),
        B.client.from('meeting_analyses').select('*').eq('id', aFix.analysis),
        A.client.from('meetings').select('*').eq('id', aFix.meeting),
        A.client.from('meeting_transcripts').select('*').eq('id', aFix.transcript),
        A.client.from('meeting_analyses').select('*').eq('id', aFix.analysis),
      ]);
      for (const r of [bm, bt, ba]) expect({ error: r.error, data: r.data }).toEqual({ error: null, data: [] });
      for (const r of [am, at, aa]) expect(r.data).toHaveLength(1);
      const single = await B.client.from('meetings').select('*').eq('id', aFix.meeting).single();
      expect(single.error?.code).toBe('PGRST116');
      expect(single.status).toBe(406);
    });

    it('by filter (owner, title, meeting id of the children)', async () => {
      const [byOwner, byTitle, tByMeeting, aByMeeting, ownTitle] = await Promise.all([
        B.client.from('meetings').select('id').eq('user_id', A.id),
        B.client.from('meetings').select('id, user_id').ilike('title', 'quarterly%'),
        B.client.from('meeting_transcripts').select('id').eq('meeting_id', aFix.meeting),
        B.client.from('meeting_analyses').select('id').in('meeting_id', [aFix.meeting, bFix.meeting]),
        A.client.from('meetings').select('id').ilike('title', 'quarterly%'),
      ]);
      expect(byOwner.data).toEqual([]);
      expect(tByMeeting.data).toEqual([]);
      // Both fixture meetings share the title: B's filter returns B's only, A's returns A's.
      expect(byTitle.data!.map((m) => m.user_id)).toEqual([B.id]);
      expect(ownTitle.data!.map((m) => m.id)).toEqual([aFix.meeting]);
      expect(aByMeeting.data!.map((x) => x.id)).toEqual([bFix.analysis]);
    });

    it('by embedding: meetings(*, meeting_transcripts(*)) from B, from B’s own parents and from the shared catalogue', async () => {
      const [direct, own, reverse, viaModule, innerOnA, sessionsOfA] = await Promise.all([
        B.client.from('meetings').select('*, meeting_transcripts(*), meeting_analyses(*)').eq('id', aFix.meeting),
        B.client
          .from('meetings')
          .select('id, user_id, meeting_transcripts(id, user_id), meeting_analyses(id, user_id)'),
        B.client.from('meeting_transcripts').select('id, user_id, meetings(id, user_id)'),
        B.client.from('modules').select('id, practice_sessions(id, user_id)').eq('id', w.modules.free),
        B.client.from('modules').select('id, practice_sessions!inner(id)').eq('practice_sessions.user_id', A.id),
        w.service.from('practice_sessions').select('id').eq('module_id', w.modules.free).eq('user_id', A.id),
      ]);
      expect(direct.error).toBeNull();
      expect(direct.data).toEqual([]);
      expect(own.error).toBeNull();
      expect(own.data!.length).toBeGreaterThan(0);
      for (const m of own.data!) {
        expect(m.user_id).toBe(B.id);
        // One-to-one embeds (unique meeting_id) come back as an object, one-to-many as an array.
        for (const c of [m.meeting_transcripts, m.meeting_analyses].flat()) if (c) expect(c.user_id).toBe(B.id);
      }
      expect(reverse.data!.length).toBeGreaterThan(0);
      for (const t of reverse.data!) {
        expect(t.user_id).toBe(B.id);
        expect(t.meetings?.user_id).toBe(B.id);
      }
      // A practised the same free module; B sees the module but only B's own sessions under it.
      expect(sessionsOfA.data!.length).toBeGreaterThan(0);
      expect(viaModule.data).toHaveLength(1);
      expect(viaModule.data![0]!.practice_sessions.map((s) => s.user_id)).toEqual([B.id]);
      expect(innerOnA.error).toBeNull();
      expect(innerOnA.data).toEqual([]);
    });

    it("by count (count: 'exact', head: true)", async () => {
      const tables = ['meetings', 'meeting_transcripts', 'meeting_analyses'] as const;
      const results = await Promise.all(
        tables.flatMap((t) => [
          B.client.from(t).select('*', { count: 'exact', head: true }),
          B.client.from(t).select('*', { count: 'exact', head: true }).eq('user_id', A.id),
          w.service.from(t).select('*', { count: 'exact', head: true }).eq('user_id', B.id),
          w.service.from(t).select('*', { count: 'exact', head: true }).eq('user_id', A.id),
        ]),
      );
      tables.forEach((t, i) => {
        const [bAll, bOnA, truthB, truthA] = results.slice(i * 4, i * 4 + 4);
        expect(bAll!.error, t).toBeNull();
        expect(truthA!.count, `${t}: A owns rows`).toBeGreaterThan(0);
        expect(bAll!.count, `${t}: B counts only B's rows`).toBe(truthB!.count);
        expect(bOnA!.count, `${t}: B counts none of A's rows`).toBe(0);
        expect(bAll!.data).toBeNull();
      });
    });
  });

  describe("B cannot change A's rows", () => {
    const aMeeting = async () =>
      must("A's meeting", await A.client.from('meetings').select('*').eq('id', aFix.meeting).single());

    it('update and delete affect 0 rows; A’s row is unchanged (read by A)', async () => {
      const before = await aMeeting();
      const [upd, del, updT, delA] = await Promise.all([
        B.client.from('meetings').update({ title: 'pwned' }, { count: 'exact' }).eq('id', aFix.meeting),
        B.client.from('meetings').delete({ count: 'exact' }).eq('id', aFix.meeting),
        B.client.from('practice_sessions').update({ duration_seconds: 1 }, { count: 'exact' }).eq('id', aFix.session),
        B.client.from('practice_sessions').delete({ count: 'exact' }).eq('user_id', A.id),
      ]);
      for (const r of [upd, del, updT, delA]) {
        expect(r.error).toBeNull();
        expect(r.count).toBe(0);
      }
      expect(await aMeeting()).toEqual(before);
      const session = await A.client.from('practice_sessions').select('id, duration_seconds').eq('id', aFix.session);
      expect(session.data).toHaveLength(1);
      expect(session.data![0]!.duration_seconds).not.toBe(1);
    });

    it('upsert over A’s meeting (onConflict id) is refused and changes nothing', async () => {
      const before = await aMeeting();
      const r = await B.client
        .from('meetings')
        .upsert(
          { id: aFix.meeting, user_id: B.id, title: 'taken over', storage_object_path: `${B.id}/taken-over.m4a` },
          { onConflict: 'id' },
        )
        .select();
      expect(r.error?.code).toBe('42501');
      expect(r.status).toBe(403);
      expect(await aMeeting()).toEqual(before);
      const hijacked = await w.service.from('meetings').select('id, user_id').eq('id', aFix.meeting);
      expect(hijacked.data).toEqual([{ id: aFix.meeting, user_id: A.id }]);
      // ignoreDuplicates (on conflict do nothing) tells B nothing and writes nothing.
      const quiet = await B.client
        .from('meetings')
        .upsert(
          { id: aFix.meeting, user_id: B.id, title: 'quiet', storage_object_path: `${B.id}/quiet.m4a` },
          { onConflict: 'id', ignoreDuplicates: true },
        )
        .select('id');
      expect(quiet.data ?? []).toEqual([]);
      expect(await aMeeting()).toEqual(before);
    });

    it('re-parenting is refused: owner columns, a session onto A’s meeting, and (for the backend too) a child onto another owner’s parent', async () => {
      const before = await aMeeting();
      const [steal, give, moveSession] = await Promise.all([
        B.client.from('meetings').update({ user_id: B.id }, { count: 'exact' }).eq('id', aFix.meeting),
        B.client.from('meetings').update({ user_id: A.id }, { count: 'exact' }).eq('id', bFix.meeting),
        B.client
          .from('practice_sessions')
          .update({ source_meeting_id: aFix.meeting } as never, { count: 'exact' })
          .eq('id', bFix.session),
      ]);
      for (const r of [steal, give, moveSession]) {
        expect(r.error?.code).toBe('42501');
        expect(r.status).toBe(403);
      }
      expect(await aMeeting()).toEqual(before);
      // Even the backend cannot move B's transcript under A's meeting (composite foreign key) or change an owner.
      const [moveT, ownerT] = await Promise.all([
        w.service.from('meeting_transcripts').update({ meeting_id: aFix.meeting }).eq('id', bFix.transcript),
        w.service.from('meeting_transcripts').update({ user_id: A.id }).eq('id', bFix.transcript),
      ]);
      expect(moveT.error?.code).toBe('23503');
      expect(moveT.status).toBe(409);
      expect(ownerT.error?.code).toBe('42501');
      const t = must(
        "B's transcript",
        await B.client.from('meeting_transcripts').select('meeting_id, user_id').eq('id', bFix.transcript).single(),
      );
      expect(t).toEqual({ meeting_id: bFix.meeting, user_id: B.id });
    });
  });

  describe("children cannot be attached to another user's parent", () => {
    it('B’s practice session built from A’s meeting fails like one built from no meeting (23503, HTTP 409): no existence oracle', async () => {
      const [onA, onNothing, asA] = await Promise.all([
        B.client.from('practice_sessions').insert(sessionRow(B.id, w.modules.free, aFix.meeting)),
        B.client.from('practice_sessions').insert(sessionRow(B.id, w.modules.free, randomUUID())),
        B.client.from('practice_sessions').insert(sessionRow(A.id, w.modules.free, aFix.meeting)),
      ]);
      expect(onA.error?.code).toBe('23503');
      expect(onA.status).toBe(409);
      expect(onNothing.error?.code).toBe('23503');
      expect(onNothing.error?.message).toBe(onA.error?.message);
      expect(asA.error?.code).toBe('42501');
      expect(asA.status).toBe(403);
    });

    it('the backend cannot attach a transcript or analysis of B to A’s meeting either', async () => {
      const [t, a] = await Promise.all([
        w.service.from('meeting_transcripts').insert(transcriptRow(aFix.meeting, B.id)),
        w.service.from('meeting_analyses').insert(analysisRow(bFix.meeting, B.id, aFix.transcript)),
      ]);
      expect(t.error?.code).toBe('23503');
      expect(a.error?.code).toBe('23503');
      const aSees = await A.client.from('meeting_transcripts').select('id').eq('meeting_id', aFix.meeting);
      expect(aSees.data!.map((x) => x.id)).toEqual([aFix.transcript]);
    });
  });

  it('anon gets nothing anywhere: every table, counts and every exposed function answer 401 / 42501', async () => {
    const anon = untyped(w.anon);
    const reads = await Promise.all(TABLES.map((t) => anon.from(t).select('*').limit(1)));
    const counts = await Promise.all(TABLES.map((t) => anon.from(t).select('*', { count: 'exact', head: true })));
    const rpcs = await Promise.all([
      anon.rpc('admin_usage_summary', { p_from: '2000-01-01T00:00:00Z', p_to: '2100-01-01T00:00:00Z' }),
      anon.rpc('export_my_data'),
      anon.rpc('my_audit_events', { max_events: 10 }),
      anon.rpc('purge_expired'),
    ]);
    for (const [i, r] of [...reads, ...rpcs].entries()) {
      expect({ i, code: r.error?.code, status: r.status, data: r.data }).toEqual({
        i,
        code: '42501',
        status: 401,
        data: null,
      });
    }
    // HEAD carries no body (so no error code), as with PostgREST: the status and the missing count say it.
    for (const [i, r] of counts.entries()) {
      expect({ table: TABLES[i], status: r.status, count: r.count, failed: r.error !== null }).toEqual({
        table: TABLES[i],
        status: 401,
        count: null,
        failed: true,
      });
    }
  });

  it('tier-gated catalogue: free sees free, pro sees free + pro, admin also drafts; a free user cannot practise a pro module', async () => {
    const ids = [w.modules.free, w.modules.pro, w.modules.draft];
    const [free, pro, admin] = await Promise.all(
      [A, w.users.pro, w.users.admin].map(async (u) =>
        (must('modules', await u.client.from('modules').select('id').in('id', ids)) as { id: string }[])
          .map((m) => m.id)
          .sort(),
      ),
    );
    expect(free).toEqual([w.modules.free]);
    expect(pro).toEqual([w.modules.free, w.modules.pro].sort());
    expect(admin).toEqual([...ids].sort());
    const [freeTries, proTries] = await Promise.all([
      A.client.from('practice_sessions').insert(sessionRow(A.id, w.modules.pro)),
      w.users.pro.client.from('practice_sessions').insert(sessionRow(w.users.pro.id, w.modules.pro)),
    ]);
    expect(freeTries.error?.code).toBe('42501');
    expect(proTries.error).toBeNull();
    expect(proTries.status).toBe(201);
  });

  it('quota: a free user’s uploads beyond the monthly limit fail with P0001, HTTP 400 and a clear message — even when fired concurrently', async () => {
    const q = await w.spareUser();
    const attempts = 8;
    const results = await Promise.all(
      Array.from({ length: attempts }, (_, i) => q.client.from('meetings').insert(meetingRow(q.id, `Upload ${i}`))),
    );
    const ok = results.filter((r) => !r.error);
    const refused = results.filter((r) => r.error);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.error!.code).toBe('P0001');
      expect(r.status).toBe(400);
      expect(r.error!.message).toMatch(QUOTA_MESSAGE);
      expect(r.error!.hint).toMatch(/upgrade/i);
    }
    const limit = Number(QUOTA_MESSAGE.exec(refused[0]!.error!.message)![1]);
    expect(ok.length).toBe(limit);
    const mine = await q.client.from('meetings').select('id', { count: 'exact', head: true });
    expect(mine.count).toBe(limit);
    // Deleting a meeting does not give the upload back, and the user cannot delete usage events.
    const first = must('own meetings', await q.client.from('meetings').select('id').limit(1));
    expect((await q.client.from('meetings').delete({ count: 'exact' }).eq('id', first[0]!.id)).count).toBe(1);
    const again = await q.client.from('meetings').insert(meetingRow(q.id, 'After delete'));
    expect(again.error?.code).toBe('P0001');
    const reset = await q.client.from('usage_metrics').delete().eq('user_id', q.id);
    expect(reset.error?.code).toBe('42501');
    // Billing upgrades the user (a privileged writer, as in production): the next upload goes through.
    await ctx().env.setProfile(q.id, { tier: 'pro' });
    const upgraded = await q.client.from('meetings').insert(meetingRow(q.id, 'After upgrade'));
    expect(upgraded.error).toBeNull();
    expect(upgraded.status).toBe(201);
  });

  it('quota check does not reveal another user’s quota state: B inserting a meeting for a user at quota gets 42501, not the quota error', async () => {
    const q = await w.spareUser();
    let refused = false;
    for (let i = 0; i < 50 && !refused; i++)
      refused = !!(await q.client.from('meetings').insert(meetingRow(q.id))).error;
    expect(refused).toBe(true);
    const r = await B.client.from('meetings').insert(meetingRow(q.id, 'Not mine'));
    expect(r.error?.code).toBe('42501');
    expect(r.error?.message ?? '').not.toMatch(/quota/);
  });

  it('service_role sees every user’s rows in every user-owned table, and every module', async () => {
    const owned = TABLES.filter((t) => matrix.tables[t]!.owner_column);
    const svc = untyped(w.service);
    const users = Object.values(w.users).map((u) => u.id);
    const seen = await Promise.all(
      owned.map((t) => svc.from(t).select(matrix.tables[t]!.owner_column!).in(matrix.tables[t]!.owner_column!, users)),
    );
    owned.forEach((t, i) => {
      const col = matrix.tables[t]!.owner_column!;
      const owners = new Set(((seen[i]!.data ?? []) as unknown as Record<string, string>[]).map((r) => r[col]));
      expect([...owners].sort(), t).toEqual([...users].sort());
    });
    const modules = must(
      'modules',
      await w.service.from('modules').select('id').in('id', [w.modules.free, w.modules.pro, w.modules.draft]),
    );
    expect(modules).toHaveLength(3);
  });

  describe('profile escalation through supabase-js fails and changes nothing', () => {
    const profile = async (client = A.client) => {
      const r = await client.from('profiles').select('*').eq('id', A.id);
      expect(r.data, "A's profile").toHaveLength(1);
      return r.data![0]!;
    };

    it('update({ role: "admin" }), update({ tier: "pro" }) and upserts are refused with 42501 / 403', async () => {
      const before = await profile();
      const attempts = await Promise.all([
        A.client.from('profiles').update({ role: 'admin' }).eq('id', A.id),
        A.client.from('profiles').update({ tier: 'pro' }).eq('id', A.id),
        A.client.from('profiles').update({ display_name: 'ok', tier: 'enterprise' }).eq('id', A.id),
        A.client.from('profiles').upsert({ id: A.id, role: 'admin' }),
        A.client.from('profiles').upsert({ id: A.id, tier: 'pro' }, { onConflict: 'id' }),
        A.client.from('profiles').upsert({ id: A.id, display_name: 'upserted' }),
      ]);
      for (const r of attempts) {
        expect(r.error?.code).toBe('42501');
        expect(r.status).toBe(403);
      }
      const after = await profile(w.service);
      expect(after).toEqual(before);
      expect({ role: after.role, tier: after.tier }).toEqual({ role: 'member', tier: 'free' });
      // Still not an admin in any way the database can tell.
      const summary = await A.client.rpc('admin_usage_summary', {
        p_from: '2000-01-01T00:00:00Z',
        p_to: '2100-01-01T00:00:00Z',
      });
      expect(summary.error?.code).toBe('42501');
    });

    it('A’s update of B’s profile affects 0 rows; signup metadata claiming admin/enterprise is ignored', async () => {
      const bBefore = must("B's profile", await B.client.from('profiles').select('*').eq('id', B.id).single());
      const r = await A.client
        .from('profiles')
        .update({ display_name: 'Renamed by A' }, { count: 'exact' })
        .eq('id', B.id);
      expect(r.error).toBeNull();
      expect(r.count).toBe(0);
      expect(must("B's profile", await B.client.from('profiles').select('*').eq('id', B.id).single())).toEqual(bBefore);
      const sneaky = await w.spareUser({ userMetadata: { display_name: 'Sneaky', role: 'admin', tier: 'enterprise' } });
      const p = must(
        'own profile',
        await sneaky.client.from('profiles').select('role, tier, display_name').eq('id', sneaky.id).single(),
      );
      expect(p).toEqual({ role: 'member', tier: 'free', display_name: 'Sneaky' });
    });
  });

  describe('exposed functions per persona', () => {
    const window = { p_from: '2000-01-01T00:00:00Z', p_to: '2100-01-01T00:00:00Z' };

    it('admin_usage_summary: anon 401, members 403 with its message, admin and service_role get aggregates without user ids', async () => {
      const [anon, free, pro, admin, service, bad] = await Promise.all([
        w.anon.rpc('admin_usage_summary', window),
        A.client.rpc('admin_usage_summary', window),
        w.users.pro.client.rpc('admin_usage_summary', window),
        w.users.admin.client.rpc('admin_usage_summary', window),
        w.service.rpc('admin_usage_summary', window),
        w.users.admin.client.rpc('admin_usage_summary', { p_from: window.p_to, p_to: window.p_from }),
      ]);
      expect([anon.status, anon.error?.code]).toEqual([401, '42501']);
      for (const r of [free, pro]) {
        expect([r.status, r.error?.code, r.error?.message]).toEqual([
          403,
          '42501',
          'admin_usage_summary is for admins only',
        ]);
      }
      expect(admin.error).toBeNull();
      expect(service.error).toBeNull();
      expect(admin.data!.length).toBeGreaterThan(0);
      for (const row of admin.data!)
        expect(Object.keys(row).sort()).toEqual(['events', 'kind', 'tier', 'total_quantity', 'users']);
      expect(admin.data!.some((r) => r.kind === 'meeting_uploaded')).toBe(true);
      expect([bad.status, bad.error?.code]).toEqual([400, '22023']);
    });

    it('export_my_data: each member gets only their own rows; anon and service_role are refused', async () => {
      const [a, b, anon, service] = await Promise.all([
        untyped(A.client).rpc('export_my_data'),
        untyped(B.client).rpc('export_my_data'),
        untyped(w.anon).rpc('export_my_data'),
        untyped(w.service).rpc('export_my_data'),
      ]);
      expect(a.error).toBeNull();
      const check = (
        doc: { user_id: string; tables: Record<string, Record<string, unknown>[]> },
        me: string,
        mine: string,
        theirs: string,
      ) => {
        expect(doc.user_id).toBe(me);
        const ids = doc.tables.meetings!.map((m) => m.id);
        expect(ids).toContain(mine);
        expect(ids).not.toContain(theirs);
        for (const [table, rows] of Object.entries(doc.tables)) {
          for (const row of rows) expect(row.user_id ?? row.id, `${table} row in ${me}'s export`).toBe(me);
        }
      };
      check(a.data, A.id, aFix.meeting, bFix.meeting);
      check(b.data, B.id, bFix.meeting, aFix.meeting);
      expect([anon.status, anon.error?.code]).toEqual([401, '42501']);
      expect([service.status, service.error?.code]).toEqual([403, '42501']);
    });

    it('my_audit_events answers members (their own events only); purge_expired is refused to members', async () => {
      const [a, purge] = await Promise.all([
        A.client.rpc('my_audit_events', { max_events: 50 }),
        untyped(A.client).rpc('purge_expired'),
      ]);
      expect(a.error).toBeNull();
      expect(Array.isArray(a.data)).toBe(true);
      expect([purge.status, purge.error?.code]).toEqual([403, '42501']);
    });
  });
});
