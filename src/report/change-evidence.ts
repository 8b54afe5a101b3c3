import { loadMigrations, SQL_DIR } from '../migrate/files.js';
import { checkManifest, manifestFor } from '../migrate/manifest.js';
import { provenance, writeResults, type CheckRecord } from './results.js';

/**
 * Suite `change`: change-management evidence read from the tree itself, no database — the migration history
 * with each up/down checksum, and whether the committed hash chain (sql/migrations.sum) still matches every
 * landed file (src/migrate/manifest.ts). An edited landed migration fails `change:manifest`.
 */
export function changeRecords(root: string = SQL_DIR): CheckRecord[] {
  let files: ReturnType<typeof loadMigrations>;
  try {
    files = loadMigrations(root);
  } catch (e) {
    return [
      {
        id: 'migrations',
        title: 'every migration has its down file, numbered and named consistently',
        status: 'fail',
        reason: (e as Error).message,
        engine: null,
        figures: null,
        evidence: null,
      },
    ];
  }
  const problems = checkManifest(files, root);
  const entries = manifestFor(files);
  const records: CheckRecord[] = [
    {
      id: 'migrations',
      title: 'every migration has its down file, numbered and named consistently',
      status: 'pass',
      reason: null,
      engine: null,
      figures: { migrations: files.length },
      evidence: null,
    },
    {
      id: 'manifest',
      title: 'no landed migration edited, removed or reordered (sql/migrations.sum hash chain)',
      status: problems.length ? 'fail' : 'pass',
      reason: problems.length ? problems.map((p) => p.message).join('; ') : null,
      engine: null,
      figures: { entries: entries.length, problems: problems.length, head: entries.at(-1)?.chain ?? '' },
      evidence: { problems },
    },
  ];
  for (const e of entries) {
    const p = problems.filter((x) => x.version === e.version);
    records.push({
      id: `migration/${e.version}_${e.name}`,
      title: `migration ${e.version}_${e.name} up and down recorded in the hash chain`,
      status: p.length ? 'fail' : 'pass',
      reason: p.length ? p.map((x) => x.message).join('; ') : null,
      engine: null,
      figures: { up: e.up, down: e.down, chain: e.chain },
      evidence: null,
    });
  }
  return records;
}

export function writeChangeResults(dir?: string, root?: string): string {
  const started = new Date();
  return writeResults(
    'change',
    provenance('none (files only)', started, 'shipspeak-db report'),
    changeRecords(root),
    dir,
  );
}
