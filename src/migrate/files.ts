import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checksum } from './checksum.js';
import { MigrationError } from './errors.js';
import { leadingKeywords, splitStatements } from './split-statements.js';

export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

export interface MigrationFile {
  /** Four digits, e.g. "0003"; ordering is by this string. */
  version: string;
  name: string;
  upPath: string;
  downPath: string;
  up: string;
  down: string;
  checksum: string;
  downChecksum: string;
  statements: string[];
}

const FILE_RE = /^(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/;
// The runner owns the transaction: a migration that commits or rolls back itself would break
// "a failing migration leaves no trace" and the history row's atomicity.
const FORBIDDEN = new Set(['begin', 'commit', 'rollback', 'end', 'start transaction', 'savepoint', 'release']);

function listSql(dir: string): Map<string, { name: string; path: string; file: string }> {
  const found = new Map<string, { name: string; path: string; file: string }>();
  if (!existsSync(dir)) return found;
  for (const file of readdirSync(dir).sort()) {
    if (file.startsWith('.')) continue;
    const path = join(dir, file);
    const m = FILE_RE.exec(file);
    if (!m) {
      throw new MigrationError(
        `malformed migration file name ${path}: expected NNNN_lower_snake_name.sql (four-digit version, then a name of [a-z0-9_])`,
        path,
      );
    }
    const [, version, name] = m as unknown as [string, string, string];
    const other = found.get(version);
    if (other) throw new MigrationError(`duplicate migration version ${version}: ${other.path} and ${path}`, path);
    found.set(version, { name, path, file });
  }
  return found;
}

function checkBody(path: string, sql: string): string[] {
  const statements = splitStatements(sql);
  if (statements.length === 0) throw new MigrationError(`migration file ${path} contains no SQL statement`, path);
  for (const stmt of statements) {
    const kw = leadingKeywords(stmt);
    const first = kw.split(' ')[0]!;
    if (FORBIDDEN.has(first) || FORBIDDEN.has(kw)) {
      throw new MigrationError(
        `migration file ${path} contains transaction control (${kw.toUpperCase()}): the runner wraps each migration in its own transaction; remove it`,
        path,
      );
    }
  }
  return statements;
}

/**
 * Reads sql/migrations and sql/down and pairs them. Refuses, naming the file, on anything that would make
 * the history ambiguous: malformed or duplicate versions, a missing or orphan down file, a name mismatch,
 * an empty file, or transaction control inside a file.
 */
export function loadMigrations(root: string = SQL_DIR): MigrationFile[] {
  const upDir = join(root, 'migrations');
  const downDir = join(root, 'down');
  const ups = listSql(upDir);
  const downs = listSql(downDir);
  for (const [version, d] of downs) {
    if (!ups.has(version))
      throw new MigrationError(`orphan down file ${d.path}: no migration ${version} in ${upDir}`, d.path);
  }
  const result: MigrationFile[] = [];
  for (const [version, u] of [...ups].sort(([a], [b]) => a.localeCompare(b))) {
    const d = downs.get(version);
    if (!d) {
      throw new MigrationError(
        `missing down file for ${u.path}: every migration needs its exact inverse at ${join(downDir, u.file)}`,
        u.path,
      );
    }
    if (d.name !== u.name) {
      throw new MigrationError(`name mismatch for version ${version}: ${u.path} vs ${d.path}`, d.path);
    }
    const up = readFileSync(u.path, 'utf8');
    const down = readFileSync(d.path, 'utf8');
    const statements = checkBody(u.path, up);
    checkBody(d.path, down);
    result.push({
      version,
      name: u.name,
      upPath: u.path,
      downPath: d.path,
      up,
      down,
      checksum: checksum(up),
      downChecksum: checksum(down),
      statements,
    });
  }
  return result;
}
