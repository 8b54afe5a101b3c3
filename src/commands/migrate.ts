import type { Database } from '../db/database.js';
import { applyBootstrap } from '../migrate/bootstrap.js';
import { migrateDown, migrateUp, migrationStatus } from '../migrate/runner.js';

export interface MigrateArgs {
  action: string | undefined;
  to?: string;
  steps?: string;
}

/** `shipspeak-db migrate up|down|status`: prints one line per migration; returns the exit code. */
export async function migrateCommand(db: Database, args: MigrateArgs, out: (line: string) => void): Promise<number> {
  switch (args.action) {
    case 'up': {
      const boot = await applyBootstrap(db);
      if (boot.applied.length) out(`bootstrap: applied ${boot.applied.join(', ')}`);
      const done = await migrateUp(db, { to: args.to, log: out });
      out(done.length ? `${done.length} migration(s) applied` : 'nothing to apply: database is up to date');
      return 0;
    }
    case 'down': {
      const steps = args.steps === undefined ? undefined : Number(args.steps);
      const done = await migrateDown(db, { to: args.to, steps, log: out });
      out(done.length ? `${done.length} migration(s) reverted` : 'nothing to revert');
      return 0;
    }
    case 'status': {
      const planned = await migrationStatus(db);
      for (const p of planned) out(`${p.state.padEnd(8)} ${p.version}_${p.name}${p.problem ? `  ! ${p.problem}` : ''}`);
      const bad = planned.filter((p) => p.state === 'drifted' || p.state === 'missing').length;
      const pending = planned.filter((p) => p.state === 'pending').length;
      out(`${planned.length - pending - bad} applied, ${pending} pending, ${bad} drifted or missing`);
      return bad ? 1 : 0;
    }
    default:
      throw new Error(`migrate needs an action: up [--to N] | down (--to N | --steps K) | status (got "${args.action ?? ''}")`);
  }
}
