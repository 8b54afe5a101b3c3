/**
 * Proves the foundation schema (sql/migrations/0001..0009) on PGlite: every check constraint, composite
 * foreign key and unique key rejects a bad row with the expected SQLSTATE and constraint name; the signup
 * trigger; updated_at maintenance; cascades; catalog-wide rules (indexed foreign keys, RLS, comments,
 * search_path of functions); the dev seed itself. JSON Schemas: jsonb-schemas.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPgError, type Database, type Queryable } from '../../src/db/database.js';
import { quoteLiteral } from '../../src/db/quote.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { migrateDown, migrateUp } from '../../src/migrate/runner.js';
import { loadSeed } from '../../src/seed/load.js';
import { pgliteAtHead, pgliteAtHeadSeeded, pgliteEmpty } from '../support/pglite-head.js';

/** The one place that builds the schema under test: the real platform layer and runner. */
async function setupSchema(db: Database, to?: string): Promise<void> {
  await applyBootstrap(db);
  await migrateUp(db, to ? { to } : {});
}

// Built once per run and shared with the other PGlite-only files (tests/support/pglite-head.ts).
const migrated = pgliteAtHead;
const seeded = pgliteAtHeadSeeded;

// Fixed ids of fixtures/dev-seed.sql.
const U = {
  alice: '00000000-0000-4000-8000-00000000000a',
  bob: '00000000-0000-4000-8000-00000000000b',
  carol: '00000000-0000-4000-8000-00000000000c',
  dave: '00000000-0000-4000-8000-00000000000d',
  nobody: '00000000-0000-4000-8000-0000000000ff',
};
const M = (n: number) => `10000000-0000-4000-8000-00000000000${n}`; // meetings
const T = (n: number) => `20000000-0000-4000-8000-00000000000${n}`; // transcripts
const MOD = (n: number) => `40000000-0000-4000-8000-00000000000${n}`; // modules
const S = (n: number) => `50000000-0000-4000-8000-00000000000${n}`; // practice sessions
const lit = quoteLiteral;

const EXPECTED_TABLES = [
  'meeting_analyses',
  'meeting_transcripts',
  'meetings',
  'modules',
  'practice_sessions',
  'profiles',
  'session_feedback',
  'usage_metrics',
  'user_progress',
];

async function expectPgError(p: Promise<unknown>, code: string, constraint?: string): Promise<void> {
  let error: unknown;
  try {
    await p;
  } catch (e) {
    error = e;
  }
  if (error === undefined)
    throw new Error(`statement succeeded; expected SQLSTATE ${code}${constraint ? ` (${constraint})` : ''}`);
  if (!isPgError(error)) throw error;
  expect({ code: error.code, constraint: constraint === undefined ? undefined : error.constraint }).toEqual({
    code,
    constraint,
  });
}

// ---------------------------------------------------------------------------------------------------
// Constraint matrix: a valid base row per table (proved insertable), then one defect per case.
// ---------------------------------------------------------------------------------------------------

type Row = Record<string, string>; // column -> SQL literal

const VALID_SEGMENTS = `'[{"speaker": "Alice", "start_ms": 0, "end_ms": 1500, "text": "Hello all"}]'`;

const BASE: Record<string, Row> = {
  usage_metrics: { user_id: lit(U.alice), kind: `'meeting_uploaded'`, quantity: '1' },
  meetings: {
    user_id: lit(U.alice),
    title: `'Weekly sync'`,
    storage_object_path: lit(`${U.alice}/weekly-sync.m4a`),
    status: `'uploaded'`,
    failure_reason: 'null',
    duration_seconds: '60',
    platform: `'zoom'`,
    participant_count: '3',
  },
  meeting_transcripts: {
    meeting_id: lit(M(2)), // alice's meeting without a transcript
    user_id: lit(U.alice),
    language: `'en'`,
    segments: VALID_SEGMENTS,
    speaker_count: '1',
    word_count: '2',
  },
  meeting_analyses: {
    meeting_id: lit(M(1)),
    user_id: lit(U.alice),
    transcript_id: lit(T(1)),
    model: `'test/model'`,
    prompt_version: `'analysis-v4'`,
    input_tokens: '10',
    output_tokens: '5',
    cost_usd: '0.000100',
    insights: `'{"summary": "ok"}'`,
    recommendations: `'[]'`,
    sampling: `'{"strategy": "uniform", "segments": [{"index": 0, "reason": "uniform_fill"}]}'`,
    sampled_segment_count: '1',
    total_segment_count: '4',
    overall_score: '50',
    dimension_scores: `'{"clarity": 50}'`,
  },
  modules: {
    slug: `'new-module'`,
    title: `'New module'`,
    description: `'A module'`,
    dimension: `'clarity'`,
    estimated_minutes: '10',
    content: `'{"sections": []}'`,
    scenario_template: 'null',
    created_by: lit(U.dave),
  },
  practice_sessions: {
    user_id: lit(U.alice),
    module_id: lit(MOD(1)),
    source_meeting_id: lit(M(1)),
    status: `'completed'`,
    started_at: `'2025-03-01 10:00:00+00'`,
    completed_at: `'2025-03-01 10:10:00+00'`,
    duration_seconds: '300',
    overall_score: '70',
    metrics: `'{}'`,
    scenario: `'{"prompt": "p"}'`,
  },
  session_feedback: {
    session_id: lit(S(3)), // bob's abandoned session, no feedback yet
    user_id: lit(U.bob),
    summary: `'Keep going'`,
    feedback: `'{}'`,
    overall_score: '50',
    dimension_scores: `'{}'`,
    improvement_delta: '0',
    model: `'test/model'`,
  },
};

function insertSql(table: string, overrides: Row = {}): string {
  const row = { ...BASE[table], ...overrides };
  return `insert into public.${table} (${Object.keys(row).join(', ')}) values (${Object.values(row).join(', ')})`;
}

