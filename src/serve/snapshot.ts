import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG_QUERIES, type RawCatalog } from '../rest/schema-cache.js';

/**
 * A cold PGlite start (initdb inside WASM) plus bootstrap and migrations costs seconds; starting from a copy of the
 * same freshly migrated database costs a fraction. `serve` keeps one such copy per content hash of sql/ and the
 * PGlite version (and one of the migrated + dev-seeded database, keyed by the seed file too), in
 * node_modules/.cache/shipspeak-db (the usual place for tool caches, git-ignored with node_modules). Any edit to a
 * bootstrap or migration file changes the hash, so a stale copy is never used; the runner still checks history
 * and checksums on the loaded database. Copies are only ever taken from a database that was empty before
 * bootstrap + migrate, never from one holding user data; a seeded copy only right after the seed.
 *
 * A copy is the PGlite data directory itself, cleanly shut down (issue #17: restoring PGlite's dumpDataDir tar
 * went through PGlite's in-WASM untar and then crash recovery, ~1.5 s of CPU more than a plain copy), plus a
 * manifest of every directory and every file's size and SHA-256. Each restore checks the whole copy against the
 * manifest before writing anything: a corrupt, truncated, edited or foreign copy is refused (SnapshotError), and
 * serve removes it and builds the database from the migrations instead.
 *
 * A copy may also hold the gateway's catalog rows read from that same database (`catalog.json`, issue #17: the
 * schema cache's six catalog queries cost ~0.5 s of PGlite time per start), checked like every data file (size and
 * SHA-256 in the manifest; a mismatch refuses the whole copy) and keyed by the exposed schemas and the text of
 * the catalog queries (catalogKey), so rows read for other schemas or by other queries are never used.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where the copies live: $SHIPSPEAK_SNAPSHOT_DIR, else node_modules/.cache/shipspeak-db. */
export function cacheDir(): string {
  return process.env.SHIPSPEAK_SNAPSHOT_DIR || join(ROOT, 'node_modules', '.cache', 'shipspeak-db');
}
const FORMAT = 'shipspeak-db pglite snapshot 1';

/** A cached copy that cannot be used, and why. */
export class SnapshotError extends Error {}

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

