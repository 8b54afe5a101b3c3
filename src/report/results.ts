import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Evidence as data: the one record shape every suite, benchmark and check writes, so the compliance report
 * is a fold over uniform records (the way splinter gives every lint the same output columns).
 *
 * Each suite writes one file `reports/results/<suite>.json` ({@link ResultsFile}); the file carries the
 * provenance (commit, hash of sql/, engine, times, command) that the gate compares with the working tree.
 */
export const RESULTS_FORMAT = 'shipspeak-results/1';

export type CheckStatus = 'pass' | 'fail' | 'not-run';

export interface CheckRecord {
  /** Stable id, dotted: `<suite>.<area>.<thing>`, e.g. `perf.hot_query.meeting_list`, `pgtap.30_matrix`. */
  id: string;
  /** Plain words a reviewer understands. */
  title: string;
  status: CheckStatus;
  /** Why it failed or did not run (null when it passed). */
  reason: string | null;
  engine: 'pglite' | 'postgresql' | null;
  /** Measured numbers (ms, ratios, counts) or short facts, by name. */
  figures: Record<string, number | string | boolean> | null;
  /** Anything structured that backs the verdict (a plan, matrix cells, findings); JSON-serialisable. */
  evidence: unknown;
}

export interface Provenance {
  /** `git rev-parse HEAD` of the working tree that produced the evidence. */
  commit: string;
  /** True when tracked files differed from the commit (the evidence then belongs to no commit). */
  dirty: boolean;
  /** {@link sqlTreeHash} of sql/ at the time of the run. */
  sqlHash: string;
  /** e.g. "PostgreSQL 15.18 (ephemeral cluster)", "PGlite 0.5.16"; several engines joined with " + ". */
  engine: string;
  startedAt: string;
  endedAt: string;
  command: string;
}

export interface ResultsFile {
  format: typeof RESULTS_FORMAT;
  suite: string;
  provenance: Provenance;
  records: CheckRecord[];
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REPORTS_DIR = join(REPO_ROOT, 'reports');
export const RESULTS_DIR = join(REPORTS_DIR, 'results');

/** SHA-256 over every file under sql/ (path and bytes, sorted by path, CRLF normalised). */
export function sqlTreeHash(root = REPO_ROOT): string {
  const sqlDir = join(root, 'sql');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) files.push(p);
    }
  };
  walk(sqlDir);
  const h = createHash('sha256');
  for (const f of files.map((p) => relative(root, p).split('\\').join('/')).sort()) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(root, f), 'utf8').replace(/\r\n/g, '\n'));
    h.update('\0');
  }
  return h.digest('hex');
}

/** HEAD and whether tracked files differ from it; `unknown` outside a git checkout. */
export function gitState(root = REPO_ROOT): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      encoding: 'utf8',
    });
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return { commit: 'unknown', dirty: true };
  }
}

export function provenance(engine: string, startedAt: Date, command = process.argv.slice(1).join(' ')): Provenance {
  return {
    ...gitState(),
    sqlHash: sqlTreeHash(),
    engine,
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    command,
  };
}

/** Writes `reports/results/<suite>.json` atomically (a reader never sees half a file). */
export function writeResults(suite: string, prov: Provenance, records: CheckRecord[], dir = RESULTS_DIR): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(suite))
    throw new Error(`writeResults: suite name "${suite}" must be lower-case letters, digits and dashes`);
  const file: ResultsFile = { format: RESULTS_FORMAT, suite, provenance: prov, records };
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${suite}.json`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(file, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}
