import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runCli } from '../../src/commands/dispatch.js';
import { loadMigrations } from '../../src/migrate/files.js';
import { childEnv, ROOT } from '../serve/support.js';

/**
 * The CLI as a user runs it (node bin/shipspeak-db.js, a separate process, no DATABASE_URL) and the same
 * runCli in-process, for the tests/cli files. They are several files rather than one so that vitest can run
 * them side by side: most of their time is PGlite start-up and child processes, not this process's CPU.
 */
const BIN = join(ROOT, 'bin/shipspeak-db.js');
/** Tests that start six or more CLI processes, each opening PGlite (3-5 s apiece on a busy 2-core machine). */
export const SPAWNS_TIMEOUT = 240_000;

export function cli(args: string[], env: NodeJS.ProcessEnv = childEnv()) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

export async function cliInProcess(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), ask: async () => null });
  return { code, out: out.map((l) => `${l}\n`).join(''), err: err.map((l) => `${l}\n`).join('') };
}

/** Temporary PGlite data directories, removed after the calling file's tests (call at module level). */
export function dataDirs(): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), 'shipspeak-cli-'));
    dirs.push(d);
    return d;
  };
}

export const all = loadMigrations();

export const appliedCount = async (d: string) => {
  const r = await cliInProcess(['migrate', 'status', '--json', '--data-dir', d]);
  return (JSON.parse(r.out) as { database: { state: string }[] }).database.filter((m) => m.state === 'applied').length;
};
