import { accessSync, constants, mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Database, PgError, Queryable, QueryResult } from './database.js';
import type { ThreadError, ThreadInit, ThreadReply, ThreadRequest } from './pglite-thread.js';

/**
 * PGlite on a worker thread, for `serve`. PGlite (0.5.16) runs PostgreSQL as WASM on the calling thread and
 * has no working statement_timeout or cancel: a statement cannot be interrupted from inside, and on the main
 * thread it would freeze every other request and SIGTERM. Here the main thread only posts messages, so it keeps
 * answering; when one call exceeds the statement timeout the worker is terminated (the only interrupt
 * there is), the call fails with PostgreSQL's own 57014, and a new worker reopens the same data directory.
 * An "in-memory" database therefore lives in a temporary directory (RAM-backed /dev/shm where it can; removed
 * on close): a reopen loses only the transaction that was running, never a committed one. Calls are serialised (PGlite is one connection),
 * so the worst wait another caller sees is the timeout plus the reopen. See docs/engines.md.
 */
export interface IsolatedPGliteOptions {
  /** Persist here; omitted = a temporary directory removed on close. */
  dataDir?: string;
  /** Fills the new data directory before PGlite opens it (the snapshot cache); what it throws, open throws. */
  fill?: (dataDir: string) => void;
  /** 0 = no timeout (start-up work: bootstrap, migrations, seed); set it with setStatementTimeout before serving. */
  statementTimeoutMs?: number;
}

export interface IsolatedPGlite extends Database {
  setStatementTimeout(ms: number): void;
  /** Copies the data directory, cleanly shut down, to `dir` (a new directory), then carries on (snapshot cache). */
  snapshotTo(dir: string): Promise<void>;
  /** How many times a timed-out statement made the worker restart. */
  restarts(): number;
}

/** PostgreSQL's error for a statement cancelled by statement_timeout (SQLSTATE 57014). */
export function statementTimeoutError(ms: number): PgError {
  const e = new Error('canceling statement due to statement timeout') as PgError;
  e.code = '57014';
  e.detail = `the statement ran longer than ${ms} ms; its worker was stopped and the database reopened (committed data is kept)`;
  return e;
}

function toError(t: ThreadError): Error {
  const e = new Error(t.message) as PgError;
  for (const [k, v] of Object.entries(t))
    if (k !== 'message' && v !== undefined) (e as unknown as Record<string, unknown>)[k] = v;
  return e;
}

// The thread module beside the file that runs: the compiled .js under bin/compile-cache.js (whose import.meta.url
// names the .ts source, hence filename here), or the TypeScript source under tsx or vitest.
const HERE = pathToFileURL(import.meta.filename);
const THREAD = new URL(HERE.pathname.endsWith('.ts') ? './pglite-thread.ts' : './pglite-thread.js', HERE);

type Request = ThreadRequest extends infer R ? (R extends ThreadRequest ? Omit<R, 'id'> : never) : never;

let compiled: Promise<Pick<ThreadInit, 'pgliteWasmModule' | 'initdbWasmModule'>> | undefined;
/** Compiles PGlite's two WASM binaries once per process (each worker would otherwise compile them again). */
function wasmModules() {
  compiled ??= (async () => {
    const dist = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all(
      ['pglite.wasm', 'initdb.wasm'].map(async (f) => WebAssembly.compile(await readFile(join(dist, f)))),
    );
    return { pgliteWasmModule: pgliteWasmModule!, initdbWasmModule: initdbWasmModule! };
  })();
  return compiled;
}

interface Live {
  worker: Worker;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  generation: number;
  /** The thread ended on its own (e.g. the WASM ran out of memory): the next call reopens first. */
  dead: boolean;
}

