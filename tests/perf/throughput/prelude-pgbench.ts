/**
 * `npm run bench:prelude` — what PostgreSQL itself spends on the transaction around a gateway statement
 * (issue 17 item 5 (b)), measured with pgbench and without any Node code in the way.
 *
 * Sets up the throughput benchmark's database (bootstrap, migrations, dev seed, Alice's extra meetings),
 * captures the gateway's own statements for GET single row (prelude + statement, as serve sends them), then
 * runs pgbench custom scripts, each sending one request's statements as ONE pipelined exchange
 * (\startpipeline … \endpipeline: a single Sync, as src/db/pg-batch.ts does), in two protocol modes:
 * `-M extended` (unnamed statements: parse + plan every time, what serve sent before prepared statements) and
 * `-M prepared` (named statements, parsed once per connection). Variants peel the transaction apart:
 *
 *   bare          the statement alone (no transaction, no role: RLS bypassed)
 *   tx            begin; statement; commit (as the connecting superuser: RLS bypassed)
 *   tx-role       begin; set_config(role, claims); statement; commit (RLS on)
 *   prelude8      begin; the gateway's prelude of eight set_config calls; statement; commit
 *   begin-ro      begin read only; the prelude without transaction_read_only (seven); statement; commit
 *
 * For each: transactions/s and the PostgreSQL server's CPU µs per transaction (user + system time of the
 * postmaster and all its children, exited backends included, from /proc — pgbench's own CPU is not in it).
 * Env: CLIENTS (default 8), DURATION (s, default 5), VARIANTS (comma list), CASE (single|list20|embed).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintAccessToken } from '../../../src/auth/tokens.js';
import { recordingDatabase } from '../../../src/bench/capture.js';
import { createScratchDatabase, findPostgresBinaries } from '../../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../../src/db/node-postgres.js';
import { isUnavailable, resolveServer } from '../../../src/db/resolve-postgres.js';
import { createGateway } from '../../../src/rest/index.js';
import { BENCH_USER, CASES, fillBenchDatabase } from './cases.js';
import { postgresCpuMicros, postmasterPid } from './proc-cpu.js';

const CLIENTS = Number(process.env.CLIENTS ?? 8);
const DURATION = Number(process.env.DURATION ?? 5);
const CASE = process.env.CASE ?? 'single';
const SECRET = 'prelude-bench-secret-0123456789-abcdefghij';

/** A captured statement as pgbench script text: $n → :pn, parameters passed with -D. */
function pgbenchSql(sql: string, params: unknown[], prefix: string, defs: string[]): string {
  for (const [i, p] of params.entries()) defs.push('-D', `${prefix}${i + 1}=${String(p)}`);
  return sql.replace(/\$(\d+)/g, (_, n: string) => `:${prefix}${n}`).replace(/\s*\n\s*/g, ' ');
}

