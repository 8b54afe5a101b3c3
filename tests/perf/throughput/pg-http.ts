/**
 * The direct-node-postgres side of the throughput benchmark: a bare node:http server that answers each
 * benchmark case by replaying, over a node-postgres pool, the very statements the gateway sent for it
 * (captured by tests/perf/throughput/run.ts). Runs in its own process, like `serve`, so both sides of the
 * comparison are one Node process with the same pool size in front of the same database.
 *
 *   GET /bare/<case>       the request's statement alone (no transaction, no role switch: RLS bypassed)
 *   GET /tx/<case>         begin; role + claims prelude; statement; commit — what the gateway sends, 4 round trips
 *   GET /pipelined/<case>  the same four on a pipeline-mode client: sent together, one round trip
 *   GET /prepared/<case>   the same, the prelude and the statement as named prepared statements (parsed and
 *                          planned once per connection, as serve keeps them)
 *
 * Usage: node --import tsx tests/perf/throughput/pg-http.ts <database url> <statements.json> <pool size>
 * Prints "listening <url>" once it accepts requests; stops on SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { connectionConfig } from '../../../src/db/node-postgres.js';
import type { CapturedStatement as Recorded } from '../../../src/bench/capture.js';

const [url, statementsFile, poolSize] = process.argv.slice(2);
if (!url || !statementsFile || !poolSize) {
  console.error('usage: pg-http.ts <database url> <statements.json> <pool size>');
  process.exit(2);
}
/** Per case: [prelude (role + claims), statement], as recorded from the gateway. */
const cases = JSON.parse(readFileSync(statementsFile, 'utf8')) as Record<string, [Recorded, Recorded]>;
const max = Number(poolSize);
const plain = new pg.Pool({ ...connectionConfig(url), max });
const pipelined = new pg.Pool({ ...connectionConfig(url), max, pipeline: true });
// The benchmark drops its scratch database (terminating these connections) as it ends: not a crash.
for (const pool of [plain, pipelined]) pool.on('error', () => undefined);

type Mode = 'bare' | 'tx' | 'pipelined' | 'prepared';

/** A stable statement name per text, as node-postgres's `name:` wants. */
const names = new Map<string, string>();
const nameOf = (text: string): string => {
  let n = names.get(text);
  if (!n) {
    n = `bench_${names.size}`;
    names.set(text, n);
  }
  return n;
};

async function answer(mode: Mode, [prelude, statement]: [Recorded, Recorded]): Promise<string> {
  if (mode === 'bare') return body((await plain.query(statement.sql, statement.params)).rows);
  const pool = mode === 'tx' ? plain : pipelined;
  const c = await pool.connect();
  try {
    if (mode === 'tx') {
      await c.query('begin');
      await c.query(prelude.sql, prelude.params);
      const r = await c.query(statement.sql, statement.params);
      await c.query('commit');
      return body(r.rows);
    }
    // Pipeline mode: all four are written at once; node-postgres matches the answers to them in order.
    const named = (s: Recorded) =>
      mode === 'prepared' ? { name: nameOf(s.sql), text: s.sql, values: s.params } : { text: s.sql, values: s.params };
    const [, , r] = await Promise.all([
      c.query('begin'),
      c.query(named(prelude)),
      c.query<Record<string, unknown>>(named(statement)),
      c.query('commit'),
    ]);
    return body(r.rows);
  } catch (e) {
    if (mode === 'tx') await c.query('rollback').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

/** The gateway's statements return one row whose `body` column is the JSON response. */
function body(rows: Record<string, unknown>[]): string {
  const b = rows[0]?.body;
  if (typeof b !== 'string')
    throw new Error(`expected one row with a text column "body", got ${JSON.stringify(rows).slice(0, 200)}`);
  return b;
}

const server = createServer((req, res) => {
  const m = /^\/(bare|tx|pipelined|prepared)\/([a-z0-9_-]+)$/.exec(req.url ?? '');
  const c = m ? cases[m[2]!] : undefined;
  if (!m || !c) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`no such case: ${req.url}`);
    return;
  }
  answer(m[1] as Mode, c).then(
    (text) =>
      res
        .writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(text),
        })
        .end(text),
    (e: unknown) =>
      res.writeHead(500, { 'content-type': 'text/plain' }).end(e instanceof Error ? e.message : String(e)),
  );
});
server.listen(0, '127.0.0.1', () =>
  console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`),
);
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void Promise.all([plain.end(), pipelined.end()]).then(() => process.exit(0));
});