interface Case {
  label: string;
  sql: string;
  code: string;
  constraint?: string;
}

const bad = (table: string, overrides: Row, code: string, constraint?: string, note = ''): Case => ({
  label: `${table}: ${
    note ||
    Object.entries(overrides)
      .map(([k, v]) => `${k}=${v.length > 40 ? `${v.slice(0, 37)}...` : v}`)
      .join(', ')
  }`,
  sql: insertSql(table, overrides),
  code,
  ...(constraint ? { constraint } : {}),
});
const upd = (label: string, sql: string, code: string, constraint?: string): Case => ({
  label,
  sql,
  code,
  ...(constraint ? { constraint } : {}),
});

const CHECK = '23514';
const FK = '23503';
const UNIQUE = '23505';
const BAD_ENUM = '22P02';

const CASES: Case[] = [
  // profiles (rows exist from signup: updates)
  upd(
    'profiles: empty display_name',
    `update public.profiles set display_name = '' where id = ${lit(U.alice)}`,
    CHECK,
    'profiles_display_name_length',
  ),
  upd(
    'profiles: 101-char display_name',
    `update public.profiles set display_name = repeat('x', 101) where id = ${lit(U.alice)}`,
    CHECK,
    'profiles_display_name_length',
  ),
  upd(
    'profiles: http avatar_url',
    `update public.profiles set avatar_url = 'http://a.example/x.png' where id = ${lit(U.alice)}`,
    CHECK,
    'profiles_avatar_url_format',
  ),
  upd(
    'profiles: unknown theme',
    `update public.profiles set preferences = '{"theme": "neon"}' where id = ${lit(U.alice)}`,
    CHECK,
    'profiles_preferences_matches_schema',
  ),
  upd(
    'profiles: unknown preference key',
    `update public.profiles set preferences = '{"font": "large"}' where id = ${lit(U.alice)}`,
    CHECK,
    'profiles_preferences_matches_schema',
  ),
  upd(
    'profiles: preferences array',
    `update public.profiles set preferences = '[]' where id = ${lit(U.alice)}`,
    CHECK,
    'profiles_preferences_matches_schema',
  ),
  upd(
    'profiles: bad timezone',
    `update public.profiles set timezone = 'Not a zone' where id = ${lit(U.alice)}`,
    CHECK,
    'profiles_timezone_format',
  ),
  upd('profiles: unknown role', `update public.profiles set role = 'owner' where id = ${lit(U.alice)}`, BAD_ENUM),
  upd('profiles: unknown tier', `update public.profiles set tier = 'platinum' where id = ${lit(U.alice)}`, BAD_ENUM),
  upd(
    'profiles: second profile for a user',
    `insert into public.profiles (id) values (${lit(U.alice)})`,
    UNIQUE,
    'profiles_pkey',
  ),
  upd(
    'profiles: profile without auth user',
    `insert into public.profiles (id) values (${lit(U.nobody)})`,
    FK,
    'profiles_id_fkey',
  ),
  // user_progress
  upd(
    'user_progress: score 100.5',
    `update public.user_progress set score = 100.5 where user_id = ${lit(U.alice)} and dimension = 'clarity'`,
    CHECK,
    'user_progress_score_range',
  ),
  upd(
    'user_progress: score -1',
    `update public.user_progress set score = -1 where user_id = ${lit(U.alice)} and dimension = 'clarity'`,
    CHECK,
    'user_progress_score_range',
  ),
  upd(
    'user_progress: score NaN',
    `update public.user_progress set score = 'NaN' where user_id = ${lit(U.alice)} and dimension = 'clarity'`,
    CHECK,
    'user_progress_score_finite',
  ),
  upd(
    'user_progress: level 0',
    `update public.user_progress set level = 0 where user_id = ${lit(U.alice)} and dimension = 'clarity'`,
    CHECK,
    'user_progress_level_positive',
  ),
  upd(
    'user_progress: streak -1',
    `update public.user_progress set streak_days = -1 where user_id = ${lit(U.alice)} and dimension = 'clarity'`,
    CHECK,
    'user_progress_streak_days_non_negative',
  ),
  upd(
    'user_progress: duplicate dimension row',
    `insert into public.user_progress (user_id, dimension) values (${lit(U.alice)}, 'clarity')`,
    UNIQUE,
    'user_progress_pkey',
  ),
  upd(
    'user_progress: unknown dimension',
    `insert into public.user_progress (user_id, dimension) values (${lit(U.alice)}, 'charisma')`,
    BAD_ENUM,
  ),
  upd(
    'user_progress: no auth user',
    `insert into public.user_progress (user_id, dimension) values (${lit(U.nobody)}, 'clarity')`,
    FK,
    'user_progress_user_id_fkey',
  ),
  // usage_metrics
  bad('usage_metrics', { quantity: '-1' }, CHECK, 'usage_metrics_quantity_non_negative'),
  bad('usage_metrics', { quantity: `'NaN'` }, CHECK, 'usage_metrics_quantity_finite', 'quantity NaN'),
  bad('usage_metrics', { user_id: lit(U.nobody) }, FK, 'usage_metrics_user_id_fkey'),
  bad('usage_metrics', { kind: `'free_text_note'` }, BAD_ENUM),
  bad('usage_metrics', { id: '42' }, '428C9', undefined, 'explicit id into generated always identity'),
  // meetings
  bad('meetings', { title: `'   '` }, CHECK, 'meetings_title_length'),
  bad('meetings', { title: `repeat('t', 201)` }, CHECK, 'meetings_title_length'),
  bad('meetings', { duration_seconds: '-1' }, CHECK, 'meetings_duration_seconds_non_negative'),
  bad(
    'meetings',
    { status: `'failed'` },
    CHECK,
    'meetings_failure_reason_only_when_failed',
    'failed without failure_reason',
  ),
  bad(
    'meetings',
    { failure_reason: `'boom'` },
    CHECK,
    'meetings_failure_reason_only_when_failed',
    'failure_reason while uploaded',
  ),
  bad(
    'meetings',
    { status: `'failed'`, failure_reason: `'  '` },
    CHECK,
    'meetings_failure_reason_only_when_failed',
    'blank failure_reason',
  ),
  bad(
    'meetings',
    { storage_object_path: lit(`${U.bob}/weekly-sync.m4a`) },
    CHECK,
    'meetings_storage_object_path_format',
    "object in another user's folder",
  ),
  bad(
    'meetings',
    { storage_object_path: lit(`${U.alice}/../x.m4a`) },
    CHECK,
    'meetings_storage_object_path_format',
    'path traversal',
  ),
  bad(
    'meetings',
    { storage_object_path: `'weekly-sync.m4a'` },
    CHECK,
    'meetings_storage_object_path_format',
    'no owner folder',
  ),
  bad(
    'meetings',
    { storage_object_path: lit(`${U.alice}/2025-02-03-sprint-review.m4a`) },
    UNIQUE,
    'meetings_storage_object_path_key',
    'path of an existing meeting',
  ),
  bad('meetings', { platform: `'skype'` }, CHECK, 'meetings_platform_known'),
  bad('meetings', { participant_count: '0' }, CHECK, 'meetings_participant_count_positive'),
  bad('meetings', { status: `'done'` }, BAD_ENUM),
  bad(
    'meetings',
    { user_id: lit(U.nobody), storage_object_path: lit(`${U.nobody}/x.m4a`) },
    FK,
    'meetings_user_id_fkey',
  ),
  // meeting_transcripts
  bad('meeting_transcripts', { language: `'english'` }, CHECK, 'meeting_transcripts_language_bcp47'),
  bad('meeting_transcripts', { language: `'en_US'` }, CHECK, 'meeting_transcripts_language_bcp47'),
  bad(
    'meeting_transcripts',
    { segments: `'{}'` },
    CHECK,
    'meeting_transcripts_segments_valid',
    'segments not an array',
  ),
  bad(
    'meeting_transcripts',
    { segments: `'[{"speaker": "A", "start_ms": 900, "end_ms": 100, "text": "x"}]'` },
    CHECK,
    'meeting_transcripts_segments_valid',
    'end_ms before start_ms',
  ),
  bad(
    'meeting_transcripts',
    { segments: `'[{"start_ms": 0, "end_ms": 100, "text": "x"}]'` },
    CHECK,
    'meeting_transcripts_segments_valid',
    'segment without speaker',
  ),
  bad(
    'meeting_transcripts',
    { segments: `'[{"speaker": "", "start_ms": 0, "end_ms": 100, "text": "x"}]'` },
    CHECK,
    'meeting_transcripts_segments_valid',
    'empty speaker',
  ),
  bad(
    'meeting_transcripts',
    { segments: `'[{"speaker": "A", "start_ms": 0.5, "end_ms": 100, "text": "x"}]'` },
    CHECK,
    'meeting_transcripts_segments_valid',
    'fractional start_ms',
  ),
  bad(
    'meeting_transcripts',
    { segments: `'[{"speaker": "A", "start_ms": "0", "end_ms": 100, "text": "x"}]'` },
    CHECK,
    'meeting_transcripts_segments_valid',
    'start_ms as string',
  ),
  bad(
    'meeting_transcripts',
    { segments: `'[{"speaker": "A", "start_ms": -5, "end_ms": 100, "text": "x"}]'` },
    CHECK,
    'meeting_transcripts_segments_valid',
    'negative start_ms',
  ),
  bad(
    'meeting_transcripts',
    { segments: `'["just text"]'` },
    CHECK,
    'meeting_transcripts_segments_valid',
    'segment not an object',
  ),
  bad('meeting_transcripts', { speaker_count: '-1' }, CHECK, 'meeting_transcripts_speaker_count_non_negative'),
  bad('meeting_transcripts', { word_count: '-1' }, CHECK, 'meeting_transcripts_word_count_non_negative'),
  bad(
    'meeting_transcripts',
    { meeting_id: lit(M(1)) },
    UNIQUE,
    'meeting_transcripts_meeting_id_user_id_key',
    'second transcript for a meeting',
  ),
  bad(
    'meeting_transcripts',
    { user_id: lit(U.bob) },
    FK,
    'meeting_transcripts_meeting_fkey',
    "bob's user_id on alice's meeting",
  ),
  // meeting_analyses
  bad('meeting_analyses', { input_tokens: '-1' }, CHECK, 'meeting_analyses_input_tokens_non_negative'),
  bad('meeting_analyses', { output_tokens: '-1' }, CHECK, 'meeting_analyses_output_tokens_non_negative'),
  bad('meeting_analyses', { cost_usd: '-0.000001' }, CHECK, 'meeting_analyses_cost_usd_non_negative'),
  bad('meeting_analyses', { cost_usd: `'NaN'` }, CHECK, 'meeting_analyses_cost_usd_finite', 'cost NaN'),
  bad('meeting_analyses', { overall_score: `'NaN'` }, CHECK, 'meeting_analyses_overall_score_finite', 'score NaN'),
  bad('meeting_analyses', { model: `''` }, CHECK, 'meeting_analyses_model_length'),
  bad('meeting_analyses', { prompt_version: `''` }, CHECK, 'meeting_analyses_prompt_version_length'),
  bad('meeting_analyses', { insights: `'[]'` }, CHECK, 'meeting_analyses_insights_matches_schema'),
  bad('meeting_analyses', { recommendations: `'{}'` }, CHECK, 'meeting_analyses_recommendations_matches_schema'),
  bad(
    'meeting_analyses',
    { sampling: `'{"segments": [{"index": 0, "reason": "full"}]}'` },
    CHECK,
    'meeting_analyses_sampling_matches_schema',
    'sampling without strategy',
  ),
  bad(
    'meeting_analyses',
    { sampling: `'{"strategy": 7, "segments": [{"index": 0, "reason": "full"}]}'` },
    CHECK,
    'meeting_analyses_sampling_matches_schema',
    'strategy not a string',
  ),
  bad(
    'meeting_analyses',
    { sampling: `'{"strategy": "full"}'`, sampled_segment_count: '0' },
    CHECK,
    'meeting_analyses_sampled_count_matches',
    'sampling without segments',
  ),
  bad(
    'meeting_analyses',
    { sampled_segment_count: '2' },
    CHECK,
    'meeting_analyses_sampled_count_matches',
    'count differs from sampling.segments',
  ),
  bad(
    'meeting_analyses',
    {
      sampling: `'{"strategy": "full", "segments": [{"index": 0, "reason": "full"}, {"index": 1, "reason": "full"}]}'`,
      sampled_segment_count: '2',
      total_segment_count: '1',
    },
    CHECK,
    'meeting_analyses_segment_counts',
    'sampled > total',
  ),
  bad('meeting_analyses', { overall_score: '100.01' }, CHECK, 'meeting_analyses_overall_score_range'),
  bad(
    'meeting_analyses',
    { dimension_scores: `'{"charisma": 50}'` },
    CHECK,
    'meeting_analyses_dimension_scores_valid',
    'unknown dimension key',
  ),
  bad(
    'meeting_analyses',
    { dimension_scores: `'{"clarity": 101}'` },
    CHECK,
    'meeting_analyses_dimension_scores_valid',
    'dimension score 101',
  ),
  bad(
    'meeting_analyses',
    { dimension_scores: `'{"clarity": "high"}'` },
    CHECK,
    'meeting_analyses_dimension_scores_valid',
    'dimension score not a number',
  ),
  bad(
    'meeting_analyses',
    { user_id: lit(U.bob) },
    FK,
    'meeting_analyses_meeting_fkey',
    "bob's user_id on alice's meeting",
  ),
  bad(
    'meeting_analyses',
    { transcript_id: lit(T(2)) },
    FK,
    'meeting_analyses_transcript_fkey',
    "transcript of another meeting (bob's)",
  ),
  // modules
  bad('modules', { slug: `'Bad Slug'` }, CHECK, 'modules_slug_format'),
  bad('modules', { slug: `'trailing-'` }, CHECK, 'modules_slug_format'),
  bad('modules', { slug: `'clear-openings'` }, UNIQUE, 'modules_slug_key'),
  bad('modules', { title: `' '` }, CHECK, 'modules_title_length'),
  bad('modules', { description: `repeat('d', 2001)` }, CHECK, 'modules_description_length'),
  bad('modules', { estimated_minutes: '0' }, CHECK, 'modules_estimated_minutes_range'),
  bad('modules', { estimated_minutes: '241' }, CHECK, 'modules_estimated_minutes_range'),
  bad('modules', { content: `'{}'` }, CHECK, 'modules_content_matches_schema', 'content without sections'),
  bad('modules', { content: `'[]'` }, CHECK, 'modules_content_matches_schema', 'content not an object'),
  bad(
    'modules',
    { scenario_template: `'{"ai_role": "CFO"}'` },
    CHECK,
    'modules_scenario_template_matches_schema',
    'template without prompt',
  ),
  bad(
    'modules',
    { scenario_template: `'{"prompt": 42}'` },
    CHECK,
    'modules_scenario_template_matches_schema',
    'prompt not a string',
  ),
  bad(
    'modules',
    { scenario_template: `'[]'` },
    CHECK,
    'modules_scenario_template_matches_schema',
    'template not an object',
  ),
  bad('modules', { dimension: `'charisma'` }, BAD_ENUM),
  bad('modules', { created_by: lit(U.nobody) }, FK, 'modules_created_by_fkey'),
  // practice_sessions
  bad(
    'practice_sessions',
    { completed_at: `'2025-03-01 09:59:59+00'` },
    CHECK,
    'practice_sessions_completed_after_start',
  ),
  bad('practice_sessions', { overall_score: `'NaN'` }, CHECK, 'practice_sessions_overall_score_finite', 'score NaN'),
  bad(
    'practice_sessions',
    { completed_at: 'null', overall_score: 'null' },
    CHECK,
    'practice_sessions_completed_at_matches_status',
    'completed without completed_at',
  ),
  bad(
    'practice_sessions',
    { status: `'in_progress'`, overall_score: 'null' },
    CHECK,
    'practice_sessions_completed_at_matches_status',
    'in_progress with completed_at',
  ),
  bad(
    'practice_sessions',
    { status: `'in_progress'`, completed_at: 'null' },
    CHECK,
    'practice_sessions_score_only_when_completed',
    'score while in_progress',
  ),
  bad('practice_sessions', { overall_score: '101' }, CHECK, 'practice_sessions_overall_score_range'),
  bad('practice_sessions', { overall_score: '-1' }, CHECK, 'practice_sessions_overall_score_range'),
  bad('practice_sessions', { duration_seconds: '-1' }, CHECK, 'practice_sessions_duration_seconds_non_negative'),
  bad('practice_sessions', { metrics: `'[]'` }, CHECK, 'practice_sessions_metrics_matches_schema'),
  bad(
    'practice_sessions',
    { metrics: `'{"words_per_minute": -1}'` },
    CHECK,
    'practice_sessions_metrics_matches_schema',
    'negative words per minute',
  ),
  bad(
    'practice_sessions',
    { metrics: `'{"pause_count": 1.5}'` },
    CHECK,
    'practice_sessions_metrics_matches_schema',
    'fractional count',
  ),
  bad('practice_sessions', { scenario: `'"a string"'` }, CHECK, 'practice_sessions_scenario_matches_schema'),
  bad(
    'practice_sessions',
    { source_meeting_id: lit(M(4)) },
    FK,
    'practice_sessions_source_meeting_fkey',
    "built from bob's meeting",
  ),
  bad('practice_sessions', { module_id: lit(U.nobody) }, FK, 'practice_sessions_module_id_fkey', 'unknown module'),
  bad(
    'practice_sessions',
    { user_id: lit(U.nobody), source_meeting_id: 'null' },
    FK,
    'practice_sessions_user_id_fkey',
    'no auth user',
  ),
  upd(
    'modules: delete a module that has practice history',
    `delete from public.modules where id = ${lit(MOD(1))}`,
    '23001',
    'practice_sessions_module_id_fkey',
  ),
  // session_feedback
  bad('session_feedback', { summary: `'  '` }, CHECK, 'session_feedback_summary_length'),
  bad('session_feedback', { overall_score: `'NaN'` }, CHECK, 'session_feedback_overall_score_finite', 'score NaN'),
  bad(
    'session_feedback',
    { improvement_delta: `'NaN'` },
    CHECK,
    'session_feedback_improvement_delta_finite',
    'delta NaN',
  ),
  bad('session_feedback', { feedback: `'[]'` }, CHECK, 'session_feedback_feedback_matches_schema'),
  bad('session_feedback', { overall_score: '-0.5' }, CHECK, 'session_feedback_overall_score_range'),
  bad('session_feedback', { dimension_scores: `'{"pacing": -1}'` }, CHECK, 'session_feedback_dimension_scores_valid'),
  bad('session_feedback', { improvement_delta: '100.5' }, CHECK, 'session_feedback_improvement_delta_range'),
  bad('session_feedback', { model: `''` }, CHECK, 'session_feedback_model_length'),
  bad(
    'session_feedback',
    { user_id: lit(U.alice) },
    FK,
    'session_feedback_session_fkey',
    "alice's user_id on bob's session",
  ),
  bad(
    'session_feedback',
    { session_id: lit(S(1)), user_id: lit(U.alice) },
    UNIQUE,
    'session_feedback_session_id_user_id_key',
    'second feedback for a session',
  ),
];

