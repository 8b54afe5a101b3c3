import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import type { Database } from '../../src/db/database.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { describePg, pgUrl } from '../support/pg.js';
import { childEnv, client, isRunning, runCli, startServe, type Served } from './support.js';

/**
 * Serving a PostgreSQL database that is not ours: Supabase's roles (the bootstrap) and one small schema of
 * another project. serve must expose that schema as it is, without migrating anything into it.
 */
const SCHEMA = 'inventory';
const SETUP = `
create schema ${SCHEMA};
comment on schema ${SCHEMA} is 'Another project''s schema, served by shipspeak-db serve in a test.';
grant usage on schema ${SCHEMA} to anon, authenticated, service_role;
create table ${SCHEMA}.parts (id int primary key, name text not null, qty int not null);
comment on table ${SCHEMA}.parts is 'Test table readable by anon.';
grant select on table ${SCHEMA}.parts to anon, authenticated, service_role;
insert into ${SCHEMA}.parts (id, name, qty) select i, 'part-' || i, i * 3 from generate_series(1, 7) i;
create function ${SCHEMA}.slow(seconds float8) returns text language sql as $$ select pg_catalog.pg_sleep(seconds); select 'slept'::text $$;
grant execute on function ${SCHEMA}.slow(float8) to anon;
`;

describePg('shipspeak-db serve over DATABASE_URL (a database that is not ours)', () => {
  let scratch: ScratchDatabase;
  let db: Database;
  let served: Served;
  const env = () => childEnv({ DATABASE_URL: scratch.url });

  beforeAll(async () => {
    scratch = await createScratchDatabase(pgUrl(), 'serve');
    db = await openNodePostgres(scratch.url, { max: 2 });
    await applyBootstrap(db);
    await db.exec(SETUP);
    served = await startServe(['--port', '0', '--schemas', SCHEMA], env());
  });
  afterAll(async () => {
    if (served && isRunning(served.pid)) await served.stop('SIGKILL');
    await db?.close();
    await scratch?.drop();
  });

  it('serves the schema from its catalog to supabase-js (db.schema option)', async () => {
    const anon = client(served.url, served.anonKey, { schema: SCHEMA });
    const { data, error } = await anon.from('parts').select('id, name, qty').gt('qty', 6).order('id');
    expect(error).toBeNull();
    const expected = await db.query(`select id, name, qty from ${SCHEMA}.parts where qty > 6 order by id`);
    expect(data).toEqual(expected.rows);
    expect(served.stdout()).toMatch(/Exposed schemas: inventory/);
  });

  it('left the database as it was: no migrations, no history table, public untouched', async () => {
    const r = await db.query<{ history: string | null; profiles: string | null }>(
      `select pg_catalog.to_regclass('supabase_migrations.schema_migrations')::text as history, pg_catalog.to_regclass('public.profiles')::text as profiles`,
    );
    expect(r.rows[0]).toEqual({ history: null, profiles: null });
    expect(served.stdout()).not.toMatch(/migrate \d+ ms/);
  });

  it('`token --user <uuid>` creates the user in this database through auth.users', async () => {
    const id = randomUUID();
    const r = await runCli(['token', '--user', id], env());
    expect(r.code, r.stderr).toBe(0);
    const row = await db.query(`select id::text as id, aud from auth.users where id = $1`, [id]);
    expect(row.rows).toEqual([{ id, aud: 'authenticated' }]);
  });

  it('an unknown schema in this database is a one-line error', async () => {
    const r = await runCli(['serve', '--port', '0', '--schemas', 'nope'], env());
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/schema "nope" does not exist in PostgreSQL/);
  });

  it('SIGTERM during a request: the request completes, then exit 0', async () => {
    const anon = client(served.url, served.anonKey, { schema: SCHEMA });
    // supabase-js builders are lazy: .then() sends the request now.
    const pending = anon.rpc('slow', { seconds: 1.5 }).then((r) => r);
    // Wait until the request is really inside the database, then signal.
    for (let i = 0; ; i++) {
      const active = await db.query(
        `select 1 from pg_catalog.pg_stat_activity where datname = current_database() and query like '%slow%' and pid <> pg_catalog.pg_backend_pid() and state = 'active'`,
      );
      if (active.rows.length) break;
      if (i > 100) throw new Error('the slow request never reached the database');
      await new Promise((r) => setTimeout(r, 20));
    }
    const exit = served.stop('SIGTERM');
    const { data, error, status } = await pending;
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(data).toBe('slept');
    expect(await exit).toBe(0);
    expect(served.stderr()).toMatch(/SIGTERM: shutting down \(1 request\(s\) in flight\)/);
    expect(served.stderr()).toMatch(/stopped: all requests answered, database closed/);
    expect(isRunning(served.pid)).toBe(false);
  });
});
