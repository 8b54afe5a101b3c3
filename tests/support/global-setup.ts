/**
 * vitest globalSetup (runs once per project, in the main vitest process): find or start the real
 * PostgreSQL 15 and hand its superuser URL to test files through `inject('pgUrl')`.
 *
 * Test files should not read these values directly: use `tests/support/pg.ts` (`describePg`, `requirePg`),
 * which turns "no PostgreSQL" into a failure in CI and a loud NOT RUN locally.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { scratchBase } from '../../src/db/pglite-isolated.js';
import { isUnavailable, resolveServer } from '../../src/db/resolve-postgres.js';
import { dropTemplates } from './pg-template.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of a real PostgreSQL 15; '' when unavailable. */
    pgUrl: string;
    /** Why there is no PostgreSQL ('' when there is one). */
    pgUnavailable: string;
    /** This run's folder for PGlite dumps shared between test files (tests/support/pglite-template.ts). */
    pgliteTemplateDir: string;
    /** Name prefix of this run's PostgreSQL template databases (tests/support/pg-template.ts). */
    pgTemplatePrefix: string;
  }
}

function banner(lines: string[]): string {
  const width = Math.max(...lines.map((l) => l.length)) + 4;
  const bar = '#'.repeat(width);
  return ['', bar, ...lines.map((l) => `# ${l.padEnd(width - 4)} #`), bar, ''].join('\n');
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // One folder per run, removed at the end: a dump never outlives the sources it was built from.
  // RAM-backed when it can be: every PGlite a test opens is a copy of a data directory kept here.
  const templates = mkdtempSync(join(scratchBase(), `shipspeak-pglite-${project.name || 'default'}-`));
  project.provide('pgliteTemplateDir', templates);
  const removeTemplates = () => rmSync(templates, { recursive: true, force: true });
  // Throws in CI when PostgreSQL is missing: the run fails before any test is collected.
  const server = await resolveServer();
  if (isUnavailable(server)) {
    project.provide('pgUrl', '');
    project.provide('pgUnavailable', server.unavailable);
    console.warn(
      banner([
        `PostgreSQL 15 NOT AVAILABLE for project "${project.name || 'default'}"`,
        'Every suite that needs it is reported as NOT RUN (skipped), not passed.',
        ...server.unavailable.split('; '),
      ]),
    );
    return async () => removeTemplates();
  }
  project.provide('pgUrl', server.url);
  project.provide('pgUnavailable', '');
  const templatePrefix = `tpl_${randomBytes(4).toString('hex')}`;
  project.provide('pgTemplatePrefix', templatePrefix);
  const timing = server.cluster
    ? ` — initdb ${server.cluster.timings.initdbMs} ms, start ${server.cluster.timings.startMs} ms`
    : '';
  console.log(`[global-setup:${project.name}] ${server.description}${timing}`);
  return async () => {
    removeTemplates();
    await dropTemplates(server.url, templatePrefix).catch((e: Error) =>
      console.warn(`[global-setup:${project.name}] template databases ${templatePrefix}_* not dropped: ${e.message}`),
    );
    await server.stop();
    const stopMs = server.cluster?.timings.stopMs;
    if (stopMs !== undefined) console.log(`[global-setup:${project.name}] ephemeral cluster stopped in ${stopMs} ms`);
  };
}
