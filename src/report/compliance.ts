import { clauseKey, parseSelector, selects, type Catalogue } from './catalogue.js';
import { staleness, type LoadedResults, type ResultsProblem, type TreeState } from './load-results.js';
import type { CheckRecord, CheckStatus, Provenance } from './results.js';

/**
 * The compliance report as data (reports/compliance.json, schema src/report/schemas/compliance.schema.json):
 * a fold of the catalogue over every suite's records. Markdown, HTML and JUnit are renderings of this.
 */
export const COMPLIANCE_FORMAT = 'shipspeak-compliance/1';

export type Verdict = 'pass' | 'fail' | 'incomplete';
export interface Counts {
  pass: number;
  fail: number;
  notRun: number;
}
export interface SuiteSummary {
  suite: string;
  file: string;
  expected: boolean;
  producedBy: string | null;
  provenance: Provenance;
  counts: Counts;
  stale: string | null;
}
export interface RecordRef {
  suite: string;
  id: string;
  title: string;
  status: CheckStatus;
  reason: string | null;
  engine: CheckRecord['engine'];
}
export interface EvidenceResult {
  selector: string;
  counts: Counts;
  /** Failing and not-run records first, at most 50, then passing ones up to that limit. */
  records: RecordRef[];
}
export interface ControlResult {
  id: string;
  title: string;
  area: string;
  required: boolean;
  status: CheckStatus;
  reason: string | null;
  statement: string | null;
  clauses: string[];
  counts: Counts;
  evidence: EvidenceResult[];
}
export interface MatrixCell {
  table: string;
  operation: string;
  persona: string;
  expected: string;
  /** observed outcome per source, e.g. {"pgtap/postgresql": "own", "vitest-rls/pglite": "own"} */
  observed: Record<string, string>;
}
export interface Compliance {
  format: typeof COMPLIANCE_FORMAT;
  generatedAt: string;
  buildMs: number;
  tree: TreeState;
  strict: boolean;
  verdict: Verdict;
  summary: { controls: Counts; requiredControls: Counts; records: Counts; suites: number };
  problems: ResultsProblem[];
  suites: SuiteSummary[];
  controls: ControlResult[];
  clauses: { framework: string; id: string; title: string; controls: string[]; status: CheckStatus }[];
  unmapped: { suite: string; records: number }[];
  matrix: { sources: string[]; cells: MatrixCell[] } | null;
  mutation: { policies: number; caught: number; score: number; survivors: string[] } | null;
  /** The data inventory (GDPR Art. 30) a test recorded, from PostgreSQL when both engines recorded one. */
  inventory: {
    source: string;
    columns: {
      table: string;
      column: string;
      category: string;
      auditTreatment: string;
      retentionDays: number | null;
    }[];
  } | null;
  latency: {
    suite: string;
    id: string;
    title: string;
    unit: string;
    n: number;
    p50: number;
    p95: number;
    p99: number;
  }[];
  records: (CheckRecord & { suite: string })[];
}

const zero = (): Counts => ({ pass: 0, fail: 0, notRun: 0 });
const add = (c: Counts, s: CheckStatus) => {
  if (s === 'pass') c.pass += 1;
  else if (s === 'fail') c.fail += 1;
  else c.notRun += 1;
};
const RECORDS_SHOWN = 50;

