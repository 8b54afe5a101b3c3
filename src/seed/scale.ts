/**
 * The scale seed: `shipspeak-db seed --scale <users>` fills a migrated database with a production-shaped
 * data set — users through auth.users (so the signup trigger creates their profiles and progress rows),
 * skewed activity per user (a few heavy users, a long tail of light ones), meetings with realistic
 * transcripts and analyses for a share of them, a module catalogue, practice sessions with feedback and the
 * usage events all of that would have produced.
 *
 * Set-based: every table is one `insert … select … from generate_series` statement, never a row at a time.
 * Deterministic: every random choice is a hash of (random seed, entity, attribute) through pg_temp.r(), so
 * the same --scale and --random-seed give the same rows on any engine and any plan (parallel workers or
 * not). Times are relative to the day of the load (start of today, UTC) so "this month" always has data.
 *
 * Triggers during the bulk load (the CLI prints this list):
 *  - on_auth_user_created (signup) ON: it is the only path that creates profiles and user_progress; since
 *    0036 it runs once per statement over the inserted users (per row it made two nested inserts per user,
 *    each audited, and the audit join to audit.subject_keys made the load quadratic);
 *  - audit_create_subject_key ON (also once per statement): every user needs a pseudonym before anything
 *    about them is audited;
 *  - audit_insert (statement-level capture, per table) ON by default, off with `audit: false`: the audit trail
 *    of a real database holds an entry per inserted row; loading with and without it measures its cost;
 *  - enforce_meeting_quota OFF: it models a live upload in the current month (refuses the 6th free meeting
 *    and records a meeting_uploaded event "now"); a year of history is not live uploads, so the seed writes
 *    each meeting's usage event itself with the meeting's own time.
 */
import type { Database, Queryable } from '../db/database.js';
import { quoteLiteral } from '../db/quote.js';

export interface ScaleSeedOptions {
  users: number;
  /** Any string; the same seed gives the same data. */
  randomSeed: string;
  /** Keep the audit capture triggers on during the load (default true). */
  audit: boolean;
  /** Called after each step (a progress line). */
  progress?: (step: ScaleStep, index: number, total: number) => void;
}

export interface ScaleStep {
  name: string;
  rows: number;
  ms: number;
}

export interface ScaleSeedResult {
  steps: ScaleStep[];
  totalRows: number;
  totalMs: number;
  /** Triggers that fired during the load and those that were switched off, with why. */
  triggers: { on: string[]; off: string[] };
}

/** Average activity per user: meetings ≈ 10/user, practice sessions ≈ 10/user (issue #17's 100k/1M/1M/3M). */
export const MEAN_MEETINGS_PER_USER = 10;
export const MEAN_SESSIONS_PER_USER = 10;

const AUDITED_TABLES = [
  'profiles',
  'user_progress',
  'usage_metrics',
  'meetings',
  'meeting_transcripts',
  'meeting_analyses',
  'modules',
  'practice_sessions',
  'session_feedback',
];

