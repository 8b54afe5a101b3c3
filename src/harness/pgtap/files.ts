import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The pgTAP test files of a directory (the caller names it: tests/pgtap), and picking some of them by name. */
export function testFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * `npm run test:pgtap -- 20_isolation [30_matrix.sql ...]` runs just those files (name with or without .sql,
 * or a path); no argument runs them all. An unknown name is a usage error listing the files.
 */
export function selectFiles(all: string[], wanted: string[]): string[] {
  if (wanted.length === 0) return all;
  return wanted.map((w) => {
    const base = w
      .split('/')
      .pop()!
      .replace(/\.sql$/, '');
    const hit = all.find((f) => f.split('/').pop() === `${base}.sql`);
    if (!hit)
      throw new Error(
        `no pgTAP file "${w}"; available: ${all
          .map((f) =>
            f
              .split('/')
              .pop()!
              .replace(/\.sql$/, ''),
          )
          .join(', ')}`,
      );
    return hit;
  });
}
