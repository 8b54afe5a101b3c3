import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MigrationError } from './errors.js';
import { SQL_DIR, type MigrationFile } from './files.js';

/**
 * The committed hash chain of the migration history, `sql/migrations.sum` (after Atlas's atlas.sum and
 * graphile-migrate's Previous:/Hash: headers). The database's own checksums only catch an edited migration on
 * a database that already applied it, and CI starts empty; this file catches it in the repository, with no
 * database at all: every migration's up and down file hash, each line chained to the one before, so an
 * edited, removed or reordered landed migration — or a hand-edited manifest — is a named failure.
 *
 * Only the newest entry may ever be re-hashed, and only by the explicit `shipspeak-db migrate hash
 * --rehash-last` (iterating on a migration that has not landed yet).
 */
export const MANIFEST_NAME = 'migrations.sum';
const HEADER = [
  '# shipspeak-db migration manifest: the sha256 of each migration (up) and its inverse (down), each line',
  '# chained to the previous one. Written only by `shipspeak-db migrate hash`; checked by `migrate status`,',
  '# the migrations suite and the compliance gate. Never edit a landed migration: add a new one.',
];
const LINE_RE =
  /^(\d{4})_([a-z0-9_]+) up=sha256:([0-9a-f]{64}) down=sha256:([0-9a-f]{64}) chain=sha256:([0-9a-f]{64})$/;

export interface ManifestEntry {
  version: string;
  name: string;
  up: string;
  down: string;
  chain: string;
}

export interface ManifestProblem {
  kind: 'edited' | 'unrecorded' | 'missing-file' | 'broken-chain' | 'malformed' | 'no-manifest' | 'out-of-order';
  version: string | null;
  message: string;
}

export function manifestPath(root: string = SQL_DIR): string {
  return join(root, MANIFEST_NAME);
}

function link(previous: string, version: string, name: string, up: string, down: string): string {
  return createHash('sha256').update(`${previous}\n${version}_${name}\n${up}\n${down}`).digest('hex');
}

/** The manifest a list of migration files should have (pure). */
export function manifestFor(files: MigrationFile[]): ManifestEntry[] {
  let previous = '';
  return files.map((f) => {
    const chain = link(previous, f.version, f.name, f.checksum, f.downChecksum);
    previous = chain;
    return { version: f.version, name: f.name, up: f.checksum, down: f.downChecksum, chain };
  });
}

export function renderManifest(entries: ManifestEntry[]): string {
  return `${[...HEADER, ...entries.map((e) => `${e.version}_${e.name} up=sha256:${e.up} down=sha256:${e.down} chain=sha256:${e.chain}`)].join('\n')}\n`;
}

export function parseManifest(text: string, path: string): { entries: ManifestEntry[]; problems: ManifestProblem[] } {
  const entries: ManifestEntry[] = [];
  const problems: ManifestProblem[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const m = LINE_RE.exec(line.trim());
    if (!m) {
      problems.push({
        kind: 'malformed',
        version: null,
        message: `${path}:${i + 1}: not a manifest line (expected "NNNN_name up=sha256:… down=sha256:… chain=sha256:…")`,
      });
      return;
    }
    entries.push({ version: m[1]!, name: m[2]!, up: m[3]!, down: m[4]!, chain: m[5]! });
  });
  return { entries, problems };
}

const short = (h: string) => h.slice(0, 12);

/**
 * Compares the files on disk with the committed manifest. Pure apart from reading the manifest; needs no
 * database. An empty list means the repository's history is exactly the recorded one plus, possibly,
 * nothing — a migration not yet recorded is a problem too ("run migrate hash"), so CI cannot forget it.
 */
