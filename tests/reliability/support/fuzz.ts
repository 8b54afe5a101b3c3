import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import type { Database } from '../../../src/db/database.js';
import { client, SUPABASE_URL, token, type Clients } from '../../rest/support/fixture.js';

/**
 * Randomised isolation fuzz through supabase-js against the gateway (issue #16, part 4). Users act on the
 * gateway fixture's owner-scoped tables (public.parents, public.children under RLS) with random operations —
 * select with random filters, embed, insert, insert claiming another owner, update, delete, upsert onto
 * another user's id, rpc — and every answer is checked against an in-memory model of who owns what:
 *   - a read returns only the caller's rows, and an unfiltered read returns all of them;
 *   - a write changes only the caller's rows; the database equals the model after every write batch.
 * The seed makes a run replayable: FUZZ_SEED=<seed> reruns the same operations.
 */
export interface FuzzOptions {
  ops: number;
  users: number;
  seed: number;
  /** Compare the whole database with the model every this many operations (and at the end). */
  checkEvery?: number;
}

export interface FuzzResult {
  seed: number;
  ops: number;
  users: number;
  byKind: Record<string, number>;
  crossUserReads: number;
  crossUserWrites: number;
  /** Operations whose outcome disagreed with the model in another way (a write of one's own that failed…). */
  modelMismatches: number;
  failures: string[];
  /** Per-operation latency in ms (for p50/p95/p99). */
  latenciesMs: number[];
}

