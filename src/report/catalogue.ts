import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { check } from './json-schema.js';

/**
 * The controls catalogue (src/report/controls.json, data): each control names the evidence that satisfies it
 * as selectors `<suite>:<glob over record ids>` (`*` matches any text; `*:*` is every record of every suite),
 * and each framework clause names the controls that answer it. Adding a suite's records to a control is one
 * line: another selector string in that control's `evidence`.
 */
export const CATALOGUE_PATH = fileURLToPath(new URL('./controls.json', import.meta.url));

export interface Control {
  id: string;
  title: string;
  area: string;
  required: boolean;
  evidence: string[];
  statement?: string;
  /**
   * Judges the benchmarks' absolute targets (records with figures.judgement "target") and only those. No other
   * control counts them: an absolute time on a shared machine is evidence for the reader, not a gate.
   */
  targets?: boolean;
}

export interface Clause {
  framework: string;
  id: string;
  title: string;
  controls: string[];
}

export interface Catalogue {
  version: 1;
  expectedSuites: { suite: string; producedBy: string }[];
  controls: Control[];
  clauses: Clause[];
}

export class CatalogueError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: invalid controls catalogue:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'CatalogueError';
  }
}

/** Loads and validates the catalogue: its JSON Schema, unique ids, and every clause naming known controls. */
export function loadCatalogue(path = CATALOGUE_PATH): Catalogue {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CatalogueError(path, [(e as Error).message]);
  }
  const schemaProblems = check('controls', data);
  if (schemaProblems.length) throw new CatalogueError(path, schemaProblems);
  const cat = data as Catalogue;
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const c of cat.controls) {
    if (ids.has(c.id)) problems.push(`control id ${c.id} appears twice`);
    ids.add(c.id);
  }
  const suites = new Set<string>();
  for (const s of cat.expectedSuites) {
    if (suites.has(s.suite)) problems.push(`expected suite ${s.suite} appears twice`);
    suites.add(s.suite);
  }
  const clauseKeys = new Set<string>();
  for (const cl of cat.clauses) {
    const key = clauseKey(cl);
    if (clauseKeys.has(key)) problems.push(`clause ${key} appears twice`);
    clauseKeys.add(key);
    for (const id of cl.controls) if (!ids.has(id)) problems.push(`clause ${key} names unknown control id "${id}"`);
  }
  if (problems.length) throw new CatalogueError(path, problems);
  return cat;
}

export const clauseKey = (c: Pick<Clause, 'framework' | 'id'>) => `${c.framework} ${c.id}`;

export interface Selector {
  text: string;
  suite: RegExp;
  record: RegExp;
}

const globToRegExp = (glob: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  );

export function parseSelector(text: string): Selector {
  const colon = text.indexOf(':');
  return { text, suite: globToRegExp(text.slice(0, colon)), record: globToRegExp(text.slice(colon + 1)) };
}

export function selects(sel: Selector, suite: string, recordId: string): boolean {
  return sel.suite.test(suite) && sel.record.test(recordId);
}