export function buildCompliance(
  cat: Catalogue,
  loaded: LoadedResults,
  tree: TreeState,
  strict: boolean,
  startedAt = performance.now(),
): Compliance {
  const problems: ResultsProblem[] = [...loaded.problems];
  const expected = new Map(cat.expectedSuites.map((s) => [s.suite, s.producedBy]));
  const suites: SuiteSummary[] = [];
  for (const f of loaded.files) {
    const counts = zero();
    for (const r of f.records) add(counts, r.status);
    const st = staleness(f.provenance, tree, strict);
    if (st) problems.push({ kind: st.kind, file: f.file, suite: f.suite, message: `${f.file}: ${st.message}` });
    suites.push({
      suite: f.suite,
      file: f.file,
      expected: expected.has(f.suite),
      producedBy: expected.get(f.suite) ?? null,
      provenance: f.provenance,
      counts,
      stale: st?.message ?? null,
    });
  }
  for (const [suite, producedBy] of expected) {
    if (!loaded.files.some((f) => f.suite === suite))
      problems.push({
        kind: 'missing-suite',
        file: null,
        suite,
        message: `no results from suite "${suite}" (produced by ${producedBy})`,
      });
  }
  // Stale or corrupt evidence is never counted: its records are left out, and the problem fails the gate.
  const usable = loaded.files.filter((f) => !problems.some((p) => p.file === f.file));
  const records = usable.flatMap((f) => f.records.map((r) => ({ ...r, suite: f.suite })));

  const mappedBySpecific = new Set<string>();
  const isTarget = (r: { figures?: unknown }) =>
    (r.figures as { judgement?: unknown } | null | undefined)?.judgement === 'target';
  const controls: ControlResult[] = cat.controls.map((c) => {
    const counts = zero();
    const pool = records.filter((r) => isTarget(r) === (c.targets === true));
    const evidence: EvidenceResult[] = c.evidence.map((text) => {
      const sel = parseSelector(text);
      const matched = pool.filter((r) => selects(sel, r.suite, r.id));
      if (text !== '*:*') for (const r of matched) mappedBySpecific.add(`${r.suite}\0${r.id}`);
      const ec = zero();
      for (const r of matched) add(ec, r.status);
      counts.pass += ec.pass;
      counts.fail += ec.fail;
      counts.notRun += ec.notRun;
      const order = { fail: 0, 'not-run': 1, pass: 2 } as const;
      const shown = [...matched].sort((a, b) => order[a.status] - order[b.status]).slice(0, RECORDS_SHOWN);
      return {
        selector: text,
        counts: ec,
        records: shown.map((r) => ({
          suite: r.suite,
          id: r.id,
          title: r.title,
          status: r.status,
          reason: r.reason,
          engine: r.engine,
        })),
      };
    });
    const { status, reason } = controlVerdict(evidence);
    return {
      id: c.id,
      title: c.title,
      area: c.area,
      required: c.required,
      status,
      reason,
      statement: c.statement ?? null,
      clauses: cat.clauses.filter((cl) => cl.controls.includes(c.id)).map(clauseKey),
      counts,
      evidence,
    };
  });

  const byId = new Map(controls.map((c) => [c.id, c]));
  const clauses = cat.clauses.map((cl) => {
    const sts = cl.controls.map((id) => byId.get(id)!.status);
    const status: CheckStatus = sts.includes('fail') ? 'fail' : sts.includes('not-run') ? 'not-run' : 'pass';
    return { framework: cl.framework, id: cl.id, title: cl.title, controls: cl.controls, status };
  });

  const unmappedCount = new Map<string, number>();
  for (const r of records)
    if (!mappedBySpecific.has(`${r.suite}\0${r.id}`)) unmappedCount.set(r.suite, (unmappedCount.get(r.suite) ?? 0) + 1);

  const summary = { controls: zero(), requiredControls: zero(), records: zero(), suites: loaded.files.length };
  for (const c of controls) {
    add(summary.controls, c.status);
    if (c.required) add(summary.requiredControls, c.status);
  }
  for (const r of records) add(summary.records, r.status);
  const verdict: Verdict =
    summary.requiredControls.fail > 0
      ? 'fail'
      : problems.length > 0 || summary.requiredControls.notRun > 0
        ? 'incomplete'
        : 'pass';

  return {
    format: COMPLIANCE_FORMAT,
    generatedAt: new Date().toISOString(),
    buildMs: Math.round(performance.now() - startedAt),
    tree,
    strict,
    verdict,
    summary,
    problems,
    suites,
    controls,
    clauses,
    unmapped: [...unmappedCount]
      .map(([suite, n]) => ({ suite, records: n }))
      .sort((a, b) => a.suite.localeCompare(b.suite)),
    matrix: matrixGrid(records),
    mutation: mutationScore(records),
    latency: latencyFigures(records),
    inventory: dataInventory(records),
    records,
  };
}

