import { appendFileSync } from 'node:fs';
import { mintUserToken } from '../auth/tokens.js';
import { PERSONA_USERS, findAuthUser } from '../auth/signup.js';
import { EXIT_OK, portArg, positiveIntArg, UsageError, type Command } from './command.js';
import { parseAllowedHosts } from '../serve/hosts.js';
import {
  DEFAULT_DB_POOL,
  DEFAULT_POOL_ACQUISITION_TIMEOUT_MS,
  DEFAULT_PORT,
  DEFAULT_STATEMENT_TIMEOUT_MS,
  DEV_JWT_SECRET,
  ServeError,
  startServer,
  type Running,
  type ResolvedServeConfig,
} from '../serve/start.js';
import { DEFAULT_LIMITS } from '../rest/limits.js';
import { DEFAULT_MAX_BODY_BYTES } from '../rest/body.js';

/**
 * `shipspeak-db serve`: the gateway as a local Supabase data API, the way `supabase start` is used — it prints
 * the URL and keys, then runs until SIGINT/SIGTERM, on which it drains in-flight requests, closes the database
 * and exits 0. The line starting "ready in" is printed once the port accepts requests.
 */
export interface ServeArgs {
  port?: string;
  maxBodyBytes?: string;
  schemas?: string;
  anonRole?: string;
  jwtSecret?: string;
  dataDir?: string;
  seed?: boolean;
  migrate?: boolean;
  cache?: boolean;
  statementTimeout?: string;
  maxRows?: string;
  dbPool?: string;
  dbPoolAcquisitionTimeout?: string;
  /** false: one round trip per statement (for a pooler in front of PostgreSQL that cannot take pipelined messages). */
  dbPipeline?: boolean;
  /** false: no named prepared statements (for PgBouncer < 1.21 or without max_prepared_statements in transaction mode). */
  dbPreparedStatements?: boolean;
  allowedHosts?: string;
  /** File that receives one JSON line per request (appended); '-' for standard error. */
  requestLog?: string;
}

/** `8s`, `500ms`, `1.5s` → milliseconds; a unit is required so nobody guesses between PostgreSQL's ms and PostgREST's s. */
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(value.trim());
  const ms = m ? Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : 1)) : NaN;
  if (!(ms >= 1))
    throw new UsageError(
      `${flag} must be a duration with a unit, such as 8s or 500ms (got ${JSON.stringify(value)})`,
      serveCliCommand,
    );
  return ms;
}

/** Where the secret comes from: flag, then SHIPSPEAK_JWT_SECRET, then Supabase's public dev secret. */
export function resolveSecret(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): { secret: string; source: string } {
  if (flag !== undefined) return { secret: flag, source: '--jwt-secret' };
  if (env.SHIPSPEAK_JWT_SECRET) return { secret: env.SHIPSPEAK_JWT_SECRET, source: 'SHIPSPEAK_JWT_SECRET' };
  return {
    secret: DEV_JWT_SECRET,
    source: "Supabase's well-known local dev secret — for local use only, never in production",
  };
}

