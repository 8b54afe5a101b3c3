/**
 * `shipspeak-db seed --scale`: bad input is a usage error (exit 2) that opens no database; a second load
 * into a seeded database is refused and changes nothing; the same --random-seed gives the same rows and a
 * different one different rows; the rows go through auth.users so every user has a profile
 * and progress. In-process on PGlite with a small scale: the same set-based SQL the bench runs on PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/commands/dispatch.js';
import { openPGlite } from '../../src/db/pglite.js';
import type { Database } from '../../src/db/database.js';
import { loadScaleSeed, scaleSteps } from '../../src/seed/scale.js';
import { pgliteAtHead } from '../support/pglite-head.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'shipspeak-scale-'));
  dirs.push(d);
  return d;
};

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), ask: async () => null });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function fingerprint(db: Database): Promise<Record<string, string>> {
  {
    const r = await db.query<{ t: string; n: string; h: string }>(
      `select 'users' as t, count(*)::text as n, md5(string_agg(id::text || email, ',' order by id)) as h from auth.users
       union all select 'profiles', count(*)::text, md5(string_agg(id::text || tier || role, ',' order by id)) from public.profiles
       union all select 'meetings', count(*)::text, md5(string_agg(id::text || title || status || duration_seconds::text, ',' order by id)) from public.meetings
       union all select 'transcripts', count(*)::text, md5(string_agg(id::text || segments::text, ',' order by id)) from public.meeting_transcripts
       union all select 'sessions', count(*)::text, md5(string_agg(id::text || module_id::text || status, ',' order by id)) from public.practice_sessions
       union all select 'feedback', count(*)::text, md5(string_agg(id::text || overall_score::text, ',' order by id)) from public.session_feedback
       union all select 'usage', count(*)::text, md5(string_agg(user_id::text || kind || quantity::text, ',' order by user_id, kind, quantity, occurred_at)) from public.usage_metrics
       union all select 'progress', count(*)::text, '' from public.user_progress`,
    );
    return Object.fromEntries(r.rows.map((x) => [x.t, `${x.n}:${x.h}`]));
  }
}

describe('seed --scale: usage errors exit 2 and open no database', () => {
  it.each([
    [['seed', '--scale', '0'], /--scale expects a positive whole number, got "0"/],
    [['seed', '--scale', 'many'], /--scale expects a positive whole number, got "many"/],
    [['seed', '--scale', '-5'], /--scale/],
    [['seed', '--scale', '10', '--name', 'dev'], /--name and --scale exclude each other/],
    [['seed', '--random-seed', 'x'], /--random-seed and --no-audit go with --scale/],
    [['seed', '--no-audit'], /--random-seed and --no-audit go with --scale/],
  ])('%j', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/in-memory PGlite/);
  });

  it('the generator refuses a non-positive user count even when called directly', () => {
    expect(() => scaleSteps(0, 's')).toThrow(/positive whole number/);
    expect(() => scaleSteps(1.5, 's')).toThrow(/positive whole number/);
  });

  it('the random seed reaches SQL only as a quoted literal', () => {
    const sql = scaleSteps(1, "x'); drop table auth.users; --")
      .map((s) => s.sql)
      .join('\n');
    expect(sql).toContain("'x''); drop table auth.users; --'");
  });
});

describe('seed --scale on PGlite', () => {
  const migrated = pgliteAtHead;

  it('is deterministic per random seed and goes through the signup trigger', async () => {
    const prints: Record<string, string>[] = [];
    for (const seed of ['alpha', 'alpha', 'beta']) {
      const db = await migrated();
      try {
        await loadScaleSeed(db, { users: 4, randomSeed: seed, audit: false });
        prints.push(await fingerprint(db));
      } finally {
        await db.close();
      }
    }
    const [a, b, c] = prints as [Record<string, string>, Record<string, string>, Record<string, string>];
    expect(b).toEqual(a);
    expect(c.meetings).not.toEqual(a.meetings);
    expect(a.users).toMatch(/^4:/);
    expect(a.profiles).toMatch(/^4:/);
    expect(Number(a.progress!.split(':')[0])).toBe(4 * 6);
    expect(Number(a.meetings!.split(':')[0])).toBeGreaterThan(0);
  }, 240_000);

  it('the CLI prints progress and rows/s, and refuses a second load without changing anything', async () => {
    const dir = dataDir();
    const first = await cli(['seed', '--scale', '5', '--data-dir', dir]);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/\[#+\] 11\/11/);
    expect(first.out).toMatch(/loaded \d+ rows in [\d.]+ s \(\d+ rows\/s\)/);
    expect(first.out).toMatch(/triggers off during the load: public\.meetings\.enforce_meeting_quota/);
    const db = await openPGlite({ dataDir: dir });
    const before = await fingerprint(db);
    await db.close();
    const again = await cli(['seed', '--scale', '5', '--random-seed', 'other', '--data-dir', dir]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/needs an empty database: auth\.users already holds 5 row\(s\)/);
    const db2 = await openPGlite({ dataDir: dir });
    try {
      expect(await fingerprint(db2)).toEqual(before);
    } finally {
      await db2.close();
    }
  }, 240_000);
});
