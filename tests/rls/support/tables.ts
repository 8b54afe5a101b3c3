/**
 * How each table is probed through the API: its key, which rows a persona's insert/update/delete aims at,
 * and how fresh target rows are made (by the backend key, so a destructive cell never eats another cell's
 * fixture). Table names come from the matrix, so this module is deliberately untyped over table names.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { randomUUID } from 'node:crypto';
import {
  analysisRow,
  feedbackRow,
  meetingRow,
  moduleRow,
  must,
  seedMeeting,
  sessionRow,
  transcriptRow,
  withMeetingRoom,
  type Key,
  type Row,
  type World,
} from './world.js';

// biome-ignore lint/suspicious/noExplicitAny: the matrix drives every table by name, so the client cannot be typed per table
export type AnyClient = SupabaseClient<any, any, any>;
export const untyped = (c: unknown) => c as AnyClient;

export interface TableProbe {
  key: string[];
  /** Tables with exactly one row per user (or per user and dimension): new rows need a user without one. */
  perUser: boolean;
  /** A row to insert for `owner`; parents are created first by the backend. */
  newRow(w: World, owner: string): Promise<Row>;
  /** Backend set-up before the backend inserts `newRow` into a per-user table: free the spare user's slot. */
  beforeInsert?(w: World, owner: string): Promise<void>;
  /** Wraps an insert attempt for `owner` (meetings: quota room, serialised per owner). */
  exclusive?<T>(w: World, owner: string, fn: () => Promise<T>): Promise<T>;
  /** A row of `owner` that may be updated or deleted (fresh where the table allows; the existing one for per-user tables). */
  deletable(w: World, owner: string): Promise<Key>;
  /** An existing row of `owner` to update (per-user tables). */
  updatable(w: World, owner: string): Key;
  /** A patch a user could send; `n` makes each one distinct. Only columns users hold update privilege on where they have any. */
  patch(n: number): Row;
}

async function seed(w: World, table: string, row: Row, key: string[] = ['id']): Promise<Key> {
  const data = must(
    `seed ${table}`,
    await untyped(w.service).from(table).insert(row).select(key.join(',')).single(),
  ) as Row;
  return Object.fromEntries(key.map((k) => [k, String(data[k])]));
}

const fixture = (w: World, owner: string) => {
  const f = w.owned[owner];
  if (!f) throw new Error(`no fixture rows for ${owner}`);
  return f;
};

