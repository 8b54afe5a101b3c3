import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { catalogSnapshot } from '../../src/db/catalog.js';
import { migrateDown, migrateUp, migrationStatus } from '../../src/migrate/runner.js';
import { MigrationError } from '../../src/migrate/errors.js';
import { pgliteEmpty } from '../support/pglite-head.js';
import { sqlTree, tablePair } from '../support/sql-tree.js';

// Empty PGlite databases, restored from one dump per run (tests/support/pglite-head.ts).
const fresh = pgliteEmpty;
let db: Database;
afterEach(async () => db?.close());

async function tables(d: Database): Promise<string[]> {
  const r = await d.query<{ t: string }>(`select tablename as t from pg_tables where schemaname = 'public' order by 1`);
  return r.rows.map((x) => x.t);
}
async function history(d: Database): Promise<string[]> {
  const r = await d
    .query<{ v: string }>(`select version as v from supabase_migrations.schema_migrations order by 1`)
    .catch(() => ({ rows: [] as { v: string }[] }));
  return r.rows.map((x) => x.v);
}

/**
 * The refusal tests share one empty database: each refusal must leave the catalog exactly as it found it
 * (asserted), so the next test starts from the same empty state, and one restore replaces ten (~1 CPU s each).
 * A refusal that applied something would fail its own assertion here, and likely the following ones too.
 */
let refusals: Database | undefined;
afterAll(async () => refusals?.close());

/** Asserts the run is refused with a message naming `file`, and that nothing at all was applied. */
async function expectRefusal(root: string, file: string, pattern: RegExp) {
  refusals ??= await fresh();
  const before = await catalogSnapshot(refusals);
  const err = await migrateUp(refusals, { sqlDir: root }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MigrationError);
  expect((err as Error).message).toMatch(pattern);
  expect((err as Error).message).toContain(join(root, file));
  expect(await catalogSnapshot(refusals)).toEqual(before);
  expect(await tables(refusals)).toEqual([]);
  expect(await history(refusals)).toEqual([]);
}

describe('runner refuses ambiguous migration sets, naming the file, applying nothing', () => {
  it('a missing down file', async () => {
    const root = sqlTree({ ...tablePair('0001', 'a'), 'migrations/0002_b.sql': 'create table public.b (id int);' });
    await expectRefusal(root, 'migrations/0002_b.sql', /missing down file/);
  });
  it('an orphan down file', async () => {
    const root = sqlTree({ ...tablePair('0001', 'a'), 'down/0002_b.sql': 'drop table public.b;' });
    await expectRefusal(root, 'down/0002_b.sql', /orphan down file/);
  });
  it('a duplicate version', async () => {
    const root = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0001', 'b') });
    await expectRefusal(root, 'migrations/0001_b.sql', /duplicate migration version 0001/);
  });
  it.each(['1_short.sql', '0001-dash.sql', '0001_Upper.sql', '00001_five.sql', 'notes.txt'])(
    'a malformed file name %s',
    async (bad) => {
      const root = sqlTree({ ...tablePair('0001', 'a'), [`migrations/${bad}`]: 'select 1;' });
      await expectRefusal(root, `migrations/${bad}`, /malformed migration file name/);
    },
  );
  it('a name mismatch between up and down', async () => {
    const root = sqlTree({
      'migrations/0001_a.sql': 'create table public.a (id int);',
      'down/0001_b.sql': 'drop table public.a;',
    });
    await expectRefusal(root, 'down/0001_b.sql', /name mismatch for version 0001/);
  });
  it('an empty migration', async () => {
    const root = sqlTree({ 'migrations/0001_a.sql': '-- nothing here\n', 'down/0001_a.sql': 'select 1;' });
    await expectRefusal(root, 'migrations/0001_a.sql', /contains no SQL statement/);
  });
  it('transaction control inside a migration', async () => {
    const root = sqlTree({ ...tablePair('0001', 'a', 'commit;\n') });
    await expectRefusal(root, 'migrations/0001_a.sql', /transaction control \(COMMIT\)/);
  });
  it('does not mistake a BEGIN inside a function body for transaction control', async () => {
    const root = sqlTree({
      'migrations/0001_f.sql': `create function public.f() returns int language plpgsql as $$ begin return 1; end $$;`,
      'down/0001_f.sql': `drop function public.f();`,
    });
    db = await fresh();
    await migrateUp(db, { sqlDir: root });
    expect((await db.query<{ f: number }>('select public.f() as f')).rows[0]!.f).toBe(1);
  });
});

