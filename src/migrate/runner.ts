import type { Database, Queryable } from '../db/database.js';
import { MigrationError } from './errors.js';
import { loadMigrations, SQL_DIR, type MigrationFile } from './files.js';
import { ensureHistory, MIGRATION_LOCK_KEY, readHistory, recordApplied, recordReverted } from './history.js';
import { assertRunnable, plan, type PlannedMigration } from './plan.js';

// A migration that waits for a table lock queues every later query on that table behind it; on a live
// database it is better to fail fast and retry. Set after the advisory lock, which may wait for another runner.
const LOCK_TIMEOUT = process.env.MIGRATION_LOCK_TIMEOUT ?? '10s';

// A runner killed mid-migration (SIGKILL, lost laptop) leaves its server session running the current
// statement while holding the migration lock; PostgreSQL only notices the dead client when it next writes
// to it. With this set, the server polls the socket during long statements and ends the orphan within about
// this interval, so the next runner waits seconds, not the orphan's full statement
// (tests/reliability/runner-faults.test.ts measures it). PostgreSQL only: PGlite has no client socket.
const CLIENT_CHECK_INTERVAL = process.env.MIGRATION_CLIENT_CHECK_INTERVAL ?? '1s';

/** Session settings each migration transaction takes after the advisory lock (local: gone at commit). */
async function guardTransaction(tx: Queryable, engine: Database['engine']): Promise<void> {
  await tx.query(`select set_config('lock_timeout', $1, true)`, [LOCK_TIMEOUT]);
  if (engine === 'postgres')
    await tx.query(`select set_config('client_connection_check_interval', $1, true)`, [CLIENT_CHECK_INTERVAL]);
}

export interface RunOptions {
  /** Root holding migrations/ and down/ (tests point it at scratch trees). */
  sqlDir?: string;
  log?: (line: string) => void;
}

export interface UpOptions extends RunOptions {
  /** Apply up to and including this version. */
  to?: string;
}

export interface DownOptions extends RunOptions {
  /** Revert every applied migration above this version ("0000" reverts all). */
  to?: string;
  /** Revert this many of the latest applied migrations. */
  steps?: number;
}

export interface StepResult {
  version: string;
  name: string;
  durationMs: number;
}

async function currentPlan(db: Database, sqlDir: string | undefined): Promise<PlannedMigration[]> {
  const files = loadMigrations(sqlDir ?? SQL_DIR);
  return plan(files, await readHistory(db));
}

function checkVersionArg(version: string | undefined, planned: PlannedMigration[], allowZero: boolean): void {
  if (version === undefined) return;
  if (!/^\d{4}$/.test(version)) throw new MigrationError(`--to expects a four-digit version, got "${version}"`);
  if (allowZero && version === '0000') return;
  if (!planned.some((p) => p.version === version))
    throw new MigrationError(`--to ${version}: no migration has that version`);
}

/**
 * Applies pending migrations in order. Each migration and its history row commit in one transaction that
 * first takes a transaction-scoped advisory lock and re-reads the history: a second runner waiting on the
 * lock then sees the migration applied and skips it, so each migration is applied exactly once.
 */
export async function migrateUp(db: Database, options: UpOptions = {}): Promise<StepResult[]> {
  const log = options.log ?? (() => undefined);
  const planned = await currentPlan(db, options.sqlDir);
  assertRunnable(planned);
  checkVersionArg(options.to, planned, false);
  const todo = planned.filter((p) => p.state === 'pending' && (!options.to || p.version <= options.to));
  const done: StepResult[] = [];
  for (const p of todo) {
    const file = p.file!;
    // Said before the work, so a long migration is never silent.
    log(`applying ${file.version}_${file.name}…`);
    const step = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await ensureHistory(tx);
      const seen = await tx.query<{ checksum: string }>(
        `select checksum from supabase_migrations.shipspeak_checksums where version = $1`,
        [file.version],
      );
      if (seen.rows.length > 0) {
        if (seen.rows[0]!.checksum !== file.checksum) {
          throw new MigrationError(
            `migration ${file.upPath} was applied concurrently with different content`,
            file.upPath,
          );
        }
        return null;
      }
      await guardTransaction(tx, db.engine);
      const started = performance.now();
      await runScript(tx, file, 'up');
      const durationMs = performance.now() - started;
      await recordApplied(tx, file, durationMs);
      return { version: file.version, name: file.name, durationMs };
    });
    if (step) {
      log(`applied ${step.version}_${step.name} (${step.durationMs.toFixed(0)} ms)`);
      done.push(step);
    } else log(`skipped ${file.version}_${file.name}: applied by another runner`);
  }
  return done;
}

