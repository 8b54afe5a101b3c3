/**
 * docs/benchmarks.md is generated from the bench's evidence file (reports/results/perf.json), never typed by
 * hand: `npm run bench` writes the evidence and then this page; `npm run bench -- --doc-only` re-renders the
 * page from the evidence already there. The prose around the tables is fixed here, next to the code that
 * produces the figures.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT, RESULTS_DIR, type CheckRecord, type ResultsFile } from '../report/results.js';
import { HOT_QUERY_TARGETS } from './targets.js';

export const BENCHMARKS_DOC = join(REPO_ROOT, 'docs', 'benchmarks.md');
export const PERF_RESULTS = join(RESULTS_DIR, 'perf.json');

type Figures = Record<string, number | string | boolean>;

const num = (f: Figures, k: string): number => {
  const v = f[k];
  if (typeof v !== 'number') throw new Error(`perf evidence: figure "${k}" is missing or not a number`);
  return v;
};
const ms = (f: Figures, k: string) => num(f, k).toFixed(3);

/** The plan's top node and the indexes it uses, e.g. "Aggregate; indexes: meetings_user_id_created_at_idx". */
function planGist(text: string): string {
  const indexes = [...new Set([...text.matchAll(/using (\S+) on/gi)].map((m) => m[1]))];
  const top =
    text
      .split('\n')[0]
      ?.replace(/\s+\(cost.*$/, '')
      .trim() ?? '';
  return `${top}${indexes.length ? `; indexes: ${indexes.join(', ')}` : ''}`;
}

function table(records: CheckRecord[], prefix: string): string[] {
  const rows = records.filter((r) => r.id.startsWith(`${prefix}.`));
  if (rows.length === 0) return ['Not measured in this run.'];
  const out = [
    '| query | users | n | RLS p50 | RLS p95 | RLS p99 | bypass p50 | bypass p99 | RLS ÷ bypass (median of pairs) | p50 RLS ÷ p50 bypass | backend CPU RLS ÷ bypass (median of pairs) | statements | verdict | plan (heaviest sampled user) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of rows) {
    const f = r.figures ?? {};
    const ev = (r.evidence ?? {}) as { plan?: string };
    const verdict = f.hot === false ? 'not a hot path' : r.status === 'pass' ? 'met' : `**missed**: ${r.reason ?? ''}`;
    out.push(
      `| \`${r.id.slice(prefix.length + 1)}\` | ${f.users} | ${f.n} | ${ms(f, 'rls_p50_ms')} | ${ms(f, 'rls_p95_ms')} | ${ms(f, 'rls_p99_ms')} | ${ms(f, 'bypass_p50_ms')} | ${ms(f, 'bypass_p99_ms')} | ` +
        `${num(f, 'rls_ratio_paired_median').toFixed(2)} | ${num(f, 'rls_ratio_of_medians').toFixed(2)} | ${typeof f.rls_cpu_ratio_paired_median === 'number' ? f.rls_cpu_ratio_paired_median.toFixed(2) : 'n/a'} | ${f.statements_per_request} | ${verdict} | ${planGist(ev.plan ?? '').replace(/\|/g, '\\|')} |`,
    );
  }
  return out;
}

/** The sentence saying the load below was made by an earlier run (`npm run bench -- --database … --load-evidence …`). */
function carriedOver(evidence: unknown): string[] {
  const by = (evidence as { loaded_by?: { command?: string; startedAt?: string; commit?: string } | null }).loaded_by;
  if (by === undefined) return [];
  return [
    '',
    `Loaded by an earlier run (\`${by?.command ?? 'unknown command'}\`, started ${by?.startedAt ?? 'at an unknown time'}, commit ${by?.commit?.slice(0, 12) ?? 'unknown'}) and kept; the run measured below applied the migrations added since to that database and analysed it.`,
  ];
}

export function renderBenchmarksDoc(file: ResultsFile): string {
  const p = file.provenance;
  const seed = file.records.find((r) => r.id === 'perf.scale_seed.load');
  if (!seed?.figures) throw new Error('perf evidence has no perf.scale_seed.load record');
  const sf = seed.figures;
  const steps = (
    seed.evidence as { steps: { name: string; rows: number; ms: number }[]; triggers: { on: string[]; off: string[] } }
  ).steps;
  const triggers = (seed.evidence as { triggers: { on: string[]; off: string[] } }).triggers;
  const users = num(sf, 'users');
  const hot = file.records.filter((r) => r.id.startsWith('perf.hot_query.') && r.figures?.hot !== false);
  const missed = hot.filter((r) => r.status !== 'pass');
  const t = HOT_QUERY_TARGETS;
  const lines = [
    '# Benchmarks',
    '',
    '<!-- Generated from reports/results/perf.json by src/bench/doc.ts (`npm run bench`, or `npm run bench -- --doc-only`). Do not edit by hand. -->',
    '',
    `Run of \`${p.command}\` from ${p.startedAt} to ${p.endedAt} on ${p.engine}, commit ${p.commit.slice(0, 12)}${p.dirty ? ' (with uncommitted changes)' : ''}. ` +
      'All times in milliseconds, measured on the shared 2-core machine the project runs on' +
      (typeof sf.load_average_1m_at_start === 'number'
        ? ` (load average ${sf.load_average_1m_at_start.toFixed(1)} on ${sf.cores} cores when the queries started)`
        : '') +
      ': absolute times scale with whatever else runs there; the RLS ÷ bypass ratios are measured back to back and much less so. ' +
      'The backend CPU column divides the same pairs by the CPU time the PostgreSQL backend spent on each statement (/proc/<pid>/schedstat), ' +
      'which leaves out the time a statement waited for a core: what RLS costs the server.',
    '',
    `Hot-path targets (issue #17): p99 ≤ ${t.p99Ms} ms with RLS, RLS ÷ bypass ≤ ${t.rlsRatio} (median over back-to-back pairs of the same user's request), ` +
      `${t.statements} statement per request (pg_stat_statements, besides the transaction prelude), no sequential scan on a large table. ` +
      `This run: ${hot.length - missed.length} of ${hot.length} hot queries met every target` +
      (missed.length
        ? `; missed: ${missed.map((r) => `\`${r.id.slice('perf.hot_query.'.length)}\``).join(', ')} (see the verdict column).`
        : '.'),
    '',
    '## How to run',
    '',
    '```sh',
    'npm run bench                          # 10,000 users (default), direct and through PgBouncer',
    "npm run bench -- --users 100000        # the issue's production scale (a long load on 2 cores)",
    'npm run bench -- --only meeting_detail,dashboard --no-pgbouncer',
    'npm run bench -- --doc-only            # re-render this page from reports/results/perf.json',
    'DATABASE_URL=postgres://… npm run bench   # your own server (a scratch database is created and dropped)',
    '# again on a database a `--keep` run loaded, after applying the migrations added since (its load carried over):',
    'DATABASE_URL=postgres://… npm run bench -- --database bench_… --load-evidence saved-perf.json',
    '```',
    '',
    `## Load: scale seed of ${users} users`,
    ...carriedOver(seed.evidence),
    '',
    '| step | rows | seconds | rows/s |',
    '| --- | ---: | ---: | ---: |',
    ...steps.map(
      (s) =>
        `| ${s.name} | ${s.rows} | ${(s.ms / 1000).toFixed(1)} | ${s.rows ? Math.round(s.rows / (s.ms / 1000)) : ''} |`,
    ),
    `| **total** | **${num(sf, 'rows')}** | **${num(sf, 'seconds').toFixed(1)}** | **${num(sf, 'rows_per_second')}** |`,
    '',
    `Triggers on during the load: ${triggers.on.join('; ')}.`,
    '',
    `Triggers off during the load: ${triggers.off.join('; ')}.`,
    '',
    `## Hot queries at ${users} users — direct`,
    '',
    'Each query of `tests/perf/queries.json` went once per sampled user through the gateway (src/rest) to capture its SQL, then was ' +
      'timed as the user (role `authenticated`, `request.jwt.claims` set in the transaction, RLS on) and, interleaved in the same loop, ' +
      'as `service_role` (BYPASSRLS, same claims), over many different users (admins: as many as exist). The plan column is the ' +
      'top node of EXPLAIN (ANALYZE, BUFFERS) for the sampled user with the most meetings and the indexes it used; the full plans ' +
      'and SQL are in the evidence file.',
    '',
    ...table(file.records, 'perf.hot_query'),
    '',
    '## Through PgBouncer (transaction mode)',
    '',
    ...table(file.records, 'perf.pgbouncer.hot_query'),
    '',
    '## Pooling settings this mirrors',
    '',
    "- Supabase's pooler (Supavisor on port 6543, and the dedicated PgBouncer) in **transaction mode**: a server connection serves",
    '  one client only for the length of a transaction. Anything a request sets must therefore be transaction-local:',
    '  the gateway publishes `role`, `request.jwt.claims`, `search_path` and `statement_timeout` with `set_config(…, true)`,',
    '  as PostgREST does. `tests/pooling/leak.test.ts` proves that 50 pooled clients interleaving different users never',
    "  see another user's role, claims or search_path, and that a session-level `set_config(…, false)` *would* leak, so",
    '  the test can fail.',
    '- Prepared statements: node-postgres sends unnamed statements (parse/bind per query), which transaction pooling',
    '  supports on every PgBouncer; named prepared statements need PgBouncer ≥ 1.21 (`max_prepared_statements`) or',
    "  Supavisor's own support. Debian 12 ships PgBouncer 1.18.",
    '- `server_reset_query` is not run between transactions in transaction mode (`server_reset_query_always = 0`, the',
    '  default), exactly like Supabase; nothing is cleaned for us.',
    '',
    '## What was changed to meet the targets',
    '',
    '- `admin_usage_summary` aggregates a month of raw usage events per call (`admin_usage_summary_raw` above). Migration 0025',
    '  adds an incrementally maintained anonymous daily rollup (per day, kind, tier and 16 shards; no user id) and',
    '  `admin_usage_monthly(p_month)`, which reads at most 31 × 5 × 3 × 16 rows; the admin screen uses it. The gate in',
    '  `npm test` checks that both functions return the same numbers for the current month.',
    '- The home screen made five requests; migration 0024 adds `public.dashboard()` (SECURITY INVOKER, RLS applies),',
    '  one statement returning all five parts.',
    "- Every catalogue read filters on the owner explicitly besides RLS (Supabase's guidance), so the planner uses the",
    '  `(user_id, …)` indexes and the bypass run returns the same rows.',
    '',
  ];
  return lines.join('\n');
}

export function writeBenchmarksDoc(resultsPath = PERF_RESULTS, path = BENCHMARKS_DOC): string {
  const file = JSON.parse(readFileSync(resultsPath, 'utf8')) as ResultsFile;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderBenchmarksDoc(file));
  return path;
}