/** The statements of the load, in order; `:S` is the seed literal. Exported so tests can check determinism and shape. */
export function scaleSteps(users: number, seed: string): { name: string; sql: string }[] {
  if (!Number.isSafeInteger(users) || users < 1)
    throw new Error(`scale seed: users must be a positive whole number, got ${users}`);
  // The random seed is the only user text that reaches this SQL, and only as a literal (the sentences and
  // titles below are the program's own).
  const S = quoteLiteral(seed);
  const sentences = [
    'Thanks everyone for joining, let us start with the numbers from last week.',
    'So, um, the main point is that we shipped the export feature on time.',
    'Can you walk us through why the conversion rate dropped in March?',
    'I think we should, like, prioritise the onboarding flow before the redesign.',
    'My recommendation is to hire two engineers and delay the mobile launch by a month.',
    'Let me pause there and take questions before we move on.',
    'The customer asked for CSV and JSON exports, and we support both now.',
    'We are about eight percent over budget because the vendor raised prices.',
    'Basically the risk is that we miss the deadline if the API changes again.',
    'To summarise: three decisions today, owners and dates are in the notes.',
    'Could you clarify what you mean by a phased rollout?',
    'Honestly I am not sure, uh, I will check with the data team and get back to you.',
    'Our next step is a pilot with five customers in the first two weeks of May.',
    'That is a fair challenge; the numbers include the seasonal dip.',
    'I would like to hear from design before we commit to the timeline.',
    'The short answer is yes, and the longer answer is about staffing.',
  ];
  const titles = [
    'Sprint review',
    'Client kickoff',
    'One-to-one',
    'Team stand-up',
    'Design critique',
    'Board update',
    'Budget review',
    'Quarterly planning',
    'Sales call',
    'Interview',
    'Retrospective',
    'All hands',
  ];
  const arr = (xs: string[]) => `array[${xs.map(quoteLiteral).join(', ')}]`;
  return [
    {
      name: 'helpers',
      sql: `create function pg_temp.r(p_key text) returns double precision language sql immutable
              as $$ select ('x' || substr(md5(p_key), 1, 12))::bit(48)::bigint / 281474976710656.0 $$;
            create function pg_temp.u(p_key text) returns uuid language sql immutable
              as $$ select (substr(md5(p_key), 1, 12) || '4' || substr(md5(p_key), 14, 3) || '8' || substr(md5(p_key), 18, 15))::uuid $$;
            create temp table scale_user on commit drop as
              select n, pg_temp.u(${S} || ':user:' || n) as id,
                     -- Pareto(alpha 2) activity: mean 2, a few users 10-50x the median.
                     least(50.0, 1.0 / sqrt(1.0 - pg_temp.r(${S} || ':activity:' || n))) as activity,
                     pg_temp.r(${S} || ':tier:' || n) as tier_roll,
                     date_trunc('day', now()) - interval '400 days' * pg_temp.r(${S} || ':joined:' || n) as joined_at
              from generate_series(1, ${users}) as n;`,
    },
    {
      name: 'auth.users (signup trigger: profiles, user_progress; audit pseudonyms)',
      sql: `insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data, email_confirmed_at, created_at, updated_at)
            select '00000000-0000-0000-0000-000000000000', s.id, 'authenticated', 'authenticated', 'scale-user-' || s.n || '@scale.test',
                   '{"provider": "email", "providers": ["email"]}'::jsonb,
                   jsonb_build_object('display_name', 'Scale User ' || s.n), s.joined_at, s.joined_at, s.joined_at
            from scale_user as s order by s.n`,
    },
    {
      name: 'profiles: tiers (80% free, 17% pro, 3% enterprise) and admins (1 in 5,000)',
      sql: `update public.profiles as p
            set tier = case when s.tier_roll < 0.80 then 'free' when s.tier_roll < 0.97 then 'pro' else 'enterprise' end::public.subscription_tier,
                role = case when s.n % 5000 = 1 then 'admin' else 'member' end::public.app_role,
                timezone = (array['Europe/London', 'America/New_York', 'Asia/Tokyo', 'Europe/Berlin', 'Australia/Sydney'])[1 + s.n % 5]
            from scale_user as s where p.id = s.id`,
    },
    {
      name: 'modules (60: 6 dimensions x 10, 90% published)',
      sql: `insert into public.modules (id, slug, title, description, dimension, difficulty, required_tier, is_published, estimated_minutes, content, scenario_template, created_by)
            select pg_temp.u(${S} || ':module:' || k), 'scale-module-' || k, 'Module ' || k || ': ' || d.dimension,
                   'Practise ' || d.dimension || ' in realistic meeting scenarios.', d.dimension,
                   (enum_range(null::public.module_difficulty))[1 + k % 3],
                   case when k % 10 < 6 then 'free' when k % 10 < 9 then 'pro' else 'enterprise' end::public.subscription_tier,
                   k % 10 <> 7, 5 + k % 25,
                   jsonb_build_object('sections', jsonb_build_array(jsonb_build_object('kind', 'lesson', 'heading', 'Lesson ' || k, 'body', 'Lead with the point.'))),
                   case when k % 2 = 0 then jsonb_build_object('prompt', 'You are in a {{meeting_type}}. Respond to the question.') end,
                   (select s.id from scale_user as s where s.n = 1)
            from generate_series(1, 60) as k
            cross join lateral (select (enum_range(null::public.learning_dimension))[1 + k % 6] as dimension) as d`,
    },
    {
      name: 'meetings (skewed per user, a year of history)',
      sql: `create temp table scale_meeting on commit drop as
              select s.n, k, s.id as user_id, pg_temp.u(${S} || ':meeting:' || s.n || ':' || k) as id,
                     pg_temp.r(${S} || ':mstatus:' || s.n || ':' || k) as status_roll,
                     date_trunc('day', now()) - interval '1 hour' - interval '365 days' * pg_temp.r(${S} || ':mtime:' || s.n || ':' || k) as started_at,
                     300 + floor(3300 * pg_temp.r(${S} || ':mdur:' || s.n || ':' || k))::int as duration
              from scale_user as s
              cross join lateral generate_series(1, round(s.activity * ${MEAN_MEETINGS_PER_USER / 2} * 2 * pg_temp.r(${S} || ':mcount:' || s.n))::int) as k;
            insert into public.meetings (id, user_id, title, started_at, duration_seconds, status, failure_reason, storage_object_path, platform, participant_count, created_at, updated_at, status_changed_at)
            select m.id, m.user_id, (${arr(titles)})[1 + (m.k + m.n) % ${titles.length}], m.started_at,
                   case when m.status_roll < 0.93 then m.duration end,
                   case when m.status_roll < 0.90 then 'completed' when m.status_roll < 0.93 then 'failed' when m.status_roll < 0.95 then 'analysing'
                        when m.status_roll < 0.97 then 'transcribing' when m.status_roll < 0.99 then 'queued' else 'uploaded' end::public.meeting_status,
                   case when m.status_roll >= 0.90 and m.status_roll < 0.93 then 'Audio file is silent.' end,
                   m.user_id::text || '/meeting-' || m.k || '.m4a',
                   (array['zoom', 'google_meet', 'microsoft_teams', 'webex', 'slack_huddle', 'in_person', 'other'])[1 + (m.n + m.k) % 7],
                   2 + (m.n * 7 + m.k) % 11,
                   m.started_at + make_interval(secs => m.duration), m.started_at + make_interval(secs => m.duration), m.started_at + make_interval(secs => m.duration)
            from scale_meeting as m order by m.n, m.k`,
    },
    {
      name: 'meeting_transcripts (30% of completed meetings, 6-16 segments)',
      sql: `create temp table scale_transcript on commit drop as
              select m.*, pg_temp.u(${S} || ':transcript:' || m.n || ':' || m.k) as transcript_id,
                     6 + floor(11 * pg_temp.r(${S} || ':nseg:' || m.n || ':' || m.k))::int as segments
              from scale_meeting as m
              where m.status_roll < 0.90 and pg_temp.r(${S} || ':transcribed:' || m.n || ':' || m.k) < 0.30;
            insert into public.meeting_transcripts (id, meeting_id, user_id, language, segments, speaker_count, word_count, created_at)
            select t.transcript_id, t.id, t.user_id, (array['en', 'en-GB', 'en-US', 'de', 'fr'])[1 + (t.n + t.k) % 5],
                   (select jsonb_agg(jsonb_build_object(
                            'speaker', case when g % 2 = 1 then 'You' else 'Speaker ' || (2 + g % 3) end,
                            'start_ms', (g - 1) * (t.duration * 1000 / t.segments), 'end_ms', g * (t.duration * 1000 / t.segments) - 1,
                            'text', (${arr(sentences)})[1 + (t.n * 31 + t.k * 7 + g) % ${sentences.length}],
                            'is_user', g % 2 = 1) order by g)
                    from generate_series(1, t.segments) as g),
                   4, t.segments * 13, t.started_at + make_interval(secs => t.duration)
            from scale_transcript as t order by t.n, t.k`,
    },
    {
      name: 'meeting_analyses (one per transcript)',
      sql: `insert into public.meeting_analyses (id, meeting_id, user_id, transcript_id, model, prompt_version, input_tokens, output_tokens, cost_usd, insights, recommendations, sampling, sampled_segment_count, total_segment_count, overall_score, dimension_scores, created_at)
            select pg_temp.u(${S} || ':analysis:' || t.n || ':' || t.k), t.id, t.user_id, t.transcript_id, 'openai/gpt-4o-mini-2024-07-18', 'analysis-v3',
                   800 + t.segments * 120, 300 + t.segments * 20, round((800 + t.segments * 140) * 0.00000035, 6),
                   jsonb_build_object('summary', 'Clear update; the opening could be shorter.', 'talk_ratio', round((0.3 + 0.5 * pg_temp.r(${S} || ':talk:' || t.n || ':' || t.k))::numeric, 2),
                                      'words_per_minute', 110 + (t.n + t.k) % 60, 'filler_words', jsonb_build_object('count', (t.n * 3 + t.k) % 12)),
                   jsonb_build_array(jsonb_build_object('dimension', 'filler_words', 'title', 'Pause instead of filling', 'priority', 1)),
                   jsonb_build_object('strategy', 'salience', 'budget_tokens', 2000, 'segments', jsonb_build_array(jsonb_build_object('index', 0, 'reason', 'user_speaking'), jsonb_build_object('index', 2, 'reason', 'question'))),
                   2, t.segments, round((40 + 55 * pg_temp.r(${S} || ':ascore:' || t.n || ':' || t.k))::numeric, 2),
                   jsonb_build_object('clarity', 40 + (t.n + t.k) % 60, 'confidence', 40 + (t.n * 3 + t.k) % 60, 'pacing', 40 + (t.n * 7 + t.k) % 60),
                   t.started_at + make_interval(secs => t.duration + 120)
            from scale_transcript as t order by t.n, t.k`,
    },
    {
      name: 'practice_sessions (skewed per user, modules the tier allows)',
      sql: `create temp table scale_session on commit drop as
              select s.n, k, s.id as user_id, pg_temp.u(${S} || ':session:' || s.n || ':' || k) as id,
                     pg_temp.r(${S} || ':sstatus:' || s.n || ':' || k) as status_roll,
                     date_trunc('day', now()) - interval '1 hour' - interval '365 days' * pg_temp.r(${S} || ':stime:' || s.n || ':' || k) as started_at,
                     120 + floor(1680 * pg_temp.r(${S} || ':sdur:' || s.n || ':' || k))::int as duration,
                     (select a.ids[1 + floor(pg_temp.r(${S} || ':smodule:' || s.n || ':' || k) * cardinality(a.ids))::int]
                      from (select array_agg(m.id order by m.slug) as ids from public.modules as m
                            where m.is_published and m.required_tier <= p.tier) as a) as module_id
              from scale_user as s
              join public.profiles as p on p.id = s.id
              cross join lateral generate_series(1, round(s.activity * ${MEAN_SESSIONS_PER_USER / 2} * 2 * pg_temp.r(${S} || ':scount:' || s.n))::int) as k;
            insert into public.practice_sessions (id, user_id, module_id, status, started_at, completed_at, duration_seconds, overall_score, metrics, scenario, created_at, updated_at)
            select x.id, x.user_id, x.module_id,
                   case when x.status_roll < 0.80 then 'completed' when x.status_roll < 0.90 then 'abandoned' else 'in_progress' end::public.practice_status,
                   x.started_at,
                   case when x.status_roll < 0.90 then x.started_at + make_interval(secs => x.duration) end,
                   case when x.status_roll < 0.90 then x.duration end,
                   case when x.status_roll < 0.80 then round((35 + 60 * pg_temp.r(${S} || ':sscore:' || x.n || ':' || x.k))::numeric, 2) end,
                   jsonb_build_object('words_per_minute', 110 + (x.n + x.k) % 60, 'filler_word_count', (x.n + x.k * 3) % 9, 'talk_time_seconds', x.duration / 2),
                   case when x.k % 3 = 0 then jsonb_build_object('prompt', 'Brief your manager on a delay in two minutes.', 'source', 'template') end,
                   x.started_at, x.started_at
            from scale_session as x order by x.n, x.k`,
    },
    {
      name: 'session_feedback (90% of completed sessions)',
      sql: `insert into public.session_feedback (id, session_id, user_id, summary, feedback, overall_score, dimension_scores, improvement_delta, model, created_at)
            select pg_temp.u(${S} || ':feedback:' || x.n || ':' || x.k), x.id, x.user_id,
                   'Answer-first structure held up; pace was a little fast.',
                   jsonb_build_object('strengths', jsonb_build_array('Kept the recommendation up front'), 'improvements', jsonb_build_array(jsonb_build_object('dimension', 'pacing', 'tip', 'Pause after each number.'))),
                   round((35 + 60 * pg_temp.r(${S} || ':sscore:' || x.n || ':' || x.k))::numeric, 2),
                   jsonb_build_object('pacing', 40 + (x.n + x.k) % 60, 'clarity', 40 + (x.n * 5 + x.k) % 60),
                   case when x.k > 1 then round((20 * pg_temp.r(${S} || ':delta:' || x.n || ':' || x.k) - 10)::numeric, 2) end,
                   'anthropic/claude-3-5-haiku-20241022', x.started_at + make_interval(secs => x.duration + 30)
            from scale_session as x
            where x.status_roll < 0.80 and pg_temp.r(${S} || ':fb:' || x.n || ':' || x.k) < 0.90
            order by x.n, x.k`,
    },
    {
      name: 'usage_metrics (the events the history above produced)',
      sql: `insert into public.usage_metrics (user_id, kind, quantity, occurred_at)
            select user_id, kind::public.usage_metric_kind, quantity, occurred_at from (
              select m.user_id, 'meeting_uploaded' as kind, 1::numeric as quantity, m.started_at + make_interval(secs => m.duration) as occurred_at from scale_meeting as m
              union all
              select t.user_id, 'minutes_transcribed', ceil(t.duration / 60.0), t.started_at + make_interval(secs => t.duration + 60) from scale_transcript as t
              union all
              select t.user_id, 'analysis_tokens', 1100 + t.segments * 140, t.started_at + make_interval(secs => t.duration + 120) from scale_transcript as t
              union all
              select x.user_id, 'practice_session_started', 1, x.started_at from scale_session as x
              union all
              select x.user_id, 'practice_session_completed', 1, x.started_at + make_interval(secs => x.duration) from scale_session as x where x.status_roll < 0.80
            ) as e order by occurred_at, user_id, kind`,
    },
  ];
}

