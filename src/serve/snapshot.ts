import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '../db/database.js';
import { dumpPGlite } from '../db/pglite.js';
import type { PGlite } from '@electric-sql/pglite';

/**
 * A cold PGlite start (initdb inside WASM) plus bootstrap and migrations costs ~2.2 s; starting from a dump of
 * the same freshly migrated database costs ~0.3 s. `serve` keeps one such dump per content hash of sql/ and the
 * PGlite version (and one of the migrated + dev-seeded database, keyed by the seed file too), in node_modules/.cache/shipspeak-db (the usual place for tool caches, git-ignored with
 * node_modules). Any edit to a bootstrap or migration file changes the hash, so a stale dump is never used;
 * the runner still checks history and checksums on the loaded database. Dumps are only ever taken from a
 * database that was empty before bootstrap + migrate, never from one holding user data; a seeded dump only right after the seed.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'shipspeak-db');

function sqlFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sqlFiles(path, `${prefix}${name}/`));
    else if (name.endsWith('.sql')) out.push(`${prefix}${name}`);
  }
  return out;
}

/** What a snapshot holds: the freshly migrated schema, or that plus a named seed. */
export type SnapshotKind = 'migrated' | `seeded-${string}`;

/**
 * Hash of every .sql file under sql/ (name and content) and the PGlite version, plus the seed file for a
 * seeded snapshot: any edit to any of them selects a different file.
 */
export function snapshotHash(kind: SnapshotKind, seedFile?: string): string {
  const h = createHash('sha256');
  const pkg = JSON.parse(
    readFileSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8'),
  ) as { version: string };
  h.update(`pglite ${pkg.version}\n${kind}\n`);
  const sqlDir = join(ROOT, 'sql');
  for (const file of sqlFiles(sqlDir)) {
    h.update(`${file}\n`);
    h.update(readFileSync(join(sqlDir, file)));
    h.update('\n');
  }
  if (seedFile) h.update(readFileSync(seedFile));
  return h.digest('hex').slice(0, 16);
}

function snapshotPath(kind: SnapshotKind, hash: string): string {
  return join(CACHE_DIR, `pglite-${kind}-${hash}.tar`);
}

export function readSnapshot(kind: SnapshotKind, hash: string): Blob | null {
  try {
    return new Blob([readFileSync(snapshotPath(kind, hash))]);
  } catch {
    return null;
  }
}

/** Writes the dump atomically (temp file + rename) and removes older dumps of the same kind. */
export async function writeSnapshot(
  db: (Database & { pglite: PGlite }) | { dump(): Promise<Blob> },
  kind: SnapshotKind,
  hash: string,
): Promise<void> {
  const blob = 'dump' in db ? await db.dump() : await dumpPGlite(db);
  mkdirSync(CACHE_DIR, { recursive: true });
  const target = snapshotPath(kind, hash);
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.from(await blob.arrayBuffer()));
  renameSync(tmp, target);
  for (const name of readdirSync(CACHE_DIR)) {
    if (name.startsWith(`pglite-${kind}-`) && join(CACHE_DIR, name) !== target && !name.endsWith('.tmp'))
      rmSync(join(CACHE_DIR, name), { force: true });
  }
}
