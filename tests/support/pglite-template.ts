import { createHash } from 'node:crypto';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { scratchBase } from '../../src/db/pglite-isolated.js';
import { dumpPGlite, openPGlite } from '../../src/db/pglite.js';
import type { Database } from '../../src/db/database.js';

export interface PgliteFactoryOptions {
  /**
   * Share the prepared state with every test file of this vitest run that uses the same name (and the same
   * `prepare` source): the first file builds it, the others restore the dump. A cold PGlite start plus
   * bootstrap and the migrations costs ~10 CPU s, a copy of the unpacked dump ~0.5 (measured), and the rls, privacy and rest
   * files all start from the same migrated database. The name must stand for everything `prepare` depends
   * on that its source text does not show (captured options): `prepare`'s text is part of the key, so two
   * different functions never share, but the same text closing over different values would.
   */
  shareAs?: string;
}

/** Where global setup keeps this run's shared dumps ('' outside a project with tests/support/global-setup.ts). */
function sharedDir(): string {
  try {
    return inject('pgliteTemplateDir') ?? '';
  } catch {
    return '';
  }
}

async function build(prepare: (db: Database) => Promise<void>): Promise<Blob> {
  const db = await openPGlite();
  await prepare(db);
  const blob = await dumpPGlite(db);
  await db.close();
  return blob;
}

/**
 * `target` made once per run: whichever file first takes `${target}.lock` (O_EXCL) runs `produce` on a temporary
 * name and renames it to `target`, so a reader never sees half a result; the others wait for it. A producer that
 * fails removes the lock; a waiter whose producer died (its lock gone), or waited four minutes, makes its own with
 * `fallback` rather than hang (files run side by side on two cores, where a build can take minutes; hookTimeout
 * is 300 s). Answers what this file produced, or null when another made `target`.
 */
async function onceUnderLock<T>(
  target: string,
  produce: (tmp: string) => Promise<T>,
  fallback: () => Promise<T>,
): Promise<T | null> {
  const lock = `${target}.lock`;
  let owner = false;
  try {
    closeSync(openSync(lock, 'wx'));
    owner = true;
  } catch {
    // Another file is making it.
  }
  if (owner) {
    try {
      const tmp = `${target}.${process.pid}.tmp`;
      const made = await produce(tmp);
      renameSync(tmp, target);
      return made;
    } catch (e) {
      rmSync(lock, { force: true });
      throw e;
    }
  }
  const deadline = Date.now() + 240_000;
  while (!existsSync(target)) {
    if (Date.now() > deadline || !existsSync(lock)) return fallback();
    await sleep(100);
  }
  return null;
}

/** The shared dump: one file per key, built once per run (onceUnderLock). */
async function sharedDump(dir: string, key: string, prepare: (db: Database) => Promise<void>): Promise<Blob> {
  const file = join(dir, `${key}.tar`);
  if (!existsSync(file)) {
    const made = await onceUnderLock(
      file,
      async (tmp) => {
        const blob = await build(prepare);
        writeFileSync(tmp, Buffer.from(await blob.arrayBuffer()));
        return blob;
      },
      () => build(prepare),
    );
    if (made) return made;
  }
  return new Blob([readFileSync(file)]);
}

/**
 * Where this process keeps its PGlite data directories: inside the run's shared folder (RAM-backed where it can
 * be, removed by global teardown even if a test never closes its database), else a folder of its own.
 */
let ownDir: string | undefined;
function dataRoot(): string {
  const shared = sharedDir();
  if (shared) return shared;
  if (!ownDir) {
    const dir = mkdtempSync(join(scratchBase(), 'shipspeak-pglite-tests-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    ownDir = dir;
  }
  return ownDir;
}

/**
 * The dump unpacked into a data directory that PGlite shut down cleanly. Each fresh database is then a file copy
 * of it opened in place: ~0.1 CPU s to copy and ~0.4 to start, against ~0.9 to unpack the dump's tar into
 * PGlite's in-memory file system on every open (measured side by side, 2026-12-03). The copy starts without
 * crash recovery, like serve's snapshot copies (src/db/pglite-isolated.ts).
 */
async function unpack(dump: Blob, dir: string): Promise<string> {
  const db = await openPGlite({ dataDir: dir, loadDataDir: dump });
  await db.close();
  return dir;
}

/**
 * The shared dump unpacked once per run, not once per test file (an unpack costs more than the one or two
 * opens most files make), under the same lock scheme as the dump (onceUnderLock).
 */
async function sharedTemplateDir(dir: string, key: string, prepare: (db: Database) => Promise<void>): Promise<string> {
  const target = join(dir, `${key}.d`);
  if (existsSync(target)) return target;
  const dump = await sharedDump(dir, key, prepare);
  const made = await onceUnderLock(
    target,
    async (tmp) => {
      await unpack(dump, tmp);
      return target;
    },
    () => unpack(dump, join(dataRoot(), `tpl-${process.pid}-${key}`)),
  );
  return made ?? target;
}

/** A copy of `template` opened as a PGlite; closing it also deletes the copy. */
async function openCopy(template: string): Promise<Database> {
  const dir = mkdtempSync(join(dataRoot(), `db-${process.pid}-`));
  cpSync(template, dir, { recursive: true });
  const db = await openPGlite({ dataDir: dir });
  return {
    ...db,
    close: async () => {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Fresh PGlite databases for tests. A cold PGlite start costs seconds; a copy of a prepared data directory a
 * fraction of that, so each distinct starting state is built once per test file (or once per run, with
 * `shareAs`) and then copied for every test.
 */
export function pgliteFactory(
  prepare: (db: Database) => Promise<void> = async () => undefined,
  options: PgliteFactoryOptions = {},
) {
  let template: Promise<string> | undefined;
  return async function fresh(): Promise<Database> {
    template ??= (async () => {
      const dir = options.shareAs ? sharedDir() : '';
      if (!dir) {
        const own = mkdtempSync(join(dataRoot(), `tpl-${process.pid}-`));
        rmSync(own, { recursive: true });
        return unpack(await build(prepare), own);
      }
      const hash = createHash('sha256').update(prepare.toString()).digest('hex').slice(0, 16);
      return sharedTemplateDir(dir, `${options.shareAs!.replace(/[^\w.-]/g, '_')}-${hash}`, prepare);
    })();
    return openCopy(await template);
  };
}
