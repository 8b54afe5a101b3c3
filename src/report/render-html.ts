import type { Compliance } from './compliance.js';

/**
 * reports/compliance.html: one self-contained page (inline CSS and SVG, no script, no network request): a
 * summary, the isolation matrix as a coloured grid per source engine, the policy mutation score, latency as
 * SVG bar charts, and every control with its evidence.
 */
const esc = (s: string | number | null | undefined) =>
  String(s ?? '').replace(
    /[<>&"']/g,
    (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );
const badge = (s: string) => `<span class="badge ${esc(s)}">${esc(s)}</span>`;
const OUTCOME_COLOURS: Record<string, string> = {
  denied: '#9e9e9e',
  none: '#cfd8dc',
  own: '#81c784',
  tier: '#64b5f6',
  all: '#ffb74d',
};

function latencyChart(l: Compliance['latency'][number]): string {
  const W = 360;
  const bar = 16;
  const max = Math.max(l.p99, l.p95, l.p50) || 1;
  const rows = (['p50', 'p95', 'p99'] as const).map((k, i) => {
    const v = l[k];
    const w = Math.max(1, Math.round((v / max) * (W - 150)));
    return `<text x="0" y="${i * 22 + 13}" class="lbl">${k}</text><rect x="36" y="${i * 22}" width="${w}" height="${bar}" class="bar ${k}"/><text x="${40 + w}" y="${i * 22 + 13}" class="val">${v.toFixed(2)} ${esc(l.unit)}</text>`;
  });
  return `<figure class="chart"><figcaption>${esc(l.title)} <small>(n=${l.n}, ${esc(l.suite)})</small></figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="66" role="img" aria-label="${esc(l.title)} p50 ${l.p50.toFixed(2)}, p95 ${l.p95.toFixed(2)}, p99 ${l.p99.toFixed(2)} ${esc(l.unit)}">${rows.join('')}</svg></figure>`;
}

function matrixGrid(m: NonNullable<Compliance['matrix']>): string {
  const personas = [...new Set(m.cells.map((c) => c.persona))];
  const rows = [...new Set(m.cells.map((c) => `${c.table}\0${c.operation}`))];
  const at = new Map(m.cells.map((c) => [`${c.table}\0${c.operation}\0${c.persona}`, c]));
  const head = `<tr><th rowspan="2">table</th><th rowspan="2">operation</th>${personas.map((p) => `<th colspan="${m.sources.length}">${esc(p)}</th>`).join('')}</tr><tr>${personas.map(() => m.sources.map((s) => `<th class="src">${esc(s)}</th>`).join('')).join('')}</tr>`;
  const body = rows.map((row) => {
    const [table, op] = row.split('\0') as [string, string];
    const tds = personas.map((p) => {
      const c = at.get(`${row}\0${p}`);
      return m.sources
        .map((s) => {
          const o = c?.observed[s];
          if (!c || o === undefined) return '<td class="cell missing" title="not observed">–</td>';
          const bad = o !== c.expected;
          return `<td class="cell${bad ? ' mismatch' : ''}" style="background:${OUTCOME_COLOURS[o] ?? '#e57373'}" title="${esc(`${table}.${op}.${p} on ${s}: expected ${c.expected}, observed ${o}`)}">${esc(o)}${bad ? ` ≠ ${esc(c.expected)}` : ''}</td>`;
        })
        .join('');
    });
    return `<tr><th>${esc(table)}</th><td>${esc(op)}</td>${tds.join('')}</tr>`;
  });
  const legend = Object.entries(OUTCOME_COLOURS)
    .map(([k, v]) => `<span class="key" style="background:${v}">${k}</span>`)
    .join(' ');
  return `<p>Observed outcome of each persona × table × operation cell, per source (suite/engine). Legend: ${legend} <span class="key mismatch">observed ≠ expected</span></p><div class="scroll"><table class="grid" id="matrix-grid">${head}${body.join('')}</table></div>`;
}

/** The audit hash chain as a test recorded it (verify_chain verdict and the published head), PostgreSQL first. */
function auditLine(c: Compliance): string {
  const heads = c.records.filter((r) => r.figures && typeof r.figures.chainHeadHash === 'string');
  const h = heads.find((r) => r.engine === 'postgresql') ?? heads[0];
  if (!h) return '<li>Audit hash chain: no evidence.</li>';
  return `<li>Audit hash chain (${esc(h.engine)}): verify_chain() <b>${h.status === 'pass' ? esc(String(h.figures!.verifyChain)) : 'FAILED'}</b>, ${esc(String(h.figures!.logEntries))} entries, head seq ${esc(String(h.figures!.chainHeadSeq))} <code>${esc(String(h.figures!.chainHeadHash).slice(0, 16))}…</code>.</li>`;
}

export function renderHtml(c: Compliance): string {
  const s = c.summary;
  const reqTotal = s.requiredControls.pass + s.requiredControls.fail + s.requiredControls.notRun;
  const mismatches = c.matrix
    ? c.matrix.cells.filter((m) => Object.values(m.observed).some((o) => o !== m.expected)).length
    : null;
  const summary = `<section id="summary" class="verdict ${c.verdict}">
<h2>Verdict: ${esc(c.verdict.toUpperCase())}</h2>
<ul>
<li><b>${s.requiredControls.pass} of ${reqTotal}</b> required controls pass; ${s.requiredControls.fail} fail, ${s.requiredControls.notRun} not run.</li>
<li><b>${s.records.pass}</b> checks passed, <b>${s.records.fail}</b> failed, <b>${s.records.notRun}</b> not run, from ${s.suites} suite file(s).</li>
${c.mutation ? `<li>Policy mutation score: <b>${c.mutation.caught}/${c.mutation.policies}</b> weakened policies caught (${(c.mutation.score * 100).toFixed(1)} %).</li>` : '<li>Policy mutation score: no evidence.</li>'}
${c.matrix ? `<li>Isolation matrix: <b>${c.matrix.cells.length}</b> cells observed on ${c.matrix.sources.length} source(s); <b>${mismatches}</b> differ from the expected outcome.</li>` : '<li>Isolation matrix: no evidence.</li>'}
${auditLine(c)}
<li>Evidence problems: <b>${c.problems.length}</b>.</li>
</ul>
<p class="prov">Commit <code>${esc(c.tree.commit.slice(0, 12))}</code>${c.tree.dirty ? ' (uncommitted changes)' : ''}, sql/ hash <code>${esc(c.tree.sqlHash.slice(0, 12))}</code>, generated ${esc(c.generatedAt)} in ${c.buildMs} ms.</p>
</section>`;
  const problems = c.problems.length
    ? `<section id="problems"><h2>Evidence problems (each fails the gate)</h2><ul>${c.problems.map((p) => `<li><b>${esc(p.kind)}</b>: ${esc(p.message)}</li>`).join('')}</ul></section>`
    : '';
  const controls = `<section id="controls"><h2>Controls</h2><table class="controls"><tr><th>control</th><th>status</th><th>frameworks</th><th>evidence</th></tr>${c.controls
    .map(
      (ctl) =>
        `<tr class="control ${esc(ctl.status)}" id="control-${esc(ctl.id)}"><td><b>${esc(ctl.id)}</b> ${esc(ctl.title)}${ctl.required ? '' : ' <i>(advisory)</i>'}${ctl.reason ? `<div class="reason">${esc(ctl.reason)}</div>` : ''}${ctl.statement ? `<div class="statement">${esc(ctl.statement)}</div>` : ''}</td><td>${badge(ctl.status)}</td><td>${ctl.clauses.map(esc).join('<br>')}</td><td><details><summary>${ctl.counts.pass} pass, ${ctl.counts.fail} fail, ${ctl.counts.notRun} not run</summary><ul>${ctl.evidence
          .map(
            (e) =>
              `<li><code>${esc(e.selector)}</code>: ${e.counts.pass}/${e.counts.fail}/${e.counts.notRun}<ul>${e.records
                .slice(0, 12)
                .map(
                  (r) =>
                    `<li>${badge(r.status)} ${esc(r.suite)}: ${esc(r.title || r.id)}${r.reason ? ` — ${esc(r.reason.split('\n')[0]!)}` : ''}</li>`,
                )
                .join(
                  '',
                )}${e.records.length > 12 ? `<li>… ${e.counts.pass + e.counts.fail + e.counts.notRun - 12} more</li>` : ''}</ul></li>`,
          )
          .join('')}</ul></details></td></tr>`,
    )
    .join('')}</table></section>`;
  const clauses = `<section id="frameworks"><h2>Frameworks</h2><table><tr><th>framework</th><th>clause</th><th>status</th><th>controls</th></tr>${c.clauses.map((cl) => `<tr><td>${esc(cl.framework)}</td><td>${esc(cl.id)} ${esc(cl.title)}</td><td>${badge(cl.status)}</td><td>${cl.controls.map(esc).join(', ')}</td></tr>`).join('')}</table></section>`;
  const matrix = `<section id="matrix"><h2>Isolation matrix</h2>${c.matrix ? matrixGrid(c.matrix) : '<p>No matrix evidence in the results.</p>'}</section>`;
  const mutation = `<section id="mutation"><h2>Policy mutation score</h2>${c.mutation ? `<p><b>${c.mutation.caught}/${c.mutation.policies}</b> (${(c.mutation.score * 100).toFixed(1)} %) of the RLS policies, each weakened to <code>true</code> in turn, were caught by the matrix.${c.mutation.survivors.length ? ` Survivors: ${c.mutation.survivors.map(esc).join('; ')}` : ''}</p>` : '<p>No mutation evidence in the results.</p>'}</section>`;
  const latency = `<section id="latency"><h2>Latency</h2>${c.latency.length ? `<div class="charts">${c.latency.map(latencyChart).join('')}</div>` : '<p>No latency figures in the results.</p>'}</section>`;
  const inventory = `<section id="inventory"><h2>Data inventory and retention</h2>${
    c.inventory
      ? `<p>Every column of every public table, classified (from ${esc(c.inventory.source)}). Retention: days a row is kept, or "account" (kept for the life of the account).</p><table><tr><th>table</th><th>retention</th><th>columns by category (audit treatment)</th></tr>${[
          ...new Set(c.inventory.columns.map((x) => x.table)),
        ]
          .map((t) => {
            const cols = c.inventory!.columns.filter((x) => x.table === t);
            const days = [...new Set(cols.map((x) => x.retentionDays))]
              .map((d) => (d === null ? 'account' : `${d} d`))
              .join(', ');
            const cats = [...new Set(cols.map((x) => x.category))].map(
              (cat) =>
                `<b>${esc(cat)}</b>: ${cols
                  .filter((x) => x.category === cat)
                  .map((x) => `${esc(x.column)} (${esc(x.auditTreatment)})`)
                  .join(', ')}`,
            );
            return `<tr><td>${esc(t)}</td><td>${esc(days)}</td><td>${cats.join('<br>')}</td></tr>`;
          })
          .join('')}</table>`
      : '<p>No data inventory in the results.</p>'
  }</section>`;
  const suites = `<section id="suites"><h2>Suites and provenance</h2><table><tr><th>suite</th><th>pass/fail/not-run</th><th>engine</th><th>commit</th><th>run</th><th>command</th></tr>${c.suites
    .map(
      (su) =>
        `<tr class="${su.stale ? 'stale' : ''}"><td>${esc(su.suite)}${su.expected ? '' : ' <b>(extra: not in the catalogue)</b>'}</td><td>${su.counts.pass}/${su.counts.fail}/${su.counts.notRun}</td><td>${esc(su.provenance.engine)}</td><td><code>${esc(su.provenance.commit.slice(0, 12))}</code>${su.stale ? ` <b>stale</b>: ${esc(su.stale)}` : ''}</td><td>${esc(su.provenance.startedAt)} → ${esc(su.provenance.endedAt)}</td><td><code>${esc(su.provenance.command)}</code></td></tr>`,
    )
    .join(
      '',
    )}</table>${c.unmapped.length ? `<p>Records that no control names except ALL-1: ${c.unmapped.map((u) => `${esc(u.suite)} (${u.records})`).join(', ')}.</p>` : ''}</section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ShipSpeak compliance report — ${esc(c.verdict)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#212121}
h1{margin:0 0 .3em}h2{margin:1.2em 0 .4em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ddd;padding:3px 6px;vertical-align:top;text-align:left}
.verdict{padding:.6em 1em;border-radius:6px}.verdict.pass{background:#e8f5e9}.verdict.fail{background:#ffebee}.verdict.incomplete{background:#fff8e1}
.badge{display:inline-block;white-space:nowrap;padding:0 6px;border-radius:8px;font-size:12px;color:#fff}.badge.pass{background:#2e7d32}.badge.fail{background:#c62828}.badge.not-run{background:#757575}
tr.control.fail{background:#fff5f5}.reason{color:#b71c1c;font-size:12px}.statement{color:#37474f;font-size:12px;font-style:italic}
.grid td.cell{font-size:11px;text-align:center;min-width:3.5em}.grid td.mismatch,.key.mismatch{outline:3px solid #d50000;outline-offset:-3px;font-weight:bold}.grid th.src{font-size:10px;font-weight:normal}
.key{padding:0 5px;border-radius:3px}.scroll{overflow-x:auto}
.charts{display:flex;flex-wrap:wrap;gap:1em}.chart{margin:0}.chart figcaption{font-size:12px}
svg .bar.p50{fill:#42a5f5}svg .bar.p95{fill:#1e88e5}svg .bar.p99{fill:#0d47a1}svg text{font-size:11px}
tr.stale{background:#fff3e0}.prov{color:#555;font-size:12px}
</style></head><body>
<h1>ShipSpeak compliance report</h1>
${summary}${problems}${controls}${matrix}${mutation}${latency}${inventory}${clauses}${suites}
</body></html>
`;
}