/** A worker that has loaded its code and waits for `open` (see pglite-thread.ts). */
function prepareWorker(): Promise<Worker> {
  // From source the thread file is TypeScript: a two-line loader registers tsx first, as bin/shipspeak-db.js does.
  const worker = THREAD.pathname.endsWith('.ts')
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(THREAD.href)}); });`,
        { eval: true },
      )
    : new Worker(THREAD);
  return new Promise<Worker>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`PGlite worker exited with code ${code} while loading`));
    worker.once('exit', onExit);
    worker.once('error', reject);
    worker.once('message', (m: ThreadReply) => {
      worker.off('exit', onExit);
      worker.off('error', reject);
      if ('loaded' in m) resolve(worker);
      else reject(new Error('PGlite worker: unexpected first message'));
    });
  });
}

async function spawn(base: ThreadInit, generation: number, prepared: Promise<Worker> = prepareWorker()): Promise<Live> {
  const init: ThreadInit = { ...base, ...(await wasmModules()) };
  const worker = await prepared;
  const live: Live = { worker, pending: new Map(), generation, dead: false };
  worker.postMessage({ id: 0, op: 'open', init } satisfies ThreadRequest);
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new Error(`PGlite worker exited with code ${code} while opening ${init.dataDir}`));
    worker.once('exit', onExit);
    worker.once('error', reject);
    worker.on('message', function first(m: ThreadReply) {
      if (m.id !== 0) return;
      worker.off('message', first);
      worker.off('exit', onExit);
      worker.off('error', reject);
      if ('failed' in m) {
        void worker.terminate();
        reject(toError(m.failed));
      } else resolve();
    });
  });
  worker.on('message', (m: ThreadReply) => {
    if (!('ok' in m)) return;
    const p = live.pending.get(m.id);
    if (!p) return;
    live.pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(toError(m.error));
  });
  const fail = (e: Error) => {
    for (const p of live.pending.values()) p.reject(e);
    live.pending.clear();
  };
  worker.on('error', (e) => fail(e));
  worker.on('exit', (code) => {
    live.dead = true;
    fail(new Error(`PGlite worker stopped (exit code ${code})`));
  });
  return live;
}

/**
 * How long after serving starts (setStatementTimeout) the spare worker is prepared. Loading it costs ~0.3 s of CPU
 * on a third thread; right at start-up it competed with the first requests on two cores (issue #17, PERF-2). A
 * statement that overruns before then reopens with a worker loaded on demand, as when a spare failed to load.
 */
const SPARE_DELAY_MS = 2_000;

/** RAM-backed on Linux; used for an in-memory database's directory when it has room (see scratchBase). */
const SHM = '/dev/shm';
const SHM_MIN_FREE_BYTES = 1024 ** 3;
const SCRATCH_PREFIX = 'shipspeak-pglite-';

/**
 * Where an "in-memory" database's directory goes: /dev/shm when it is there, writable and has 1 GiB free (it is
 * 64 MB in a default Docker container), else the OS temp directory. Measured (issue #17): copying the ~1,100
 * files of a snapshot into /dev/shm costs ~0.1 s of CPU, into /tmp on ext4 ~1 s, and PGlite's own file I/O is
 * cheaper there too. The test suites keep their PGlite starting states there for the same reason
 * (tests/support/pglite-template.ts).
 */
export function scratchBase(): string {
  try {
    const fs = statfsSync(SHM);
    accessSync(SHM, constants.W_OK);
    if (fs.bavail * fs.bsize >= SHM_MIN_FREE_BYTES) return SHM;
  } catch {
    // no /dev/shm (macOS, Windows) or not usable
  }
  return tmpdir();
}

/**
 * Removes directories left by serve processes that died without closing (SIGKILL, a crash): the pid is in the
 * name and no longer runs. A pid that answers (even EPERM, another user's process) keeps its directory.
 */
function sweepScratch(base: string): void {
  for (const name of readdirSync(base)) {
    const pid = new RegExp(`^${SCRATCH_PREFIX}(\\d+)-`).exec(name)?.[1];
    if (!pid || Number(pid) === process.pid) continue;
    try {
      process.kill(Number(pid), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(base, name), { recursive: true, force: true });
    }
  }
}

function scratchDir(): string {
  const base = scratchBase();
  try {
    sweepScratch(base);
  } catch {
    // best effort: a directory we cannot list or remove is left as it was
  }
  return mkdtempSync(join(base, `${SCRATCH_PREFIX}${process.pid}-`));
}

export async function openIsolatedPGlite(options: IsolatedPGliteOptions = {}): Promise<IsolatedPGlite> {
  const temp = options.dataDir ? undefined : scratchDir();
  const dataDir = options.dataDir ?? temp!;
  let timeoutMs = options.statementTimeoutMs ?? 0;
  let nextId = 1;
  let restarts = 0;
  let closed = false;
  let live: Live;
  // The worker loads its code and PGlite's on its own thread, and the WASM starts compiling, while this thread
  // fills the directory (issue #17: the two overlap on a second core). Failures surface in spawn; the catches
  // only keep them from being reported as unhandled before then.
  const prepared = prepareWorker();
  prepared.catch(() => undefined);
  wasmModules().catch(() => undefined);
  try {
    options.fill?.(dataDir);
    live = await spawn({ dataDir }, 0, prepared);
  } catch (e) {
    void prepared.then(
      (w) => w.terminate(),
      () => undefined,
    );
    if (temp) rmSync(temp, { recursive: true, force: true });
    throw e;
  }
  // The replacement for the next overrun, already loaded; a failure to prepare it only costs that time later.
  // Prepared SPARE_DELAY_MS after a timeout is set (serving), so it competes neither with start-up work nor with the
  // first requests for the CPU.
  let spare: Promise<Worker> | undefined;
  const prepareSpare = () => {
    if (closed || timeoutMs <= 0) return;
    spare = prepareWorker();
    spare.catch(() => (spare = undefined));
  };
  let spareTimer: NodeJS.Timeout | undefined;
  const prepareSpareLater = () => {
    if (spare || spareTimer) return;
    spareTimer = setTimeout(() => {
      spareTimer = undefined;
      if (!spare) prepareSpare();
    }, SPARE_DELAY_MS);
    // A pending spare never keeps the process alive.
    spareTimer.unref();
  };
  /** Replaces a worker that overran or died; the data directory is reopened as it was at the last commit. */
  let reopening: Promise<void> | undefined;
  const reopen = (from: Live) =>
    (reopening ??= (async () => {
      await from.worker.terminate();
      if (closed) return;
      restarts++;
      // A spare that failed to load (e.g. files replaced under a running server) is replaced by a fresh one.
      const next = (spare ?? prepareWorker()).catch(() => prepareWorker());
      spare = undefined;
      live = await spawn({ dataDir }, from.generation + 1, next);
      prepareSpare();
    })().finally(() => (reopening = undefined)));

  async function call<T>(request: Request): Promise<T> {
    if (!reopening && live.dead && !closed) void reopen(live);
    if (reopening) await reopening;
    if (closed) throw new Error('PGlite (isolated) is closed');
    const target = live;
    const id = nextId++;
    const result = new Promise<T>((resolve, reject) =>
      target.pending.set(id, { resolve: resolve as (v: unknown) => void, reject }),
    );
    target.worker.postMessage({ ...request, id });
    if (timeoutMs <= 0) return result;
    let timer: NodeJS.Timeout | undefined;
    const limit = timeoutMs;
    const overran = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        target.pending.delete(id);
        reject(statementTimeoutError(limit));
        void reopen(target);
      }, limit);
    });
    try {
      return await Promise.race([result, overran]);
    } finally {
      clearTimeout(timer);
    }
  }

  // One caller at a time, a transaction holding the turn from BEGIN to COMMIT/ROLLBACK.
  let turn: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = turn.then(fn, fn);
    turn = run.catch(() => undefined);
    return run;
  }

  const direct: Queryable = {
    query: <T>(sql: string, params: unknown[] = []) => call<QueryResult<T>>({ op: 'query', sql, params }),
    exec: (sql: string) => call<void>({ op: 'exec', sql }),
  };

  return {
    engine: 'pglite',
    description: options.dataDir ? `PGlite (${options.dataDir}, worker thread)` : 'PGlite (in memory, worker thread)',
    query: (sql, params) => exclusive(() => direct.query(sql, params)),
    exec: (sql) => exclusive(() => direct.exec(sql)),
    transaction: (fn) =>
      exclusive(async () => {
        await direct.exec('begin');
        const generation = live.generation;
        try {
          const r = await fn(direct);
          await direct.exec('commit');
          return r;
        } catch (e) {
          // After a timeout the worker was replaced: its open transaction died with it.
          if (live.generation === generation && !reopening) await direct.exec('rollback').catch(() => undefined);
          throw e;
        }
      }),
    setStatementTimeout(ms: number) {
      if (!Number.isInteger(ms) || ms < 0) throw new Error('statement timeout must be a non-negative integer (ms)');
      timeoutMs = ms;
      prepareSpareLater();
    },
    snapshotTo: (dir) => exclusive(() => call<void>({ op: 'snapshot', to: dir })),
    restarts: () => restarts,
    close: () =>
      exclusive(async () => {
        if (closed) return;
        if (reopening) await reopening.catch(() => undefined);
        const limit = timeoutMs;
        timeoutMs = 0;
        // A clean close (checkpoint) if the worker answers in time; otherwise it is stopped like an overrun.
        await Promise.race([
          call<void>({ op: 'close' }).catch(() => undefined),
          new Promise((r) => setTimeout(r, limit > 0 ? limit : 30_000)),
        ]);
        closed = true;
        clearTimeout(spareTimer);
        await live.worker.terminate();
        if (spare) await (await spare.catch(() => undefined))?.terminate();
        if (temp) rmSync(temp, { recursive: true, force: true });
      }),
  };
}
