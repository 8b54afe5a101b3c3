/**
 * Planted faults through the real pgTAP suite, and the HTML report as a reviewer sees it in headless Chromium.
 *
 * One scratch database gets two faults after every migration — RLS disabled on public.meetings and the
 * practice_sessions SELECT policy weakened to `true` — and pg_prove runs the schema and matrix files on it.
 * Their records replace the pgtap suite's: the isolation and pgTAP controls must turn red and the gate exit
 * 1 naming them. Both that report and the real one (reports/compliance.html, from reports/results) are
 * opened in Chromium; the real one is screenshotted to reports/compliance.png.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { testFiles } from '../../src/harness/pgtap/files.js';
import { provePgtap } from '../../src/harness/pgtap/suite.js';
import { buildReport, currentTree } from '../../src/report/build.js';
import { loadCatalogue } from '../../src/report/catalogue.js';
import { writeChangeResults } from '../../src/report/change-evidence.js';
import type { Compliance } from '../../src/report/compliance.js';
import { gate } from '../../src/report/gate.js';
import { provenance, REPORTS_DIR, RESULTS_DIR, writeResults } from '../../src/report/results.js';
import { describePg, pgUrl } from '../support/pg.js';
import { launch, openFile } from './browser.js';
import { passingEvidence, tempDir } from './support.js';
import { PGTAP_DIR, PGTAP_SUITE } from '../paths.js';

const PLANT = [
  'alter table public.meetings disable row level security;',
  'alter policy practice_sessions_select_own on public.practice_sessions using (true);',
].join('\n');
const mismatches = (c: Compliance) =>
  (c.matrix?.cells ?? []).flatMap((m) =>
    Object.entries(m.observed)
      .filter(([, o]) => o !== m.expected)
      .map(([s]) => `${m.table}.${m.operation}.${m.persona}@${s}`),
  );

describePg('planted faults turn the right controls red; the HTML report in Chromium', () => {
  let browser: Browser;
  let planted: Compliance;
  let plantedOut: string;
  let matrixFile: { ran: number; reason: string } = { ran: 0, reason: '' };
  const tree = currentTree();

  beforeAll(async () => {
    const files = testFiles(PGTAP_DIR).filter((f) => /\/(00_schema|30_matrix)\.sql$/.test(f));
    const run = await provePgtap(pgUrl(), files, PGTAP_SUITE, { plant: PLANT, echo: false });
    const m = run.records.find((r) => r.id === '30_matrix');
    matrixFile = {
      ran: Number(m?.figures?.ran ?? 0),
      reason: `${m?.reason ?? 'no 30_matrix record'}\n${run.output
        .split('\n')
        .filter((l) => /ERROR|not ok/.test(l))
        .slice(0, 3)
        .join('\n')}`,
    };
    const results = tempDir('planted');
    passingEvidence(results);
    writeResults('pgtap', provenance('PostgreSQL (planted faults)', new Date()), run.records, results);
    writeChangeResults(results);
    plantedOut = tempDir('planted-report');
    planted = buildReport({ resultsDir: results, outDir: plantedOut, strict: false, tree }).compliance;
    browser = await launch();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('RLS disabled and a weakened policy fail ISO-1, PGT-1 and ALL-1 with the tables named; gate exit 1', () => {
    // The faults are observed only if the matrix itself ran: a broken fixture is a different failure, said so.
    expect(
      matrixFile.ran,
      `pgTAP 30_matrix did not run on the planted database, so the faults cannot be observed: ${matrixFile.reason}`,
    ).toBeGreaterThan(0);
    const byId = new Map(planted.controls.map((c) => [c.id, c]));
    for (const id of ['ISO-1', 'PGT-1', 'ALL-1']) expect(byId.get(id)?.status, id).toBe('fail');
    for (const id of ['CHG-1', 'CHG-2', 'ADV-1', 'PRV-1']) expect(byId.get(id)?.status, id).toBe('pass');
    const failing = planted.records
      .filter((r) => r.status === 'fail')
      .map((r) => r.title)
      .join('\n');
    expect(failing).toMatch(/meetings/);
    expect(failing).toMatch(/practice_sessions/);
    expect(mismatches(planted).some((m) => m.startsWith('practice_sessions.select.free_b'))).toBe(true);
    const g = gate(join(plantedOut, 'compliance.json'), tree, false);
    expect(g.code).toBe(1);
    expect(g.lines.join('\n')).toMatch(/FAIL ISO-1 /);
    expect(g.lines.join('\n')).toMatch(/FAIL PGT-1 /);
  });

  it('the planted report shows the verdict, every control row, and each wrong matrix cell marked, with no network request', async () => {
    const { page, foreign } = await openFile(browser, join(plantedOut, 'compliance.html'));
    expect(await page.$eval('#summary h2', (e) => e.textContent)).toBe('Verdict: FAIL');
    expect(await page.$$eval('tr.control', (rows) => rows.length)).toBe(loadCatalogue().controls.length);
    expect(await page.$eval('#control-ISO-1 .badge', (e) => e.textContent)).toBe('fail');
    const marked = await page.$$eval('#matrix-grid td.mismatch', (tds) =>
      tds.map((td) => td.getAttribute('title') ?? ''),
    );
    expect(marked.length).toBe(mismatches(planted).length);
    expect(marked.some((t) => t.startsWith('practice_sessions.select.free_b'))).toBe(true);
    expect(foreign).toEqual([]);
    await page.close();
  });

  it('the real report (reports/results) renders summary, controls, grid and charts as compliance.json says; screenshot saved', async () => {
    writeChangeResults(RESULTS_DIR);
    const { compliance: c, files } = buildReport({
      resultsDir: RESULTS_DIR,
      outDir: REPORTS_DIR,
      strict: process.env.CI === 'true',
    });
    const { page, foreign } = await openFile(
      browser,
      files.find((f) => f.endsWith('.html'))!,
    );
    expect(await page.$eval('#summary h2', (e) => e.textContent)).toBe(`Verdict: ${c.verdict.toUpperCase()}`);
    // biome-ignore lint/performance/useDomNodeTextContent: innerText is the text a reader sees (layout-aware), which is what this checks
    const summary = await page.$eval('#summary', (e) => (e as HTMLElement).innerText);
    expect(summary).toContain(`${c.summary.records.pass} checks passed`);
    const rows = await page.$$eval('tr.control', (trs) =>
      trs.map((tr) => `${tr.id} ${tr.querySelector('.badge')?.textContent}`),
    );
    expect(rows).toEqual(c.controls.map((x) => `control-${x.id} ${x.status}`));
    const cells = await page.$$eval('#matrix-grid td.cell:not(.missing)', (tds) => tds.length);
    expect(cells).toBe((c.matrix?.cells ?? []).reduce((n, m) => n + Object.keys(m.observed).length, 0));
    expect(await page.$$eval('#latency svg', (s) => s.length)).toBe(c.latency.length);
    if (process.env.CI === 'true')
      expect(c.matrix, 'in CI the suites before this one have written the matrix evidence').not.toBeNull();
    expect(foreign).toEqual([]);
    await page.screenshot({ path: join(REPORTS_DIR, 'compliance.png'), fullPage: false });
    expect(readFileSync(join(REPORTS_DIR, 'compliance.png')).subarray(1, 4).toString()).toBe('PNG');
    await page.close();
  });
});
