import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalogue, CATALOGUE_PATH } from './catalogue.js';
import { buildCompliance, type Compliance } from './compliance.js';
import { check } from './json-schema.js';
import { loadResults, type TreeState } from './load-results.js';
import { renderHtml } from './render-html.js';
import { renderJunit } from './render-junit.js';
import { renderMarkdown } from './render-md.js';
import { gitState, sqlTreeHash } from './results.js';

/** Builds reports/compliance.{json,md,html} and reports/junit.xml from reports/results/*.json. */
export interface BuildOptions {
  resultsDir: string;
  outDir: string;
  catalogue?: string;
  strict: boolean;
  tree?: TreeState;
}

export function currentTree(): TreeState {
  return { ...gitState(), sqlHash: sqlTreeHash() };
}

const writeAtomic = (path: string, text: string) => {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
};

export function buildReport(o: BuildOptions): { compliance: Compliance; files: string[] } {
  const t0 = performance.now();
  const cat = loadCatalogue(o.catalogue ?? CATALOGUE_PATH);
  const compliance = buildCompliance(cat, loadResults(o.resultsDir), o.tree ?? currentTree(), o.strict, t0);
  const violations = check('compliance', compliance);
  if (violations.length)
    throw new Error(`internal: the built report does not match compliance.schema.json: ${violations.join('; ')}`);
  mkdirSync(o.outDir, { recursive: true });
  const files = [
    [join(o.outDir, 'compliance.json'), `${JSON.stringify(compliance, null, 1)}\n`],
    [join(o.outDir, 'compliance.md'), renderMarkdown(compliance)],
    [join(o.outDir, 'compliance.html'), renderHtml(compliance)],
    [join(o.outDir, 'junit.xml'), renderJunit(compliance)],
  ] as const;
  for (const [p, text] of files) writeAtomic(p, text);
  return { compliance, files: files.map(([p]) => p) };
}
