import type { Compliance } from './compliance.js';

/** reports/compliance.md: the report for review in a pull request. */
const icon = (s: string) => (s === 'pass' ? '✅ pass' : s === 'fail' ? '❌ fail' : '⚪ not-run');
const cell = (s: string | null) => (s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderMarkdown(c: Compliance): string {
  const L: string[] = [];
  const s = c.summary;
  L.push(`# ShipSpeak compliance report: ${c.verdict.toUpperCase()}`, '');
  L.push(
    `Commit \`${c.tree.commit.slice(0, 12)}\`${c.tree.dirty ? ' (uncommitted changes)' : ''}, sql/ hash \`${c.tree.sqlHash.slice(0, 12)}\`, generated ${c.generatedAt} in ${c.buildMs} ms.`,
    '',
  );
  L.push(
    `- Controls: ${s.controls.pass} pass, ${s.controls.fail} fail, ${s.controls.notRun} not-run (required: ${s.requiredControls.pass}/${s.requiredControls.pass + s.requiredControls.fail + s.requiredControls.notRun} pass)`,
  );
  L.push(
    `- Records: ${s.records.pass} pass, ${s.records.fail} fail, ${s.records.notRun} not-run, from ${s.suites} suite file(s)`,
  );
  if (c.mutation)
    L.push(
      `- Policy mutation score: ${c.mutation.caught}/${c.mutation.policies} weakened policies caught (${(c.mutation.score * 100).toFixed(1)} %)`,
    );
  if (c.matrix) {
    const mismatches = c.matrix.cells.filter((m) => Object.values(m.observed).some((o) => o !== m.expected)).length;
    L.push(
      `- Isolation matrix: ${c.matrix.cells.length} cells, observed on ${c.matrix.sources.join(', ')}; ${mismatches} cell(s) differ from the expected outcome`,
    );
  }
  L.push('');
  if (c.problems.length) {
    L.push('## Evidence problems (the gate fails on each)', '');
    for (const p of c.problems) L.push(`- **${p.kind}**: ${p.message}`);
    L.push('');
  }
  L.push('## Controls', '', '| control | status | frameworks | evidence | reason |', '| --- | --- | --- | --- | --- |');
  for (const ctl of c.controls) {
    L.push(
      `| **${ctl.id}** ${cell(ctl.title)}${ctl.required ? '' : ' (advisory)'} | ${icon(ctl.status)} | ${ctl.clauses.join(', ')} | ${ctl.evidence.map((e) => `\`${e.selector}\` ${e.counts.pass}/${e.counts.fail}/${e.counts.notRun}`).join('<br>')} | ${cell(ctl.reason ?? ctl.statement)} |`,
    );
  }
  L.push('', 'Evidence counts are pass/fail/not-run records matched by each selector.', '');
  L.push('## Frameworks', '', '| framework | clause | status | controls |', '| --- | --- | --- | --- |');
  for (const cl of c.clauses)
    L.push(`| ${cl.framework} | ${cl.id} ${cell(cl.title)} | ${icon(cl.status)} | ${cl.controls.join(', ')} |`);
  L.push(
    '',
    '## Suites',
    '',
    '| suite | records (pass/fail/not-run) | engine | commit | expected |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const su of c.suites)
    L.push(
      `| ${su.suite} | ${su.counts.pass}/${su.counts.fail}/${su.counts.notRun} | ${cell(su.provenance.engine)} | \`${su.provenance.commit.slice(0, 12)}\`${su.stale ? ` STALE: ${cell(su.stale)}` : ''} | ${su.expected ? 'yes' : '**extra** (not in the catalogue)'} |`,
    );
  if (c.unmapped.length)
    L.push(
      '',
      `Records no control names except ALL-1: ${c.unmapped.map((u) => `${u.suite} (${u.records})`).join(', ')}.`,
    );
  if (c.latency.length) {
    L.push('', '## Latency', '', '| figure | n | p50 | p95 | p99 |', '| --- | --- | --- | --- | --- |');
    for (const l of c.latency)
      L.push(
        `| ${cell(l.title)} | ${l.n} | ${l.p50.toFixed(2)} ${l.unit} | ${l.p95.toFixed(2)} ${l.unit} | ${l.p99.toFixed(2)} ${l.unit} |`,
      );
  }
  L.push('');
  return L.join('\n');
}
