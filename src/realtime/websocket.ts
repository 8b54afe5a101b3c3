import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Database } from '../db/database.js';
import { assertSecret } from '../auth/tokens.js';
import { verifyJwt, type JwtClaims } from '../rest/jwt.js';
import { deletedRowVisible, rowVisible } from './authorize.js';
import { loadPublishedTables, type Change, type ChangeSource, type PublishedTable } from './changes.js';
import { type FilterError, matchesFilter, parseFilter, type Filter } from './filters.js';
import { decodeFrame, encodeFrame, type FrameError, type Frame, type Vsn } from './protocol.js';

/**
 * Supabase Realtime's postgres_changes for `shipspeak-db serve`: the Phoenix channel protocol realtime-js
 * speaks, over a WebSocket at /realtime/v1/websocket. A channel joins with postgres_changes bindings
 * ({event, schema, table, filter}) and an access token; each committed change of a table in the
 * supabase_realtime publication goes to a binding only if the subscriber's role and claims may SELECT the
 * row under RLS (src/realtime/authorize.ts: the row selected by primary key as that subscriber, like
 * Supabase Realtime's WALRUS; for a DELETE the SELECT policies evaluated on the old row), so RLS alone
 * decides who sees what. old_record carries only the primary key, as Supabase's does under RLS. Tokens are
 * checked at join, on `access_token` updates and at expiry: an expired or invalid token closes the channel.
 * Not provided: Broadcast, Presence, private channels (Realtime Authorization).
 */
export const REALTIME_PATH = '/realtime/v1/websocket';
const API_ROLES = ['anon', 'authenticated', 'service_role'];
const EVENTS = ['*', 'INSERT', 'UPDATE', 'DELETE'];
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Binding {
  id: number;
  event: string;
  schema: string;
  table?: string;
  filter?: string;
  parsed?: Filter;
}

interface Channel {
  topic: string;
  joinRef: string | null;
  bindings: Binding[];
  claims: JwtClaims;
  role: string;
  exp?: number | null;
  expiry?: NodeJS.Timeout;
}

interface Client {
  ws: WebSocket;
  vsn: Vsn;
  channels: Map<string, Channel>;
}

export interface RealtimeConfig {
  db: Database;
  jwtSecret: string;
  /**
   * Where changes come from. Started by the first join that asks for postgres_changes (changes before any
   * subscriber reach nobody), so serve's start-up pays nothing for Realtime. If it cannot start, that join
   * and every later one asking for postgres_changes is refused with the reason.
   */
  source: ChangeSource;
  log?: (line: string) => void;
}

export interface Realtime {
  /** For the HTTP server's 'upgrade' event; false when the path is not Realtime's (caller answers). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Starts change capture now instead of at the first postgres_changes join; rejects with the reason it cannot. */
  startCapture(): Promise<void>;
  stop(): Promise<void>;
  /** Open sockets and joined channels (for tests and the banner). */
  counts(): { sockets: number; channels: number };
}

class JoinError extends Error {}

