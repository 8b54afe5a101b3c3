import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Writes a throw-away sql/ tree (migrations/ + down/) for runner tests. `files` maps a file name to its
 * contents under either folder, e.g. { 'migrations/0001_a.sql': '...', 'down/0001_a.sql': '...' }.
 */
export function sqlTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'shipspeak-sql-'));
  mkdirSync(join(root, 'migrations'));
  mkdirSync(join(root, 'down'));
  for (const [path, sql] of Object.entries(files)) writeFileSync(join(root, path), sql);
  return root;
}

/** A well-formed pair: creates table public.<name> and drops it. */
export function tablePair(version: string, name: string, extra = ''): Record<string, string> {
  return {
    [`migrations/${version}_${name}.sql`]: `create table public.${name} (id int primary key);\n${extra}`,
    [`down/${version}_${name}.sql`]: `drop table public.${name};\n`,
  };
}
