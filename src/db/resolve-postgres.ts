/**
 * The one place that decides where a real PostgreSQL comes from, so every suite and command agrees:
 *   1. DATABASE_URL, when set (a server someone else runs: CI service, Supabase, a dev box);
 *   2. otherwise an ephemeral PostgreSQL 15 cluster started from the local binaries;
 *   3. otherwise: in CI an Error that says how to install the binaries; locally `{ unavailable }` so the
 *      suites print "NOT RUN: <reason>" instead of passing silently.
 */
import pg from 'pg';
import {
  type EphemeralCluster,
  REQUIRED_MAJOR,
  findPostgresBinaries,
  startEphemeralCluster,
} from './ephemeral-cluster.js';
import { connectionConfig, redactUrl } from './node-postgres.js';

export type ResolvedServer =
  | {
      source: 'DATABASE_URL' | 'ephemeral';
      /** Superuser URL (DATABASE_URL as given, or postgres@127.0.0.1 on the ephemeral cluster). */
      url: string;
      /** e.g. "PostgreSQL 15.18 (ephemeral, port 41234)" — never contains a password. */
      description: string;
      /** Present when we started the server ourselves. */
      cluster?: EphemeralCluster;
      /** Stops the ephemeral cluster; a no-op for DATABASE_URL. */
      stop(): Promise<void>;
    }
  | { unavailable: string };

export const INSTALL_HINT =
  `install the PostgreSQL ${REQUIRED_MAJOR} server binaries: ` +
  `\`sudo apt-get install -y postgresql-${REQUIRED_MAJOR} postgresql-contrib postgresql-${REQUIRED_MAJOR}-cron postgresql-${REQUIRED_MAJOR}-pgaudit\` ` +
  `(Debian/Ubuntu: .ci/run does exactly this in CI) or set DATABASE_URL to a PostgreSQL ${REQUIRED_MAJOR} superuser URL`;

export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CI === 'true' || env.CI === '1';
}

export function isUnavailable(s: ResolvedServer): s is { unavailable: string } {
  return 'unavailable' in s;
}

export interface ResolveServerOptions {
  env?: NodeJS.ProcessEnv;
  /** Passed to the ephemeral cluster (prints start/stop timings). */
  log?: boolean;
}

export async function resolveServer(options: ResolveServerOptions = {}): Promise<ResolvedServer> {
  const env = options.env ?? process.env;
  const external = env.DATABASE_URL?.trim();
  if (external) {
    // Fail here, once, with a readable message rather than in every test file.
    const client = new pg.Client(connectionConfig(external));
    let version: string;
    try {
      await client.connect();
      version = (await client.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
    } catch (e) {
      throw new Error(`DATABASE_URL ${redactUrl(external)} is not usable: ${(e as Error).message}`, { cause: e });
    } finally {
      await client.end().catch(() => undefined);
    }
    const major = Number.parseInt(version, 10);
    if (major !== REQUIRED_MAJOR) {
      console.warn(`[server] DATABASE_URL runs PostgreSQL ${version}; the suites target ${REQUIRED_MAJOR}.x`);
    }
    return {
      source: 'DATABASE_URL',
      url: external,
      description: `PostgreSQL ${version} (DATABASE_URL ${redactUrl(external)})`,
      stop: async () => undefined,
    };
  }

  if (!findPostgresBinaries(env)) {
    const reason = `no DATABASE_URL and no PostgreSQL ${REQUIRED_MAJOR} binaries on this machine; ${INSTALL_HINT}`;
    if (isCI(env)) throw new Error(`CI=true requires a real PostgreSQL ${REQUIRED_MAJOR}: ${reason}`);
    return { unavailable: reason };
  }

  const cluster = await startEphemeralCluster({ log: options.log, env });
  return {
    source: 'ephemeral',
    url: cluster.url,
    description: `PostgreSQL ${cluster.version} (ephemeral, port ${cluster.port}, preloaded: ${cluster.preloaded.join(', ')})`,
    cluster,
    stop: () => cluster.stop(),
  };
}
