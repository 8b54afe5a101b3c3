import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { catalogSnapshot, type CatalogSnapshot } from '../../../src/db/catalog.js';
import type { Queryable } from '../../../src/db/database.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./migrate-child.ts', import.meta.url));

/**
 * A migration whose statements sleep only in the step named by the session setting `shipspeak.fault_step`
 * (set through the URL's `options`), so a drill can hold the runner inside any one step and kill it there,
 * while an ordinary run of the same file (setting absent) finishes at once.
 */
export function steppedMigration(steps: number, holdSeconds = 60): string {
  const sleep = (i: number) =>
    `select pg_sleep(case when current_setting('shipspeak.fault_step', true) = '${i}' then ${holdSeconds} else 0 end);`;
  const lines = ['create table public.drill (id int primary key, note text);', sleep(1)];
  const work = [
    `insert into public.drill (id, note) select g, 'row ' || g from generate_series(1, 1000) g;`,
    `create index drill_note on public.drill (note);`,
    `update public.drill set note = upper(note);`,
  ];
  for (let i = 2; i <= steps; i++)
    lines.push(work[(i - 2) % work.length]!.replace('drill_note', `drill_note_${i}`), sleep(i));
  return `${lines.join('\n')}\n`;
}

/** The URL with session settings passed as startup options (`-c name=value`). */
export function withOptions(url: string, settings: Record<string, string>): string {
  const u = new URL(url);
  u.searchParams.set(
    'options',
    Object.entries(settings)
      .map(([k, v]) => `-c ${k}=${v}`)
      .join(' '),
  );
  return u.toString();
}

/** Everything a partial migration could leave: the catalog plus both history tables. */
export async function stateOf(db: Queryable): Promise<{ catalog: CatalogSnapshot; history: unknown[] }> {
  const history = await db
    .query(
      `select m.version, m.name, c.checksum from supabase_migrations.schema_migrations m
       left join supabase_migrations.shipspeak_checksums c using (version) order by 1`,
    )
    .then((r) => r.rows)
    .catch(() => []);
  return { catalog: await catalogSnapshot(db), history };
}

/** Polls until a backend of `database` sleeps in pg_sleep (a drill's held step); returns its pid. */
export async function waitForSleeper(superuserUrl: string, database: string, timeoutMs = 60_000): Promise<number> {
  const c = new pg.Client({ connectionString: superuserUrl });
  await c.connect();
  try {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const r = await c.query<{ pid: number }>(
        `select pid from pg_stat_activity where datname = $1 and wait_event = 'PgSleep' and pid <> pg_backend_pid()`,
        [database],
      );
      if (r.rows[0]) return r.rows[0].pid;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`no backend of ${database} slept in pg_sleep within ${timeoutMs} ms`);
  } finally {
    await c.end();
  }
}

export interface ChildRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Starts tests/reliability/support/migrate-child.ts as a separate node process. */
export function spawnRunner(url: string, sqlDir: string): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, url, sqlDir], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}
