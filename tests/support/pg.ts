/**
 * How a test file gets the real PostgreSQL 15 provided by tests/support/global-setup.ts.
 *
 * The rule: a suite that needs PostgreSQL never passes without it.
 *   - CI=true and no PostgreSQL → the suite FAILS (in practice global setup already failed the run).
 *   - Locally and no PostgreSQL → the suite is reported as skipped, its name carries "NOT RUN: <reason>",
 *     and a console.warn says so, so a green local run cannot be mistaken for a full one.
 *
 * Usage, a whole block (preferred):
 *
 *   describePg('migrations on PostgreSQL 15', () => {
 *     let scratch: ScratchDatabase;
 *     beforeAll(async () => { scratch = await createScratchDatabase(pgUrl(), 'mig'); });
 *     afterAll(() => scratch?.drop());
 *     it('...', async () => { ... });
 *   });
 *
 * Usage, a single test inside an ordinary describe:
 *
 *   it('works on PostgreSQL 15', async (ctx) => { const url = requirePg(ctx); ... });
 *
 * `pgUrl()` returns the URL for hooks and tests inside `describePg` (they only run when it exists).
 */
import { describe, inject, it, type TestContext } from 'vitest';
import { isCI } from '../../src/db/resolve-postgres.js';

export type PgAvailability = { url: string } | { unavailable: string };

/** What global setup found. Safe at collection time. */
export function pgAvailability(): PgAvailability {
  const url = inject('pgUrl');
  if (url) return { url };
  return {
    unavailable:
      inject('pgUnavailable') ||
      'global setup provided no PostgreSQL (is tests/support/global-setup.ts configured for this project?)',
  };
}

const warned = new Set<string>();
function warnNotRun(what: string, reason: string): void {
  const key = `${what}\0${reason}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`NOT RUN: ${what} — ${reason}`);
}

function failureMessage(what: string, reason: string): string {
  return `${what} cannot run and CI=true forbids skipping it: ${reason}`;
}

/** The superuser URL; throws when there is none. For hooks and tests inside `describePg`. */
export function pgUrl(): string {
  const a = pgAvailability();
  if ('url' in a) return a.url;
  throw new Error(failureMessage('this code', a.unavailable));
}

/**
 * The superuser URL for one test. Without PostgreSQL: throws in CI (the test fails); locally prints
 * "NOT RUN" and skips the test with the reason as its note.
 */
export function requirePg(ctx: TestContext): string {
  const a = pgAvailability();
  if ('url' in a) return a.url;
  const what = `test "${ctx.task.name}"`;
  if (isCI()) throw new Error(failureMessage(what, a.unavailable));
  warnNotRun(what, a.unavailable);
  return ctx.skip(`NOT RUN: ${a.unavailable}`);
}

/**
 * A describe block that needs PostgreSQL. With it: an ordinary describe. Without it: in CI a describe
 * holding one failing test; locally a skipped describe whose name says NOT RUN and why.
 */
export function describePg(name: string, fn: () => void): void {
  const a = pgAvailability();
  describeRequiring(name, 'url' in a ? null : a.unavailable, fn);
}

/**
 * The same policy for any prerequisite (e.g. the PostgreSQL binaries themselves): `missing` is null when
 * the prerequisite is there, otherwise the reason it is not.
 */
export function describeRequiring(name: string, missing: string | null, fn: () => void): void {
  if (missing === null) {
    describe(name, fn);
    return;
  }
  if (isCI()) {
    describe(name, () => {
      it('has its prerequisites', () => {
        throw new Error(failureMessage(`suite "${name}"`, missing));
      });
    });
    return;
  }
  warnNotRun(`suite "${name}"`, missing);
  describe.skip(`${name} [NOT RUN: ${missing}]`, fn);
}