/** The statements of one step (a step may create a temp table, then insert from it), in order. */
export function stepStatements(sql: string): string[] {
  return sql.split(/;\s*\n\s*(?=create|insert|update)/);
}

async function rowCount(q: Queryable, sql: string): Promise<number> {
  const r = await q.query<{ n: string }>(sql);
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * Loads the scale data set in one transaction (all or nothing) into a migrated, empty database, then
 * VACUUM ANALYZE so the planner and the visibility map see it as a long-lived database would.
 */
export async function loadScaleSeed(db: Database, o: ScaleSeedOptions): Promise<ScaleSeedResult> {
  const existing = await rowCount(db, 'select count(*) as n from auth.users');
  if (existing > 0) {
    throw new Error(
      `the scale seed needs an empty database: auth.users already holds ${existing} row(s). Start from a fresh database (or \`migrate down --to 0000 --yes\`). Nothing was changed.`,
    );
  }
  const stepsSql = scaleSteps(o.users, o.randomSeed);
  const steps: ScaleStep[] = [];
  const total = stepsSql.length + 1;
  const t0 = performance.now();
  const off = [
    "public.meetings.enforce_meeting_quota (live upload quota; the seed writes each meeting's usage event itself)",
  ];
  if (!o.audit) off.push(...AUDITED_TABLES.map((t) => `public.${t}.audit_insert (--no-audit)`));
  const on = [
    'auth.users.on_auth_user_created (signup: profiles, user_progress; once per statement)',
    'auth.users.audit_create_subject_key (audit pseudonyms; once per statement)',
    'set_updated_at (before update)',
  ];
  if (o.audit) on.push(...AUDITED_TABLES.map((t) => `public.${t}.audit_insert (audit trail, one entry per row)`));
  await db.transaction(async (tx) => {
    // One plan-independent result: no parallel workers, and the triggers the load switches off come back on
    // inside the same transaction (a failure rolls the switch back with everything else).
    await tx.exec('set local max_parallel_workers_per_gather = 0');
    await tx.exec('alter table public.meetings disable trigger enforce_meeting_quota');
    if (!o.audit) for (const t of AUDITED_TABLES) await tx.exec(`alter table public.${t} disable trigger audit_insert`);
    for (const [i, step] of stepsSql.entries()) {
      const s0 = performance.now();
      let rows = 0;
      for (const sql of stepStatements(step.sql)) {
        const r = await tx.query(sql);
        if (/^\s*(insert|update)/i.test(sql)) rows += r.rowCount;
      }
      const done = { name: step.name, rows, ms: performance.now() - s0 };
      steps.push(done);
      o.progress?.(done, i + 1, total);
    }
    await tx.exec('alter table public.meetings enable trigger enforce_meeting_quota');
    if (!o.audit) for (const t of AUDITED_TABLES) await tx.exec(`alter table public.${t} enable trigger audit_insert`);
  });
  const v0 = performance.now();
  for (const t of ['auth.users', ...AUDITED_TABLES.map((x) => `public.${x}`)]) await db.exec(`vacuum (analyze) ${t}`);
  const vacuum = { name: 'vacuum (analyze) every loaded table', rows: 0, ms: performance.now() - v0 };
  steps.push(vacuum);
  o.progress?.(vacuum, total, total);
  return {
    steps,
    totalRows: steps.reduce((a, s) => a + s.rows, 0),
    totalMs: performance.now() - t0,
    triggers: { on, off },
  };
}

/** `[#####-----] 5/11` */
export function progressBar(done: number, total: number, width = 20): string {
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total}`;
}
