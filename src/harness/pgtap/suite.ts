/**
 * The pgTAP suite on a real PostgreSQL 15 (the files, helpers and matrix are the caller's: tests/pgtap/run.ts).
 *
 * Server: resolveServer() — DATABASE_URL, else an ephemeral cluster from the local binaries; without either
 * the run fails (in CI resolveServer itself throws). A scratch database gets the platform bootstrap, every
 * migration, the pgtap extension, the SQL helpers (tests/pgtap/support/helpers.sql) and the expected-outcome
 * matrix (tests/rls/matrix.json, the file the supabase-js suite reads too), committed; pg_prove then runs
 * each test file, which begins, plans, asserts, finishes and rolls back; its TAP becomes evidence records.
 * `plant` (tests of the compliance gate only) runs one more SQL text on the scratch database before pg_prove.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { migratedScratchDatabase } from '../../migrate/scratch.js';
import type { CheckRecord } from '../../report/results.js';
import { loadMatrix, matrixCells } from '../matrix.js';
import { tapRecords } from './tap-records.js';

/** The data a run needs besides its test files: the SQL helpers and the expected-outcome matrix. */
export interface PgtapData {
  helpersPath: string;
  matrixPath: string;
}
export const PG_PROVE = process.env.PG_PROVE ?? '/usr/bin/pg_prove';

/** Quiet by default: a passing assertion or a plan line is not shown; failures, diagnostics and summaries are. */
const PASSING_LINE = /^\s*(ok \d+|1\.\.\d+)/;
const VERBOSE = process.env.PGTAP_VERBOSE === '1';

function runPgProve(url: string, files: string[], echo: boolean): Promise<{ code: number; output: string }> {
  const u = new URL(url);
  const args = ['--ext', '.sql', '--failures', '--timer', '--verbose', ...files];
  // pg_prove drives psql; the connection goes through libpq's environment variables (no password in argv).
  const env = {
    ...process.env,
    PGHOST: decodeURIComponent(u.hostname),
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username) || 'postgres',
    PGDATABASE: decodeURIComponent(u.pathname.slice(1)),
    ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}),
    PGSSLMODE: u.searchParams.get('sslmode') ?? process.env.PGSSLMODE ?? 'prefer',
  };
  return new Promise((resolve, reject) => {
    const child = spawn(PG_PROVE, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    // Line-buffered so the quiet filter sees whole lines; everything is still captured in `output`.
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!echo) return;
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (VERBOSE || !PASSING_LINE.test(line)) process.stdout.write(`${line}\n`);
    });
    child.stdout.on('end', () => {
      if (echo && pending && (VERBOSE || !PASSING_LINE.test(pending))) process.stdout.write(pending);
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
      if (echo) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

export interface PgtapRun {
  code: number;
  output: string;
  records: CheckRecord[];
  scratch: string;
}

export async function provePgtap(
  serverUrl: string,
  files: string[],
  data: PgtapData,
  options: { plant?: string; echo?: boolean; keep?: boolean } = {},
): Promise<PgtapRun> {
  const scratch = await migratedScratchDatabase(serverUrl, 'pgtap', async (db) => {
    // pgTAP in its own schema: its views and functions must not pollute public, which the suite inspects.
    await db.exec('create schema tap');
    await db.exec('grant usage on schema tap to public');
    await db.exec('create extension pgtap schema tap');
    await db.exec(
      `alter database "${(await db.query<{ d: string }>('select current_database() as d')).rows[0]!.d}" set search_path = "$user", public, tap, extensions`,
    );
    await db.exec(readFileSync(data.helpersPath, 'utf8'));
    const matrix = loadMatrix(data.matrixPath);
    const cells = matrixCells(matrix);
    await db.query(
      `insert into tests.matrix (tbl, persona, op, expected)
       select * from jsonb_to_recordset($1::jsonb) as c (tbl text, persona text, op text, expected text)`,
      [JSON.stringify(cells.map((c) => ({ tbl: c.table, persona: c.persona, op: c.operation, expected: c.expected })))],
    );
    await db.query(
      `insert into tests.matrix_tables (tbl, owner_column)
       select * from jsonb_to_recordset($1::jsonb) as t (tbl text, owner_column text)`,
      [JSON.stringify(Object.entries(matrix.tables).map(([tbl, t]) => ({ tbl, owner_column: t.owner_column })))],
    );
    const applied = (
      await db.query<{ n: number }>('select count(*)::int as n from supabase_migrations.schema_migrations')
    ).rows[0]!.n;
    if (options.echo ?? true)
      console.log(`[pgtap] scratch database: ${applied} migrations, pgtap, helpers, ${cells.length} matrix cells`);
    if (options.plant) await db.exec(options.plant);
  });
  try {
    const prove = await runPgProve(scratch.url, files, options.echo ?? true);
    return { ...prove, records: tapRecords(prove.output, files, prove.code), scratch: scratch.name };
  } finally {
    // PGTAP_KEEP=1 (with DATABASE_URL) leaves the scratch database for `psql -f tests/pgtap/<file>.sql` debugging.
    if (options.keep) console.log(`[pgtap] kept scratch database ${scratch.name}`);
    else
      await scratch.drop().catch((e: Error) => console.error(`[pgtap] could not drop ${scratch.name}: ${e.message}`));
  }
}