export function checkManifest(files: MigrationFile[], root: string = SQL_DIR): ManifestProblem[] {
  const path = manifestPath(root);
  if (!existsSync(path)) {
    return [
      {
        kind: 'no-manifest',
        version: null,
        message: `${path} is missing: run \`shipspeak-db migrate hash\` to record the migration history`,
      },
    ];
  }
  const { entries, problems } = parseManifest(readFileSync(path, 'utf8'), path);
  let previous = '';
  let chainOk = true;
  for (const e of entries) {
    const expected = link(previous, e.version, e.name, e.up, e.down);
    if (chainOk && expected !== e.chain) {
      chainOk = false;
      problems.push({
        kind: 'broken-chain',
        version: e.version,
        message: `${path}: the chain breaks at ${e.version}_${e.name} (the manifest was edited by hand, or lines were removed or reordered)`,
      });
    }
    previous = e.chain;
  }
  const byVersion = new Map(files.map((f) => [f.version, f]));
  for (const e of entries) {
    const f = byVersion.get(e.version);
    if (!f) {
      problems.push({
        kind: 'missing-file',
        version: e.version,
        message: `migration ${e.version}_${e.name} is recorded in ${path} but sql/migrations/${e.version}_${e.name}.sql is gone: a landed migration is never removed`,
      });
      continue;
    }
    if (f.name !== e.name) {
      problems.push({
        kind: 'edited',
        version: e.version,
        message: `migration ${e.version} was renamed from ${e.name} to ${f.name} after it landed`,
      });
    } else if (f.checksum !== e.up) {
      problems.push({
        kind: 'edited',
        version: e.version,
        message: `${f.upPath} was edited after it landed (manifest sha256 ${short(e.up)}, disk ${short(f.checksum)}): never edit a landed migration, add a new one`,
      });
    } else if (f.downChecksum !== e.down) {
      problems.push({
        kind: 'edited',
        version: e.version,
        message: `${f.downPath} was edited after its migration landed (manifest sha256 ${short(e.down)}, disk ${short(f.downChecksum)})`,
      });
    }
  }
  const recorded = new Set(entries.map((e) => e.version));
  const last = entries.at(-1)?.version ?? '0000';
  for (const f of files) {
    if (recorded.has(f.version)) continue;
    if (f.version < last) {
      problems.push({
        kind: 'out-of-order',
        version: f.version,
        message: `${f.upPath} is numbered below the last recorded migration ${last}: renumber it after ${last}`,
      });
    } else {
      problems.push({
        kind: 'unrecorded',
        version: f.version,
        message: `${f.upPath} is not recorded in ${path}: run \`shipspeak-db migrate hash\``,
      });
    }
  }
  return problems;
}

/**
 * `migrate hash`: records new migrations at the end of the chain. An edited entry is refused unless it is the
 * newest one and `rehashLast` is set (work in progress that has not landed). Returns what it changed.
 */
export function updateManifest(
  files: MigrationFile[],
  options: { rehashLast?: boolean; root?: string } = {},
): { added: string[]; rehashed: string | null } {
  const root = options.root ?? SQL_DIR;
  const path = manifestPath(root);
  const problems = existsSync(path) ? checkManifest(files, root) : [];
  const { entries } = existsSync(path)
    ? parseManifest(readFileSync(path, 'utf8'), path)
    : { entries: [] as ManifestEntry[] };
  const lastVersion = entries.at(-1)?.version;
  let rehashed: string | null = null;
  for (const p of problems) {
    if (p.kind === 'unrecorded') continue;
    if (p.kind === 'edited' && p.version === lastVersion && options.rehashLast) {
      rehashed = p.version;
      continue;
    }
    const hint =
      p.kind === 'edited' && p.version === lastVersion
        ? ' (it is the newest entry: if it has not landed yet, `migrate hash --rehash-last` records the new content)'
        : '';
    throw new MigrationError(`refusing to update ${path}: ${p.message}${hint}`, path);
  }
  const next = manifestFor(files);
  const added = next.filter((e) => !entries.some((x) => x.version === e.version)).map((e) => `${e.version}_${e.name}`);
  if (added.length || rehashed) writeFileSync(path, renderManifest(next));
  return { added, rehashed };
}