function pgliteVersion(): string {
  return (
    JSON.parse(readFileSync(join(ROOT, 'node_modules', '@electric-sql', 'pglite', 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

/**
 * Hash of every .sql file under sql/ (name and content) and the PGlite version, plus the seed file for a
 * seeded snapshot: any edit to any of them selects a different copy.
 */
export function snapshotHash(kind: SnapshotKind, seedFile?: string): string {
  const h = createHash('sha256');
  h.update(`pglite ${pgliteVersion()}\n${kind}\n`);
  const sqlDir = join(ROOT, 'sql');
  for (const file of sqlFiles(sqlDir)) {
    h.update(`${file}\n`);
    h.update(readFileSync(join(sqlDir, file)));
    h.update('\n');
  }
  if (seedFile) h.update(readFileSync(seedFile));
  return h.digest('hex').slice(0, 16);
}

/** The cache entry of one snapshot: `data/` (the data directory) and `manifest.json`. */
export function snapshotPath(kind: SnapshotKind, hash: string): string {
  return join(cacheDir(), `pglite-${kind}-${hash}`);
}

export function hasSnapshot(kind: SnapshotKind, hash: string): boolean {
  return existsSync(join(snapshotPath(kind, hash), 'manifest.json'));
}

interface Manifest {
  format: string;
  kind: SnapshotKind;
  hash: string;
  pglite: string;
  dirs: string[];
  /** path → [size, sha256 hex] */
  files: Record<string, [number, string]>;
  /** catalog.json: the catalog rows read from this database, their catalogKey, size and SHA-256. */
  catalog?: { key: string; size: number; sha256: string };
}

/** Which catalog rows a copy holds: the exposed schemas and the catalog queries that read them. */
export function catalogKey(schemas: string[]): string {
  return createHash('sha256')
    .update(JSON.stringify(schemas))
    .update('\n')
    .update(CATALOG_QUERIES)
    .digest('hex')
    .slice(0, 16);
}

/** The catalog rows to store with a copy (read from the database the copy is taken of, right before it). */
export interface StoredCatalog {
  key: string;
  rows: RawCatalog;
}

/** Every directory and file under `dir` (relative paths with '/'), directories before their contents. */
function walk(dir: string, prefix = '', out: { dirs: string[]; files: string[] } = { dirs: [], files: [] }) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = `${prefix}${entry.name}`;
    if (entry.isDirectory()) {
      out.dirs.push(rel);
      walk(join(dir, entry.name), `${rel}/`, out);
    } else out.files.push(rel);
  }
  return out;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Stores a copy of the database `db` serves (its `snapshotTo` copies the data directory, cleanly shut down)
 * atomically (a temporary directory renamed in), and removes older copies of the same kind.
 */
export async function writeSnapshot(
  db: { snapshotTo(dir: string): Promise<void> },
  kind: SnapshotKind,
  hash: string,
  catalog?: StoredCatalog,
): Promise<void> {
  const target = snapshotPath(kind, hash);
  const tmp = `${target}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await db.snapshotTo(join(tmp, 'data'));
    const { dirs, files } = walk(join(tmp, 'data'));
    const manifest: Manifest = { format: FORMAT, kind, hash, pglite: pgliteVersion(), dirs, files: {} };
    for (const f of files) {
      const bytes = readFileSync(join(tmp, 'data', f));
      manifest.files[f] = [bytes.length, sha256(bytes)];
    }
    if (catalog) {
      const bytes = Buffer.from(JSON.stringify(catalog.rows));
      writeFileSync(join(tmp, 'catalog.json'), bytes);
      manifest.catalog = { key: catalog.key, size: bytes.length, sha256: sha256(bytes) };
    }
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest));
    rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  for (const name of readdirSync(cacheDir())) {
    // Older copies of this kind, and the .tar dumps of earlier versions of this cache.
    if (name.startsWith(`pglite-${kind}-`) && join(cacheDir(), name) !== target && !name.endsWith('.tmp'))
      rmSync(join(cacheDir(), name), { recursive: true, force: true });
  }
}

/**
 * Copies a snapshot's data directory into `into` (new or empty but for serve's lock file) after checking all
 * of it against its manifest; throws SnapshotError, having written nothing, if anything differs. Returns the
 * copy's catalog rows when it holds some under `wantCatalog` (a catalogKey), checked like the data files.
 */
export function restoreSnapshot(
  kind: SnapshotKind,
  hash: string,
  into: string,
  wantCatalog?: string,
): RawCatalog | undefined {
  const entry = snapshotPath(kind, hash);
  const refused = (why: string) => new SnapshotError(`snapshot cache ${entry} is not usable: ${why}`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(entry, 'manifest.json'), 'utf8')) as Manifest;
  } catch (e) {
    throw refused(`manifest.json unreadable (${(e as Error).message})`);
  }
  if (manifest?.format !== FORMAT || manifest.kind !== kind || manifest.hash !== hash)
    throw refused(`its manifest describes another snapshot (${manifest.format}, ${manifest.kind} ${manifest.hash})`);
  if (manifest.pglite !== pgliteVersion()) throw refused(`made by PGlite ${manifest.pglite}`);
  const data = join(entry, 'data');
  let found: { dirs: string[]; files: string[] };
  try {
    found = walk(data);
  } catch (e) {
    throw refused(`data directory unreadable (${(e as Error).message})`);
  }
  const present = new Set(found.files);
  const extra = found.files.filter((f) => !Object.hasOwn(manifest.files, f));
  const missing = Object.keys(manifest.files).filter((f) => !present.has(f));
  if (extra.length || missing.length)
    throw refused(
      `files ${[...extra.map((f) => `${f} (not in the manifest)`), ...missing.map((f) => `${f} (missing)`)].join(', ')}`,
    );
  if (manifest.dirs.join('\n') !== found.dirs.join('\n')) throw refused('its directories differ from the manifest');
  // The catalog rows are checked whether or not they are wanted: a copy with a damaged part is refused whole.
  let catalog: RawCatalog | undefined;
  if (manifest.catalog) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(entry, 'catalog.json'));
    } catch (e) {
      throw refused(`catalog.json unreadable (${(e as Error).message})`);
    }
    if (bytes.length !== manifest.catalog.size || sha256(bytes) !== manifest.catalog.sha256)
      throw refused('catalog.json differs from its checksum');
    if (manifest.catalog.key === wantCatalog) catalog = JSON.parse(bytes.toString('utf8')) as RawCatalog;
  }
  // Every byte checked before any is written: a refused copy leaves `into` as it was.
  const contents = found.files.map((f) => {
    const bytes = readFileSync(join(data, f));
    const [size, digest] = manifest.files[f]!;
    if (bytes.length !== size || sha256(bytes) !== digest) throw refused(`${f} differs from its checksum`);
    return bytes;
  });
  for (const d of found.dirs) mkdirSync(join(into, d), { recursive: true });
  for (const [i, f] of found.files.entries()) writeFileSync(join(into, f), contents[i]!);
  return catalog;
}

/** Removes a snapshot that failed its check (the next cold start writes a new one). */
export function removeSnapshot(kind: SnapshotKind, hash: string): void {
  rmSync(snapshotPath(kind, hash), { recursive: true, force: true });
}
