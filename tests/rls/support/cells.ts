/**
 * One matrix cell = one persona doing one operation on one table through supabase-js, observed and named
 * with the matrix's own vocabulary (denied / none / own / tier / all). The probe never assumes the answer:
 * it classifies what it saw, and anything outside the vocabulary comes back as "unexpected: …" with the
 * evidence, so a failing cell reads like "meetings.update.free_b: expected own, observed all".
 */
import { PERSONA_SPECS, TIER_ORDER, tierAllows, type PersonaName } from '../../../src/auth/personas.js';
import type { Operation } from '../../../src/harness/matrix.js';
import { probeFor, uniqueNumber, untyped, type TableProbe } from './tables.js';
import type { Key, Row, World } from './world.js';

export interface Observation {
  outcome: string;
  detail: string;
}

interface ApiError {
  code?: string;
  message: string;
}

const describeError = (e: ApiError, status: number) => `error ${e.code ?? '?'} (HTTP ${status}): ${e.message}`;

/** What PostgREST says for SQLSTATE 42501: 401 for anon, 403 for a signed-in role. */
function isDenied(persona: PersonaName, e: ApiError | null, status: number): boolean {
  return !!e && e.code === '42501' && status === (persona === 'anon' ? 401 : 403);
}

/** Whose rows a persona's "own" and "other" are (the matrix's $comment). */
export function owners(w: World, persona: PersonaName): { own: string; other: string } {
  const a = w.users.free_a.id;
  const b = w.users.free_b.id;
  if (persona === 'anon' || persona === 'service_role') return { own: a, other: b };
  if (persona === 'free_b') return { own: b, other: a };
  return { own: w.users[persona].id, other: b };
}

/**
 * Owners for rows a cell creates or destroys. Per-user tables (profiles, user_progress) have one row per
 * user already; the backend's inserts and deletes there act on spare users so the personas stay intact.
 */
async function mutableOwners(
  w: World,
  persona: PersonaName,
  probe: TableProbe,
): Promise<{ own: string; other: string; spare: boolean }> {
  if (probe.perUser && persona === 'service_role') {
    const [x, y] = await Promise.all([w.spareUser(), w.spareUser()]);
    return { own: x.id, other: y.id, spare: true };
  }
  return { ...owners(w, persona), spare: false };
}

/** Per-user tables: only spare users' slots are freed; the personas' own rows are never touched by set-up. */
async function prepareInsert(w: World, probe: TableProbe, owner: string, spare: boolean): Promise<void> {
  if (probe.perUser && !spare) return;
  await probe.beforeInsert?.(w, owner);
}

/** Whether `after` carries exactly the values this attempt sent (unique per attempt, so concurrent writers cannot be confused). */
function carries(after: Row | null, patch: Row): boolean {
  if (!after) return false;
  return Object.entries(patch).every(([k, v]) => (typeof v === 'number' ? Number(after[k]) === v : after[k] === v));
}

const keyOf = (row: Row, key: string[]) => JSON.stringify(key.map((k) => String(row[k])));
const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

function scoped(w: World, table: string, owner: string | null, columns: string, client = w.service) {
  const q = untyped(client).from(table).select(columns);
  return owner ? q.in(owner, [...w.userIds]) : q.in('id', [...w.moduleIds]);
}

/** Reads a row with the backend key (the verifier's view); null when it does not exist. */
async function readRow(w: World, table: string, key: Key): Promise<Row | null> {
  const r = await untyped(w.service).from(table).select('*').match(key);
  if (r.error) throw new Error(`verify ${table} ${JSON.stringify(key)}: ${r.error.code} ${r.error.message}`);
  return (r.data as unknown as Row[])[0] ?? null;
}

export interface SelectTruth {
  all: Row[];
}

/** The fixture as the backend sees it: every row of this run's users (or this run's modules). */
export async function selectTruth(w: World, table: string, owner: string | null): Promise<SelectTruth> {
  const probe = probeFor(table);
  const cols = [...new Set([...probe.key, ...(owner ? [owner] : ['is_published', 'required_tier'])])].join(',');
  const r = await scoped(w, table, owner, cols);
  if (r.error) throw new Error(`ground truth for ${table}: ${r.error.code} ${r.error.message}`);
  return { all: r.data as unknown as Row[] };
}

