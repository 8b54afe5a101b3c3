/**
 * The fixture every isolation check acts on, built through the API: four members (free_a, free_b, pro,
 * admin — real auth users whose tier/role a privileged writer set), and, created with the service_role
 * client as a backend would, rows for each of them in every user-owned table plus a catalogue with a free
 * and a pro published module and a draft. Everything is tracked so a real stack can be cleaned up.
 */
import { randomUUID } from 'node:crypto';
import type { ApiClient, ApiEnvironment } from '../../../src/harness/environment.js';
import { MEMBER_PERSONAS, type MemberPersona, type PersonaName } from '../../../src/auth/personas.js';
import {
  anonClient,
  createUser,
  deleteCreatedUsers,
  serviceClient,
  type CreatedUser,
} from '../../../src/harness/users.js';

export type Row = Record<string, unknown>;
export type Key = Record<string, string>;

/** Per-owner fixture rows (ids), one of each user-owned table. */
export interface OwnedFixture {
  meeting: string;
  transcript: string;
  analysis: string;
  session: string;
  feedback: string;
  usage: string;
}

export interface World {
  env: ApiEnvironment;
  service: ApiClient;
  anon: ApiClient;
  users: Record<MemberPersona, CreatedUser>;
  owned: Record<string, OwnedFixture>;
  modules: { free: string; pro: string; draft: string };
  /** Every module this run created (the catalogue part of every scoped query; deleted at clean-up). */
  moduleIds: Set<string>;
  /** Every user this run created. */
  userIds: Set<string>;
  clientOf(persona: PersonaName): ApiClient;
  /** A fresh free member outside the matrix (for checks that consume a whole row or user). */
  spareUser(overrides?: Parameters<typeof createUser>[1]): Promise<CreatedUser>;
}

/** Fails with the PostgREST error instead of letting a null `data` travel on. */
export function must<T>(
  what: string,
  r: { data: T | null; error: { code?: string; message: string } | null },
): NonNullable<T> {
  if (r.error) throw new Error(`${what}: ${r.error.code ?? ''} ${r.error.message}`);
  if (r.data === null || r.data === undefined) throw new Error(`${what}: no data`);
  return r.data as NonNullable<T>;
}

export function segments() {
  return [{ speaker: 'S1', start_ms: 0, end_ms: 1200, text: 'hello team' }];
}

// Seeds below are what the backend (service_role) writes: the AI pipeline, billing, the catalogue editor.

/**
 * Each seeded meeting counts against the owner's monthly quota (the trigger holds for service_role too),
 * so fixture set-up first clears the owner's meeting_uploaded events through the backend key. The quota
 * itself is asserted in flows.test.ts on users whose counter is never touched.
 */
export async function makeMeetingRoom(service: ApiClient, owner: string): Promise<void> {
  const r = await service.from('usage_metrics').delete().eq('user_id', owner).eq('kind', 'meeting_uploaded');
  if (r.error) throw new Error(`clear quota counter of ${owner}: ${r.error.code} ${r.error.message}`);
}

const roomLocks = new Map<string, Promise<void>>();

/**
 * Runs `fn` (which creates at most a couple of meetings of `owner`) with the owner's counter cleared and no
 * other such block of this process running for the same owner, so concurrent set-up never hits the quota.
 */
export async function withMeetingRoom<T>(service: ApiClient, owner: string, fn: () => Promise<T>): Promise<T> {
  const previous = roomLocks.get(owner) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  roomLocks.set(
    owner,
    previous.then(() => mine),
  );
  await previous;
  try {
    await makeMeetingRoom(service, owner);
    return await fn();
  } finally {
    release();
  }
}

export function meetingRow(owner: string, title = 'Fixture meeting') {
  const id = randomUUID();
  return { id, user_id: owner, title, storage_object_path: `${owner}/${id}.m4a` };
}

export async function seedMeeting(service: ApiClient, owner: string, title?: string): Promise<string> {
  const row = meetingRow(owner, title);
  await withMeetingRoom(service, owner, async () =>
    must('seed meeting', await service.from('meetings').insert(row).select('id').single()),
  );
  return row.id;
}

export function transcriptRow(meetingId: string, owner: string) {
  return {
    id: randomUUID(),
    meeting_id: meetingId,
    user_id: owner,
    language: 'en',
    segments: segments(),
    speaker_count: 1,
    word_count: 2,
  };
}

