import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEFAULT_MAX_BODY_BYTES, checkDeclaredLength, payloadTooLarge } from './body.js';
import { ApiError, errorResponse } from './errors.js';
import type { Handle } from './fetch-adapter.js';
import { responseText } from './response-text.js';

/**
 * The thin HTTP transport: node:http ↔ web Request/Response around the same handler the fetch adapter uses.
 * Bound to 127.0.0.1 only; `url` is the Supabase project URL (supabase-js appends `/rest/v1`).
 * close(graceMs) stops accepting, lets in-flight requests finish (answered with `Connection: close`) for
 * at most graceMs, then drops what is left: `shipspeak-db serve` drains on SIGTERM, tests close at once.
 */
export interface RunningServer {
  url: string;
  port: number;
  /** Requests currently being answered. */
  inFlight(): number;
  close(graceMs?: number): Promise<{ drained: boolean }>;
}

export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(
      `port ${port} is already in use on 127.0.0.1 (another shipspeak-db serve or supabase start?); choose another with --port`,
    );
  }
}

/** Methods a web Request cannot carry (TRACE, CONNECT, TRACK) or PostgREST does not serve: 405, not 500. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS']);

/** Thrown while reading: answered as an ApiError and the connection is closed (the rest is never read). */
class EarlyAnswer extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

async function toRequest(req: IncomingMessage, origin: string, maxBodyBytes: number): Promise<Request> {
  const method = req.method ?? 'GET';
  if (!METHODS.has(method)) {
    throw new EarlyAnswer(
      new ApiError(405, 'PGRST117', `Unsupported HTTP method: ${method}`, null, null, {
        Allow: 'OPTIONS,GET,HEAD,POST,PATCH,DELETE',
      }),
    );
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const item of v) headers.append(k, item);
    else if (v !== undefined) headers.set(k, v);
  }
  // Refused by its Content-Length before reading, or as soon as the bytes read pass the limit.
  try {
    checkDeclaredLength(headers, maxBodyBytes);
  } catch (e) {
    throw new EarlyAnswer(e as ApiError);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  // Without Content-Length or Transfer-Encoding an HTTP/1.1 request has no body (RFC 9112 §6.3): nothing to
  // read, so no async iteration of an empty stream on every GET.
  const bodyless = req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
  if (bodyless) req.resume();
  else {
    for await (const chunk of req) {
      total += (chunk as Buffer).length;
      if (total > maxBodyBytes) throw new EarlyAnswer(payloadTooLarge(maxBodyBytes, null));
      chunks.push(chunk as Buffer);
    }
  }
  const hasBody = method !== 'GET' && method !== 'HEAD' && chunks.length > 0;
  return new Request(new URL(req.url ?? '/', origin), {
    method,
    headers,
    ...(hasBody ? { body: Buffer.concat(chunks) } : {}),
  });
}

async function send(res: ServerResponse, response: Response, closing: boolean): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  // The gateway's own responses carry their text (response-text.ts): written as is, no stream read back.
  const text = responseText(response);
  const body = text !== undefined ? text : response.body ? Buffer.from(await response.arrayBuffer()) : null;
  if (body !== null)
    headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  if (closing) headers.connection = 'close';
  res.writeHead(response.status, headers);
  res.end(body ?? undefined);
}

/** An HTTP Upgrade (WebSocket) handler: returns false when it does not own the path (the socket is then refused). */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

export interface ListenOptions {
  /** Largest request body read from the socket (bytes); default 1 MiB. */
  maxBodyBytes?: number;
  /** WebSocket upgrades (Realtime); without it every upgrade is refused with 404. */
  upgrade?: UpgradeHandler;
}

export async function listen(handle: Handle, port = 0, options: ListenOptions = {}): Promise<RunningServer> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const upgrade = options.upgrade;
  let origin = 'http://127.0.0.1';
  let active = 0;
  let closing = false;
  let idle: (() => void) | undefined;
  const server = createServer((req, res) => {
    active++;
    res.once('close', () => {
      active--;
      if (closing) server.closeIdleConnections();
      if (active === 0) idle?.();
    });
    toRequest(req, origin, maxBodyBytes)
      .then(handle)
      .then((response) => send(res, response, closing))
      .catch((e: unknown) => {
        if (res.headersSent) return void res.destroy();
        if (e instanceof EarlyAnswer) {
          // Answer, then close: the unread rest of the body is never buffered.
          res.once('finish', () => req.destroy());
          return void send(res, errorResponse(e.error, req.method ?? 'GET'), true).catch(() => res.destroy());
        }
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(
          JSON.stringify({
            code: 'PGRSTX00',
            message: e instanceof Error ? e.message : String(e),
            details: null,
            hint: null,
          }),
        );
      });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    if (closing || !upgrade?.(req, socket, head)) socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
  });
  // CONNECT never reaches the request handler in node:http: answer it 405 too instead of dropping the socket.
  server.on('connect', (_req: IncomingMessage, socket: import('node:net').Socket) => {
    const body = JSON.stringify(new ApiError(405, 'PGRST117', 'Unsupported HTTP method: CONNECT').body());
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nContent-Type: application/json; charset=utf-8\r\nAllow: OPTIONS,GET,HEAD,POST,PATCH,DELETE\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new PortInUseError(port) : e));
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${actual}`;
  return {
    url: origin,
    port: actual,
    inFlight: () => active,
    async close(graceMs = 0) {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let drained = true;
      if (active > 0) {
        drained = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), graceMs);
          idle = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
      }
      server.closeAllConnections();
      await closed;
      return { drained };
    },
  };
}