/** fail when any record fails; not-run when a selector found nothing, or found nothing that passed; else pass. */
function controlVerdict(evidence: EvidenceResult[]): { status: CheckStatus; reason: string | null } {
  const failing = evidence.flatMap((e) => e.records.filter((r) => r.status === 'fail'));
  const nFail = evidence.reduce((n, e) => n + e.counts.fail, 0);
  if (nFail > 0) {
    const names = failing
      .slice(0, 5)
      .map((r) => `${r.suite}:${r.id}${r.reason ? ` (${r.reason.split('\n')[0]!.slice(0, 160)})` : ''}`);
    return {
      status: 'fail',
      reason: `${nFail} failing record(s): ${names.join('; ')}${nFail > names.length ? '; …' : ''}`,
    };
  }
  const empty = evidence.filter((e) => e.counts.pass + e.counts.notRun === 0).map((e) => e.selector);
  if (empty.length)
    return { status: 'not-run', reason: `no evidence: ${empty.map((s) => `"${s}"`).join(', ')} matched no record` };
  const unproven = evidence.filter((e) => e.counts.pass === 0).map((e) => e.selector);
  if (unproven.length)
    return {
      status: 'not-run',
      reason: `nothing ran: every record of ${unproven.map((s) => `"${s}"`).join(', ')} is not-run (${evidence.flatMap((e) => e.records).find((r) => r.status === 'not-run')?.reason ?? 'no reason given'})`,
    };
  return { status: 'pass', reason: null };
}

interface MatrixEvidence {
  kind: 'matrix-cells';
  cells: { table: string; operation: string; persona: string; expected: string; observed: string }[];
}
const isMatrix = (e: unknown): e is MatrixEvidence =>
  typeof e === 'object' &&
  e !== null &&
  (e as { kind?: unknown }).kind === 'matrix-cells' &&
  Array.isArray((e as MatrixEvidence).cells);

function matrixGrid(records: (CheckRecord & { suite: string })[]): Compliance['matrix'] {
  const cells = new Map<string, MatrixCell>();
  const sources = new Set<string>();
  for (const r of records) {
    if (!isMatrix(r.evidence)) continue;
    const source = `${r.suite}/${r.engine ?? 'unknown'}`;
    sources.add(source);
    for (const c of r.evidence.cells) {
      const key = `${c.table}\0${c.operation}\0${c.persona}`;
      const cell = cells.get(key) ?? {
        table: c.table,
        operation: c.operation,
        persona: c.persona,
        expected: c.expected,
        observed: {},
      };
      cell.observed[source] = c.observed;
      cells.set(key, cell);
    }
  }
  if (cells.size === 0) return null;
  return {
    sources: [...sources].sort(),
    cells: [...cells.values()].sort(
      (a, b) =>
        a.table.localeCompare(b.table) || a.operation.localeCompare(b.operation) || a.persona.localeCompare(b.persona),
    ),
  };
}

function mutationScore(records: (CheckRecord & { suite: string })[]): Compliance['mutation'] {
  const mutants = records.filter(
    (r) =>
      typeof r.evidence === 'object' &&
      r.evidence !== null &&
      (r.evidence as { kind?: unknown }).kind === 'policy-mutation',
  );
  if (mutants.length === 0) return null;
  const caught = mutants.filter((r) => r.status === 'pass').length;
  return {
    policies: mutants.length,
    caught,
    score: caught / mutants.length,
    survivors: mutants.filter((r) => r.status !== 'pass').map((r) => r.title),
  };
}

function dataInventory(records: (CheckRecord & { suite: string })[]): Compliance['inventory'] {
  type Inv = { kind: 'data-inventory'; columns: NonNullable<Compliance['inventory']>['columns'] };
  const found = records.filter(
    (r) =>
      typeof r.evidence === 'object' &&
      r.evidence !== null &&
      (r.evidence as { kind?: unknown }).kind === 'data-inventory' &&
      Array.isArray((r.evidence as Inv).columns),
  );
  const best = found.find((r) => r.engine === 'postgresql') ?? found[0];
  if (!best) return null;
  const cols = (best.evidence as Inv).columns.map((c) => ({
    table: c.table,
    column: c.column,
    category: c.category,
    auditTreatment: c.auditTreatment,
    retentionDays: c.retentionDays,
  }));
  return { source: `${best.suite}/${best.engine ?? 'unknown'}`, columns: cols };
}

function latencyFigures(records: (CheckRecord & { suite: string })[]): Compliance['latency'] {
  const out: Compliance['latency'] = [];
  for (const r of records) {
    const f = r.figures;
    if (!f || typeof f.p50 !== 'number' || typeof f.p95 !== 'number' || typeof f.p99 !== 'number') continue;
    out.push({
      suite: r.suite,
      id: r.id,
      title: r.title,
      unit: typeof f.unit === 'string' ? f.unit : 'ms',
      n: typeof f.n === 'number' ? f.n : 0,
      p50: f.p50,
      p95: f.p95,
      p99: f.p99,
    });
  }
  return out;
}