describe('runner refuses to run on top of a history that disagrees with the files', () => {
  it('an applied migration whose file was edited (checksum), and status shows it drifted', async () => {
    const root = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0002', 'b') });
    db = await fresh();
    await migrateUp(db, { sqlDir: root, to: '0001' });
    writeFileSync(join(root, 'migrations/0001_a.sql'), 'create table public.a (id int primary key, extra text);\n');
    const err = await migrateUp(db, { sqlDir: root }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toMatch(/0001_a\.sql was edited after it was applied/);
    expect(await tables(db)).toEqual(['a']); // 0002 was not applied either
    const status = await migrationStatus(db, { sqlDir: root });
    expect(status.map((s) => `${s.version}:${s.state}`)).toEqual(['0001:drifted', '0002:pending']);
    await expect(migrateDown(db, { sqlDir: root, steps: 1 })).rejects.toThrow(/edited after it was applied/);
  });
  it('an edited down file of an applied migration', async () => {
    const root = sqlTree({ ...tablePair('0001', 'a') });
    db = await fresh();
    await migrateUp(db, { sqlDir: root });
    writeFileSync(join(root, 'down/0001_a.sql'), 'drop table if exists public.a;\n');
    await expect(migrateDown(db, { sqlDir: root, steps: 1 })).rejects.toThrow(
      /down\/0001_a\.sql was edited after its migration was applied/,
    );
    expect(await tables(db)).toEqual(['a']);
  });
  it('an applied version missing from disk', async () => {
    const root = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0002', 'b') });
    db = await fresh();
    await migrateUp(db, { sqlDir: root, to: '0001' });
    rmSync(join(root, 'migrations/0001_a.sql'));
    rmSync(join(root, 'down/0001_a.sql'));
    await expect(migrateUp(db, { sqlDir: root })).rejects.toThrow(/0001_a is applied but its file is missing/);
    expect(await tables(db)).toEqual(['a']);
    expect((await migrationStatus(db, { sqlDir: root })).map((s) => s.state)).toEqual(['missing', 'pending']);
  });
  it('a pending migration numbered below an applied one', async () => {
    const root = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0003', 'c') });
    db = await fresh();
    await migrateUp(db, { sqlDir: root });
    writeFileSync(join(root, 'migrations/0002_b.sql'), 'create table public.b (id int);');
    writeFileSync(join(root, 'down/0002_b.sql'), 'drop table public.b;');
    await expect(migrateUp(db, { sqlDir: root })).rejects.toThrow(
      /0002_b\.sql is pending but a later migration \(0003\)/,
    );
    expect(await tables(db)).toEqual(['a', 'c']);
  });
});

describe('each migration and its history row commit together', () => {
  it('a statement failing halfway leaves catalog and history as they were', async () => {
    const root = sqlTree({
      ...tablePair('0001', 'a'),
      'migrations/0002_bad.sql': `create table public.b (id int);\ncomment on table public.b is 'x';\ninsert into public.missing values (1);\ncreate table public.c (id int);\n`,
      'down/0002_bad.sql': 'drop table public.b;',
    });
    db = await fresh();
    await migrateUp(db, { sqlDir: root, to: '0001' });
    const before = await catalogSnapshot(db);
    const err = await migrateUp(db, { sqlDir: root }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toMatch(
      /0002_bad\.sql:3:\d+ failed \[42P01\]: relation "public.missing" does not exist; the transaction was rolled back/,
    );
    expect(await catalogSnapshot(db)).toEqual(before);
    expect(await history(db)).toEqual(['0001']);
  });
  it('a failing down leaves the migration applied', async () => {
    const root = sqlTree({
      'migrations/0001_a.sql': 'create table public.a (id int);',
      'down/0001_a.sql': 'drop table public.a; drop table public.nope;',
    });
    db = await fresh();
    await migrateUp(db, { sqlDir: root });
    await expect(migrateDown(db, { sqlDir: root, to: '0000' })).rejects.toThrow(
      /down\/0001_a\.sql(:\d+:\d+)? failed \[42P01\]/,
    );
    expect(await tables(db)).toEqual(['a']);
    expect(await history(db)).toEqual(['0001']);
  });
});

describe('targets', () => {
  const root = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0002', 'b'), ...tablePair('0003', 'c') });
  it('up --to, down --steps, down --to, and bad arguments', async () => {
    db = await fresh();
    expect((await migrateUp(db, { sqlDir: root, to: '0002' })).map((s) => s.version)).toEqual(['0001', '0002']);
    expect(await tables(db)).toEqual(['a', 'b']);
    expect((await migrateUp(db, { sqlDir: root })).map((s) => s.version)).toEqual(['0003']);
    expect(await migrateUp(db, { sqlDir: root })).toEqual([]);
    expect((await migrateDown(db, { sqlDir: root, steps: 2 })).map((s) => s.version)).toEqual(['0003', '0002']);
    expect(await tables(db)).toEqual(['a']);
    await migrateUp(db, { sqlDir: root });
    expect((await migrateDown(db, { sqlDir: root, to: '0001' })).map((s) => s.version)).toEqual(['0003', '0002']);
    expect((await migrateDown(db, { sqlDir: root, to: '0000' })).map((s) => s.version)).toEqual(['0001']);
    expect(await tables(db)).toEqual([]);
    expect(await history(db)).toEqual([]);
    await expect(migrateUp(db, { sqlDir: root, to: '7' })).rejects.toThrow(/--to expects a four-digit version/);
    await expect(migrateUp(db, { sqlDir: root, to: '0009' })).rejects.toThrow(/no migration has that version/);
    await expect(migrateDown(db, { sqlDir: root })).rejects.toThrow(/down needs --to <version> or --steps <n>/);
    await expect(migrateDown(db, { sqlDir: root, steps: 0 })).rejects.toThrow(/positive whole number/);
  });
  it('records Supabase-compatible history: version, name and the statements', async () => {
    db = await fresh();
    await migrateUp(db, { sqlDir: root, to: '0001' });
    const r = await db.query<{ version: string; name: string; statements: string[]; checksum: string }>(
      `select version, name, statements, c.checksum from supabase_migrations.schema_migrations join supabase_migrations.shipspeak_checksums c using (version)`,
    );
    expect(r.rows).toEqual([
      {
        version: '0001',
        name: 'a',
        statements: ['create table public.a (id int primary key)'],
        checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
  });
});