export async function observeSelect(
  w: World,
  table: string,
  owner: string | null,
  persona: PersonaName,
  truth: SelectTruth,
): Promise<Observation> {
  const probe = probeFor(table);
  const cols = [...new Set([...probe.key, ...(owner ? [owner] : ['is_published', 'required_tier'])])].join(',');
  const client = w.clientOf(persona);
  const r = await scoped(w, table, owner, cols, client);
  if (r.error) {
    return isDenied(persona, r.error, r.status)
      ? { outcome: 'denied', detail: describeError(r.error, r.status) }
      : { outcome: `unexpected: ${describeError(r.error, r.status)}`, detail: '' };
  }
  const seen = new Set((r.data as unknown as Row[]).map((x) => keyOf(x, probe.key)));
  const set = (rows: Row[]) => new Set(rows.map((x) => keyOf(x, probe.key)));
  const all = set(truth.all);
  const spec = PERSONA_SPECS[persona];
  const candidates: [string, Set<string>][] = [['all', all]];
  if (owner) {
    const me = owners(w, persona).own;
    candidates.unshift(['own', set(truth.all.filter((x) => x[owner] === me))]);
  } else if (spec.kind === 'member') {
    candidates.unshift([
      'tier',
      set(truth.all.filter((x) => x.is_published === true && tierAllows(spec.tier, x.required_tier as never))),
    ]);
  }
  const detail = `${seen.size} of ${all.size} fixture rows visible`;
  if (seen.size === 0) return { outcome: 'none', detail };
  const hit = candidates.find(([, s]) => s.size > 0 && sameSet(s, seen));
  if (!hit) return { outcome: 'unexpected: a row set matching no outcome', detail };
  // Beyond the fixture (a real stack holds other data): nothing outside the outcome may be visible either.
  if (hit[0] === 'own' && spec.kind === 'member') {
    const leak = await untyped(client).from(table).select(owner!).neq(owner!, me(w, persona)).limit(1);
    if (leak.error || (leak.data as unknown as Row[]).length > 0)
      return { outcome: 'unexpected: rows of other users visible outside the fixture', detail };
  }
  if (hit[0] === 'tier' && spec.kind === 'member') {
    const allowed = TIER_ORDER.filter((t) => tierAllows(spec.tier, t));
    const [drafts, above] = await Promise.all([
      untyped(client).from(table).select('id').eq('is_published', false).limit(1),
      untyped(client)
        .from(table)
        .select('id')
        .not('required_tier', 'in', `(${allowed.join(',')})`)
        .limit(1),
    ]);
    if (drafts.error || above.error || (drafts.data as Row[]).length + (above.data as Row[]).length > 0) {
      return { outcome: 'unexpected: drafts or higher-tier modules visible outside the fixture', detail };
    }
  }
  return { outcome: hit[0], detail };
}

const me = (w: World, persona: PersonaName) => owners(w, persona).own;

export async function observeInsert(
  w: World,
  table: string,
  owner: string | null,
  persona: PersonaName,
): Promise<Observation> {
  const probe = probeFor(table);
  const client = untyped(w.clientOf(persona));
  const who = await mutableOwners(w, persona, probe);
  await prepareInsert(w, probe, who.own, who.spare);
  const ownRow = await probe.newRow(w, who.own);
  const attempt = async (owner: string, row: Row) => {
    const run = async () => await client.from(table).insert(row);
    return probe.exclusive ? probe.exclusive(w, owner, run) : run();
  };
  const first = await attempt(who.own, ownRow);
  if (first.error) {
    return isDenied(persona, first.error, first.status)
      ? { outcome: 'denied', detail: describeError(first.error, first.status) }
      : { outcome: `unexpected: own row refused with ${describeError(first.error, first.status)}`, detail: '' };
  }
  if (first.status !== 201) return { outcome: `unexpected: insert answered HTTP ${first.status}`, detail: '' };
  if (!(await rowExists(w, table, probe, ownRow)))
    return { outcome: 'unexpected: 201 but the row is not there', detail: '' };
  if (!owner) return { outcome: 'all', detail: 'catalogue row inserted' };
  await prepareInsert(w, probe, who.other, who.spare);
  const otherRow = await probe.newRow(w, who.other);
  const second = await attempt(who.other, otherRow);
  if (second.error) {
    return isDenied(persona, second.error, second.status)
      ? { outcome: 'own', detail: `other user's row: ${describeError(second.error, second.status)}` }
      : {
          outcome: `unexpected: other user's row refused with ${describeError(second.error, second.status)}`,
          detail: '',
        };
  }
  return (await rowExists(w, table, probe, otherRow))
    ? { outcome: 'all', detail: "own and other user's rows inserted" }
    : { outcome: 'unexpected: 201 for the other row but it is not there', detail: '' };
}

