import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * PGlite is PostgreSQL in one process with no postmaster: two processes opening the same data directory would
 * both write it and corrupt it, and PGlite itself does not check. This lock file (O_EXCL create, holder's pid
 * inside) makes the second opener fail with a clear message; a lock whose process is gone is stale and taken.
 * `serve` also records its URL there so `token --data-dir` can reach the running server instead.
 */
export const LOCK_FILE = 'shipspeak-db.lock';

export interface LockInfo {
  pid: number;
  command: string;
  url?: string;
}

export interface DataDirLock {
  /** Adds the server URL to the lock (for `token --data-dir` while serving). */
  update(info: Partial<LockInfo>): void;
  release(): void;
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockInfo,
  ) {
    super(
      `data directory ${dataDir} is in use by process ${holder.pid} (shipspeak-db ${holder.command}${holder.url ? ` at ${holder.url}` : ''}): PGlite allows one process per data directory; stop it first`,
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live holder of the data directory's lock, or null. */
export function readLock(dataDir: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as LockInfo;
    return Number.isInteger(info.pid) && info.pid !== process.pid && alive(info.pid) ? info : null;
  } catch {
    return null;
  }
}

export function lockDataDir(dataDir: string, command: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  let info: LockInfo = { pid: process.pid, command };
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(info), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readLock(dataDir);
      if (holder) throw new DataDirInUseError(dataDir, holder);
      if (attempt > 0) throw new Error(`cannot lock data directory ${dataDir}: ${path} keeps reappearing`);
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  let released = false;
  return {
    update(extra) {
      info = { ...info, ...extra };
      if (!released) writeFileSync(path, JSON.stringify(info));
    },
    release() {
      if (released) return;
      released = true;
      rmSync(path, { force: true });
    },
  };
}