/** Reverts applied migrations newest first, each with its history row in one transaction. */
export async function migrateDown(db: Database, options: DownOptions = {}): Promise<StepResult[]> {
  const log = options.log ?? (() => undefined);
  if (options.to === undefined && options.steps === undefined) {
    throw new MigrationError('down needs --to <version> or --steps <n> (use --to 0000 to revert everything)');
  }
  if (options.to !== undefined && options.steps !== undefined)
    throw new MigrationError('down takes --to or --steps, not both');
  if (options.steps !== undefined && (!Number.isInteger(options.steps) || options.steps < 1)) {
    throw new MigrationError(`--steps expects a positive whole number, got "${options.steps}"`);
  }
  const planned = await currentPlan(db, options.sqlDir);
  assertRunnable(planned);
  checkVersionArg(options.to, planned, true);
  const applied = planned.filter((p) => p.state === 'applied').reverse();
  const todo =
    options.steps !== undefined ? applied.slice(0, options.steps) : applied.filter((p) => p.version > options.to!);
  const done: StepResult[] = [];
  for (const p of todo) {
    const file = p.file!;
    log(`reverting ${file.version}_${file.name}…`);
    const step = await db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      const still = await tx.query(`select 1 from supabase_migrations.schema_migrations where version = $1`, [
        file.version,
      ]);
      if (still.rows.length === 0) return null;
      await guardTransaction(tx, db.engine);
      const started = performance.now();
      await runScript(tx, file, 'down');
      await recordReverted(tx, file.version);
      return { version: file.version, name: file.name, durationMs: performance.now() - started };
    });
    if (step) {
      log(`reverted ${step.version}_${step.name} (${step.durationMs.toFixed(0)} ms)`);
      done.push(step);
    }
  }
  return done;
}

export async function migrationStatus(db: Database, options: RunOptions = {}): Promise<PlannedMigration[]> {
  return currentPlan(db, options.sqlDir);
}

/**
 * Re-applies the newest migration from its files as they are now: its down file (from disk) reverts it when
 * applied, then its up file applies it, with its history row, in ONE transaction — a failure leaves the
 * previous state. Only for work in progress: the caller checks that the migration has not landed.
 */
export async function redoNewest(db: Database, options: RunOptions = {}): Promise<StepResult> {
  const log = options.log ?? (() => undefined);
  const planned = await currentPlan(db, options.sqlDir);
  const newest = planned.filter((p) => p.file).at(-1);
  if (!newest) throw new MigrationError('there is no migration to redo');
  const others = planned.filter((p) => p !== newest);
  assertRunnable(others);
  const pending = others.find((p) => p.state === 'pending');
  if (pending)
    throw new MigrationError(
      `redo works on the newest migration of a database at head; ${pending.version}_${pending.name} is pending: run migrate up first`,
    );
  const file = newest.file!;
  log(`${newest.state === 'pending' ? 'applying' : 're-applying'} ${file.version}_${file.name}…`);
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await ensureHistory(tx);
    await guardTransaction(tx, db.engine);
    const started = performance.now();
    if (newest.state !== 'pending') {
      await runScript(tx, file, 'down');
      await recordReverted(tx, file.version);
    }
    await runScript(tx, file, 'up');
    const durationMs = performance.now() - started;
    await recordApplied(tx, file, durationMs);
    return { version: file.version, name: file.name, durationMs };
  });
}

/** 1-based line and column of a PostgreSQL error position (a 1-based character offset into the script). */
export function lineAndColumn(script: string, position: number): { line: number; column: number } {
  const before = script.slice(0, Math.max(0, position - 1));
  const line = before.split('\n').length;
  return { line, column: before.length - before.lastIndexOf('\n') };
}

async function runScript(tx: { exec(sql: string): Promise<void> }, file: MigrationFile, direction: 'up' | 'down') {
  const script = direction === 'up' ? file.up : file.down;
  try {
    await tx.exec(script);
  } catch (e) {
    const err = e as Error & { code?: string; position?: string | number };
    const path = direction === 'up' ? file.upPath : file.downPath;
    const pos = Number(err.position);
    const where =
      Number.isInteger(pos) && pos > 0 ? (({ line, column }) => `:${line}:${column}`)(lineAndColumn(script, pos)) : '';
    throw new MigrationError(
      `${path}${where} failed${err.code ? ` [${err.code}]` : ''}: ${err.message}; the transaction was rolled back, nothing of ${file.version} was applied`,
      path,
      { cause: e },
    );
  }
}