async function rowExists(w: World, table: string, probe: TableProbe, row: Row): Promise<boolean> {
  // usage_metrics has a generated id: find the event by its owner and content instead.
  const match = probe.key.every((k) => k in row) ? Object.fromEntries(probe.key.map((k) => [k, row[k]])) : row;
  const r = await untyped(w.service)
    .from(table)
    .select(probe.key.join(','))
    .match(match as Record<string, string>)
    .limit(1);
  if (r.error) throw new Error(`verify insert into ${table}: ${r.error.code} ${r.error.message}`);
  return (r.data as unknown as Row[]).length > 0;
}

/**
 * Targets for update/delete: an own and an other row, fresh for this attempt wherever the table allows
 * (the personas act concurrently, so no two attempts may aim at the same row); per-user tables use the
 * users' existing rows (spare users' for the backend). Modules: two fresh catalogue rows.
 */
async function targets(w: World, table: string, persona: PersonaName, op: 'update' | 'delete'): Promise<[Key, Key]> {
  const probe = probeFor(table);
  const o = await mutableOwners(w, persona, probe);
  if (probe.perUser && op === 'update') return [probe.updatable(w, o.own), probe.updatable(w, o.other)];
  return Promise.all([probe.deletable(w, o.own), probe.deletable(w, o.other)]);
}

export async function observeWrite(
  w: World,
  table: string,
  owner: string | null,
  persona: PersonaName,
  op: 'update' | 'delete',
): Promise<Observation> {
  const probe = probeFor(table);
  const client = untyped(w.clientOf(persona));
  const [ownKey, otherKey] = await targets(w, table, persona, op);
  const [ownBefore, otherBefore] = await Promise.all([readRow(w, table, ownKey), readRow(w, table, otherKey)]);
  if (!ownBefore || !otherBefore) throw new Error(`${table}: target rows missing before ${op}`);
  // A patch the row already carries would make "unchanged" look "changed": draw until it differs.
  const freshPatch = (before: Row) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      const p = probe.patch(uniqueNumber());
      if (!carries(before, p)) return p;
    }
    throw new Error(`${table}: its probe's patch does not depend on the number it is given (100 draws equal the row)`);
  };
  const ownPatch = freshPatch(ownBefore);
  const otherPatch = freshPatch(otherBefore);
  const act = (key: Key, patch: Row) =>
    op === 'update'
      ? client.from(table).update(patch, { count: 'exact' }).match(key)
      : client.from(table).delete({ count: 'exact' }).match(key);
  // Deletes: the row is gone. Updates: the row carries this attempt's own values (other personas may be
  // writing the same row at the same moment, so "differs from before" would not say who changed it).
  const changed = (after: Row | null, patch: Row) => (op === 'delete' ? after === null : carries(after, patch));
  const first = await act(ownKey, ownPatch);
  if (first.error) {
    const ownAfter = await readRow(w, table, ownKey);
    const untouched = !changed(ownAfter, ownPatch);
    return isDenied(persona, first.error, first.status) && untouched
      ? { outcome: 'denied', detail: describeError(first.error, first.status) }
      : {
          outcome: `unexpected: ${describeError(first.error, first.status)}${untouched ? '' : ' and the row changed'}`,
          detail: '',
        };
  }
  const second = await act(otherKey, otherPatch);
  if (second.error)
    return {
      outcome: `unexpected: other row ${describeError(second.error, second.status)} after own row succeeded`,
      detail: '',
    };
  const [ownAfter, otherAfter] = await Promise.all([readRow(w, table, ownKey), readRow(w, table, otherKey)]);
  const ownChanged = changed(ownAfter, ownPatch);
  const otherChanged = changed(otherAfter, otherPatch);
  const detail = `affected own=${first.count} other=${second.count}; changed own=${ownChanged} other=${otherChanged}`;
  if (first.count === 0 && second.count === 0 && !ownChanged && !otherChanged) return { outcome: 'none', detail };
  if (owner && first.count === 1 && ownChanged && second.count === 0 && !otherChanged)
    return { outcome: 'own', detail };
  if (first.count === 1 && second.count === 1 && ownChanged && otherChanged) return { outcome: 'all', detail };
  return { outcome: 'unexpected: affected/changed rows match no outcome', detail };
}

export async function observe(
  w: World,
  table: string,
  owner: string | null,
  persona: PersonaName,
  op: Operation,
  truth?: SelectTruth,
): Promise<Observation> {
  switch (op) {
    case 'select':
      if (!truth) throw new Error('select needs the ground truth');
      return observeSelect(w, table, owner, persona, truth);
    case 'insert':
      return observeInsert(w, table, owner, persona);
    case 'update':
    case 'delete':
      return observeWrite(w, table, owner, persona, op);
  }
}
