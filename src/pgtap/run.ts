/**
 * `npm run test:pgtap`: the pgTAP suite (tests/pgtap/*.sql) on a real PostgreSQL 15.
 *
 * Server: resolveServer() — DATABASE_URL, else an ephemeral cluster from the local binaries; without either
 * the run fails (in CI resolveServer itself throws). A scratch database gets the platform bootstrap, every
 * migration, the pgtap extension, the SQL helpers (tests/pgtap/support/helpers.sql) and the expected-outcome
 * matrix (tests/rls/matrix.json, the file the supabase-js suite reads too), committed; pg_prove then runs
 * each test file, which begins, plans, asserts, finishes and rolls back. Exit status = pg_prove's.
 * Output is quiet unless something fails (PGTAP_VERBOSE=1 shows every assertion); arguments pick files.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isUnavailable, resolveServer } from '../db/server.js';
import { migratedScratchDatabase } from '../migrate/scratch.js';
import { provenance, writeResults } from '../report/results.js';
import { loadMatrix, matrixCells } from '../rls/matrix.js';
import { tapRecords } from './tap-records.js';
import { PGTAP_DIR, selectFiles, testFiles } from './files.js';

const HELPERS = `${PGTAP_DIR}support/helpers.sql`;
const PG_PROVE = process.env.PG_PROVE ?? '/usr/bin/pg_prove';

/** Quiet by default: a passing assertion or a plan line is not shown; failures, diagnostics and summaries are. */
const PASSING_LINE = /^\s*(ok \d+|1\.\.\d+)/;
const VERBOSE = process.env.PGTAP_VERBOSE === '1';

function runPgProve(url: string, files: string[]): Promise<{ code: number; output: string }> {
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
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (VERBOSE || !PASSING_LINE.test(line)) process.stdout.write(`${line}\n`);
    });
    child.stdout.on('end', () => {
      if (pending && (VERBOSE || !PASSING_LINE.test(pending))) process.stdout.write(pending);
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
      process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The suite's evidence (reports/results/pgtap.json); a run of chosen files is a partial suite and writes none. */
function writeEvidence(startedAt: Date, engine: string, records: Parameters<typeof writeResults>[2]): void {
  if (process.argv.length > 2) return;
  const path = writeResults('pgtap', provenance(engine, startedAt), records);
  console.log(`[evidence] ${path}: ${records.length} records`);
}

async function main(): Promise<number> {
  const started = performance.now();
  const startedAt = new Date();
  if (!existsSync(PG_PROVE)) {
    console.error(`pg_prove not found at ${PG_PROVE}: install libtap-parser-sourcehandler-pgtap-perl and postgresql-15-pgtap (.ci/run does) or set PG_PROVE`);
    return 1;
  }
  let files: string[];
  try {
    files = selectFiles(testFiles(), process.argv.slice(2));
  } catch (e) {
    console.error(`test:pgtap: ${(e as Error).message}`);
    return 2;
  }
  if (files.length === 0) {
    console.error(`no pgTAP files in ${PGTAP_DIR}`);
    return 1;
  }
  const server = await resolveServer({ log: true });
  if (isUnavailable(server)) {
    // A suite that cannot run must not look like one that passed.
    console.error(`pgTAP suite NOT RUN, failing: ${server.unavailable}`);
    writeEvidence(startedAt, 'none', [{ id: 'server', title: 'a PostgreSQL 15 server for pgTAP', status: 'not-run', reason: server.unavailable, engine: null, figures: null, evidence: null }]);
    return 1;
  }
  console.log(`[pgtap] ${server.description}`);
  try {
    const scratch = await migratedScratchDatabase(server.url, 'pgtap', async (db) => {
      // pgTAP in its own schema: its views and functions must not pollute public, which the suite inspects.
      await db.exec('create schema tap');
      await db.exec('grant usage on schema tap to public');
      await db.exec('create extension pgtap schema tap');
      await db.exec(`alter database "${(await db.query<{ d: string }>('select current_database() as d')).rows[0]!.d}" set search_path = "$user", public, tap, extensions`);
      await db.exec(readFileSync(HELPERS, 'utf8'));
      const matrix = loadMatrix();
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
      const applied = (await db.query<{ n: number }>('select count(*)::int as n from supabase_migrations.schema_migrations')).rows[0]!.n;
      console.log(`[pgtap] scratch database: ${applied} migrations, pgtap, helpers, ${cells.length} matrix cells`);
    });
    try {
      const prove = await runPgProve(scratch.url, files);
      writeEvidence(startedAt, server.description, tapRecords(prove.output, files, prove.code));
      const tests = /Files=(\d+), Tests=(\d+)/.exec(prove.output);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(
        `[figures] pgTAP: ${tests ? `${tests[2]} assertions in ${tests[1]} files` : 'no summary'}; ` +
          `${prove.code === 0 ? 'PASS' : `FAIL (pg_prove exit ${prove.code})`}; npm run test:pgtap took ${seconds} s`,
      );
      return prove.code;
    } finally {
      // PGTAP_KEEP=1 (with DATABASE_URL) leaves the scratch database for `psql -f tests/pgtap/<file>.sql` debugging.
      if (process.env.PGTAP_KEEP === '1' && server.source === 'DATABASE_URL') console.log(`[pgtap] kept scratch database ${scratch.name}`);
      else await scratch.drop().catch((e: Error) => console.error(`[pgtap] could not drop ${scratch.name}: ${e.message}`));
    }
  } finally {
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`test:pgtap: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
