import { existsSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '../db/database.js';
import { applyBootstrap } from '../migrate/bootstrap.js';
import { loadMigrations, SQL_DIR, type MigrationFile } from '../migrate/files.js';
import { checkManifest, manifestPath, parseManifest, updateManifest } from '../migrate/manifest.js';
import type { PlannedMigration } from '../migrate/plan.js';
import { migrateDown, migrateUp, migrationStatus, redoNewest } from '../migrate/runner.js';
import { splitStatements } from '../migrate/split-statements.js';
import {
  DATA_DIR_HELP,
  DATA_DIR_OPTION,
  EXIT_FAILED,
  EXIT_OK,
  positiveIntArg,
  UsageError,
  versionArg,
  withTarget,
  type Command,
  type Io,
  type Options,
  type Values,
} from './command.js';

/**
 * `shipspeak-db migrate <up|down|status|hash|new|redo>`: one command object per action, each with its own
 * options. Plans are printed before anything runs; `--dry-run` prints them and changes nothing; `down`
 * drops data, so it says which tables and how many rows, and needs `--yes` (or a typed "yes" on a terminal).
 */

const json = (io: Io, doc: unknown) => io.out(JSON.stringify(doc, null, 2));

/** A --to that names no migration is a usage error before anything runs (0000 = none, for down). */
function knownVersion(to: string | undefined, allowZero: boolean): string | undefined {
  if (to === undefined || (allowZero && to === '0000')) return to;
  if (!loadMigrations().some((f) => f.version === to))
    throw new UsageError(`--to ${to}: no migration has that version (see \`migrate status\`)`);
  return to;
}

/** The options `migrate up` and `migrate down` share: where to stop, a dry run, JSON output, the database. */
const RANGE_OPTIONS: Options = {
  to: { type: 'string' },
  steps: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  ...DATA_DIR_OPTION,
};
const JSON_HELP = '--json          print the plan / result as JSON';

/**
 * --to and --steps as both directions read them, checked before any database is opened: at most one of the
 * two, and for down exactly one (reverting everything by default would be a trap); down also takes --to 0.
 */
function rangeArgs(values: Values, cmd: Command, down: boolean): { to?: string; steps?: number } {
  const to = knownVersion(versionArg('--to', values.to), down);
  const steps = positiveIntArg('--steps', values.steps, cmd);
  if (to !== undefined && steps !== undefined) throw new UsageError(`${cmd.name} takes --to or --steps, not both`, cmd);
  if (down && to === undefined && steps === undefined)
    throw new UsageError(`${cmd.name} needs exactly one of --to NNNN or --steps N (--to 0 reverts everything)`, cmd);
  return { ...(to !== undefined ? { to } : {}), ...(steps !== undefined ? { steps } : {}) };
}

/** The manifest half of status: the repository's migrations against sql/migrations.sum, no database. */
function manifestProblems(): string[] {
  return checkManifest(loadMigrations()).map((p) => p.message);
}

export const migrateUpCommand: Command = {
  name: 'migrate up',
  synopsis: 'migrate up [--to NNNN | --steps N] [--dry-run] [--json] [--data-dir DIR]',
  summary: 'Apply pending migrations in order (the Supabase platform bootstrap first, where it is missing).',
  details: [
    '--to NNNN       apply up to and including this version',
    '--steps N       apply the next N pending migrations',
    '--dry-run       print the plan and change nothing',
    JSON_HELP,
    DATA_DIR_HELP,
  ],
  options: RANGE_OPTIONS,
  async run({ values }, io) {
    const range = rangeArgs(values, migrateUpCommand, false);
    const { steps } = range;
    let { to } = range;
    return withTarget(values, io, async ({ db }) => {
      const pending = (await migrationStatus(db)).filter((p) => p.state === 'pending');
      if (steps !== undefined) to = pending[Math.min(steps, pending.length) - 1]?.version;
      const todo = pending.filter((p) => to === undefined || p.version <= to);
      if (values['dry-run']) {
        if (values.json)
          json(io, { action: 'up', dryRun: true, migrations: todo.map(({ version, name }) => ({ version, name })) });
        else {
          for (const p of todo) io.out(`would apply ${p.version}_${p.name}`);
          io.out(
            todo.length
              ? `${todo.length} migration(s) would be applied; nothing was changed (dry run)`
              : 'nothing to apply: database is up to date',
          );
        }
        return EXIT_OK;
      }
      const log = values.json ? () => undefined : io.out;
      const boot = await applyBootstrap(db);
      if (boot.applied.length) log(`bootstrap: applied ${boot.applied.join(', ')}`);
      const done = todo.length ? await migrateUp(db, { ...(to ? { to } : {}), log }) : [];
      if (values.json) json(io, { action: 'up', dryRun: false, bootstrap: boot.applied, applied: done });
      else io.out(done.length ? `${done.length} migration(s) applied` : 'nothing to apply: database is up to date');
      return EXIT_OK;
    });
  },
};

/** Tables a down file drops (`drop table [if exists] schema.name`), read from the file itself. */
export function droppedTables(down: string): string[] {
  const out: string[] = [];
  for (const stmt of splitStatements(down)) {
    const m =
      /^\s*drop\s+table\s+(?:if\s+exists\s+)?([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*(?:\s*,\s*[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)*)/i.exec(
        stmt.replace(/^\s*(--[^\n]*\n\s*)*/, ''),
      );
    if (m) out.push(...m[1]!.split(',').map((t) => t.trim().toLowerCase()));
  }
  return out;
}

interface DownStep {
  version: string;
  name: string;
  drops: { table: string; rows: number | null }[];
}

async function downPlan(db: Database, todo: PlannedMigration[]): Promise<DownStep[]> {
  const steps: DownStep[] = [];
  for (const p of todo) {
    const drops: DownStep['drops'] = [];
    for (const table of droppedTables(p.file!.down)) {
      const exists = (await db.query<{ ok: boolean }>('select to_regclass($1) is not null as ok', [table])).rows[0]!.ok;
      // The name comes from the repository's own down file and was matched as two plain identifiers above.
      const rows = exists
        ? Number((await db.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]!.n)
        : null;
      drops.push({ table, rows });
    }
    steps.push({ version: p.version, name: p.name, drops });
  }
  return steps;
}

export const migrateDownCommand: Command = {
  name: 'migrate down',
  synopsis: 'migrate down (--to NNNN | --steps N) [--dry-run] [--yes] [--json] [--data-dir DIR]',
  summary: 'Revert applied migrations, newest first, with their down files. Prints what will be dropped first.',
  details: [
    '--to NNNN       revert every migration above this version (--to 0 reverts all)',
    '--steps N       revert the N newest applied migrations',
    '--dry-run       print the plan (migrations, tables dropped and their row counts) and change nothing',
    '--yes           do it without asking (needed when stdin is not a terminal)',
    JSON_HELP,
    DATA_DIR_HELP,
  ],
  options: { ...RANGE_OPTIONS, yes: { type: 'boolean' } },
  async run({ values }, io) {
    const { to, steps } = rangeArgs(values, migrateDownCommand, true);
    return withTarget(values, io, async ({ db }) => {
      const applied = (await migrationStatus(db)).filter((p) => p.state === 'applied').reverse();
      const todo = steps !== undefined ? applied.slice(0, steps) : applied.filter((p) => p.version > to!);
      const plan = await downPlan(db, todo);
      const dropped = plan.flatMap((s) => s.drops).filter((d) => d.rows !== null);
      const rows = dropped.reduce((a, d) => a + (d.rows ?? 0), 0);
      if (values.json && values['dry-run']) {
        json(io, { action: 'down', dryRun: true, migrations: plan });
        return EXIT_OK;
      }
      if (!values.json) {
        for (const s of plan) {
          io.out(`${values['dry-run'] ? 'would revert' : 'will revert'} ${s.version}_${s.name}`);
          for (const d of s.drops)
            io.out(`    drops ${d.table}${d.rows === null ? ' (absent)' : ` — ${d.rows} row(s)`}`);
        }
        if (plan.length === 0) io.out('nothing to revert');
        else io.out(`${plan.length} migration(s); ${dropped.length} table(s) dropped holding ${rows} row(s)`);
      }
      if (plan.length === 0) return EXIT_OK;
      if (values['dry-run']) {
        io.out('nothing was changed (dry run)');
        return EXIT_OK;
      }
      if (!values.yes) {
        const answer = await io.ask(
          `Revert ${plan.length} migration(s), dropping ${rows} row(s)? Type "yes" to continue: `,
        );
        if (answer === null)
          throw new UsageError(
            'migrate down drops data: pass --yes to confirm (stdin is not a terminal to ask on); nothing was changed',
            migrateDownCommand,
          );
        if (answer.trim().toLowerCase() !== 'yes') {
          io.err('not confirmed: nothing was changed');
          return EXIT_FAILED;
        }
      }
      const done = await migrateDown(db, {
        ...(steps !== undefined ? { steps } : { to: to! }),
        log: values.json ? () => undefined : io.out,
      });
      if (values.json) json(io, { action: 'down', dryRun: false, reverted: done, plan });
      else io.out(done.length ? `${done.length} migration(s) reverted` : 'nothing to revert');
      return EXIT_OK;
    });
  },
};

export interface StatusRow {
  version: string;
  name: string;
  state: 'applied' | 'pending' | 'out-of-order' | 'drifted' | 'missing';
  appliedAt: string | null;
  problem: string | null;
}

/** Status lines: a pending migration numbered below the newest applied one is out-of-order (up refuses it). */
export function statusRows(planned: PlannedMigration[]): StatusRow[] {
  const lastApplied = [...planned].reverse().find((p) => p.state === 'applied');
  return planned.map((p) => {
    const outOfOrder = p.state === 'pending' && lastApplied !== undefined && p.version < lastApplied.version;
    return {
      version: p.version,
      name: p.name,
      state: outOfOrder ? 'out-of-order' : p.state,
      appliedAt: p.applied?.appliedAt ?? null,
      problem: outOfOrder
        ? `pending below the applied ${lastApplied!.version}: migrate up will refuse it; renumber it after ${lastApplied!.version}`
        : (p.problem ?? null),
    };
  });
}

export const migrateStatusCommand: Command = {
  name: 'migrate status',
  synopsis: 'migrate status [--json] [--data-dir DIR]',
  summary:
    'Check sql/migrations against the committed manifest sql/migrations.sum (no database needed), then show each migration on the database: applied (with time), pending, out-of-order, drifted or missing.',
  details: [
    '--json          machine-readable output',
    DATA_DIR_HELP,
    'Exit 1 when the manifest or the database has a problem (edited, missing, out-of-order).',
  ],
  options: { json: { type: 'boolean' }, ...DATA_DIR_OPTION },
  async run({ values }, io) {
    const problems = manifestProblems();
    const noDb = !process.env.DATABASE_URL && typeof values['data-dir'] !== 'string';
    let rows: StatusRow[] | null = null;
    if (!noDb) {
      rows = await withTarget(values, io, async ({ db }) => statusRows(await migrationStatus(db)));
    }
    const bad = (rows ?? []).filter((r) => r.problem !== null).length;
    if (values.json) {
      json(io, { manifest: { path: manifestPath(), problems }, database: rows });
    } else {
      for (const p of problems) io.out(`manifest ! ${p}`);
      io.out(
        problems.length
          ? `${problems.length} manifest problem(s) in ${manifestPath()}`
          : `manifest: ${manifestPath()} matches sql/migrations`,
      );
      if (rows === null)
        io.out('database: none (set DATABASE_URL or --data-dir to see which migrations a database has applied)');
      else {
        for (const r of rows)
          io.out(
            `${r.state.padEnd(12)} ${r.version}_${r.name}${r.appliedAt ? `  ${r.appliedAt}` : ''}${r.problem ? `  ! ${r.problem}` : ''}`,
          );
        const count = (s: string) => rows!.filter((r) => r.state === s).length;
        io.out(`${count('applied')} applied, ${count('pending')} pending, ${bad} with a problem`);
      }
    }
    return problems.length || bad ? EXIT_FAILED : EXIT_OK;
  },
};

export const migrateHashCommand: Command = {
  name: 'migrate hash',
  synopsis: 'migrate hash [--rehash-last]',
  summary: 'Record new migrations in sql/migrations.sum (the committed hash chain CI checks). Needs no database.',
  details: [
    '--rehash-last   re-hash the newest entry (only for a migration that has not landed); an edited older one is always refused',
  ],
  options: { 'rehash-last': { type: 'boolean' } },
  async run({ values }, io) {
    const { added, rehashed } = updateManifest(loadMigrations(), { rehashLast: values['rehash-last'] === true });
    for (const a of added) io.out(`recorded ${a}`);
    if (rehashed) io.out(`re-hashed ${rehashed} (the newest entry; only for a migration that has not landed)`);
    if (!added.length && !rehashed) io.out(`${manifestPath()} already matches sql/migrations`);
    return EXIT_OK;
  },
};

const NAME_RE = /^[a-z0-9]+(_[a-z0-9]+)*$/;

/** Writes the next-numbered, comment-only up/down pair for `name` under `sqlDir`; never overwrites. */
export function writeMigrationPair(
  name: string,
  sqlDir: string = SQL_DIR,
): { version: string; up: string; down: string } {
  const version = String(Number(loadMigrations(sqlDir).at(-1)?.version ?? '0') + 1).padStart(4, '0');
  const up = join(sqlDir, 'migrations', `${version}_${name}.sql`);
  const down = join(sqlDir, 'down', `${version}_${name}.sql`);
  for (const p of [up, down]) if (existsSync(p)) throw new Error(`${p} already exists`);
  writeFileSync(
    up,
    `-- ${version}_${name}: what this migration changes and why.\n-- Lower-case SQL, schema-qualified names, a \`comment on\` for every new object; no BEGIN/COMMIT.\n`,
  );
  writeFileSync(down, `-- ${version}_${name} (down): the exact inverse of the up file, newest object first.\n`);
  return { version, up, down };
}

export const migrateNewCommand: Command = {
  name: 'migrate new',
  synopsis: 'migrate new <name>',
  summary:
    'Create the next-numbered pair sql/migrations/NNNN_<name>.sql and sql/down/NNNN_<name>.sql. Needs no database.',
  details: [
    '<name>          lower_snake_case, e.g. add_meeting_tags',
    'Then: write both files, iterate with `migrate redo --watch`, record with `migrate hash`, commit.',
  ],
  options: {},
  positionals: ['name'],
  async run({ positionals }, io) {
    const name = positionals[0]!;
    if (!NAME_RE.test(name))
      throw new UsageError(
        `migration name must be lower_snake_case ([a-z0-9] words joined by _), got "${name}"`,
        migrateNewCommand,
      );
    const { up, down } = writeMigrationPair(name);
    io.out(`wrote ${up}\nwrote ${down}`);
    io.out('both files hold only comments: the runner refuses them until each has its statements');
    return EXIT_OK;
  },
};

/** Refuses to redo a migration that is in the committed manifest: it may have landed. */
function assertWorkInProgress(newest: MigrationFile): void {
  const path = manifestPath();
  const recorded = existsSync(path)
    ? parseManifest(readFileSync(path, 'utf8'), path).entries.some((e) => e.version === newest.version)
    : false;
  if (recorded) {
    throw new UsageError(
      `${newest.version}_${newest.name} is recorded in ${path}, so it may have landed: redo only iterates on a migration not yet recorded; write a new migration instead`,
    );
  }
}

export const migrateRedoCommand: Command = {
  name: 'migrate redo',
  synopsis: 'migrate redo [--watch] [--data-dir DIR]',
  summary:
    'Iterate on the newest migration while it is work in progress (not yet in sql/migrations.sum): revert it with its down file and apply it again, in one transaction, from the files as they are now.',
  details: ['--watch         redo again every time the up or down file is saved (Ctrl-C to stop)', DATA_DIR_HELP],
  options: { watch: { type: 'boolean' }, ...DATA_DIR_OPTION },
  async run({ values }, io) {
    const newest = loadMigrations().at(-1);
    if (!newest) throw new UsageError('there is no migration to redo: create one with `migrate new <name>`');
    assertWorkInProgress(newest);
    return withTarget(values, io, async ({ db }) => {
      await applyBootstrap(db);
      const once = async (): Promise<boolean> => {
        try {
          const r = await redoNewest(db, { log: io.out });
          io.out(`applied ${r.version}_${r.name} (${r.durationMs.toFixed(0)} ms)`);
          return true;
        } catch (e) {
          io.err(`redo failed: ${(e as Error).message}`);
          return false;
        }
      };
      const ok = await once();
      if (!values.watch) return ok ? EXIT_OK : EXIT_FAILED;
      io.out(`watching ${newest.upPath} and ${newest.downPath} (Ctrl-C to stop)`);
      return new Promise<number>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        let running = Promise.resolve();
        const watchers = [newest.upPath, newest.downPath].map((p) =>
          watch(p, () => {
            clearTimeout(timer);
            // Editors write in bursts; one redo per save.
            timer = setTimeout(() => {
              running = running.then(async () => void (await once()));
            }, 150);
          }),
        );
        const stop = () => {
          for (const w of watchers) w.close();
          clearTimeout(timer);
          void running.then(() => resolve(EXIT_OK));
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
  },
};

export const MIGRATE_COMMANDS = [
  migrateUpCommand,
  migrateDownCommand,
  migrateStatusCommand,
  migrateHashCommand,
  migrateNewCommand,
  migrateRedoCommand,
];
