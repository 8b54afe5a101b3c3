import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateUp, migrationStatus, redoNewest } from '../../src/migrate/runner.js';
import { droppedTables, statusRows, writeMigrationPair } from '../../src/commands/migrate.js';
import { childEnv, ROOT } from '../serve/support.js';
import { pgliteEmpty } from '../support/pglite-head.js';
import { sqlTree, tablePair } from '../support/sql-tree.js';
import { cli, cliInProcess } from './support.js';

/**
 * The CLI as a user runs it: per-command options, exit codes (0 ok, 1 failed, 2 usage), clear one-line errors
 * that change nothing. migrate on persistent PGlite data directories: cli-migrate-*.test.ts; signals:
 * cli-signals.test.ts (separate files so that they run side by side).
 */
describe('usage errors exit 2, name the problem and open no database', () => {
  it.each([
    [['nope'], /unknown command "nope"/],
    [['migrate'], /migrate needs an action: up \| down \| status/],
    [['migrate', 'sideways'], /unknown action "sideways" for migrate/],
    [['migrate', 'up', '--steps', 'abc'], /--steps expects a positive whole number, got "abc"/],
    [['migrate', 'up', '--steps', '0'], /--steps expects a positive whole number, got "0"/],
    [['migrate', 'status', '--to', '0003'], /Unknown option '--to'.*migrate status/],
    [['migrate', 'up', 'extra'], /unexpected argument "extra" for "migrate up"/],
    [['migrate', 'up', '--to', 'abc'], /--to expects a migration version/],
    [['migrate', 'up', '--to', '9999'], /--to 9999: no migration has that version/],
    [['migrate', 'down'], /exactly one of --to NNNN or --steps N/],
    [['migrate', 'up', '--to', '3', '--steps', '1'], /migrate up takes --to or --steps, not both/],
    [['migrate', 'down', '--to', '3', '--steps', '1'], /migrate down takes --to or --steps, not both/],
    [['migrate', 'down', '--steps', 'x'], /--steps expects a positive whole number, got "x"/],
    [['seed', '--name', 'nope'], /no seed named "nope".*available: dev/],
    [['seed', '--name', '../etc'], /invalid seed name/],
    [['policies', 'migration'], /policies migration needs <name>/],
    [['migrate', 'new', 'Bad-Name'], /lower_snake_case/],
    [['serve', '--port', 'http'], /--port expects a port from 0 to 65535 \(0: any free port\), got "http"/],
    [['serve', '--port', '65536'], /--port expects a port from 0 to 65535.*got "65536"/],
    [['serve', '--port=-1'], /--port expects a port from 0 to 65535.*got "-1"/],
    [['serve', '--port', '80.5'], /--port expects a port from 0 to 65535.*got "80.5"/],
    [['serve', '--port', ''], /--port expects a port from 0 to 65535.*got ""/],
    [
      ['token'],
      /token needs --user: a persona — free_a \(alice\), free_b \(bob\), pro \(carol\), admin \(dave\) — or a user uuid/,
    ],
    [['token', '--user', 'nobody'], /--user must be a persona — free_a \(alice\).* — or a user uuid \(got "nobody"\)/],
  ])('%j', async (args, message) => {
    // In-process (the same runCli the process wrapper calls): these open nothing, so a process apiece would
    // only add tsx start-up time. The process wiring itself is proven by the spawned tests below.
    const r = await cliInProcess(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/in-memory PGlite/);
    expect(r.out).toBe('');
  });

  it('a bad DATABASE_URL is a clear configuration error', () => {
    const r = cli(['migrate', 'up'], childEnv({ DATABASE_URL: 'not-a-url' }));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/DATABASE_URL is not a URL .*expected postgres:\/\//);
    const http = cli(['migrate', 'up'], childEnv({ DATABASE_URL: 'http://localhost/db' }));
    expect(http.code).toBe(2);
    expect(http.err).toMatch(/must start with postgres:\/\//);
  });

  it('--version, --help and <command> --help', () => {
    const v = cli(['--version']);
    expect(v.code).toBe(0);
    expect(v.out.trim()).toBe(
      `shipspeak-db ${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}`,
    );
    const h = cli(['--help']);
    expect(h.code).toBe(0);
    for (const c of [
      'migrate up',
      'migrate down',
      'migrate status',
      'migrate hash',
      'migrate new',
      'migrate redo',
      'seed',
      'policies diff',
      'serve',
      'token',
    ])
      expect(h.out).toContain(c);
    const up = cli(['migrate', 'up', '--help']);
    expect(up.code).toBe(0);
    expect(up.out).toMatch(/^usage: shipspeak-db migrate up \[--to NNNN \| --steps N\]/);
    expect(up.out).toContain('--dry-run');
  });
});

describe('authoring: migrate new and redo', () => {
  it('new writes the next-numbered pair and never overwrites', () => {
    const root = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0002', 'b') });
    const pair = writeMigrationPair('add_tags', root);
    expect(pair.version).toBe('0003');
    expect(
      existsSync(join(root, 'migrations/0003_add_tags.sql')) && existsSync(join(root, 'down/0003_add_tags.sql')),
    ).toBe(true);
    expect(() => writeMigrationPair('add_tags', root)).toThrow(/0003_add_tags\.sql/);
    expect(readFileSync(pair.up, 'utf8')).toMatch(/^-- 0003_add_tags: /);
  });

  it('redo re-applies the edited newest migration in one transaction; a failing edit leaves the database as it was', async () => {
    const root = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0002', 'b') });
    const db = await pgliteEmpty();
    const columns = async () =>
      (
        await db.query<{ c: string }>(
          `select column_name as c from information_schema.columns where table_schema = 'public' and table_name = 'b' order by 1`,
        )
      ).rows.map((r) => r.c);
    try {
      await migrateUp(db, { sqlDir: root });
      writeFileSync(join(root, 'migrations/0002_b.sql'), 'create table public.b (id int primary key, note text);\n');
      await redoNewest(db, { sqlDir: root });
      expect(await columns()).toEqual(['id', 'note']);
      writeFileSync(
        join(root, 'migrations/0002_b.sql'),
        'create table public.b (id int primary key, note text, bad nosuchtype);\n',
      );
      await expect(redoNewest(db, { sqlDir: root })).rejects.toThrow(/0002_b\.sql:1:.*nosuchtype/);
      expect(await columns()).toEqual(['id', 'note']);
      const status = statusRows(await migrationStatus(db, { sqlDir: root }));
      expect(status.map((r) => r.state)).toEqual(['applied', 'drifted']);
    } finally {
      await db.close();
    }
  });

  it('redo refuses a migration recorded in sql/migrations.sum (it may have landed)', async () => {
    const r = await cliInProcess(['migrate', 'redo']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is recorded in .*migrations\.sum, so it may have landed/);
  });
});

describe('messages point at the problem', () => {
  it('a failing migration names file:line:column', async () => {
    const root = sqlTree({
      'migrations/0001_a.sql':
        'create table public.a (id int primary key);\n\ncreate table public.b (id int primary key, x nosuchtype);\n',
      'down/0001_a.sql': 'drop table public.b;\ndrop table public.a;\n',
    });
    const db = await pgliteEmpty();
    try {
      const err = await migrateUp(db, { sqlDir: root }).catch((e: unknown) => e);
      expect((err as Error).message).toContain(`${join(root, 'migrations/0001_a.sql')}:3:`);
      expect((err as Error).message).toMatch(/nosuchtype/);
    } finally {
      await db.close();
    }
  });

  it('droppedTables reads the tables a down file drops', () => {
    expect(
      droppedTables('-- x\ndrop table public.a;\ndrop table if exists public.b, public.c;\ndrop function public.f();'),
    ).toEqual(['public.a', 'public.b', 'public.c']);
  });
});

describe('docs/cli.md', () => {
  it('shows exactly what shipspeak-db --help prints', async () => {
    const page = readFileSync(join(ROOT, 'docs/cli.md'), 'utf8');
    const block = /<!-- generated:cli-help -->\n```\n([\s\S]*?)\n```\n<!-- \/generated -->/.exec(page);
    expect(block, 'docs/cli.md has the cli-help block (regenerate: npm run db -- docs)').not.toBeNull();
    const help = await cliInProcess(['--help']);
    expect(help.code).toBe(0);
    expect(block![1]).toBe(help.out.trimEnd());
  });
});
