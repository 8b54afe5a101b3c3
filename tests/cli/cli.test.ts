import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MigrationError } from '../../src/migrate/errors.js';
import { loadMigrations } from '../../src/migrate/files.js';
import { migrateUp, migrationStatus, redoNewest } from '../../src/migrate/runner.js';
import { droppedTables, statusRows, writeMigrationPair } from '../../src/commands/migrate.js';
import { runCli } from '../../src/commands/dispatch.js';
import { openPGlite } from '../../src/db/pglite.js';
import { childEnv, ROOT } from '../serve/support.js';
import { sqlTree, tablePair } from '../support/sql-tree.js';

/**
 * The CLI as a user runs it (node bin/shipspeak-db.js, a separate process, no DATABASE_URL): per-command
 * options, exit codes (0 ok, 1 failed, 2 usage), plans before destruction, clear one-line errors that change
 * nothing. Databases are persistent PGlite data directories so that "nothing changed" can be checked.
 */
const BIN = join(ROOT, 'bin/shipspeak-db.js');
/** Tests that start six or more CLI processes, each opening PGlite (3-5 s apiece on a busy 2-core machine). */
const SPAWNS_TIMEOUT = 240_000;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'shipspeak-cli-'));
  dirs.push(d);
  return d;
};

function cli(args: string[], env: NodeJS.ProcessEnv = childEnv()) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function cliInProcess(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), ask: async () => null });
  return { code, out: out.map((l) => `${l}\n`).join(''), err: err.map((l) => `${l}\n`).join('') };
}

const all = loadMigrations();
const appliedCount = async (d: string) => {
  const r = await cliInProcess(['migrate', 'status', '--json', '--data-dir', d]);
  return (JSON.parse(r.out) as { database: { state: string }[] }).database.filter((m) => m.state === 'applied').length;
};

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

describe('migrate on a persistent PGlite (in-process: the same runCli the process calls)', () => {
  it(
    'up --steps N applies exactly N; --to 3 means --to 0003; --dry-run changes nothing',
    async () => {
      const d = dataDir();
      const dry = await cliInProcess(['migrate', 'up', '--dry-run', '--data-dir', d]);
      expect(dry.code).toBe(0);
      expect(dry.out).toContain(`would apply ${all[0]!.version}_${all[0]!.name}`);
      expect(dry.out).toMatch(new RegExp(`${all.length} migration\\(s\\) would be applied; nothing was changed`));
      expect(await appliedCount(d)).toBe(0);
      const one = await cliInProcess(['migrate', 'up', '--steps', '1', '--data-dir', d]);
      expect(one.code).toBe(0);
      expect(one.out).toContain(`applying ${all[0]!.version}_${all[0]!.name}…`);
      expect(await appliedCount(d)).toBe(1);
      const three = await cliInProcess(['migrate', 'up', '--to', '3', '--data-dir', d]);
      expect(three.code).toBe(0);
      expect(await appliedCount(d)).toBe(all.filter((m) => m.version <= '0003').length);
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'down shows the plan with row counts, refuses without --yes off a terminal, --dry-run and --json change nothing',
    async () => {
      const d = dataDir();
      expect((await cliInProcess(['seed', '--data-dir', d])).code).toBe(0);
      const before = await appliedCount(d);
      expect(before).toBe(all.length);
      const refused = await cliInProcess(['migrate', 'down', '--to', '0', '--data-dir', d]);
      expect(refused.code).toBe(2);
      expect(refused.out).toMatch(
        /will revert 0002_profiles_and_progress\n\s+drops public\.user_progress — \d+ row\(s\)/,
      );
      expect(refused.err).toMatch(/pass --yes to confirm.*nothing was changed/);
      expect(await appliedCount(d)).toBe(before);
      const dry = await cliInProcess(['migrate', 'down', '--steps', '2', '--dry-run', '--json', '--data-dir', d]);
      expect(dry.code).toBe(0);
      const plan = JSON.parse(dry.out) as { migrations: { version: string }[] };
      expect(plan.migrations.map((m) => m.version)).toEqual(
        all
          .slice(-2)
          .map((m) => m.version)
          .reverse(),
      );
      expect(await appliedCount(d)).toBe(before);
      const yes = await cliInProcess(['migrate', 'down', '--steps', '1', '--yes', '--data-dir', d]);
      expect(yes.code).toBe(0);
      expect(await appliedCount(d)).toBe(before - 1);
    },
    SPAWNS_TIMEOUT,
  );

  it('a second seed is a clear message that changes nothing', async () => {
    const d = dataDir();
    expect((await cliInProcess(['seed', '--data-dir', d])).code).toBe(0);
    const again = await cliInProcess(['seed', '--data-dir', d]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already holds rows it would insert.*Nothing was changed/);
  });

  it('policies diff refuses a database that is not at head and migrates nothing', async () => {
    const d = dataDir();
    expect((await cliInProcess(['migrate', 'up', '--to', '0005', '--data-dir', d])).code).toBe(0);
    const before = await appliedCount(d);
    const r = await cliInProcess(['policies', 'diff', '--data-dir', d]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/not at head .*never migrates it/);
    expect(await appliedCount(d)).toBe(before);
  });

  it('without DATABASE_URL or --data-dir, says the database is in memory', async () => {
    const r = await cliInProcess(['migrate', 'up', '--to', '0001']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/in-memory PGlite that vanishes/);
  });

  it('status reports an out-of-order pending migration that up would refuse', async () => {
    const root = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0003', 'c') });
    const db = await openPGlite();
    try {
      await migrateUp(db, { sqlDir: root });
      const late = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0002', 'b'), ...tablePair('0003', 'c') });
      const rows = statusRows(await migrationStatus(db, { sqlDir: late }));
      expect(rows.map((r) => `${r.version}:${r.state}`)).toEqual(['0001:applied', '0002:out-of-order', '0003:applied']);
      expect(rows[0]!.appliedAt).toMatch(/^\d{4}-\d\d-\d\d/);
      expect(rows[1]!.problem).toMatch(/migrate up will refuse it/);
      const err = await migrateUp(db, { sqlDir: late }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as Error).message).toMatch(
        /0002_b\.sql is pending but a later migration \(0003\) is already applied/,
      );
    } finally {
      await db.close();
    }
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
    const db = await openPGlite();
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
    const db = await openPGlite();
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

describe('signals reach the server however it is started', () => {
  it('npm run db -- serve stops on SIGTERM to npm: the port closes and nothing is left running', async () => {
    const proc = spawn('npm', ['run', '-s', 'db', '--', 'serve', '--port', '0'], {
      cwd: ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`serve not ready:\n${out}`)), 90_000);
      proc.stdout!.on('data', () => {
        const m = /API URL: (\S+)/.exec(out);
        if (m && /^Stop with/m.test(out)) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
    expect((await fetch(`${url}/rest/v1/`)).status).toBeLessThan(500);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Give a re-parented server (the old bug) time to show itself, then prove the port is closed.
    await new Promise((r) => setTimeout(r, 500));
    await expect(fetch(`${url}/rest/v1/`)).rejects.toThrow();
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
