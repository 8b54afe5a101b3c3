import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SupabaseClient } from '@supabase/supabase-js';
import { createServerClient } from '../../src/auth/client.js';

/**
 * Runs `shipspeak-db` exactly as a user would (node bin/shipspeak-db.js …, a separate process) and reads what
 * it prints. Nothing here reaches into the server: tests talk to it over HTTP only.
 */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/shipspeak-db.js', import.meta.url));

/** The child's environment: ours minus DATABASE_URL (a PGlite serve must not pick up CI's database). */
export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  delete env.SHIPSPEAK_JWT_SECRET;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface Served {
  proc: ChildProcess;
  pid: number;
  url: string;
  anonKey: string;
  serviceKey: string;
  secret: string;
  readyMs: number;
  /** Tokens printed for the seed personas (only with --seed). */
  personaTokens: Record<string, string>;
  stdout(): string;
  stderr(): string;
  /** Sends the signal and resolves with the exit code (null = killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

function field(text: string, label: string): string {
  const m = new RegExp(`^\\s*${label}: (\\S+)`, 'm').exec(text);
  if (!m) throw new Error(`serve printed no "${label}:" line:\n${text}`);
  return m[1]!;
}

/**
 * How long a child process may take before it counts as hung: wide, and below vitest's testTimeout (180 s),
 * because the serve files run side by side (and beside another suite) on two cores, where a start-up that
 * takes 3-5 s alone can take a minute.
 */
const CHILD_TIMEOUT_MS = 150_000;

/**
 * Every serve this module started and that has not exited. A test that times out (or a worker that ends) must
 * not leave a `shipspeak-db serve` running on the machine, so whatever is still here when the test process
 * exits is killed (a synchronous kill is all an 'exit' handler can do).
 */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

/** Starts `serve` and waits for its banner (the "Stop with" line ends it). `nodeArgs` go to node itself (e.g. --cpu-prof). */
export async function startServe(
  args: string[],
  env: NodeJS.ProcessEnv = childEnv(),
  timeoutMs = CHILD_TIMEOUT_MS,
  nodeArgs: string[] = [],
  /** Another checkout to run serve from (the throughput bench's BASELINE), with its own node_modules. */
  root?: string,
): Promise<Served> {
  const bin = root ? join(root, 'bin', 'shipspeak-db.js') : BIN;
  const proc = spawn(process.execPath, [...nodeArgs, bin, 'serve', ...args], {
    cwd: root ?? ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      running.delete(proc);
      resolve(code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not ready in time: stop it rather than leave it running once the test has failed.
      proc.kill('SIGKILL');
      reject(new Error(`serve did not become ready in ${timeoutMs} ms:\n${out}\n${err}`));
    }, timeoutMs);
    const check = () => {
      if (/^Stop with/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before it was ready:\n${out}\n${err}`));
    });
  });
  const personaTokens: Record<string, string> = {};
  for (const m of out.matchAll(/^ {2}(free_a|free_b|pro|admin) \([^)]*\)\s+(\S+)$/gm)) personaTokens[m[1]!] = m[2]!;
  return {
    proc,
    pid: proc.pid!,
    url: field(out, 'API URL'),
    anonKey: field(out, 'anon key'),
    serviceKey: field(out, 'service_role key'),
    secret: field(out, 'JWT secret'),
    readyMs: Number(/ready in (\d+) ms/.exec(out)?.[1] ?? NaN),
    personaTokens,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command to completion. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = childEnv(),
  timeoutMs = CHILD_TIMEOUT_MS,
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`shipspeak-db ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** True while a process with this pid exists (and is not a zombie). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Every live descendant of `pid` (Linux /proc), to prove shutdown leaves no child behind. */
export function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      // exited while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent)
      if (pp === p) {
        out.push(child);
        walk(child);
      }
  };
  walk(pid);
  return out;
}

/** supabase-js as an app would create it: the printed URL and anon key, optionally a user's access token. */
export function client(
  url: string,
  anonKey: string,
  options: { accessToken?: string; schema?: string } = {},
): SupabaseClient {
  const { accessToken, schema } = options;
  return createServerClient(url, anonKey, {
    ...(schema ? { schema } : {}),
    ...(accessToken ? { accessToken: async () => accessToken } : {}),
  });
}

/** A JWT whose signature no longer matches: one character of the signature changed. */
export function tamper(jwt: string): string {
  const i = jwt.length - 5;
  return jwt.slice(0, i) + (jwt[i] === 'A' ? 'B' : 'A') + jwt.slice(i + 1);
}
