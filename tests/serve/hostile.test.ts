/**
 * Issue #10 item 2: no single request keeps other users waiting, or SIGTERM unanswered, longer than the
 * statement timeout (plus a margin for the PGlite reopen and this shared machine), and nothing committed is
 * lost. Both engines, through `shipspeak-db serve` as a separate process and plain HTTP.
 *
 * The hostile request is an RPC to a function that counts to 10^10 (minutes of CPU on either engine): it
 * stands for any statement that runs too long (a deep embedding over big tables, an unindexed filter).
 * The gate is wide on purpose: statement timeout + MARGIN_MS, never a tight wall-clock figure; the measured
 * figures are printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { openPGlite } from '../../src/db/pglite.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { describePg, pgUrl } from '../support/pg.js';
import { describe } from 'vitest';
import { childEnv, isRunning, startServe, type Served } from './support.js';

const TIMEOUT_MS = 1500;
/**
 * Reopening PGlite after an overrun (WAL recovery of the data directory, about a second on an idle machine)
 * and process scheduling on a shared 2-core machine, where the reopen was seen taking up to ~8 s under a
 * load average of 11+. Wide on purpose: this gate catches "waits for the whole statement" (minutes), not
 * a slow reopen.
 */
const MARGIN_MS = 20_000;
const CEILING_MS = TIMEOUT_MS + MARGIN_MS;

/** Test-only objects: a function that never finishes in time and a table to prove commits survive. */
const SETUP = `
create function public.hostile_burn() returns bigint language sql stable as $$ select count(*) from pg_catalog.generate_series(1::bigint, 10000000000::bigint) $$;
comment on function public.hostile_burn() is 'Test only: a statement that runs for minutes.';
create table public.robust_notes (id int primary key, note text not null);
comment on table public.robust_notes is 'Test only: rows committed before a hostile request must survive it.';
grant select, insert on table public.robust_notes to service_role;
`;

interface Figures {
  hostileStatus: number;
  hostileCode: string;
  hostileMs: number;
  worstWaitMs: number;
  probes: number;
}

function api(served: Served) {
  const headers = {
    apikey: served.serviceKey,
    Authorization: `Bearer ${served.serviceKey}`,
    'Content-Type': 'application/json',
  };
  return (path: string, init: RequestInit = {}) =>
    fetch(`${served.url}/rest/v1${path}`, {
      ...init,
      headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
    });
}

/** Runs the hostile request and, meanwhile, another user's small reads one after another; the worst wait among them. */
async function measure(served: Served): Promise<Figures> {
  const call = api(served);
  const t0 = performance.now();
  let hostileDone = false;
  const hostile = call('/rpc/hostile_burn').then(async (r) => {
    hostileDone = true;
    return { status: r.status, body: (await r.json()) as { code?: string }, ms: performance.now() - t0 };
  });
  await new Promise((r) => setTimeout(r, 200));
  const waits: number[] = [];
  // Keep probing until the hostile request has been answered and one more probe went through afterwards.
  for (let after = 0; after < 2 && performance.now() - t0 < 3 * CEILING_MS;) {
    const s = performance.now();
    const r = await call('/robust_notes?select=id,note');
    waits.push(performance.now() - s);
    expect(r.status).toBe(200);
    if (hostileDone) after++;
    await new Promise((res) => setTimeout(res, 50));
  }
  const h = await hostile;
  return {
    hostileStatus: h.status,
    hostileCode: h.body.code ?? '',
    hostileMs: h.ms,
    worstWaitMs: Math.max(...waits),
    probes: waits.length,
  };
}

function engineSuite(
  name: 'pglite' | 'postgres',
  prepare: () => Promise<{ args: string[]; env: NodeJS.ProcessEnv; cleanup: () => Promise<void> }>,
) {
  let served: Served;
  let cleanup: () => Promise<void> = async () => undefined;
  let args: string[];
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ({ args, env, cleanup } = await prepare());
    served = await startServe(['--port', '0', '--statement-timeout', `${TIMEOUT_MS}ms`, ...args], env);
  });
  afterAll(async () => {
    if (served && isRunning(served.pid)) await served.stop('SIGKILL');
    await cleanup();
  });

  it(`a hostile request is cancelled with 57014 and keeps nobody waiting longer than the statement timeout + margin (${name})`, async () => {
    const call = api(served);
    const posted = await call('/robust_notes', {
      method: 'POST',
      body: JSON.stringify({ id: 1, note: 'committed before the hostile request' }),
    });
    expect(posted.status).toBe(201);
    const f = await measure(served);
    console.log(
      `[hostile] ${name}: statement timeout ${TIMEOUT_MS} ms; hostile answered ${f.hostileStatus} ${f.hostileCode} after ${Math.round(f.hostileMs)} ms; ` +
        `worst wait of another user ${Math.round(f.worstWaitMs)} ms over ${f.probes} reads (ceiling ${CEILING_MS} ms)`,
    );
    expect([f.hostileStatus, f.hostileCode]).toEqual([500, '57014']);
    expect(f.hostileMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(f.hostileMs).toBeLessThan(CEILING_MS);
    expect(f.worstWaitMs).toBeLessThan(CEILING_MS);
    // Nothing committed was lost (on PGlite the database was reopened under the running server).
    const after = await call('/robust_notes?select=id,note');
    expect(await after.json()).toEqual([{ id: 1, note: 'committed before the hostile request' }]);
  });

  it(`SIGTERM during a hostile request exits 0 within the statement timeout + margin, keeping committed rows (${name})`, async () => {
    const call = api(served);
    expect(
      (
        await call('/robust_notes', {
          method: 'POST',
          body: JSON.stringify({ id: 2, note: 'committed before SIGTERM' }),
        })
      ).status,
    ).toBe(201);
    const hostile = call('/rpc/hostile_burn').then(
      (r) => r.status,
      () => 'connection dropped',
    );
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    const code = await served.stop('SIGTERM');
    const exitMs = performance.now() - t0;
    console.log(
      `[hostile] ${name}: SIGTERM during a hostile request → exit ${code} after ${Math.round(exitMs)} ms (hostile got ${await hostile}; ceiling ${CEILING_MS} ms)`,
    );
    expect(code).toBe(0);
    expect(exitMs).toBeLessThan(CEILING_MS);
    // Restart on the same database: both committed rows are there.
    served = await startServe(['--port', '0', '--statement-timeout', `${TIMEOUT_MS}ms`, ...args], env);
    const rows = await (await api(served)('/robust_notes?select=id&order=id')).json();
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
  });
}

