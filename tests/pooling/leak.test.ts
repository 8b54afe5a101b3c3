/**
 * Transaction pooling (PgBouncer pool_mode = transaction, as Supabase's Supavisor/PgBouncer run): a server
 * connection serves many clients one transaction at a time, and nothing is reset in between. The gateway
 * (like PostgREST) publishes role, request.jwt.claims and search_path only with set_config(…, true), so no
 * request may ever see another request's identity. Proved here with supabase-js through the real gateway,
 * 50 users and anonymous callers interleaving over 50 pooled clients sharing 5 server connections, plus
 * probes on the same pool outside any transaction; and a control that shows a session-level setting DOES
 * leak through the pooler (so these probes can fail).
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { localEnvironment } from '../../src/harness/environment.js';
import type { Database } from '../../src/db/database.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import {
  findPgbouncer,
  PGBOUNCER_INSTALL_HINT,
  startPgbouncer,
  type RunningPgbouncer,
} from '../../src/db/pgbouncer.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { describePg, describeRequiring, pgUrl } from '../support/pg.js';

const USERS = 50;
const ROUNDS = 5;

interface Probe {
  usr: string;
  role: string;
  claims: string | null;
  search_path: string;
}

const PROBE_SQL = `select current_user as usr, current_setting('role') as role,
  nullif(current_setting('request.jwt.claims', true), '') as claims, current_setting('search_path') as search_path`;

describePg('transaction pooling through PgBouncer', () => {
  describeRequiring(
    'PgBouncer in transaction mode',
    findPgbouncer() ? null : `no pgbouncer binary: ${PGBOUNCER_INSTALL_HINT}`,
    () => {
      let scratch: ScratchDatabase;
      let bouncer: RunningPgbouncer;
      let pooledDb: Database & { pool: pg.Pool };
      let baseline: Probe;

      beforeAll(async () => {
        scratch = await createScratchDatabase(pgUrl(), 'pooling');
        const admin = await openNodePostgres(scratch.url, { max: 1 });
        try {
          await applyBootstrap(admin);
          await migrateUp(admin);
          baseline = (await admin.query<Probe>(PROBE_SQL)).rows[0]!;
        } finally {
          await admin.close();
        }
        bouncer = await startPgbouncer({ upstreamUrl: scratch.url, poolSize: 5 });
        pooledDb = await openNodePostgres(bouncer.url, { max: USERS, preparedStatements: false });
      }, 180_000);

      afterAll(async () => {
        await pooledDb?.close();
        await bouncer?.stop();
        await scratch?.drop();
      });

      it(`${USERS} users and anonymous callers interleaved over ${USERS} pooled clients on 5 server connections never see another identity`, async () => {
        const env = await localEnvironment({ db: pooledDb, name: 'pgbouncer' });
        const users = [];
        for (let i = 0; i < USERS; i++) {
          const u = await env.signUp({
            email: `pool-${i}@example.test`,
            password: `pool-password-${i}`,
            userMetadata: { display_name: `Pool user ${i}` },
          });
          users.push({ ...u, name: `Pool user ${i}`, client: env.client(u.accessToken) });
        }
        const anon = env.client();
        const raw = new pg.Pool({ connectionString: bouncer.url, max: 10 });
        const seen: string[] = [];
        const probes: Probe[] = [];
        try {
          await Promise.all(
            users.map(async (u, i) => {
              for (let round = 0; round < ROUNDS; round++) {
                // Own profile through RLS (claims decide the row) and the dashboard rpc (auth.uid() inside a function).
                const profile = await u.client.from('profiles').select('id, display_name');
                expect(profile.error).toBeNull();
                expect(profile.data).toEqual([{ id: u.id, display_name: u.name }]);
                const dash = await u.client.rpc('dashboard');
                expect(dash.error).toBeNull();
                expect((dash.data as { profile: { display_name: string } }).profile.display_name).toBe(u.name);
                seen.push(u.id);
                // An anonymous request right after: role anon has no privilege on profiles, whatever ran before.
                if ((i + round) % 3 === 0) {
                  const a = await anon.from('profiles').select('id');
                  expect(a.data ?? []).toEqual([]);
                  expect(a.error?.code).toBe('42501');
                }
                // A statement outside any transaction on the same pooler sees the login role and no claims.
                if ((i + round) % 4 === 0) probes.push((await raw.query<Probe>(PROBE_SQL)).rows[0]!);
              }
            }),
          );
        } finally {
          await raw.end();
        }
        expect(seen.length).toBe(USERS * ROUNDS);
        expect(new Set(seen).size).toBe(USERS);
        expect(probes.length).toBeGreaterThan(USERS);
        for (const p of probes) expect(p).toEqual(baseline);
        const served = await pooledDb.query<{ n: string }>('select count(*)::text as n from public.profiles');
        expect(Number(served.rows[0]!.n)).toBe(USERS);
      }, 180_000);

      it('control: a session-level set_config(…, false) does leak to the next client of the same server connection, so the probes can fail', async () => {
        const single = await startPgbouncer({ upstreamUrl: scratch.url, poolSize: 1 });
        const a = new pg.Client({ connectionString: single.url });
        const b = new pg.Client({ connectionString: single.url });
        try {
          await a.connect();
          await b.connect();
          await a.query(`select set_config('request.jwt.claims', '{"sub":"leaked"}', false)`);
          const leaked = (await b.query<Probe>(PROBE_SQL)).rows[0]!;
          expect(leaked.claims).toBe('{"sub":"leaked"}');
          // …while the transaction-local form the gateway uses does not.
          await a.query(`select set_config('request.jwt.claims', '', false)`);
          await a.query('begin');
          await a.query(
            `select set_config('request.jwt.claims', '{"sub":"local"}', true), set_config('role', 'authenticated', true)`,
          );
          await a.query('commit');
          expect((await b.query<Probe>(PROBE_SQL)).rows[0]).toEqual({ ...baseline });
        } finally {
          await a.end().catch(() => undefined);
          await b.end().catch(() => undefined);
          await single.stop();
        }
      }, 60_000);
    },
  );
});