export function serveConfig(
  args: ServeArgs,
  log: (l: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedServeConfig {
  const port = portArg('--port', args.port, serveCliCommand) ?? DEFAULT_PORT;
  const maxBodyBytes = positiveIntArg('--max-body-bytes', args.maxBodyBytes, serveCliCommand) ?? DEFAULT_MAX_BODY_BYTES;
  return {
    port,
    maxBodyBytes,
    schemas: (args.schemas ?? 'public').split(',').map((s) => s.trim()),
    anonRole: args.anonRole ?? 'anon',
    jwtSecret: resolveSecret(args.jwtSecret, env).secret,
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(args.dataDir ? { dataDir: args.dataDir } : {}),
    seed: args.seed ?? false,
    migrate: args.migrate ?? false,
    cache: args.cache ?? true,
    statementTimeoutMs:
      args.statementTimeout === undefined
        ? DEFAULT_STATEMENT_TIMEOUT_MS
        : parseDuration('--statement-timeout', args.statementTimeout),
    maxRows:
      args.maxRows === undefined
        ? DEFAULT_LIMITS.maxRows
        : args.maxRows === 'none'
          ? null
          : positiveIntArg('--max-rows', args.maxRows, serveCliCommand)!,
    dbPool: positiveIntArg('--db-pool', args.dbPool, serveCliCommand) ?? DEFAULT_DB_POOL,
    poolAcquisitionTimeoutMs:
      args.dbPoolAcquisitionTimeout === undefined
        ? DEFAULT_POOL_ACQUISITION_TIMEOUT_MS
        : parseDuration('--db-pool-acquisition-timeout', args.dbPoolAcquisitionTimeout),
    dbPipeline: args.dbPipeline ?? true,
    dbPreparedStatements: args.dbPreparedStatements ?? true,
    allowedHosts: (() => {
      try {
        return args.allowedHosts === undefined ? [] : parseAllowedHosts(args.allowedHosts);
      } catch (e) {
        throw new UsageError((e as Error).message, serveCliCommand);
      }
    })(),
    log,
    ...(args.requestLog ? { requestLog: requestLogWriter(args.requestLog) } : {}),
    ...(env.SHIPSPEAK_SERVE_DIAGNOSTICS === '1' ? { diagnostics: true } : {}),
  };
}

/** Appends each line to the file (created if missing), or writes it to standard error for '-'. */
function requestLogWriter(target: string): (line: string) => void {
  if (target === '-') return (line) => process.stderr.write(`${line}\n`);
  try {
    appendFileSync(target, '');
  } catch (e) {
    throw new ServeError(`--request-log ${target}: ${(e as Error).message}`);
  }
  return (line) => appendFileSync(target, `${line}\n`);
}

async function personaTokens(running: Running, secret: string): Promise<string[]> {
  // All at once, in persona order: the lookups queue on the database while the tokens are signed (issue #17: one
  // after the other they delayed the banner, hence "ready", by a round trip and a signature per persona).
  const lines = await Promise.all(
    PERSONA_USERS.map(async (p) => {
      const user = await findAuthUser(running.db, p.id);
      if (!user) return undefined;
      const token = await mintUserToken(secret, user, { expiresIn: 24 * 3600 });
      return `  ${`${p.persona} (${p.alias}, ${p.tier}${p.role === 'admin' ? ', admin' : ''})`.padEnd(26)} ${token}`;
    }),
  );
  return lines.filter((l): l is string => l !== undefined);
}

export async function serveCommand(
  args: ServeArgs,
  out: (line: string) => void,
  err: (line: string) => void,
): Promise<number> {
  const cfg = serveConfig(args, err);
  const secret = resolveSecret(args.jwtSecret);
  const running = await startServer(cfg);
  const readyMs = performance.now();
  const engine = running.db.description;
  out(`shipspeak-db serve: ready in ${Math.round(readyMs)} ms (process start to listening) — ${engine}`);
  out(`  ${running.steps.map((s) => `${s.name} ${Math.round(s.ms)} ms${s.note ? ` (${s.note})` : ''}`).join(', ')}`);
  out('');
  out(`         API URL: ${running.url}`);
  out(`        REST URL: ${running.url}/rest/v1`);
  out(`        Auth URL: ${running.url}/auth/v1  (e-mail + password, auto-confirmed; docs/serve.md)`);
  out(
    `    Realtime URL: ${running.url.replace(/^http/, 'ws')}/realtime/v1/websocket  (postgres_changes, filtered by RLS)`,
  );
  out(`     Storage URL: not provided (answers 501)`);
  out(`  Exposed schemas: ${cfg.schemas.join(', ')} (anon role: ${cfg.anonRole})`);
  out(
    `           Limits: statement timeout ${cfg.statementTimeoutMs} ms, max rows ${cfg.maxRows ?? 'none'}${cfg.databaseUrl ? `, pool ${cfg.dbPool} (acquisition timeout ${cfg.poolAcquisitionTimeoutMs} ms)` : ''}`,
  );
  out(
    `    Allowed hosts: localhost, *.localhost, 127.0.0.1, [::1]${cfg.allowedHosts.length ? `, ${cfg.allowedHosts.join(', ')}` : ''}`,
  );
  out(`      JWT secret: ${cfg.jwtSecret}`);
  out(`                  (${secret.source})`);
  out(`        anon key: ${running.anonKey}`);
  out(`service_role key: ${running.serviceRoleKey}`);
  out('');
  const personas = cfg.databaseUrl && !cfg.seed ? [] : await personaTokens(running, cfg.jwtSecret);
  if (personas.length) {
    out('User access tokens (valid 24 h; pass as supabase-js `accessToken`):');
    for (const l of personas) out(l);
    out('');
  }
  const urlFlag = running.port === 54321 ? '' : ` --url ${running.url}`;
  out(
    `User tokens: shipspeak-db token --user <free_a|free_b|pro|admin|uuid>${urlFlag}  (creates the user through the signup path when missing)`,
  );
  out('Stop with Ctrl-C (SIGINT) or SIGTERM: in-flight requests finish, the database is closed.');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        err(`${signal} again: still waiting for ${running.http.inFlight()} in-flight request(s)`);
        return;
      }
      stopping = true;
      err(`${signal}: shutting down (${running.http.inFlight()} request(s) in flight)`);
      running.stop().then(
        ({ drained }) => {
          err(
            drained
              ? 'stopped: all requests answered, database closed'
              : 'stopped: grace period over, remaining requests dropped; database closed',
          );
          resolve(0);
        },
        (e: unknown) => {
          err(`shutdown failed: ${e instanceof Error ? e.message : String(e)}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export const serveCliCommand: Command = {
  name: 'serve',
  synopsis:
    'serve [--port 54321] [--max-body-bytes 1048576] [--schemas public] [--anon-role anon] [--jwt-secret S] [--data-dir DIR] [--seed] [--migrate] [--no-cache] [--statement-timeout 8s] [--max-rows 1000|none] [--db-pool 10] [--db-pool-acquisition-timeout 10s] [--no-db-pipeline] [--no-db-prepared-statements] [--allowed-hosts NAME,…] [--request-log FILE|-]',
  summary:
    'A local Supabase on 127.0.0.1 over PGlite or DATABASE_URL — data API (PostgREST-compatible), Auth (GoTrue-compatible) and Realtime postgres_changes; prints the URL and keys, runs until SIGINT/SIGTERM (exit 0 after draining).',
  details: [
    "--statement-timeout D         every request's statement timeout (default 8s, Supabase's authenticator); on PGlite a",
    '                              statement past it stops its worker thread (57014) and the database is reopened',
    '--max-rows N|none             db-max-rows: most rows one read returns (default 1000, as Supabase sets it)',
    '--db-pool N                   PostgreSQL pool size (DATABASE_URL; default 10)',
    '--db-pool-acquisition-timeout D  wait for a pooled connection before 504 PGRST003 (default 10s)',
    '--no-db-pipeline              one database round trip per statement instead of one per request (for a pooler',
    '                              in front of DATABASE_URL that cannot take pipelined messages)',
    "--no-db-prepared-statements   parse and plan every request's SQL anew instead of keeping named prepared statements",
    '                              per connection (PostgREST db-prepared-statements=false: PgBouncer < 1.21, or without',
    '                              max_prepared_statements, in transaction mode)',
    '--allowed-hosts a,*.b         Host names answered besides loopback ones (DNS-rebinding guard; others get 403)',
    '--request-log FILE|-          one JSON line per request (user as a per-run pseudonym; no query strings, tokens or bodies)',
    'Durations need a unit: 8s, 500ms.',
  ],
  options: {
    port: { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'statement-timeout': { type: 'string' },
    'max-rows': { type: 'string' },
    'db-pool': { type: 'string' },
    'db-pool-acquisition-timeout': { type: 'string' },
    'allowed-hosts': { type: 'string' },
    schemas: { type: 'string' },
    'anon-role': { type: 'string' },
    'jwt-secret': { type: 'string' },
    'data-dir': { type: 'string' },
    seed: { type: 'boolean' },
    migrate: { type: 'boolean' },
    'no-cache': { type: 'boolean' },
    'no-db-pipeline': { type: 'boolean' },
    'no-db-prepared-statements': { type: 'boolean' },
    'request-log': { type: 'string' },
  },
  async run({ values: v }, io) {
    const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
    const code = await serveCommand(
      {
        port: str('port'),
        maxBodyBytes: str('max-body-bytes'),
        schemas: str('schemas'),
        anonRole: str('anon-role'),
        jwtSecret: str('jwt-secret'),
        dataDir: str('data-dir'),
        seed: v.seed === true,
        migrate: v.migrate === true,
        cache: v['no-cache'] !== true,
        statementTimeout: str('statement-timeout'),
        maxRows: str('max-rows'),
        dbPool: str('db-pool'),
        dbPoolAcquisitionTimeout: str('db-pool-acquisition-timeout'),
        dbPipeline: v['no-db-pipeline'] !== true,
        dbPreparedStatements: v['no-db-prepared-statements'] !== true,
        allowedHosts: str('allowed-hosts'),
        requestLog: str('request-log'),
      },
      io.out,
      io.err,
    );
    return code === 0 ? EXIT_OK : code;
  },
};
