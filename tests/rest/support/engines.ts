import { afterAll, beforeAll } from 'vitest';
import type { Database } from '../../../src/db/database.js';
import { enginesUnderTest } from '../../support/engines.js';
import { describeRequiring } from '../../support/pg.js';
import { clients, prepareFixture, type Clients } from './fixture.js';

export interface EngineCtx {
  engine: 'pglite' | 'postgres';
  db: Database;
  c: Clients;
}

/**
 * Runs a conformance block once per engine (embedded PGlite and the real PostgreSQL 15 of global setup),
 * each on its own fresh database holding the bootstrap and the fixture.
 */
export function describeEachEngine(name: string, body: (ctx: () => EngineCtx) => void): void {
  for (const engine of enginesUnderTest(prepareFixture, { shareAs: 'rest-fixture' })) {
    describeRequiring(`${name} [${engine.name}]`, engine.missing, () => {
      let ctx: EngineCtx | undefined;
      beforeAll(async () => {
        const db = await engine.fresh();
        ctx = { engine: engine.name, db, c: await clients(db) };
      });
      afterAll(async () => {
        await ctx?.db.close();
      });
      body(() => {
        if (!ctx) throw new Error('engine context not ready');
        return ctx;
      });
    });
  }
}