async function main(): Promise<void> {
  const server = await resolveServer();
  if (isUnavailable(server)) throw new Error(`bench:prelude needs PostgreSQL 15: ${server.unavailable}`);
  const bin = findPostgresBinaries();
  if (!bin) throw new Error('no PostgreSQL binaries (pgbench)');
  const scratch = await createScratchDatabase(server.url, 'prelude');
  const db = await openNodePostgres(scratch.url);
  const tmp = mkdtempSync(join(tmpdir(), 'prelude-'));
  try {
    await fillBenchDatabase(db);
    const c = CASES.find((x) => x.key === CASE);
    if (!c) throw new Error(`CASE must be one of ${CASES.map((x) => x.key).join(', ')}`);
    const token = await mintAccessToken(SECRET, { sub: BENCH_USER.id, email: BENCH_USER.email }, { expiresIn: 3600 });
    const rec = recordingDatabase(db, { rollback: true });
    const gateway = createGateway({ db: rec, jwtSecret: SECRET });
    const headers = { authorization: `Bearer ${token}`, apikey: token };
    await (await gateway.fetch(`http://bench.test/rest/v1${c.path}`, { headers })).text();
    rec.take();
    const res = await gateway.fetch(`http://bench.test/rest/v1${c.path}`, { headers });
    if (res.status !== 200) throw new Error(`gateway answered ${res.status}: ${await res.text()}`);
    const recorded = rec.take();
    const prelude = recorded.find((s) => s.sql.includes("set_config('role'"));
    const statement = recorded.at(-1)!;
    if (!prelude || statement === prelude) throw new Error('could not capture the prelude and the statement');

    const defs: string[] = [];
    const stmt = pgbenchSql(statement.sql, statement.params, 's', defs);
    // The prelude's parameters in order: search_path, claims, method, path, headers, timeout, read-only, role.
    const p = prelude.params.map(String);
    const v = (name: string, value: string) => {
      defs.push('-D', `${name}=${value}`);
      return `:${name}`;
    };
    const [sp, claims, method, path, hdrs, timeout, , role] = [
      v('sp', p[0]!),
      v('claims', p[1]!),
      v('method', p[2]!),
      v('path', p[3]!),
      v('hdrs', p[4]!),
      v('timeout', p[5]!),
      v('ro', p[6]!),
      v('role', p[7]!),
    ];
    const prelude8 = pgbenchSql(prelude.sql, prelude.params, 'q', defs);
    const prelude7 = `select set_config('search_path', ${sp}, true), set_config('request.jwt.claims', ${claims}, true), set_config('request.method', ${method}, true), set_config('request.path', ${path}, true), set_config('request.headers', ${hdrs}, true), set_config('statement_timeout', ${timeout}, true), set_config('role', ${role}, true)`;
    const piped = (...lines: string[]) =>
      ['\\startpipeline', ...lines.map((l) => `${l};`), '\\endpipeline', ''].join('\n');
    const variants: Record<string, string> = {
      bare: piped(stmt),
      tx: piped('begin', stmt, 'commit'),
      'tx-role': piped(
        'begin',
        `select set_config('request.jwt.claims', ${claims}, true), set_config('role', ${role}, true)`,
        stmt,
        'commit',
      ),
      prelude8: piped('begin', prelude8, stmt, 'commit'),
      'begin-ro': piped('begin read only', prelude7, stmt, 'commit'),
    };
    const only = process.env.VARIANTS?.split(',');
    if (!server.cluster) throw new Error('bench:prelude measures its own ephemeral cluster: unset DATABASE_URL');
    const postmaster = postmasterPid(server.cluster.dataDir);
    const u = new URL(scratch.url);
    const conn = ['-h', u.hostname, '-p', u.port, '-U', decodeURIComponent(u.username), u.pathname.slice(1)];
    console.log(`pgbench ${CLIENTS} clients, ${DURATION} s per run, case ${c.title}; load ${loadavg()[0]!.toFixed(1)}`);
    console.log('variant       mode        tps   server CPU µs/tx   load');
    for (const mode of ['extended', 'prepared'] as const) {
      for (const [name, script] of Object.entries(variants)) {
        if (only && !only.includes(name)) continue;
        const file = join(tmp, `${name}.sql`);
        writeFileSync(file, script);
        const load = loadavg()[0]!;
        const cpu0 = postgresCpuMicros(postmaster);
        const out = await new Promise<string>((resolve, reject) => {
          const child = spawn(
            join(bin, 'pgbench'),
            ['-n', '-M', mode, '-c', String(CLIENTS), '-j', '2', '-T', String(DURATION), '-f', file, ...defs, ...conn],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          );
          let text = '';
          child.stdout.on('data', (d: Buffer) => (text += d.toString()));
          child.stderr.on('data', (d: Buffer) => (text += d.toString()));
          child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`pgbench ${name}: ${text}`))));
        });
        await new Promise((r) => setTimeout(r, 300)); // the postmaster reaps the exited backends
        const cpu = postgresCpuMicros(postmaster) - cpu0;
        const tx = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1]);
        const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
        const failed = /number of failed transactions: (\d+)/.exec(out)?.[1] ?? '0';
        if (!tx || failed !== '0') throw new Error(`pgbench ${name} ${mode}: ${out}`);
        console.log(
          `${name.padEnd(12)}  ${mode.padEnd(9)} ${tps.toFixed(0).padStart(6)}   ${(cpu / tx).toFixed(0).padStart(16)}   ${load.toFixed(1)}`,
        );
      }
    }
  } finally {
    await db.close();
    await scratch.drop();
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
