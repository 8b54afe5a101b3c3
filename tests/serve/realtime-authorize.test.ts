import { afterAll, beforeAll, expect, it } from 'vitest';
import { actAs } from '../../src/db/act-as.js';
import type { Database } from '../../src/db/database.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { deletedRowVisible, rowVisible } from '../../src/realtime/authorize.js';
import type { PublishedTable } from '../../src/realtime/changes.js';
import { describePg, pgUrl } from '../support/pg.js';

/**
 * Realtime's "may this subscriber see this row?" when PostgreSQL refuses the subscriber part of the check: the
 * table's SELECT policy reads a table only `authenticated` may read, so the check run as `anon` raises 42501.
 * Both checks (changed row by key, deleted row by policy) must answer "not visible" — withhold the event, fail
 * closed — and not throw; an error that is not a denial must still be raised.
 */
const SETUP = `
create schema rt_auth;
grant usage on schema rt_auth to anon, authenticated;
create table rt_auth.gate (open boolean not null);
insert into rt_auth.gate values (true);
grant select on rt_auth.gate to authenticated;
create table rt_auth.notes (id int primary key, body text not null);
insert into rt_auth.notes values (1, 'one');
grant select on rt_auth.notes to anon, authenticated;
alter table rt_auth.notes enable row level security;
create policy notes_read on rt_auth.notes for select using (exists (select from rt_auth.gate where open));
`;
const notes: PublishedTable = {
  schema: 'rt_auth',
  name: 'notes',
  columns: [
    { name: 'id', type: 'int4', sqlType: 'integer' },
    { name: 'body', type: 'text', sqlType: 'text' },
  ],
  pk: ['id'],
};
const user = { role: 'authenticated', claims: { role: 'authenticated', sub: '11111111-1111-4111-8111-111111111111' } };
const anon = { role: 'anon', claims: { role: 'anon' } };

describePg('realtime authorization: a denial (42501) while checking as the subscriber means not visible', () => {
  let scratch: ScratchDatabase;
  let db: Database;
  beforeAll(async () => {
    scratch = await createScratchDatabase(pgUrl(), 'rtauth');
    db = await openNodePostgres(scratch.url, { max: 1 });
    await applyBootstrap(db);
    await db.exec(SETUP);
  });
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('a subscriber allowed by the policy sees the changed and the deleted row', async () => {
    expect(await rowVisible(db, notes, user, { id: 1, body: 'one' })).toBe(true);
    expect(await deletedRowVisible(db, notes, user, { id: 2, body: 'gone' })).toBe(true);
  });

  it('a subscriber the policy cannot be evaluated for (42501 on the table it reads) sees neither', async () => {
    // The denial is real: the same read as anon raises 42501, which the checks turn into "not visible".
    await expect(
      actAs(db, anon.role, anon.claims, (tx) => tx.query('select * from rt_auth.notes')),
    ).rejects.toMatchObject({ code: '42501' });
    expect(await rowVisible(db, notes, anon, { id: 1, body: 'one' })).toBe(false);
    expect(await deletedRowVisible(db, notes, anon, { id: 2, body: 'gone' })).toBe(false);
    // The one pooled connection is clean afterwards: the delete check's prepared statement was deallocated.
    expect(await deletedRowVisible(db, notes, user, { id: 2, body: 'gone' })).toBe(true);
  });

  it('an error that is not a denial is raised, not read as "not visible"', async () => {
    await expect(rowVisible(db, notes, user, { id: 'not a number', body: 'x' })).rejects.toMatchObject({
      code: '22P02',
    });
  });
});
