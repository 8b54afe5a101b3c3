import { join, relative, resolve } from 'node:path';
import { REPORTS_DIR, RESULTS_DIR } from '../report/results.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Command } from './command.js';

/**
 * `report` and `gate`: the compliance report from reports/results/*.json, and the CI gate over it. Their modules
 * (ajv and the report builder) are imported when the command runs, so other commands do not load them.
 */
const strictByDefault = () => process.env.CI === 'true';
const show = (p: string) => relative(process.cwd(), p) || p;

export const reportCommand: Command = {
  name: 'report',
  synopsis: 'report [--results DIR] [--out DIR] [--catalogue FILE] [--strict]',
  summary:
    "Build reports/compliance.json, .md, .html and junit.xml from the suites' evidence records. Exit 0 when written (the gate judges), 2 on a bad catalogue.",
  details: [
    '--results DIR    evidence records to read (default reports/results); the `change` suite (migration history',
    '                 and the hash chain of sql/migrations.sum) is written there first, from the tree itself',
    '--out DIR        where to write the report (default reports)',
    '--catalogue FILE controls catalogue (default src/report/controls.json)',
    '--strict         evidence from uncommitted changes counts as stale (default when CI=true)',
  ],
  options: {
    results: { type: 'string' },
    out: { type: 'string' },
    catalogue: { type: 'string' },
    strict: { type: 'boolean' },
  },
  async run({ values }, io) {
    const resultsDir = resolve(String(values.results ?? RESULTS_DIR));
    const outDir = resolve(String(values.out ?? REPORTS_DIR));
    const [{ buildReport }, { CatalogueError }, { writeChangeResults }] = await Promise.all([
      import('../report/build.js'),
      import('../report/catalogue.js'),
      import('../report/change-evidence.js'),
    ]);
    try {
      writeChangeResults(resultsDir);
      const { compliance: c, files } = buildReport({
        resultsDir,
        outDir,
        catalogue: values.catalogue ? resolve(String(values.catalogue)) : undefined,
        strict: values.strict === true || strictByDefault(),
      });
      const s = c.summary;
      io.out(
        `compliance report: ${c.verdict.toUpperCase()} — controls ${s.controls.pass} pass, ${s.controls.fail} fail, ${s.controls.notRun} not run; records ${s.records.pass} pass, ${s.records.fail} fail, ${s.records.notRun} not run; ${c.problems.length} evidence problem(s); built in ${c.buildMs} ms`,
      );
      for (const ctl of c.controls)
        io.out(
          `  ${ctl.status.padEnd(7)} ${ctl.id.padEnd(7)} ${ctl.title}${ctl.reason ? ` — ${ctl.reason.slice(0, 200)}` : ''}`,
        );
      for (const p of c.problems) io.err(`  ${p.kind}: ${p.message}`);
      io.out(`wrote ${files.map(show).join(', ')}`);
      return EXIT_OK;
    } catch (e) {
      if (e instanceof CatalogueError) {
        io.err(e.message);
        return EXIT_USAGE;
      }
      throw e;
    }
  },
};

export const gateCommand: Command = {
  name: 'gate',
  synopsis: 'gate [--report PATH] [--strict]',
  summary:
    'The CI gate: exit 0 only when every required control passes on evidence of the current commit and sql/ hash; 1 a control fails; 2 the report or its evidence is missing, corrupt, partial or stale.',
  details: [
    '--report PATH   the compliance.json to judge (default reports/compliance.json)',
    '--strict        evidence from uncommitted changes is stale (default when CI=true)',
  ],
  options: { report: { type: 'string' }, strict: { type: 'boolean' } },
  async run({ values }, io) {
    const path = resolve(String(values.report ?? join(REPORTS_DIR, 'compliance.json')));
    const [{ gate }, { currentTree }] = await Promise.all([import('../report/gate.js'), import('../report/build.js')]);
    const r = gate(path, currentTree(), values.strict === true || strictByDefault());
    for (const line of r.lines) (r.code === EXIT_OK ? io.out : io.err)(line);
    if (r.code !== EXIT_OK)
      io.err(`gate: ${r.code === EXIT_FAILED ? 'FAILED' : 'INCOMPLETE'} (exit ${r.code}), report ${show(path)}`);
    return r.code;
  },
};