export const TABLE_PROBES: Record<string, TableProbe> = {
  profiles: {
    key: ['id'],
    perUser: true,
    newRow: async (_w, owner) => ({ id: owner, display_name: 'Inserted profile' }),
    beforeInsert: async (w, owner) => {
      must('free the profile slot', await w.service.from('profiles').delete().eq('id', owner).select('id'));
    },
    deletable: async (_w, owner) => ({ id: owner }),
    updatable: (_w, owner) => ({ id: owner }),
    patch: (n) => ({ display_name: `Renamed ${n}` }),
  },
  user_progress: {
    key: ['user_id', 'dimension'],
    perUser: true,
    newRow: async (_w, owner) => ({ user_id: owner, dimension: 'clarity', score: 42 }),
    beforeInsert: async (w, owner) => {
      must(
        'free the progress slot',
        await w.service
          .from('user_progress')
          .delete()
          .eq('user_id', owner)
          .eq('dimension', 'clarity')
          .select('user_id'),
      );
    },
    deletable: async (_w, owner) => ({ user_id: owner, dimension: 'clarity' }),
    updatable: (_w, owner) => ({ user_id: owner, dimension: 'clarity' }),
    // numeric(5,2) in 0..100: 10,001 distinct values, so two attempts rarely pick the same one by chance.
    patch: (n) => ({ score: (n % 10_001) / 100 }),
  },
  usage_metrics: {
    key: ['id'],
    perUser: false,
    newRow: async (_w, owner) => ({ user_id: owner, kind: 'practice_session_started', quantity: 1 }),
    deletable: (w, owner) => seed(w, 'usage_metrics', { user_id: owner, kind: 'analysis_tokens', quantity: 10 }),
    updatable: (w, owner) => ({ id: fixture(w, owner).usage }),
    patch: (n) => ({ quantity: n }),
  },
  meetings: {
    key: ['id'],
    perUser: false,
    newRow: async (_w, owner) => meetingRow(owner, 'Inserted meeting'),
    exclusive: (w, owner, fn) => withMeetingRoom(w.service, owner, fn),
    deletable: async (w, owner) => ({ id: await seedMeeting(w.service, owner, 'Meeting to delete') }),
    updatable: (w, owner) => ({ id: fixture(w, owner).meeting }),
    patch: (n) => ({ title: `Renamed meeting ${n}` }),
  },
  meeting_transcripts: {
    key: ['id'],
    perUser: false,
    // One transcript per meeting: a new transcript needs a new meeting.
    newRow: async (w, owner) => transcriptRow(await seedMeeting(w.service, owner, 'Meeting for a transcript'), owner),
    deletable: async (w, owner) =>
      seed(
        w,
        'meeting_transcripts',
        transcriptRow(await seedMeeting(w.service, owner, 'Meeting for a transcript'), owner),
      ),
    updatable: (w, owner) => ({ id: fixture(w, owner).transcript }),
    patch: (n) => ({ word_count: n }),
  },
  meeting_analyses: {
    key: ['id'],
    perUser: false,
    newRow: async (w, owner) => analysisRow(fixture(w, owner).meeting, owner),
    deletable: (w, owner) => seed(w, 'meeting_analyses', analysisRow(fixture(w, owner).meeting, owner)),
    updatable: (w, owner) => ({ id: fixture(w, owner).analysis }),
    patch: (n) => ({ model: `test/model-${n}` }),
  },
  modules: {
    key: ['id'],
    perUser: false,
    newRow: async (w) => {
      const row = moduleRow({ title: 'Inserted module' });
      w.moduleIds.add(row.id); // tracked before the attempt so a successful insert is cleaned up
      return row;
    },
    deletable: async (w) => {
      const row = moduleRow({ title: 'Module to delete' });
      w.moduleIds.add(row.id);
      return seed(w, 'modules', row);
    },
    updatable: () => {
      throw new Error('modules are not owned: use the catalogue fixture');
    },
    patch: (n) => ({ title: `Retitled module ${n}` }),
  },
  practice_sessions: {
    key: ['id'],
    perUser: false,
    newRow: async (w, owner) => sessionRow(owner, w.modules.free),
    deletable: (w, owner) => seed(w, 'practice_sessions', sessionRow(owner, w.modules.free)),
    updatable: (w, owner) => ({ id: fixture(w, owner).session }),
    patch: (n) => ({ duration_seconds: n }),
  },
  session_feedback: {
    key: ['id'],
    perUser: false,
    // One feedback per session: a new feedback needs a new session.
    newRow: async (w, owner) =>
      feedbackRow((await seed(w, 'practice_sessions', sessionRow(owner, w.modules.free))).id!, owner),
    deletable: async (w, owner) =>
      seed(
        w,
        'session_feedback',
        feedbackRow((await seed(w, 'practice_sessions', sessionRow(owner, w.modules.free))).id!, owner),
      ),
    updatable: (w, owner) => ({ id: fixture(w, owner).feedback }),
    patch: (n) => ({ summary: `Feedback ${n}` }),
  },
};

export function probeFor(table: string): TableProbe {
  const p = TABLE_PROBES[table];
  if (!p) throw new Error(`tests/rls/support/tables.ts has no probe for table ${table}: add one (the matrix names it)`);
  return p;
}

export const uniqueNumber = () => 1 + (parseInt(randomUUID().slice(0, 6), 16) % 90_000);
