import type { Compliance } from './compliance.js';

/** reports/junit.xml: every record of every suite (pgTAP included) plus one testcase per control, for any CI. */
const esc = (s: string) =>
  s
    .replace(/[<>&"']/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[ch]!)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 forbids these control characters; this removes them
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export function renderJunit(c: Compliance): string {
  const groups = new Map<string, { name: string; status: string; reason: string | null; seconds: number }[]>();
  for (const r of c.records) {
    const list = groups.get(r.suite) ?? [];
    const ms = r.figures && typeof r.figures.durationMs === 'number' ? r.figures.durationMs : 0;
    list.push({ name: r.id, status: r.status, reason: r.reason, seconds: ms / 1000 });
    groups.set(r.suite, list);
  }
  groups.set(
    'controls',
    c.controls.map((ctl) => ({ name: `${ctl.id} ${ctl.title}`, status: ctl.status, reason: ctl.reason, seconds: 0 })),
  );
  const L = ['<?xml version="1.0" encoding="UTF-8"?>'];
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  const body: string[] = [];
  for (const [suite, cases] of groups) {
    const f = cases.filter((x) => x.status === 'fail').length;
    const sk = cases.filter((x) => x.status === 'not-run').length;
    tests += cases.length;
    failures += f;
    skipped += sk;
    body.push(`  <testsuite name="${esc(suite)}" tests="${cases.length}" failures="${f}" skipped="${sk}" errors="0">`);
    for (const x of cases) {
      const open = `    <testcase classname="${esc(suite)}" name="${esc(x.name)}" time="${x.seconds.toFixed(3)}"`;
      if (x.status === 'pass') body.push(`${open}/>`);
      else if (x.status === 'fail')
        body.push(
          `${open}><failure message="${esc((x.reason ?? 'failed').split('\n')[0]!)}">${esc(x.reason ?? '')}</failure></testcase>`,
        );
      else body.push(`${open}><skipped message="${esc(x.reason ?? 'not run')}"/></testcase>`);
    }
    body.push('  </testsuite>');
  }
  L.push(
    `<testsuites name="shipspeak compliance" tests="${tests}" failures="${failures}" skipped="${skipped}" errors="0">`,
    ...body,
    '</testsuites>',
    '',
  );
  return L.join('\n');
}
