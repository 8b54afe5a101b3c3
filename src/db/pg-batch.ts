import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import pg from 'pg';
import type { Statement } from './database.js';

// node-postgres's own conversion of JavaScript values to bind parameters (arrays, dates, JSON, buffers), so a
// batch binds exactly as `client.query(sql, params)` does.
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue: (v: unknown) => unknown;
};

/** The parts of node-postgres's protocol writer a batch uses (pg/lib/connection.js). */
interface Wire {
  stream: { cork?: () => void; uncork?: () => void };
  parse(m: { text: string; name: string; types: unknown[] }): void;
  close(m: { type: 'S'; name: string }): void;
  on(event: 'parseComplete', listener: () => void): void;
  off(event: 'parseComplete', listener: () => void): void;
  bind(m: { portal: string; statement: string; values: unknown[]; binary: boolean; valueMapper: unknown }): void;
  describe(m: { type: 'P'; name: string }): void;
  execute(m: { portal: string; rows: number }): void;
  sync(): void;
}

/** The most named statements kept on one connection; the least recently used one is closed past it. */
export const PREPARED_PER_CONNECTION = 200;

/**
 * The named prepared statements that exist on one server connection, least recently used first. A name is
 * added only when PostgreSQL confirmed its Parse (ParseComplete), so a batch that failed before it leaves
 * nothing recorded that does not exist. Names are a hash of the text, so one name never means two texts.
 */
const preparedOn = new WeakMap<object, Map<string, string>>();

/** Text → name, remembered for the most recent texts (hashing every statement of every request showed in profiles). */
const names = new Map<string, string>();
function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `shipspeak_${createHash('sha1').update(text).digest('hex').slice(0, 32)}`;
    if (names.size >= PREPARED_PER_CONNECTION) names.delete(names.keys().next().value!);
    names.set(text, name);
  }
  return name;
}

/**
 * Several statements written as ONE extended-protocol exchange: Parse/Bind/Describe/Execute for each, then a
 * single Sync — one write, one round trip. With a single Sync, an error anywhere makes PostgreSQL skip every
 * message after it up to the Sync: a statement never runs after a failed one (in particular never outside the
 * transaction, without its role and claims, had `begin` failed), and a `commit` behind a failed statement is
 * never executed. (node-postgres's pipeline mode gives each statement its own Sync, so each later statement
 * would run on its own — which is why it is not used here.) A subclass of pg.Query, so the client matches the
 * answers with its usual handlers: one result per statement, in order; the first error rejects.
 *
 * With `maxPrepared` > 0, a statement marked `prepare` becomes a named prepared statement of the connection: parsed
 * (and its plan cached by PostgreSQL) the first time, only bound and executed afterwards — PostgREST's
 * `db-prepared-statements`. PostgreSQL re-plans a cached statement itself when the role it runs as differs
 * from the one it was planned for (RLS) or a table it reads changes. Closes of evicted names are written
 * first in the exchange, where nothing before them can fail and make the server skip them.
 */
export function queryBatch(client: pg.PoolClient, statements: Statement[], maxPrepared = 0): Promise<pg.QueryResult[]> {
  return new Promise((resolve, reject) => {
    const q = new pg.Query('batch');
    let stopListening = (): void => undefined;
    (q as unknown as { callback: (err: Error | null, res: unknown) => void }).callback = (err, res) => {
      stopListening();
      if (err) return reject(err);
      const all = (Array.isArray(res) ? res : [res]) as pg.QueryResult[];
      // A statement that returns nothing still completes with a command tag, so there is one result each.
      if (all.length !== statements.length)
        return reject(new Error(`batch of ${statements.length} statements answered ${all.length} results`));
      resolve(all);
    };
    q.submit = (connection) => {
      const wire = connection as unknown as Wire;
      let known = maxPrepared > 0 ? preparedOn.get(connection) : undefined;
      if (maxPrepared > 0 && !known) {
        known = new Map();
        preparedOn.set(connection, known);
      }
      // One entry per Parse written, in order: the name it creates (null: the unnamed statement).
      const parses: (string | null)[] = [];
      const parsing = new Set<string>();
      const plan = statements.map((s) => {
        if (!known || !s.prepare) return { s, name: '', parse: true };
        const name = statementName(s.sql);
        // Twice in one exchange: parsed by the first, only bound by the second.
        const have = known.get(name) === s.sql || parsing.has(name);
        if (!have) parsing.add(name);
        if (have) {
          known.delete(name); // re-insert: most recently used last
          known.set(name, s.sql);
        }
        return { s, name, parse: !have };
      });
      const evict: string[] = [];
      if (known) {
        const adding = new Set(plan.filter((p) => p.parse && p.name !== '').map((p) => p.name));
        const using = new Set(plan.map((p) => p.name));
        for (const name of known.keys()) {
          if (known.size - evict.length + adding.size <= maxPrepared) break;
          if (!using.has(name)) evict.push(name);
        }
        for (const name of evict) known.delete(name);
        if (adding.size > 0) {
          const onParsed = () => {
            const name = parses.shift();
            if (name) known!.set(name, statements[plan.findIndex((p) => p.name === name)]!.sql);
            if (parses.length === 0) stopListening();
          };
          wire.on('parseComplete', onParsed);
          stopListening = () => wire.off('parseComplete', onParsed);
        }
      }
      wire.stream.cork?.();
      try {
        for (const name of evict) wire.close({ type: 'S', name });
        for (const { s, name, parse } of plan) {
          if (parse) {
            wire.parse({ text: s.sql, name, types: [] });
            parses.push(name === '' ? null : name);
          }
          wire.bind({ portal: '', statement: name, values: s.params ?? [], binary: false, valueMapper: prepareValue });
          wire.describe({ type: 'P', name: '' });
          wire.execute({ portal: '', rows: 0 });
        }
        wire.sync();
      } finally {
        wire.stream.uncork?.();
      }
    };
    void client.query(q);
  });
}