export function analysisRow(meetingId: string, owner: string, transcriptId: string | null = null) {
  return {
    id: randomUUID(),
    meeting_id: meetingId,
    user_id: owner,
    transcript_id: transcriptId,
    model: 'test/model-1',
    prompt_version: 'v1',
    input_tokens: 100,
    output_tokens: 20,
    cost_usd: 0.001,
    sampling: { strategy: 'full' as const, segments: [] },
    sampled_segment_count: 0,
    total_segment_count: 1,
    overall_score: 70,
  };
}

export function sessionRow(owner: string, moduleId: string, sourceMeetingId: string | null = null) {
  return {
    id: randomUUID(),
    user_id: owner,
    module_id: moduleId,
    ...(sourceMeetingId ? { source_meeting_id: sourceMeetingId } : {}),
  };
}

export function feedbackRow(sessionId: string, owner: string) {
  return {
    id: randomUUID(),
    session_id: sessionId,
    user_id: owner,
    summary: 'Good pacing.',
    model: 'test/model-1',
    overall_score: 60,
  };
}

export function moduleRow(over: Row = {}) {
  const id = randomUUID();
  return {
    id,
    slug: `test-${id.slice(0, 8)}`,
    title: 'Test module',
    dimension: 'clarity' as const,
    is_published: true,
    required_tier: 'free' as const,
    ...over,
  };
}

export async function seedOwned(service: ApiClient, owner: string, freeModule: string): Promise<OwnedFixture> {
  const meeting = await seedMeeting(service, owner, 'Quarterly planning');
  const t = transcriptRow(meeting, owner);
  must('seed transcript', await service.from('meeting_transcripts').insert(t).select('id').single());
  const a = analysisRow(meeting, owner, t.id);
  must('seed analysis', await service.from('meeting_analyses').insert(a).select('id').single());
  const s = sessionRow(owner, freeModule, meeting);
  must('seed session', await service.from('practice_sessions').insert(s).select('id').single());
  const f = feedbackRow(s.id, owner);
  must('seed feedback', await service.from('session_feedback').insert(f).select('id').single());
  const u = must(
    'seed usage',
    await service
      .from('usage_metrics')
      .insert({ user_id: owner, kind: 'minutes_transcribed', quantity: 12 })
      .select('id')
      .single(),
  );
  return {
    meeting,
    transcript: t.id,
    analysis: a.id,
    session: s.id,
    feedback: f.id,
    usage: String((u as unknown as { id: number }).id),
  };
}

export async function buildWorld(env: ApiEnvironment): Promise<World> {
  const service = serviceClient(env);
  const anon = anonClient(env);
  const userIds = new Set<string>();
  const created = await Promise.all(MEMBER_PERSONAS.map((p) => createUser(env, p)));
  const users = Object.fromEntries(MEMBER_PERSONAS.map((p, i) => [p, created[i]!])) as Record<
    MemberPersona,
    CreatedUser
  >;
  for (const u of created) userIds.add(u.id);
  const moduleIds = new Set<string>();
  const free = moduleRow({ title: 'Free module', required_tier: 'free', created_by: users.admin.id });
  const pro = moduleRow({ title: 'Pro module', required_tier: 'pro', dimension: 'conciseness' });
  const draft = moduleRow({ title: 'Draft module', required_tier: 'free', is_published: false });
  must('seed modules', await service.from('modules').insert([free, pro, draft]).select('id'));
  for (const m of [free, pro, draft]) moduleIds.add(m.id);
  const ownedList = await Promise.all(created.map((u) => seedOwned(service, u.id, free.id)));
  const owned = Object.fromEntries(created.map((u, i) => [u.id, ownedList[i]!]));
  const world: World = {
    env,
    service,
    anon,
    users,
    owned,
    modules: { free: free.id, pro: pro.id, draft: draft.id },
    moduleIds,
    userIds,
    clientOf(persona) {
      if (persona === 'anon') return anon;
      if (persona === 'service_role') return service;
      return users[persona].client;
    },
    async spareUser(overrides = {}) {
      const u = await createUser(env, overrides);
      userIds.add(u.id);
      return u;
    },
  };
  return world;
}

/** Removes what the run created: users (their rows cascade), then the modules (no sessions hold them any more). */
export async function destroyWorld(world: World): Promise<void> {
  await deleteCreatedUsers(world.env);
  if (world.moduleIds.size > 0) {
    const r = await world.service
      .from('modules')
      .delete()
      .in('id', [...world.moduleIds]);
    if (r.error) throw new Error(`clean-up of modules: ${r.error.code} ${r.error.message}`);
  }
}
