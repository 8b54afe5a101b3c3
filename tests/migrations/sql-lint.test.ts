import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeRequiring } from '../support/pg.js';

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
  const r = await run(SQUAWK, ['--config', join(ROOT, '.squawk.toml'), '--reporter', 'json', ...paths], {
    cwd: ROOT,
  }).catch((e: { stdout?: string; code?: number }) => {
    if (e.code === 1 && e.stdout) return { stdout: e.stdout };
    throw e;
  });
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
    writeFileSync(
      file,
      'alter table public.meetings add column rating integer not null;\ncreate index meetings_rating_idx on public.meetings (rating);\n',
    );
    const rules = (await squawk([file])).map((f) => f.rule_name).sort();
    expect(rules).toEqual(['adding-required-field', 'require-concurrent-index-creation']);
  });
});

// sqlfluff comes from Debian (.ci/run installs it); without it this block fails in CI and is NOT RUN locally.
const SQLFLUFF = 'sqlfluff';
/** Looked up on PATH rather than run: `sqlfluff --version` alone is a Python start-up of a second or more. */
function sqlfluffMissing(): string | null {
  const found = (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && isExecutable(join(dir, SQLFLUFF)));
  return found ? null : 'sqlfluff is not installed (apt-get install sqlfluff; .ci/run does)';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** sqlfluff parses every file with a full PostgreSQL grammar: ~30 CPU s for sql/, minutes on a busy machine. */
const SQLFLUFF_TIMEOUT = 600_000;

interface FluffFile {
  filepath: string;
  violations: { code: string; line_no: number; description: string }[];
}

async function sqlfluff(paths: string[]): Promise<string[]> {
  const r = await run(
    SQLFLUFF,
    ['lint', '--config', join(ROOT, '.sqlfluff'), '--nofail', '--format', 'json', ...paths],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  const files = JSON.parse(r.stdout) as FluffFile[];
  return files.flatMap((f) => f.violations.map((v) => `${f.filepath}:${v.line_no} ${v.code}: ${v.description}`));
}

// Statements sqlfluff 1.4's grammar cannot parse (so it cannot lint them either), each with the reason.
const UNPARSABLE_ALLOWED: Record<string, string> = {
  'sql/migrations/0008_practice_sessions_and_feedback.sql':
    'ON DELETE SET NULL (source_meeting_id) is PostgreSQL 15 syntax newer than the sqlfluff 1.4 grammar',
};

describeRequiring('sqlfluff house style (lower-case SQL)', sqlfluffMissing(), () => {
  // One sqlfluff process lints sql/ and the canary together: its start-up and dialect loading cost several CPU
  // seconds apiece, more than most single files. Each test then reads its own files' findings.
  const canary = join(mkdtempSync(join(tmpdir(), 'sqlfluff-canary-')), 'canary.sql');
  let findings: string[];
  beforeAll(async () => {
    writeFileSync(canary, 'SELECT id FROM public.meetings WHERE title IS NULL;\n');
    findings = await sqlfluff(['sql/migrations', 'sql/down', 'sql/policies', 'sql/bootstrap', canary]);
  }, SQLFLUFF_TIMEOUT);

  it('finds nothing in sql/ but the listed unparsable statements', () => {
    const inSql = findings.filter((f) => !f.startsWith(`${canary}:`));
    const unexplained = inSql.filter(
      (f) => !(f.includes(' PRS: ') && Object.keys(UNPARSABLE_ALLOWED).some((file) => f.startsWith(`${file}:`))),
    );
    expect(unexplained).toEqual([]);
  });

  it('is live: each upper-case keyword is reported', () => {
    const codes = findings
      .filter((f) => f.startsWith(`${canary}:`))
      .map((f) => f.slice(canary.length).split(' ')[1])
      .sort();
    // SELECT, FROM, WHERE, IS, NULL
    expect(codes).toEqual(['L010:', 'L010:', 'L010:', 'L010:', 'L010:']);
  });
});
