/**
 * Where the isolation suites run. Without SUPABASE_* variables: once per engine (embedded PGlite and the
 * real PostgreSQL 15 of global setup), each a fresh, fully migrated database behind the gateway. With
 * SUPABASE_URL, SUPABASE_ANON_KEY and SUPABASE_SERVICE_ROLE_KEY: only against that stack, creating users
 * through the Auth admin API and deleting them afterwards.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import {
  localEnvironment,
  remoteEnvironment,
  remoteSettingsFromEnv,
  type ApiEnvironment,
} from '../../../src/harness/environment.js';
import type { Database } from '../../../src/db/database.js';
import { migrateUp } from '../../../src/migrate/runner.js';
import { enginesUnderTest } from '../../support/engines.js';
import { describeRequiring } from '../../support/pg.js';

export interface EnvCtx {
  env: ApiEnvironment;
  /** The database behind a local environment (never used in assertions; null on a real stack). */
  db: Database | null;
}

function transport(): 'fetch' | 'http' {
  const t = process.env.RLS_TRANSPORT ?? 'fetch';
  if (t !== 'fetch' && t !== 'http') throw new Error(`RLS_TRANSPORT must be fetch or http, got ${t}`);
  return t;
}

/**
 * `body` is registered once per environment; `teardown` runs before the environment goes away (for the
 * suite's own clean-up through the API).
 */
export function describeEachEnvironment(
  name: string,
  body: (ctx: () => EnvCtx) => void,
  hooks: { teardown?: (ctx: EnvCtx) => Promise<void> } = {},
): void {
  const remote = remoteSettingsFromEnv();
  const register = (label: string, open: () => Promise<EnvCtx>) => {
    let ctx: EnvCtx | undefined;
    beforeAll(async () => {
      ctx = await open();
    });
    afterAll(async () => {
      if (!ctx) return;
      try {
        await hooks.teardown?.(ctx);
      } finally {
        await ctx.env.close();
        await ctx.db?.close();
      }
    });
    body(() => {
      if (!ctx) throw new Error(`${label}: environment not ready`);
      return ctx;
    });
  };
  if (remote) {
    describe(`${name} [remote ${new URL(remote.url).host}]`, () =>
      register('remote', async () => ({ env: remoteEnvironment(remote), db: null })));
    return;
  }
  for (const engine of enginesUnderTest(
    async (db) => {
      await migrateUp(db);
    },
    { shareAs: 'migrated' },
  )) {
    describeRequiring(`${name} [${engine.name}]`, engine.missing, () =>
      register(engine.name, async () => {
        const db = await engine.fresh();
        return { env: await localEnvironment({ db, name: engine.name, transport: transport() }), db };
      }),
    );
  }
}
