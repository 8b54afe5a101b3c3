import type { Database } from '../db/database.js';
import { applyBootstrap } from '../migrate/bootstrap.js';
import { loadMigrations } from '../migrate/files.js';
import { checkManifest, manifestPath, updateManifest } from '../migrate/manifest.js';
import { migrateDown, migrateUp, migrationStatus } from '../migrate/runner.js';

export interface MigrateArgs {
  action: string | undefined;
  to?: string;
  steps?: string;
  rehashLast?: boolean;
  /** False when the database is a throw-away in-memory PGlite: its state says nothing about any real database. */
  persistent?: boolean;
}

/**
 * The repository half of `migrate status`, needing no database: sql/migrations against the committed
 * manifest (sql/migrations.sum). Returns the number of problems.
 */
export function manifestStatus(out: (line: string) => void): number {
  const problems = checkManifest(loadMigrations());
  for (const p of problems) out(`manifest ! ${p.message}`);
  out(problems.length ? `${problems.length} manifest problem(s) in ${manifestPath()}` : `manifest: ${manifestPath()} matches sql/migrations`);
  return problems.length;
}

/** `shipspeak-db migrate up|down|status`: prints one line per migration; returns the exit code. */
export async function migrateCommand(maybeDb: Database | null, args: MigrateArgs, out: (line: string) => void): Promise<number> {
  const need = (): Database => {
    if (!maybeDb) throw new Error(`migrate ${args.action ?? ''} needs a database`);
    return maybeDb;
  };
  switch (args.action) {
    case 'up': {
      const db = need();
      const boot = await applyBootstrap(db);
      if (boot.applied.length) out(`bootstrap: applied ${boot.applied.join(', ')}`);
      const done = await migrateUp(db, { to: args.to, log: out });
      out(done.length ? `${done.length} migration(s) applied` : 'nothing to apply: database is up to date');
      return 0;
    }
    case 'down': {
      const steps = args.steps === undefined ? undefined : Number(args.steps);
      const done = await migrateDown(need(), { to: args.to, steps, log: out });
      out(done.length ? `${done.length} migration(s) reverted` : 'nothing to revert');
      return 0;
    }
    case 'hash': {
      const { added, rehashed } = updateManifest(loadMigrations(), { rehashLast: args.rehashLast ?? false });
      for (const a of added) out(`recorded ${a}`);
      if (rehashed) out(`re-hashed ${rehashed} (the newest entry; only for a migration that has not landed)`);
      if (!added.length && !rehashed) out(`${manifestPath()} already matches sql/migrations`);
      return 0;
    }
    case 'status': {
      const manifestProblems = manifestStatus(out);
      if (args.persistent === false) {
        out('database: none (DATABASE_URL is unset, so there is no database whose history could be shown)');
        return manifestProblems ? 1 : 0;
      }
      const planned = await migrationStatus(need());
      for (const p of planned) out(`${p.state.padEnd(8)} ${p.version}_${p.name}${p.problem ? `  ! ${p.problem}` : ''}`);
      const bad = planned.filter((p) => p.state === 'drifted' || p.state === 'missing').length;
      const pending = planned.filter((p) => p.state === 'pending').length;
      out(`${planned.length - pending - bad} applied, ${pending} pending, ${bad} drifted or missing`);
      return bad || manifestProblems ? 1 : 0;
    }
    default:
      throw new Error(`migrate needs an action: up [--to N] | down (--to N | --steps K) | status | hash [--rehash-last] (got "${args.action ?? ''}")`);
  }
}
