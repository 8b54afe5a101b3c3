/**
 * `npm run test:pgtap` (entry: tests/pgtap/run.ts, which names the files and data): the pgTAP suite (./suite.ts) on a real PostgreSQL 15 — DATABASE_URL, else an
 * ephemeral cluster from the local binaries; without either the run fails (in CI resolveServer itself throws).
 * Writes reports/results/pgtap.json on every path of a full run (a run of chosen files is a partial suite and
 * writes none). Exit status = pg_prove's. Output is quiet unless something fails (PGTAP_VERBOSE=1 shows every
 * assertion); arguments pick files.
 */
import { existsSync } from 'node:fs';
import { isUnavailable, resolveServer } from '../../db/resolve-postgres.js';
import { provenance, writeResults, type CheckRecord } from '../../report/results.js';
import { selectFiles, testFiles } from './files.js';
import { PG_PROVE, provePgtap, type PgtapData } from './suite.js';

let partial = false;

function writeEvidence(startedAt: Date, engine: string, records: CheckRecord[]): void {
  if (partial) {
    console.log(
      '[evidence] chosen pgTAP files only: reports/results/pgtap.json not written (a partial suite is no evidence)',
    );
    return;
  }
  const path = writeResults('pgtap', provenance(engine, startedAt), records);
  console.log(`[evidence] ${path}: ${records.length} records`);
}

/** Where the suite's SQL lives: the test files' directory, the helpers and the matrix. */
export interface PgtapSuitePaths extends PgtapData {
  dir: string;
}

/** Runs the suite (all files, or the ones `wanted` names) and returns pg_prove's exit status (2: a usage error). */
export async function runPgtapSuite(paths: PgtapSuitePaths, wanted: string[]): Promise<number> {
  const started = performance.now();
  const startedAt = new Date();
  partial = wanted.length > 0;
  if (!existsSync(PG_PROVE)) {
    console.error(
      `pg_prove not found at ${PG_PROVE}: install libtap-parser-sourcehandler-pgtap-perl and postgresql-15-pgtap (.ci/run does) or set PG_PROVE`,
    );
    writeEvidence(startedAt, 'none', [
      {
        id: 'pg_prove',
        title: 'pg_prove is installed',
        status: 'not-run',
        reason: `pg_prove not found at ${PG_PROVE}`,
        engine: null,
        figures: null,
        evidence: null,
      },
    ]);
    return 1;
  }
  let files: string[];
  try {
    files = selectFiles(testFiles(paths.dir), wanted);
  } catch (e) {
    console.error(`test:pgtap: ${(e as Error).message}`);
    return 2;
  }
  if (files.length === 0) {
    console.error(`no pgTAP files in ${paths.dir}`);
    return 1;
  }
  const server = await resolveServer({ log: true });
  if (isUnavailable(server)) {
    // A suite that cannot run must not look like one that passed.
    console.error(`pgTAP suite NOT RUN, failing: ${server.unavailable}`);
    writeEvidence(startedAt, 'none', [
      {
        id: 'server',
        title: 'a PostgreSQL 15 server for pgTAP',
        status: 'not-run',
        reason: server.unavailable,
        engine: null,
        figures: null,
        evidence: null,
      },
    ]);
    return 1;
  }
  console.log(`[pgtap] ${server.description}`);
  try {
    const prove = await provePgtap(server.url, files, paths, {
      keep: process.env.PGTAP_KEEP === '1' && server.source === 'DATABASE_URL',
    });
    writeEvidence(startedAt, server.description, prove.records);
    const tests = /Files=(\d+), Tests=(\d+)/.exec(prove.output);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `[figures] pgTAP: ${tests ? `${tests[2]} assertions in ${tests[1]} files` : 'no summary'}; ` +
        `${prove.code === 0 ? 'PASS' : `FAIL (pg_prove exit ${prove.code})`}; npm run test:pgtap took ${seconds} s`,
    );
    return prove.code;
  } finally {
    await server.stop();
  }
}
