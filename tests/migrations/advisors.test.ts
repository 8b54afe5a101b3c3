/**
 * Supabase's official database linter (`supabase db advisors`, the splinter lints) as a test, on a scratch
 * PostgreSQL 15 database migrated to head: no finding at WARN or ERROR, and every INFO finding must be on the
 * allow-list below with the reason it is acceptable (docs/security.md repeats the list). A
 * second scratch database with a planted table without RLS proves the linter is live, so a green run can
 * never come from a linter that saw nothing.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { migratedScratchDatabase } from '../../src/migrate/scratch.js';
import { attachEvidence } from '../../src/report/test-evidence.js';
import { describePg, pgUrl } from '../support/pg.js';

const execFileAsync = promisify(execFile);
const SUPABASE_CLI = fileURLToPath(new URL('../../node_modules/.bin/supabase', import.meta.url));

interface Finding {
  name: string;
  level: 'INFO' | 'WARN' | 'ERROR';
  detail: string;
  metadata?: { schema?: string; name?: string; type?: string };
}

/** INFO findings we accept, each with the reason (kept in sync with docs/security.md). */
export const INFO_ALLOW_LIST: { name: string; applies: (f: Finding) => boolean; reason: string }[] = [
  {
    name: 'unused_index',
    applies: () => true,
    reason:
      'usage statistics of a freshly migrated scratch database are empty, so every index is "unused"; each index serves a foreign key, an RLS owner filter or a documented query (the pgTAP schema suite checks owner-column indexes).',
  },
  {
    name: 'rls_enabled_no_policy',
    applies: (f) => f.metadata?.schema === 'private' && f.metadata?.name === 'tier_quotas',
    reason:
      'private.tier_quotas is quota configuration in the non-exposed private schema; RLS without policies is deliberate deny-all for everyone but its owner, and only the SECURITY DEFINER quota trigger reads it.',
  },
  {
    name: 'rls_enabled_no_policy',
    applies: (f) =>
      f.metadata?.schema === 'private' &&
      ['usage_daily_rollup', 'usage_month_users'].includes(String(f.metadata?.name)),
    reason:
      'the usage rollup (0025) lives in the non-exposed private schema; RLS without policies is deliberate deny-all, and only its SECURITY DEFINER trigger and admin_usage_monthly() read or write it.',
  },
];

async function advisors(url: string): Promise<Finding[]> {
  const u = new URL(url);
  // Without sslmode=disable the CLI attempts TLS against the local cluster and prints a warning.
  u.searchParams.set('sslmode', 'disable');
  const { stdout } = await execFileAsync(
    SUPABASE_CLI,
    ['db', 'advisors', '--remote', u.toString(), '--type', 'all', '--level', 'info', '--output-format', 'json'],
    { maxBuffer: 32 * 1024 * 1024, timeout: 120_000, env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1' } },
  );
  const start = stdout.indexOf('{');
  if (start < 0) throw new Error(`supabase db advisors printed no JSON:\n${stdout}`);
  const parsed = JSON.parse(stdout.slice(start)) as { results?: Finding[] };
  if (!Array.isArray(parsed.results)) throw new Error(`unexpected advisors output: ${stdout.slice(0, 500)}`);
  return parsed.results;
}

const describeFinding = (f: Finding) => `${f.level} ${f.name}: ${f.detail}`;

describePg('supabase db advisors (official linter) on the migrated schema', () => {
  let head: ScratchDatabase;
  let planted: ScratchDatabase;
  let findings: Finding[];

  beforeAll(async () => {
    head = await migratedScratchDatabase(pgUrl(), 'advisors');
    findings = await advisors(head.url);
  });

  afterAll(async () => {
    await head?.drop();
    await planted?.drop();
  });

  it('reports nothing at WARN or ERROR', ({ task }) => {
    const count = (level: Finding['level']) => findings.filter((f) => f.level === level).length;
    attachEvidence(task, {
      engine: 'postgresql',
      figures: { error: count('ERROR'), warn: count('WARN'), info: count('INFO') },
      evidence: {
        kind: 'advisor-findings',
        findings: findings.map((f) => ({
          name: f.name,
          level: f.level,
          object: `${f.metadata?.schema ?? ''}.${f.metadata?.name ?? ''}`,
        })),
      },
    });
    const serious = findings.filter((f) => f.level !== 'INFO');
    expect(serious.map(describeFinding)).toEqual([]);
  });

  it('reports only allow-listed INFO findings, each with a reason', () => {
    const info = findings.filter((f) => f.level === 'INFO');
    const unexplained = info.filter((f) => !INFO_ALLOW_LIST.some((a) => a.name === f.name && a.applies(f)));
    expect(unexplained.map(describeFinding)).toEqual([]);
    const counts = Object.entries(
      findings.reduce<Record<string, number>>((acc, f) => {
        acc[`${f.level} ${f.name}`] = (acc[`${f.level} ${f.name}`] ?? 0) + 1;
        return acc;
      }, {}),
    );
    console.log(
      `[figures] advisors at head: ${findings.length} findings (${counts.map(([k, n]) => `${k} x${n}`).join(', ') || 'none'})`,
    );
  });

  it('is live: a planted public table without RLS is reported as rls_disabled_in_public (ERROR)', async () => {
    planted = await migratedScratchDatabase(pgUrl(), 'advisors_bad', (db) =>
      db.exec('create table public.planted_without_rls (id integer primary key, secret text)'),
    );
    const bad = await advisors(planted.url);
    const hit = bad.find((f) => f.name === 'rls_disabled_in_public' && f.detail.includes('planted_without_rls'));
    expect(hit, `findings were:\n${bad.map(describeFinding).join('\n')}`).toBeDefined();
    expect(hit!.level).toBe('ERROR');
  });
});