describe('serve: one hostile request on PGlite (worker thread)', () => {
  engineSuite('pglite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipspeak-hostile-'));
    const db: Database = await openPGlite({ dataDir: dir });
    await applyBootstrap(db);
    await migrateUp(db);
    await db.exec(SETUP);
    await db.close();
    return {
      args: ['--data-dir', dir],
      env: childEnv(),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  });
});

describePg('serve: one hostile request on PostgreSQL 15', () => {
  engineSuite('postgres', async () => {
    const scratch: ScratchDatabase = await createScratchDatabase(pgUrl(), 'hostile');
    const db = await openNodePostgres(scratch.url, { max: 1 });
    await applyBootstrap(db);
    await migrateUp(db);
    await db.exec(SETUP);
    await db.close();
    return { args: [], env: childEnv({ DATABASE_URL: scratch.url }), cleanup: () => scratch.drop() };
  });
});

describePg('serve: PostgreSQL pool starvation answers 504 PGRST003 (--db-pool, --db-pool-acquisition-timeout)', () => {
  let scratch: ScratchDatabase;
  let served: Served;
  const ACQUIRE_MS = 1000;
  beforeAll(async () => {
    scratch = await createScratchDatabase(pgUrl(), 'pool');
    const db = await openNodePostgres(scratch.url, { max: 1 });
    await applyBootstrap(db);
    await db.exec(`
      create function public.hold(seconds float8) returns text language sql as $$ select pg_catalog.pg_sleep(seconds); select 'held'::text $$;
      comment on function public.hold(float8) is 'Test only: keeps its pooled connection busy.';`);
    await db.close();
    served = await startServe(
      ['--port', '0', '--db-pool', '2', '--db-pool-acquisition-timeout', `${ACQUIRE_MS}ms`],
      childEnv({ DATABASE_URL: scratch.url }),
    );
  });
  afterAll(async () => {
    if (served && isRunning(served.pid)) await served.stop('SIGKILL');
    await scratch?.drop();
  });

  it('with both connections held, a third request waits the acquisition timeout and gets 504 PGRST003; afterwards the pool serves again', async () => {
    expect(served.stdout()).toMatch(/pool 2 \(acquisition timeout 1000 ms\)/);
    const call = api(served);
    const holds = [call('/rpc/hold?seconds=4'), call('/rpc/hold?seconds=4')];
    await new Promise((r) => setTimeout(r, 500));
    const t0 = performance.now();
    const starved = await call('/rpc/hold?seconds=0');
    const waited = performance.now() - t0;
    const body = (await starved.json()) as { code: string; message: string };
    console.log(
      `[pool] pool 2, acquisition timeout ${ACQUIRE_MS} ms: third request answered ${starved.status} ${body.code} after ${Math.round(waited)} ms`,
    );
    expect([starved.status, body.code]).toEqual([504, 'PGRST003']);
    expect(body.message).toBe('Timed out acquiring connection from connection pool.');
    expect(waited).toBeGreaterThanOrEqual(ACQUIRE_MS - 50);
    expect(waited).toBeLessThan(ACQUIRE_MS + MARGIN_MS);
    expect((await Promise.all(holds)).map((r) => r.status)).toEqual([200, 200]);
    expect((await call('/rpc/hold?seconds=0')).status).toBe(200);
  });

  it('answers 403 with a JSON error to a Host outside the allow-list (DNS rebinding), and serves loopback names', async () => {
    const { port } = new URL(served.url);
    const send = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        // fetch() may not set Host; node:http does exactly what a rebinding page's browser sends.
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/rest/v1/rpc/hold?seconds=0',
            headers: { Host: host, apikey: served.serviceKey, Authorization: `Bearer ${served.serviceKey}` },
          },
          (res) => {
            let body = '';
            res
              .setEncoding('utf8')
              .on('data', (d: string) => (body += d))
              .on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject).end();
      });
    const evil = await send(`rebind.attacker.example:${port}`);
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body)).toMatchObject({
      code: 'SSDB403',
      message: `Host "rebind.attacker.example:${port}" is not allowed`,
    });
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `app.localhost:${port}`])
      expect((await send(host)).status, host).toBe(200);
  });
});