/** Rolls back whatever `fn` did (PGlite and node-postgres both roll back on throw). */
async function inRollback(db: Database, fn: (tx: Queryable) => Promise<void>): Promise<void> {
  const sentinel = new Error('rollback');
  await db
    .transaction(async (tx) => {
      await fn(tx);
      throw sentinel;
    })
    .catch((e: unknown) => {
      if (e !== sentinel) throw e;
    });
}

describe('constraints (on the dev seed)', () => {
  let db: Database;
  beforeAll(async () => {
    db = await seeded();
  });
  afterAll(async () => db?.close());

  it.each(Object.keys(BASE))('the valid base row for %s inserts (control for the cases below)', async (table) => {
    await inRollback(db, async (tx) => {
      const r = await tx.query(`${insertSql(table)} returning 1`);
      expect(r.rows).toHaveLength(1);
    });
  });

  it.each(CASES)('$label -> $code $constraint', async ({ sql, code, constraint }) => {
    await expectPgError(db.query(sql), code, constraint);
  });

  it('covers every check constraint of the schema with at least one case', async () => {
    const r = await db.query<{ conname: string }>(
      `select conname from pg_catalog.pg_constraint where connamespace = 'public'::regnamespace and contype = 'c' order by 1`,
    );
    const tested = new Set(CASES.map((c) => c.constraint));
    expect(r.rows.map((x) => x.conname).filter((n) => !tested.has(n))).toEqual([]);
  });

  it('covers every composite (ownership) foreign key with a cross-user case', async () => {
    const r = await db.query<{ conname: string }>(
      `select conname from pg_catalog.pg_constraint
        where connamespace = 'public'::regnamespace and contype = 'f' and cardinality(conkey) > 1 order by 1`,
    );
    expect(r.rows.length).toBeGreaterThan(0);
    const tested = new Set(CASES.filter((c) => c.code === FK).map((c) => c.constraint));
    expect(r.rows.map((x) => x.conname).filter((n) => !tested.has(n))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('signup trigger', () => {
  let db: Database;
  beforeAll(async () => {
    db = await migrated();
  });
  afterAll(async () => db?.close());

  async function signUp(id: string, meta: unknown): Promise<void> {
    await db.query(`insert into auth.users (id, email, raw_user_meta_data) values ($1, $2, $3)`, [
      id,
      `${id.slice(-4)}@example.test`,
      meta === null ? null : JSON.stringify(meta),
    ]);
  }

  it('creates a profile with the default role and tier, ignoring role/tier in user metadata', async () => {
    const id = '00000000-0000-4000-8000-000000000e01';
    await signUp(id, {
      full_name: '  Eve Example  ',
      role: 'admin',
      tier: 'enterprise',
      avatar_url: 'javascript:alert(1)',
    });
    const p = await db.query<Record<string, unknown>>(
      `select display_name, avatar_url, role, tier, preferences, timezone, onboarded_at from public.profiles where id = $1`,
      [id],
    );
    const defaults = await db.query<{ role: string; tier: string }>(
      `select (select pg_catalog.pg_get_expr(adbin, adrelid) from pg_catalog.pg_attrdef d join pg_catalog.pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
                where d.adrelid = 'public.profiles'::regclass and a.attname = 'role') as role,
              (select pg_catalog.pg_get_expr(adbin, adrelid) from pg_catalog.pg_attrdef d join pg_catalog.pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
                where d.adrelid = 'public.profiles'::regclass and a.attname = 'tier') as tier`,
    );
    expect(defaults.rows[0]).toEqual({ role: "'member'::app_role", tier: "'free'::subscription_tier" });
    expect(p.rows).toEqual([
      {
        display_name: 'Eve Example',
        avatar_url: null,
        role: 'member',
        tier: 'free',
        preferences: {},
        timezone: null,
        onboarded_at: null,
      },
    ]);
  });

  it('creates one user_progress row per learning dimension with starting values', async () => {
    const id = '00000000-0000-4000-8000-000000000e02';
    await signUp(id, { display_name: 'Frank', full_name: 'Franklin F' });
    const dims = await db.query<{ d: string }>(
      `select unnest(enum_range(null::public.learning_dimension))::text as d order by 1`,
    );
    const rows = await db.query<Record<string, unknown>>(
      `select dimension::text, score::float8 as score, level, streak_days, last_practised_at from public.user_progress where user_id = $1 order by 1`,
      [id],
    );
    expect(dims.rows.length).toBeGreaterThan(0);
    expect(rows.rows).toEqual(
      dims.rows.map(({ d }) => ({ dimension: d, score: 0, level: 1, streak_days: 0, last_practised_at: null })),
    );
    const name = await db.query(`select display_name from public.profiles where id = $1`, [id]);
    expect(name.rows).toEqual([{ display_name: 'Frank' }]); // display_name wins over full_name
  });

  it('never blocks a signup on odd metadata (null metadata, over-long name, https avatar kept)', async () => {
    await signUp('00000000-0000-4000-8000-000000000e03', null);
    await signUp('00000000-0000-4000-8000-000000000e04', {
      display_name: 'n'.repeat(300),
      avatar_url: 'https://img.example.test/a.png',
    });
    await signUp('00000000-0000-4000-8000-000000000e05', { display_name: '   ' });
    const r = await db.query<{ id: string; len: number | null; avatar_url: string | null }>(
      `select id, char_length(display_name) as len, avatar_url from public.profiles where id in ($1, $2, $3) order by id`,
      [
        '00000000-0000-4000-8000-000000000e03',
        '00000000-0000-4000-8000-000000000e04',
        '00000000-0000-4000-8000-000000000e05',
      ],
    );
    expect(r.rows).toEqual([
      { id: '00000000-0000-4000-8000-000000000e03', len: null, avatar_url: null },
      { id: '00000000-0000-4000-8000-000000000e04', len: 100, avatar_url: 'https://img.example.test/a.png' },
      { id: '00000000-0000-4000-8000-000000000e05', len: null, avatar_url: null },
    ]);
  });

  it('is SECURITY DEFINER with an empty search_path and not executable by API roles', async () => {
    const r = await db.query<Record<string, unknown>>(
      `select p.prosecdef, p.proconfig,
              has_function_privilege('anon', p.oid, 'execute') as anon,
              has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
              exists (select 1 from aclexplode(p.proacl) a where a.grantee = 0) as public
         from pg_catalog.pg_proc p where p.oid = 'private.handle_new_user()'::regprocedure`,
    );
    expect(r.rows).toEqual([
      { prosecdef: true, proconfig: ['search_path=""'], anon: false, authenticated: false, public: false },
    ]);
  });

  it('backfills profiles and progress for users created before migration 0003', async () => {
    const early = await pgliteEmpty();
    try {
      await setupSchema(early, '0002');
      await early.query(
        `insert into auth.users (id, email) values ('00000000-0000-4000-8000-000000000e06', 'early@example.test')`,
      );
      await migrateUp(early, { to: '0003' });
      const r = await early.query<{ profiles: number; progress: number; dims: number }>(
        `select (select count(*)::int from public.profiles) as profiles, (select count(*)::int from public.user_progress) as progress,
                cardinality(enum_range(null::public.learning_dimension)) as dims`,
      );
      expect(r.rows[0]!.profiles).toBe(1);
      expect(r.rows[0]!.progress).toBe(r.rows[0]!.dims);
    } finally {
      await early.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------

describe('updated_at and status_changed_at', () => {
  let db: Database;
  beforeAll(async () => {
    db = await seeded();
  });
  afterAll(async () => db?.close());

  it('every table with updated_at has the shared set_updated_at trigger', async () => {
    const r = await db.query<{ table: string; triggers: string[] | null }>(
      `select c.relname as table,
              (select array_agg(t.tgfoid::regproc::text) from pg_catalog.pg_trigger t where t.tgrelid = c.oid and not t.tgisinternal) as triggers
         from pg_catalog.pg_class c join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'updated_at' and not a.attisdropped
        where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' order by 1`,
    );
    expect(r.rows.length).toBeGreaterThan(0);
    for (const row of r.rows) expect(row.triggers, row.table).toContain('private.set_updated_at');
  });

  it('an update moves updated_at forward and a client cannot forge it', async () => {
    const tables = await db.query<{ t: string }>(
      `select c.relname as t from pg_catalog.pg_class c join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'updated_at'
        where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' order by 1`,
    );
    for (const { t } of tables.rows) {
      const before = await db.query<{ ctid: string; updated_at: Date }>(
        `select ctid::text, updated_at from public.${t} limit 1`,
      );
      expect(before.rows, `${t} has a seed row`).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 5));
      const after = await db.query<{ updated_at: Date }>(
        `update public.${t} set updated_at = '2000-01-01' where ctid = $1::tid returning updated_at`,
        [before.rows[0]!.ctid],
      );
      expect(after.rows[0]!.updated_at.getTime(), t).toBeGreaterThan(before.rows[0]!.updated_at.getTime());
    }
  });

  it('status_changed_at moves only when the meeting status changes', async () => {
    const id = M(5);
    const t0 = (await db.query<{ s: Date }>(`select status_changed_at as s from public.meetings where id = $1`, [id]))
      .rows[0]!.s;
    await new Promise((r) => setTimeout(r, 5));
    await db.query(`update public.meetings set title = 'Renamed' where id = $1`, [id]);
    const t1 = (await db.query<{ s: Date }>(`select status_changed_at as s from public.meetings where id = $1`, [id]))
      .rows[0]!.s;
    expect(t1.getTime()).toBe(t0.getTime());
    await db.query(`update public.meetings set status = 'transcribing' where id = $1`, [id]);
    const t2 = (await db.query<{ s: Date }>(`select status_changed_at as s from public.meetings where id = $1`, [id]))
      .rows[0]!.s;
    expect(t2.getTime()).toBeGreaterThan(t1.getTime());
  });
});

// ---------------------------------------------------------------------------------------------------

describe('cascades', () => {
  let db: Database;
  beforeAll(async () => {
    db = await seeded();
  });
  afterAll(async () => db?.close());

  /** Rows per public table for one owner (profiles by id, everything else by user_id). */
  async function ownedRows(owner: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of EXPECTED_TABLES.filter((t) => t !== 'modules')) {
      const col = table === 'profiles' ? 'id' : 'user_id';
      const r = await db.query<{ n: number }>(`select count(*)::int as n from public.${table} where ${col} = $1`, [
        owner,
      ]);
      out[table] = r.rows[0]!.n;
    }
    return out;
  }

  it('deleting the auth user removes everything they own and nothing of anyone else', async () => {
    const aliceBefore = await ownedRows(U.alice);
    expect(
      Object.values(aliceBefore).every((n) => n > 0),
      JSON.stringify(aliceBefore),
    ).toBe(true);
    const others = await Promise.all([U.bob, U.carol, U.dave].map(ownedRows));
    await db.query(`delete from auth.users where id = $1`, [U.alice]);
    expect(Object.values(await ownedRows(U.alice))).toEqual(Object.values(aliceBefore).map(() => 0));
    expect(await Promise.all([U.bob, U.carol, U.dave].map(ownedRows))).toEqual(others);
  });

  it('deleting a module author keeps the modules and clears created_by', async () => {
    const before = await db.query<{ n: number }>(
      `select count(*)::int as n from public.modules where created_by = $1`,
      [U.dave],
    );
    expect(before.rows[0]!.n).toBeGreaterThan(0);
    const total = (await db.query<{ n: number }>(`select count(*)::int as n from public.modules`)).rows[0]!.n;
    await db.query(`delete from auth.users where id = $1`, [U.dave]);
    const after = await db.query<{ n: number; authored: number }>(
      `select count(*)::int as n, count(created_by)::int as authored from public.modules`,
    );
    expect(after.rows[0]).toEqual({ n: total, authored: 0 });
  });

  it('deleting a meeting removes its transcript and analyses but keeps practice built from it', async () => {
    const meeting = M(6); // carol's, source of practice session 4
    await db.query(`delete from public.meetings where id = $1`, [meeting]);
    const r = await db.query<Record<string, unknown>>(
      `select (select count(*)::int from public.meeting_transcripts where meeting_id = $1) as transcripts,
              (select count(*)::int from public.meeting_analyses where meeting_id = $1) as analyses,
              (select row(source_meeting_id, user_id)::text from public.practice_sessions where id = $2) as session`,
      [meeting, S(4)],
    );
    expect(r.rows[0]).toEqual({ transcripts: 0, analyses: 0, session: `(,${U.carol})` });
  });
});

// ---------------------------------------------------------------------------------------------------

describe('catalog rules', () => {
  let db: Database;
  beforeAll(async () => {
    db = await migrated();
  });
  afterAll(async () => db?.close());

  it('public holds exactly the nine foundation tables', async () => {
    const r = await db.query<{ t: string }>(
      `select relname as t from pg_catalog.pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p', 'v', 'm', 'f') order by 1`,
    );
    expect(r.rows.map((x) => x.t)).toEqual(EXPECTED_TABLES);
  });

  it('every public table has RLS enabled and a comment', async () => {
    const r = await db.query<{ t: string; rls: boolean; comment: string | null }>(
      `select relname as t, relrowsecurity as rls, obj_description(oid, 'pg_class') as comment
         from pg_catalog.pg_class where relnamespace = 'public'::regnamespace and relkind = 'r' order by 1`,
    );
    expect(r.rows.filter((x) => !x.rls || !x.comment?.trim()).map((x) => x.t)).toEqual([]);
  });

  it('every foreign key is covered by an index whose leading columns are its columns', async () => {
    const r = await db.query<{ fk: string; covered: boolean }>(
      `select c.conrelid::regclass::text || '.' || c.conname as fk,
              exists (
                select 1 from pg_catalog.pg_index i
                 where i.indrelid = c.conrelid and i.indisvalid
                   and (select array_agg(k order by k) from unnest((i.indkey::int2[])[0:cardinality(c.conkey) - 1]) k)
                     = (select array_agg(k order by k) from unnest(c.conkey) k)
              ) as covered
         from pg_catalog.pg_constraint c
        where c.contype = 'f' and c.connamespace = 'public'::regnamespace order by 1`,
    );
    expect(r.rows.length).toBeGreaterThan(0);
    expect(r.rows.filter((x) => !x.covered).map((x) => x.fk)).toEqual([]);
  });

  it('every owner column (user_id, profiles.id) leads an index', async () => {
    const r = await db.query<{ col: string; indexed: boolean }>(
      `select c.relname || '.' || a.attname as col,
              exists (select 1 from pg_catalog.pg_index i where i.indrelid = c.oid and i.indkey[0] = a.attnum) as indexed
         from pg_catalog.pg_class c join pg_catalog.pg_attribute a on a.attrelid = c.oid
        where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
          and (a.attname = 'user_id' or (c.relname = 'profiles' and a.attname = 'id')) order by 1`,
    );
    expect(r.rows.map((x) => x.col)).toEqual(
      expect.arrayContaining(
        EXPECTED_TABLES.filter((t) => t !== 'modules').map((t) => `${t}.${t === 'profiles' ? 'id' : 'user_id'}`),
      ),
    );
    expect(r.rows.filter((x) => !x.indexed).map((x) => x.col)).toEqual([]);
  });

  it('child tables carry user_id pinned to the parent by a composite foreign key', async () => {
    const r = await db.query<{ t: string; fks: string[] }>(
      `select conrelid::regclass::text as t, array_agg(pg_get_constraintdef(oid) order by conname) as fks
         from pg_catalog.pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace and cardinality(conkey) > 1
        group by 1 order by 1`,
    );
    const byTable = Object.fromEntries(r.rows.map((x) => [x.t, x.fks.join(' | ')]));
    expect(byTable.meeting_transcripts).toContain(
      'FOREIGN KEY (meeting_id, user_id) REFERENCES meetings(id, user_id) ON DELETE CASCADE',
    );
    expect(byTable.meeting_analyses).toContain(
      'FOREIGN KEY (meeting_id, user_id) REFERENCES meetings(id, user_id) ON DELETE CASCADE',
    );
    expect(byTable.practice_sessions).toContain(
      'FOREIGN KEY (source_meeting_id, user_id) REFERENCES meetings(id, user_id) ON DELETE SET NULL (source_meeting_id)',
    );
    expect(byTable.session_feedback).toContain(
      'FOREIGN KEY (session_id, user_id) REFERENCES practice_sessions(id, user_id) ON DELETE CASCADE',
    );
  });

  it('every function the migrations create pins search_path to empty', async () => {
    const r = await db.query<{ f: string; config: string[] | null }>(
      `select p.oid::regprocedure::text as f, p.proconfig as config from pg_catalog.pg_proc p
        where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace) order by 1`,
    );
    expect(r.rows.length).toBeGreaterThan(0);
    expect(r.rows.filter((x) => !(x.config ?? []).includes('search_path=""')).map((x) => x.f)).toEqual([]);
  });

  it('every jsonb column has a comment', async () => {
    const r = await db.query<{ col: string; comment: string | null }>(
      `select c.relname || '.' || a.attname as col, col_description(c.oid, a.attnum) as comment
         from pg_catalog.pg_class c join pg_catalog.pg_attribute a on a.attrelid = c.oid
        where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and a.atttypid = 'jsonb'::regtype order by 1`,
    );
    expect(r.rows.filter((x) => !x.comment).map((x) => x.col)).toEqual([]);
  });

  it('realtime: meetings and practice_sessions are published, and down 0009 takes them out', async () => {
    const published = async () =>
      (
        await db.query<{ t: string }>(
          `select tablename as t from pg_catalog.pg_publication_tables where pubname = 'supabase_realtime' order by 1`,
        )
      ).rows.map((x) => x.t);
    expect(await published()).toEqual(['meetings', 'practice_sessions']);
    const before0009 = await migrated();
    try {
      await migrateDown(before0009, { to: '0008' });
      const r = await before0009.query(
        `select 1 from pg_catalog.pg_publication_tables where pubname = 'supabase_realtime'`,
      );
      expect(r.rowCount).toBe(0);
    } finally {
      await before0009.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------

describe('dev seed', () => {
  it('loads in one transaction and reports rows for all nine tables', async () => {
    const db = await migrated();
    try {
      const { rows } = await loadSeed(db);
      expect(Object.keys(rows).sort()).toEqual(EXPECTED_TABLES);
      for (const t of EXPECTED_TABLES) expect(rows[t], t).toBeGreaterThan(0);
      const users = (
        await db.query<{ n: number; dims: number }>(
          `select (select count(*)::int from auth.users) as n, cardinality(enum_range(null::public.learning_dimension)) as dims`,
        )
      ).rows[0]!;
      expect(rows.profiles).toBe(users.n);
      expect(rows.user_progress).toBe(users.n * users.dims);
      const personas = await db.query<{ email: string; role: string; tier: string }>(
        `select u.email, p.role::text, p.tier::text from auth.users u join public.profiles p on p.id = u.id order by u.email`,
      );
      expect(personas.rows).toEqual([
        { email: 'alice@example.test', role: 'member', tier: 'free' },
        { email: 'bob@example.test', role: 'member', tier: 'free' }, // his metadata asked for admin/enterprise
        { email: 'carol@example.test', role: 'member', tier: 'pro' },
        { email: 'dave@example.test', role: 'admin', tier: 'free' },
      ]);
    } finally {
      await db.close();
    }
  });

  it('is all-or-nothing: a failing seed leaves no rows behind', async () => {
    const db = await migrated();
    try {
      await db.query(`insert into auth.users (id, email) values ($1, 'taken@example.test')`, [U.alice]);
      await expectPgError(loadSeed(db), UNIQUE);
      const r = await db.query<{ n: number }>(`select count(*)::int as n from public.meetings`);
      expect(r.rows[0]!.n).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('rejects seed names that could leave fixtures/', async () => {
    const db = await migrated();
    try {
      await expect(loadSeed(db, '../sql/migrations/0001')).rejects.toThrow(/invalid seed name/);
    } finally {
      await db.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------

describe('down files', () => {
  it('applied in reverse they leave nothing of the schema behind', async () => {
    const db = await migrated();
    try {
      await migrateDown(db, { to: '0000' });
      const r = await db.query<Record<string, number>>(
        `select (select count(*)::int from pg_catalog.pg_class where relnamespace = 'public'::regnamespace) as relations,
                (select count(*)::int from pg_catalog.pg_type where typnamespace = 'public'::regnamespace) as types,
                (select count(*)::int from pg_catalog.pg_proc where pronamespace = 'public'::regnamespace) as functions,
                (select count(*)::int from pg_catalog.pg_namespace where nspname = 'private') as private_schema,
                (select count(*)::int from pg_catalog.pg_trigger where tgrelid = 'auth.users'::regclass and not tgisinternal) as auth_triggers`,
      );
      expect(r.rows[0]).toEqual({ relations: 0, types: 0, functions: 0, private_schema: 0, auth_triggers: 0 });
    } finally {
      await db.close();
    }
  });
});
