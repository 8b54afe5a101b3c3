import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Database } from '../db/database.js';
import { openPGlite } from '../db/pglite.js';
import { lockDataDir } from '../serve/lock.js';

/**
 * What every `shipspeak-db` command is: its own options, positionals and help (graphile-migrate's
 * `commands/<verb>.ts`), so a flag that belongs to another command is a usage error instead of being
 * silently ignored.
 *
 * Exit codes, everywhere: 0 success; 1 the command ran and failed (database error, refusal, drift,
 * a failed check); 2 usage or configuration error (unknown command or flag, bad value, bad DATABASE_URL) —
 * nothing was changed.
 */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Reads one answer from an interactive terminal; null when stdin is not a TTY. */
  ask(question: string): Promise<string | null>;
}

export interface Command {
  /** One or two words: `migrate up`, `seed`. */
  name: string;
  /** The usage line after `shipspeak-db`. */
  synopsis: string;
  summary: string;
  /** Further help lines shown by `<command> --help`. */
  details?: string[];
  options: Options;
  /** Names of the positional arguments, all required. */
  positionals?: string[];
  run(args: { values: Values; positionals: string[] }, io: Io): Promise<number>;
}

/** A mistake in how the command was called: exit 2, with the command's usage line. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export function helpText(cmd: Command): string {
  const lines = [`usage: shipspeak-db ${cmd.synopsis}`, '', cmd.summary];
  if (cmd.details?.length) lines.push('', ...cmd.details);
  return lines.join('\n');
}

/** Parses argv strictly against the command's own options (plus --help). */
export function parseCommandArgs(
  cmd: Command,
  argv: string[],
): { values: Values; positionals: string[]; help: boolean } {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
    }) as {
      values: Values;
      positionals: string[];
    };
  } catch (e) {
    // node:util's messages name the flag ("Unknown option '--steps'"); add whose options these are.
    throw new UsageError(`${(e as Error).message.split('. ')[0]} (for "${cmd.name}")`, cmd);
  }
  if (parsed.values.help) return { ...parsed, help: true };
  const want = cmd.positionals ?? [];
  if (parsed.positionals.length < want.length)
    throw new UsageError(`${cmd.name} needs <${want[parsed.positionals.length]}>`, cmd);
  if (parsed.positionals.length > want.length)
    throw new UsageError(`unexpected argument "${parsed.positionals[want.length]}" for "${cmd.name}"`, cmd);
  return { ...parsed, help: false };
}

/** `--to 0`, `--to 3`, `--to 0003` are the same version; anything else is a usage error. */
export function versionArg(flag: string, v: string | boolean | undefined): string | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  if (!/^\d{1,4}$/.test(v))
    throw new UsageError(`${flag} expects a migration version such as 0003 (or 0 for none), got "${v}"`);
  return v.padStart(4, '0');
}

/**
 * The one parser of positive whole-number options (`--steps`, `--scale`, `--max-rows`, `--max-body-bytes` …):
 * digits only, at least 1, exactly representable; anything else is a usage error (exit 2) naming the flag.
 */
export function positiveIntArg(flag: string, v: string | boolean | undefined, cmd?: Command): number | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || !Number.isSafeInteger(n))
    throw new UsageError(`${flag} expects a positive whole number, got "${v}"`, cmd);
  return n;
}

/**
 * A TCP port option: digits only, 0 to 65535, where 0 asks the system for any free port (serve prints the one
 * it got). Anything else is a usage error (exit 2) naming the flag, like every other number option.
 */
export function portArg(flag: string, v: string | boolean | undefined, cmd?: Command): number | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535)
    throw new UsageError(`${flag} expects a port from 0 to 65535 (0: any free port), got "${v}"`, cmd);
  return n;
}

export const DATA_DIR_OPTION: Options = { 'data-dir': { type: 'string' } };
export const DATA_DIR_HELP =
  '--data-dir DIR   a persistent PGlite database in DIR (default: DATABASE_URL, else an in-memory PGlite)';

export interface Target {
  db: Database;
  /** False for an in-memory PGlite: nothing done to it outlives the command. */
  persistent: boolean;
  close(): Promise<void>;
}

/**
 * The database a command works on: DATABASE_URL (node-postgres), else `--data-dir` (PGlite, locked against a
 * second process), else an in-memory PGlite — which is said out loud, since whatever the command does to it
 * vanishes when the command exits.
 */
export async function openTarget(values: Values, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<Target> {
  const dataDir = typeof values['data-dir'] === 'string' ? values['data-dir'] : undefined;
  if (env.DATABASE_URL) {
    if (dataDir) throw new UsageError('--data-dir is for PGlite: unset DATABASE_URL to use it, or drop --data-dir');
    // node-postgres (and pg) load only when a PostgreSQL database is opened: ~0.1 s of CPU at every start otherwise.
    const { openNodePostgres } = await import('../db/node-postgres.js');
    const db = await openNodePostgres(checkDatabaseUrl(env.DATABASE_URL), { max: 2 });
    return { db, persistent: true, close: () => db.close() };
  }
  if (dataDir) {
    const lock = lockDataDir(dataDir, 'cli');
    try {
      const fresh = !existsSync(`${dataDir}/PG_VERSION`);
      const db = await openPGlite({ dataDir });
      if (fresh) io.err(`note: created a new PGlite database in ${dataDir}`);
      return {
        db,
        persistent: true,
        close: async () => {
          await db.close();
          lock.release();
        },
      };
    } catch (e) {
      lock.release();
      throw e;
    }
  }
  io.err('note: no DATABASE_URL or --data-dir: this runs on an in-memory PGlite that vanishes when the command exits');
  const db = await openPGlite();
  return { db, persistent: false, close: () => db.close() };
}

/** openTarget, `fn` on the database, then close it whatever `fn` did: the one way a command holds its database. */
export async function withTarget<T>(values: Values, io: Io, fn: (target: Target) => Promise<T>): Promise<T> {
  const target = await openTarget(values, io);
  try {
    return await fn(target);
  } finally {
    await target.close();
  }
}

/** Said after writing to an in-memory PGlite, whose contents go when the command exits. */
export const IN_MEMORY_NOTE = '(in-memory database: these rows are gone when this command exits)';

/** A clear message for a DATABASE_URL that is not a postgres URL, instead of a bare "Invalid URL". */
export function checkDatabaseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(
      `DATABASE_URL is not a URL (${JSON.stringify(url.replace(/:[^:@/]*@/, ':***@'))}): expected postgres://user:password@host:5432/database`,
    );
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new UsageError(`DATABASE_URL must start with postgres:// or postgresql:// (got ${u.protocol}//…)`);
  }
  return url;
}
