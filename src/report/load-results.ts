import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { check } from './json-schema.js';
import type { Provenance, ResultsFile } from './results.js';

/**
 * Reads every `reports/results/*.json`. A file that is not JSON, does not match the results schema, names
 * another suite than its file name, or repeats a record id is a problem naming the file — it is never read
 * as evidence, and the gate fails on it.
 */
export interface ResultsProblem {
  kind: 'corrupt' | 'foreign' | 'stale' | 'dirty' | 'missing-suite' | 'no-results';
  file: string | null;
  suite: string | null;
  message: string;
}

export interface LoadedResults {
  dir: string;
  files: (ResultsFile & { file: string })[];
  problems: ResultsProblem[];
}

export function loadResults(dir: string): LoadedResults {
  const out: LoadedResults = { dir, files: [], problems: [] };
  if (!existsSync(dir)) {
    out.problems.push({
      kind: 'no-results',
      file: dir,
      suite: null,
      message: `${dir}: no results folder (run the suites first: npm test or npm run report)`,
    });
    return out;
  }
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const file = join(dir, name);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      out.problems.push({
        kind: 'corrupt',
        file,
        suite: null,
        message: `${file}: not valid JSON (${(e as Error).message})`,
      });
      continue;
    }
    const violations = check('results', data);
    if (violations.length) {
      out.problems.push({
        kind: 'foreign',
        file,
        suite: null,
        message: `${file}: not a shipspeak-results/1 file: ${violations.join('; ')}`,
      });
      continue;
    }
    const rf = data as ResultsFile;
    if (`${rf.suite}.json` !== name) {
      out.problems.push({
        kind: 'foreign',
        file,
        suite: rf.suite,
        message: `${file}: names suite "${rf.suite}" but the file must then be ${rf.suite}.json`,
      });
      continue;
    }
    const seen = new Set<string>();
    const dup = rf.records.find((r) => {
      if (seen.has(r.id)) return true;
      seen.add(r.id);
      return false;
    });
    if (dup) {
      out.problems.push({
        kind: 'corrupt',
        file,
        suite: rf.suite,
        message: `${file}: record id "${dup.id}" appears twice`,
      });
      continue;
    }
    out.files.push({ ...rf, file });
  }
  return out;
}

export interface TreeState {
  commit: string;
  dirty: boolean;
  sqlHash: string;
}

/**
 * Why evidence does not belong to the tree (null when it does): another commit, another sql/ hash, or — when
 * `strict` (CI) — produced from uncommitted changes, which belong to no commit at all.
 */
export function staleness(
  p: Provenance,
  tree: TreeState,
  strict: boolean,
): { kind: 'stale' | 'dirty'; message: string } | null {
  if (p.commit !== tree.commit)
    return {
      kind: 'stale',
      message: `produced at commit ${p.commit.slice(0, 12)}, the tree is at ${tree.commit.slice(0, 12)}`,
    };
  if (p.sqlHash !== tree.sqlHash)
    return {
      kind: 'stale',
      message: `produced with sql/ hash ${p.sqlHash.slice(0, 12)}, sql/ is now ${tree.sqlHash.slice(0, 12)}`,
    };
  if (strict && (p.dirty || tree.dirty))
    return {
      kind: 'dirty',
      message: 'produced from uncommitted changes (evidence of no commit; strict mode, CI=true)',
    };
  return null;
}