export function createRealtime(cfg: RealtimeConfig): Realtime {
  const key = assertSecret(cfg.jwtSecret);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  const clients = new Set<Client>();
  let published = new Map<string, PublishedTable>();
  let nextId = 1;
  let queue: Promise<void> = Promise.resolve();
  let capture: Promise<void> | undefined;
  const startCapture = () =>
    (capture ??= (async () => {
      published = await loadPublishedTables(cfg.db);
      await cfg.source.start(deliver);
    })().catch((e: unknown) => {
      const reason = e instanceof Error ? e.message : String(e);
      cfg.log?.(`warning: Realtime postgres_changes unavailable: ${reason}`);
      throw new Error(`postgres_changes is unavailable: ${reason}`);
    }));

  const send = (c: Client, f: Frame) => {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(encodeFrame(f, c.vsn));
  };
  const reply = (c: Client, f: Frame, status: 'ok' | 'error', response: Record<string, unknown>) =>
    send(c, { join_ref: f.join_ref, ref: f.ref, topic: f.topic, event: 'phx_reply', payload: { status, response } });

  const close = (c: Client, ch: Channel, message?: string) => {
    if (ch.expiry) clearTimeout(ch.expiry);
    c.channels.delete(ch.topic);
    if (message)
      send(c, {
        join_ref: ch.joinRef,
        ref: null,
        topic: ch.topic,
        event: 'system',
        payload: { status: 'error', extension: 'system', message, channel: ch.topic.replace(/^realtime:/, '') },
      });
    send(c, { join_ref: ch.joinRef, ref: null, topic: ch.topic, event: 'phx_close', payload: {} });
  };

  async function verify(token: unknown): Promise<{ claims: JwtClaims; role: string; exp: number | null }> {
    if (typeof token !== 'string' || token === '') throw new JoinError('Invalid token: no access_token or apikey');
    let claims: JwtClaims;
    try {
      claims = await verifyJwt(token, key);
    } catch (e) {
      throw new JoinError(`Invalid token: ${e instanceof Error ? e.message : String(e)}`);
    }
    const role = typeof claims.role === 'string' ? claims.role : '';
    if (!API_ROLES.includes(role))
      throw new JoinError(`Invalid token: role ${JSON.stringify(claims.role)} is not one of ${API_ROLES.join(', ')}`);
    const exp = typeof claims.exp === 'number' ? claims.exp : null;
    if (exp !== null && exp * 1000 <= Date.now())
      throw new JoinError(`Token has expired ${Math.floor(Date.now() / 1000 - exp)} seconds ago`);
    return { claims, role, exp };
  }

  function armExpiry(c: Client, ch: Channel, exp: number | null) {
    if (ch.expiry) clearTimeout(ch.expiry);
    ch.exp = exp;
    if (exp === null) return;
    const delay = Math.max(0, exp * 1000 - Date.now());
    // Long-lived API keys (10 years) exceed a timer's range; dispatch also checks `exp` before every delivery.
    if (delay > MAX_TIMER_MS) return;
    ch.expiry = setTimeout(() => close(c, ch, 'Token has expired 0 seconds ago'), delay);
    ch.expiry.unref();
  }

  async function join(c: Client, f: Frame): Promise<void> {
    if (!f.topic.startsWith('realtime:')) throw new JoinError('unmatched topic');
    const config = (f.payload.config ?? {}) as Record<string, unknown>;
    if (config.private === true)
      throw new JoinError('private channels (Realtime Authorization) are not provided by shipspeak-db serve');
    const { claims, role, exp } = await verify(f.payload.access_token ?? (c as Client & { apikey?: string }).apikey);
    const requested = Array.isArray(config.postgres_changes)
      ? (config.postgres_changes as Record<string, unknown>[])
      : [];
    if (requested.length) {
      try {
        await startCapture();
      } catch (e) {
        throw new JoinError((e as Error).message);
      }
      published = await loadPublishedTables(cfg.db);
    }
    const bindings: Binding[] = [];
    for (const pc of requested) {
      const event = pc.event;
      if (typeof event !== 'string' || !EVENTS.includes(event))
        throw new JoinError(`invalid postgres_changes event ${JSON.stringify(event)}: one of ${EVENTS.join(', ')}`);
      const schema = pc.schema;
      if (typeof schema !== 'string' || schema === '') throw new JoinError('postgres_changes needs a schema');
      const table = pc.table === undefined || pc.table === null ? undefined : String(pc.table);
      const filter = pc.filter === undefined || pc.filter === null ? undefined : String(pc.filter);
      const tables = [...published.values()].filter(
        (t) => (schema === '*' || t.schema === schema) && (table === undefined || table === '*' || t.name === table),
      );
      if (tables.length === 0) {
        throw new JoinError(
          `Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [schema: ${schema}, table: ${table ?? '*'}, filters: ${filter ?? '[]'}] (tables must be in the supabase_realtime publication)`,
        );
      }
      let parsed: Filter | undefined;
      if (filter !== undefined && filter !== '') {
        try {
          parsed = parseFilter(filter);
        } catch (e) {
          throw new JoinError((e as FilterError).message);
        }
        if (!tables.every((t) => t.columns.some((col) => col.name === parsed!.column)))
          throw new JoinError(`invalid column for filter ${parsed.column}`);
      }
      bindings.push({
        id: nextId++,
        event,
        schema,
        ...(table !== undefined ? { table } : {}),
        ...(filter !== undefined ? { filter } : {}),
        ...(parsed ? { parsed } : {}),
      });
    }
    const old = c.channels.get(f.topic);
    if (old) close(c, old);
    const ch: Channel = { topic: f.topic, joinRef: f.join_ref ?? f.ref, bindings, claims, role };
    c.channels.set(f.topic, ch);
    armExpiry(c, ch, exp);
    reply(c, f, 'ok', {
      postgres_changes: bindings.map((b) => ({
        id: b.id,
        event: b.event,
        schema: b.schema,
        table: b.table,
        filter: b.filter,
      })),
    });
    if (bindings.length) {
      send(c, {
        join_ref: ch.joinRef,
        ref: null,
        topic: f.topic,
        event: 'system',
        payload: {
          status: 'ok',
          message: 'Subscribed to PostgreSQL',
          extension: 'postgres_changes',
          channel: f.topic.replace(/^realtime:/, ''),
        },
      });
    }
  }

  async function onFrame(c: Client, f: Frame): Promise<void> {
    if (f.topic === 'phoenix' && f.event === 'heartbeat') return reply(c, f, 'ok', {});
    if (f.event === 'phx_join') {
      try {
        await join(c, f);
      } catch (e) {
        if (!(e instanceof JoinError))
          cfg.log?.(`realtime: join ${f.topic} failed: ${e instanceof Error ? e.message : String(e)}`);
        reply(c, f, 'error', { reason: e instanceof Error ? e.message : String(e) });
      }
      return;
    }
    const ch = c.channels.get(f.topic);
    if (!ch) return reply(c, f, 'error', { reason: 'unmatched topic' });
    if (f.event === 'phx_leave') {
      reply(c, f, 'ok', {});
      return close(c, ch);
    }
    if (f.event === 'access_token') {
      try {
        const { claims, role, exp } = await verify(f.payload.access_token);
        ch.claims = claims;
        ch.role = role;
        armExpiry(c, ch, exp);
      } catch (e) {
        close(c, ch, e instanceof Error ? e.message : String(e));
      }
      return;
    }
    reply(c, f, 'error', {
      reason: `${f.event} is not provided by shipspeak-db serve (postgres_changes only: no Broadcast or Presence)`,
    });
  }

  function matches(b: Binding, change: Change): boolean {
    if (b.schema !== '*' && b.schema !== change.schema) return false;
    if (b.table !== undefined && b.table !== '*' && b.table !== change.table) return false;
    if (b.event !== '*' && b.event !== change.type) return false;
    return !b.parsed || matchesFilter(b.parsed, (change.type === 'DELETE' ? change.old_record : change.record) ?? {});
  }

  async function dispatch(change: Change): Promise<void> {
    const key = `${change.schema}.${change.table}`;
    // A table published after start-up: reload the publication once for it.
    if (!published.has(key)) published = await loadPublishedTables(cfg.db);
    const t = published.get(key);
    if (!t) return;
    const pkOnly = (r: Record<string, unknown> | null) => (r ? Object.fromEntries(t.pk.map((k) => [k, r[k]])) : {});
    const data = {
      schema: change.schema,
      table: change.table,
      commit_timestamp: change.commit_timestamp,
      type: change.type,
      columns: t.columns.map((c) => ({ name: c.name, type: c.type })),
      record: change.record ?? {},
      old_record: pkOnly(change.old_record ?? change.record),
      errors: null,
    };
    const verdicts = new Map<string, Promise<boolean>>();
    for (const c of clients) {
      for (const ch of [...c.channels.values()]) {
        if (typeof ch.exp === 'number' && ch.exp * 1000 <= Date.now()) {
          close(c, ch, 'Token has expired 0 seconds ago');
          continue;
        }
        const ids = ch.bindings.filter((b) => matches(b, change)).map((b) => b.id);
        if (ids.length === 0) continue;
        const who = `${ch.role}\u0000${JSON.stringify(ch.claims)}`;
        if (!verdicts.has(who)) {
          verdicts.set(
            who,
            change.type === 'DELETE'
              ? deletedRowVisible(cfg.db, t, ch, change.old_record ?? {})
              : rowVisible(cfg.db, t, ch, change.record ?? {}),
          );
        }
        if (!(await verdicts.get(who))) continue;
        send(c, {
          join_ref: ch.joinRef,
          ref: null,
          topic: ch.topic,
          event: 'postgres_changes',
          payload: { ids, data },
        });
      }
    }
  }

  const deliver = (changes: Change[]) => {
    queue = queue.then(async () => {
      for (const change of changes) {
        try {
          await dispatch(change);
        } catch (e) {
          cfg.log?.(
            `realtime: delivering a ${change.type} on ${change.schema}.${change.table} failed: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
      }
    });
  };

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const client: Client & { apikey?: string } = {
      ws,
      vsn: url.searchParams.get('vsn') === '1.0.0' ? '1.0.0' : '2.0.0',
      channels: new Map(),
      apikey: url.searchParams.get('apikey') ?? '',
    };
    clients.add(client);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return void ws.close(1003, 'binary frames are not Phoenix JSON frames (Broadcast is not provided)');
      let frame: Frame;
      try {
        frame = decodeFrame(data.toString(), client.vsn);
      } catch (e) {
        return void ws.close(1007, (e as FrameError).message.slice(0, 120));
      }
      onFrame(client, frame).catch((e: unknown) =>
        cfg.log?.(`realtime: ${frame.event} on ${frame.topic} failed: ${e instanceof Error ? e.message : String(e)}`),
      );
    });
    ws.on('close', () => {
      for (const ch of client.channels.values()) if (ch.expiry) clearTimeout(ch.expiry);
      clients.delete(client);
    });
    ws.on('error', () => undefined);
  });

  return {
    handleUpgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== REALTIME_PATH) return false;
      const apikey = url.searchParams.get('apikey');
      const refuse = (status: number, msg: string) => {
        socket.end(
          `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Bad Request'}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ message: msg })}`,
        );
      };
      if (!apikey) {
        refuse(403, 'Realtime needs the apikey query parameter (the anon key)');
        return true;
      }
      verifyJwt(apikey, key).then(
        () => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)),
        (e: unknown) => refuse(403, `Invalid apikey: ${e instanceof Error ? e.message : String(e)}`),
      );
      return true;
    },
    startCapture,
    async stop() {
      for (const c of clients) c.ws.terminate();
      clients.clear();
      await new Promise<void>((r) => wss.close(() => r()));
      if (capture) await capture.catch(() => undefined);
      await cfg.source.stop();
      await queue;
    },
    counts: () => ({ sockets: clients.size, channels: [...clients].reduce((n, c) => n + c.channels.size, 0) }),
  };
}
