import { PERSONA_USERS } from '../../../src/auth/signup.js';
import type { Database } from '../../../src/db/database.js';
import { applyBootstrap } from '../../../src/migrate/bootstrap.js';
import { migrateUp } from '../../../src/migrate/runner.js';
import { loadSeed } from '../../../src/seed/load.js';

/**
 * The requests of the throughput benchmark: three ShipSpeak screens' reads through the Data API, as the
 * dev seed's free-tier user Alice (authenticated, under RLS). Issue 17 item 5: GET single row, list 20, one embed.
 */
export interface ThroughputCase {
  key: string;
  title: string;
  /** Path and query under /rest/v1. */
  path: string;
  /**
   * True when the statement alone (no role switch, RLS bypassed) returns the same rows as under RLS because
   * its own filter already pins them (by id); a list then returns other users' rows too, so only its size
   * is compared.
   */
  sameRowsWithoutRls: boolean;
}

export const BENCH_USER = PERSONA_USERS.find((p) => p.persona === 'free_a')!;
/** Alice's dev-seed meeting that has a transcript and an analysis. */
export const BENCH_MEETING = '10000000-0000-4000-8000-000000000001';
/** Extra meetings given to Alice (triggers off) so that "list 20" returns a full page. */
export const EXTRA_MEETINGS = 200;

export const CASES: ThroughputCase[] = [
  {
    key: 'single',
    title: 'GET single row',
    path: `/meetings?select=*&id=eq.${BENCH_MEETING}`,
    sameRowsWithoutRls: true,
  },
  {
    key: 'list20',
    title: 'GET list 20',
    path: '/meetings?select=id,title,started_at,status,duration_seconds&order=started_at.desc,id&limit=20',
    sameRowsWithoutRls: false,
  },
  {
    key: 'embed',
    title: 'GET one embed',
    path: `/meetings?select=id,title,status,meeting_transcripts(language,word_count),meeting_analyses(model,overall_score)&id=eq.${BENCH_MEETING}`,
    sameRowsWithoutRls: true,
  },
];

/** Seeds Alice's extra meetings: set-based, one statement, triggers off (bench data, not an app write). */
const EXTRA_MEETINGS_SQL = `insert into public.meetings (user_id, title, started_at, duration_seconds, status, storage_object_path, platform, participant_count)
select $1::uuid, 'Bench meeting ' || g, now() - make_interval(days => g), 600 + g, 'uploaded', $1 || '/bench/' || g || '.webm', 'zoom', 2
from generate_series(1, $2::int) as g`;

/**
 * The database both throughput benchmarks measure: bootstrap, every migration, the dev seed, Alice's extra
 * meetings (inserted with triggers off: bench data, not user activity) and fresh statistics.
 */
export async function fillBenchDatabase(db: Database): Promise<void> {
  await applyBootstrap(db);
  await migrateUp(db);
  await loadSeed(db, 'dev');
  await db.transaction(async (tx) => {
    await tx.query(`set local session_replication_role = replica`);
    await tx.query(EXTRA_MEETINGS_SQL, [BENCH_USER.id, EXTRA_MEETINGS]);
  });
  await db.query('analyze');
}
