import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SQUAWK = join(ROOT, 'node_modules/.bin/squawk');

interface Finding {
  file: string;
  line: number;
  rule_name: string;
  message: string;
}

/** squawk with the repository's .squawk.toml; exit 1 just means "found something", so read the JSON either way. */
async function squawk(paths: string[]): Promise<Finding[]> {
  const r = await run(SQUAWK, ['--config', join(ROOT, '.squawk.toml'), '--reporter', 'json', ...paths], { cwd: ROOT }).catch(
    (e: { stdout?: string; code?: number }) => {
      if (e.code === 1 && e.stdout) return { stdout: e.stdout };
      throw e;
    },
  );
  return JSON.parse(r.stdout || '[]') as Finding[];
}

describe('squawk migration lint', () => {
  it('finds nothing in sql/migrations', async () => {
    const findings = await squawk(['sql/migrations/*.sql']);
    expect(findings.map((f) => `${f.file}:${f.line} ${f.rule_name}: ${f.message}`)).toEqual([]);
  });

  it('is live: a migration that would lock a busy table is reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'squawk-canary-'));
    const file = join(dir, '0099_canary.sql');
    writeFileSync(file, 'alter table public.meetings add column rating integer not null;\ncreate index meetings_rating_idx on public.meetings (rating);\n');
    const rules = (await squawk([file])).map((f) => f.rule_name).sort();
    expect(rules).toEqual(['adding-required-field', 'require-concurrent-index-creation']);
  });
});
