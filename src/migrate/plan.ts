import type { AppliedMigration } from './history.js';
import type { MigrationFile } from './files.js';
import { MigrationError } from './errors.js';

export type MigrationState = 'applied' | 'pending' | 'drifted' | 'missing';

export interface PlannedMigration {
  version: string;
  name: string;
  state: MigrationState;
  file?: MigrationFile;
  applied?: AppliedMigration;
  /** Why the state is drifted/missing, for status output. */
  problem?: string;
}

/** Compares the files on disk with the history; pure, so `status` can show problems without refusing. */
export function plan(files: MigrationFile[], history: AppliedMigration[]): PlannedMigration[] {
  const byVersion = new Map(history.map((h) => [h.version, h]));
  const out: PlannedMigration[] = [];
  for (const f of files) {
    const h = byVersion.get(f.version);
    byVersion.delete(f.version);
    const base = { version: f.version, name: f.name, file: f };
    if (!h) {
      out.push({ ...base, state: 'pending' });
      continue;
    }
    const problem =
      h.checksum !== f.checksum
        ? `${f.upPath} was edited after it was applied (checksum ${short(h.checksum)} applied, ${short(f.checksum)} on disk)`
        : h.downChecksum !== f.downChecksum
          ? `${f.downPath} was edited after its migration was applied (checksum ${short(h.downChecksum)} applied, ${short(f.downChecksum)} on disk)`
          : undefined;
    out.push(problem ? { ...base, state: 'drifted', applied: h, problem } : { ...base, state: 'applied', applied: h });
  }
  for (const h of byVersion.values()) {
    out.push({
      version: h.version,
      name: h.name,
      state: 'missing',
      applied: h,
      problem: `migration ${h.version}_${h.name} is applied but its file is missing from sql/migrations`,
    });
  }
  return out.sort((a, b) => a.version.localeCompare(b.version));
}

function short(sum: string | null): string {
  return sum ? sum.slice(0, 12) : '(none recorded)';
}

/**
 * The refusals that apply to `up` and `down`: nothing runs while the history disagrees with the files,
 * because applying on top of an unknown state is how environments silently diverge.
 */
export function assertRunnable(planned: PlannedMigration[]): void {
  for (const p of planned) {
    if (p.state === 'drifted' || p.state === 'missing') {
      throw new MigrationError(
        `refusing to run: ${p.problem}. Never edit a landed migration: add a new one.`,
        p.file?.upPath,
      );
    }
  }
  const lastApplied = [...planned].reverse().find((p) => p.state === 'applied');
  const outOfOrder = lastApplied && planned.find((p) => p.state === 'pending' && p.version < lastApplied.version);
  if (outOfOrder) {
    throw new MigrationError(
      `refusing to run: ${outOfOrder.file!.upPath} is pending but a later migration (${lastApplied!.version}) is already applied; renumber it after ${lastApplied!.version}`,
      outOfOrder.file!.upPath,
    );
  }
}