/** mulberry32: small, fast, good enough for choosing operations; deterministic per seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function fuzzSeed(): number {
  const fromEnv = process.env.FUZZ_SEED;
  if (fromEnv && /^\d+$/.test(fromEnv)) return Number(fromEnv);
  return Math.floor(Math.random() * 2 ** 31);
}

interface ParentRow {
  id: number;
  owner_id: string;
  name: string;
}
interface ChildRow {
  id: number;
  parent_id: number;
  owner_id: string;
  label: string;
}

export async function runFuzz(db: Database, c: Clients, o: FuzzOptions): Promise<FuzzResult> {
  const rnd = prng(o.seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const users = Array.from({ length: o.users }, () => randomUUID());
  const sb: Record<string, SupabaseClient> = {};
  for (const u of users) {
    const t = await token({ sub: u, role: 'authenticated', extra: { aud: 'authenticated' } });
    sb[u] = client(SUPABASE_URL, c.anonKey, c.gateway.fetch, t);
  }
  // The model starts from the database as it is (fixture rows belong to two other users).
  const parents = new Map<number, ParentRow>();
  const children = new Map<number, ChildRow>();
  for (const r of (
    await db.query<ParentRow>('select id::int as id, owner_id::text as owner_id, name from public.parents')
  ).rows)
    parents.set(r.id, r);
  for (const r of (
    await db.query<ChildRow>(
      'select id::int as id, parent_id::int as parent_id, owner_id::text as owner_id, label from public.children',
    )
  ).rows) {
    children.set(r.id, r);
  }
  const res: FuzzResult = {
    seed: o.seed,
    ops: 0,
    users: o.users,
    byKind: {},
    crossUserReads: 0,
    crossUserWrites: 0,
    modelMismatches: 0,
    failures: [],
    latenciesMs: [],
  };
  const fail = (kind: 'read' | 'write' | 'model', msg: string) => {
    if (kind === 'read') res.crossUserReads++;
    else if (kind === 'write') res.crossUserWrites++;
    else res.modelMismatches++;
    if (res.failures.length < 20) res.failures.push(`op ${res.ops} (seed ${o.seed}): ${msg}`);
  };
  const ownedBy = (u: string) => [...parents.values()].filter((p) => p.owner_id === u);
  const anyParentId = () =>
    parents.size > 0 && rnd() < 0.9 ? pick([...parents.keys()]) : 900_000 + Math.floor(rnd() * 1000);
  const name = () => `n${Math.floor(rnd() * 50)}`;

  async function compareWithModel(): Promise<void> {
    const dbParents = (
      await db.query<ParentRow>(
        'select id::int as id, owner_id::text as owner_id, name from public.parents order by id',
      )
    ).rows;
    const modelParents = [...parents.values()].sort((a, b) => a.id - b.id);
    if (JSON.stringify(dbParents) !== JSON.stringify(modelParents)) {
      const dbById = new Map(dbParents.map((p) => [p.id, p]));
      for (const m of modelParents) {
        const d = dbById.get(m.id);
        if (!d || d.owner_id !== m.owner_id || d.name !== m.name)
          fail(
            'write',
            `parent ${m.id} of ${m.owner_id.slice(0, 8)} is ${JSON.stringify(d ?? null)} in the database, model ${JSON.stringify(m)}`,
          );
      }
      for (const d of dbParents)
        if (!parents.has(d.id)) fail('model', `parent ${d.id} exists in the database but not in the model`);
      parents.clear();
      for (const d of dbParents) parents.set(d.id, d);
    }
    const dbChildren = (
      await db.query<ChildRow>(
        'select id::int as id, parent_id::int as parent_id, owner_id::text as owner_id, label from public.children order by id',
      )
    ).rows;
    const modelChildren = [...children.values()].sort((a, b) => a.id - b.id);
    if (JSON.stringify(dbChildren) !== JSON.stringify(modelChildren)) {
      const dbById = new Map(dbChildren.map((x) => [x.id, x]));
      for (const m of modelChildren) {
        const d = dbById.get(m.id);
        // A child disappears with its parent (on delete cascade): that is the parent owner's own write.
        if (!d && !parents.has(m.parent_id)) continue;
        if (!d || d.owner_id !== m.owner_id || d.label !== m.label)
          fail('write', `child ${m.id} is ${JSON.stringify(d ?? null)} in the database, model ${JSON.stringify(m)}`);
      }
      children.clear();
      for (const d of dbChildren) children.set(d.id, d);
    }
  }

  const kinds = [
    'select',
    'select-filter',
    'embed',
    'insert',
    'insert-foreign-owner',
    'update',
    'delete',
    'upsert-foreign',
    'insert-child',
    'rpc',
  ] as const;
  for (let i = 0; i < o.ops; i++) {
    const u = pick(users);
    const s = sb[u]!;
    const kind = pick([...kinds]);
    res.byKind[kind] = (res.byKind[kind] ?? 0) + 1;
    res.ops++;
    const t0 = performance.now();
    switch (kind) {
      case 'select': {
        const { data, error } = await s.from('parents').select('id, owner_id, name');
        if (error) fail('model', `select failed: ${error.message}`);
        const got = (data ?? []) as ParentRow[];
        for (const r of got)
          if (r.owner_id !== u) fail('read', `user ${u.slice(0, 8)} read parent ${r.id} of ${r.owner_id.slice(0, 8)}`);
        const want = ownedBy(u)
          .map((p) => p.id)
          .sort((a, b) => a - b);
        const have = got.map((r) => r.id).sort((a, b) => a - b);
        if (JSON.stringify(want) !== JSON.stringify(have))
          fail('model', `user ${u.slice(0, 8)} sees ${have.length} parents, owns ${want.length}`);
        break;
      }
      case 'select-filter': {
        const f = Math.floor(rnd() * 4);
        let q = s.from('parents').select('id, owner_id, name');
        if (f === 0) q = q.eq('name', name());
        else if (f === 1) q = q.in('id', [anyParentId(), anyParentId(), anyParentId()]);
        else if (f === 2) q = q.or(`name.eq.${name()},id.eq.${anyParentId()}`);
        else q = q.neq('owner_id', u);
        const { data, error } = await q;
        if (error) fail('model', `filtered select failed: ${error.message}`);
        for (const r of (data ?? []) as ParentRow[])
          if (r.owner_id !== u)
            fail('read', `user ${u.slice(0, 8)} read parent ${r.id} of ${r.owner_id.slice(0, 8)} (filter ${f})`);
        break;
      }
      case 'embed': {
        const { data, error } = await s
          .from('parents')
          .select('id, owner_id, children(id, owner_id), parent_details(bio)');
        if (error) fail('model', `embed failed: ${error.message}`);
        for (const r of (data ?? []) as unknown as {
          id: number;
          owner_id: string;
          children: { id: number; owner_id: string }[];
        }[]) {
          if (r.owner_id !== u) fail('read', `embed: user ${u.slice(0, 8)} read parent ${r.id}`);
          for (const ch of r.children ?? [])
            if (ch.owner_id !== u)
              fail('read', `embed: user ${u.slice(0, 8)} read child ${ch.id} of ${ch.owner_id.slice(0, 8)}`);
        }
        break;
      }
      case 'insert': {
        const { data, error } = await s.from('parents').insert({ name: name() }).select('id, owner_id, name').single();
        if (error || !data) fail('model', `own insert failed: ${error?.message}`);
        else {
          const r = data as ParentRow;
          if (r.owner_id !== u)
            fail('write', `insert by ${u.slice(0, 8)} created a row owned by ${r.owner_id.slice(0, 8)}`);
          parents.set(r.id, r);
        }
        break;
      }
      case 'insert-foreign-owner': {
        const other = pick(users.filter((x) => x !== u));
        const { error } = await s.from('parents').insert({ name: name(), owner_id: other });
        if (!error) fail('write', `user ${u.slice(0, 8)} inserted a parent owned by ${other.slice(0, 8)}`);
        break;
      }
      case 'update': {
        const id = anyParentId();
        const newName = name();
        const { data, error } = await s
          .from('parents')
          .update({ name: newName })
          .eq('id', id)
          .select('id, owner_id, name');
        const target = parents.get(id);
        if (error) fail('model', `update failed: ${error.message}`);
        const changed = (data ?? []) as ParentRow[];
        if (target && target.owner_id === u) {
          if (changed.length !== 1) fail('model', `own update of ${id} changed ${changed.length} rows`);
          target.name = newName;
        } else if (changed.length > 0)
          fail('write', `user ${u.slice(0, 8)} updated parent ${id} of ${target?.owner_id.slice(0, 8)}`);
        break;
      }
      case 'delete': {
        const id = anyParentId();
        const { data, error } = await s.from('parents').delete().eq('id', id).select('id');
        const target = parents.get(id);
        if (error) fail('model', `delete failed: ${error.message}`);
        const gone = (data ?? []) as { id: number }[];
        if (target && target.owner_id === u) {
          if (gone.length !== 1) fail('model', `own delete of ${id} removed ${gone.length} rows`);
          parents.delete(id);
          for (const [cid, ch] of children) if (ch.parent_id === id) children.delete(cid);
        } else if (gone.length > 0)
          fail('write', `user ${u.slice(0, 8)} deleted parent ${id} of ${target?.owner_id.slice(0, 8)}`);
        break;
      }
      case 'upsert-foreign': {
        const foreign = [...parents.values()].filter((p) => p.owner_id !== u);
        if (foreign.length === 0) break;
        const target = pick(foreign);
        const { data } = await s
          .from('parents')
          .upsert({ id: target.id, name: 'hijacked' })
          .select('id, owner_id, name');
        if (((data ?? []) as ParentRow[]).some((r) => r.id === target.id))
          fail('write', `user ${u.slice(0, 8)} upserted onto parent ${target.id} of ${target.owner_id.slice(0, 8)}`);
        break;
      }
      case 'insert-child': {
        const mine = ownedBy(u);
        if (mine.length === 0) break;
        const parent = pick(mine);
        const { data, error } = await s
          .from('children')
          .insert({ parent_id: parent.id, label: name() })
          .select('id, parent_id, owner_id, label')
          .single();
        if (error || !data) fail('model', `own child insert failed: ${error?.message}`);
        else {
          const r = data as ChildRow;
          if (r.owner_id !== u) fail('write', `child insert by ${u.slice(0, 8)} owned by ${r.owner_id.slice(0, 8)}`);
          children.set(r.id, r);
        }
        break;
      }
      case 'rpc': {
        const { data, error } = await s.rpc('whoami');
        if (error) fail('model', `rpc failed: ${error.message}`);
        else if ((data as { uid: string }).uid !== u)
          fail('read', `whoami for ${u.slice(0, 8)} answered ${(data as { uid: string }).uid}`);
        break;
      }
    }
    res.latenciesMs.push(performance.now() - t0);
    if ((i + 1) % (o.checkEvery ?? 100) === 0) await compareWithModel();
  }
  await compareWithModel();
  return res;
}
