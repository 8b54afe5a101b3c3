import fc from 'fast-check';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { createGateway, type Gateway, type RunningServer } from '../../src/rest/index.js';
import { describePg, pgUrl } from '../support/pg.js';
import { pgliteEmpty } from '../support/pglite-head.js';
import { describeEachEngine } from './support/engines.js';
import { JWT_SECRET, SUPABASE_URL, sqlJson } from './support/fixture.js';
import { requestArbitrary } from './support/request-arbitrary.js';
import { toRequest } from './support/to-request.js';

/**
 * Hostile and malformed requests on both engines: oversized bodies (413 PGRST413, reading stops), deep JSON
 * (400 PGRST102), numbers JavaScript cannot hold (PostgreSQL parses the body text itself), malformed
 * %-encoding (400), TRACE/CONNECT (405), and a database that went away (503 PGRST001, no address leaked).
 */
const LIMIT = 4096;

/** Writes raw bytes to the server and collects everything it answers until it closes the connection. */
function rawExchange(
  port: number,
  head: string,
  feed?: (s: Socket) => void,
): Promise<{ text: string; written: number }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let written = 0;
    const origWrite = s.write.bind(s);
    s.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      written += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      return origWrite(chunk, ...rest);
    }) as typeof s.write;
    s.on('data', (d) => (text += d.toString('utf8')));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ text, written }));
    s.on('connect', () => {
      s.write(head);
      feed?.(s);
    });
    setTimeout(() => {
      s.destroy();
      reject(new Error(`no close within 30 s; got ${JSON.stringify(text.slice(0, 200))}`));
    }, 30_000).unref();
  });
}

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
const bodyOf = (raw: string) =>
  JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as {
    code: string;
    message: string;
    details: string | null;
    hint: string | null;
  };

describeEachEngine('hostile request bodies and methods', (ctx) => {
  let gw: Gateway;
  let server: RunningServer;
  const raw = (path: string, init: RequestInit = {}, token: string | null = ctx().c.userA) => {
    const headers = new Headers(init.headers);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    if (!headers.has('content-type')) headers.set('Content-Type', 'application/json');
    return gw.handle(new Request(`${SUPABASE_URL}/rest/v1${path}`, { ...init, headers }));
  };
  const parentsCount = async () =>
    (await sqlJson<{ n: number }[]>(ctx().db, 'select count(*)::int as n from public.parents'))[0]!.n;

  beforeAll(async () => {
    gw = createGateway({ db: ctx().db, jwtSecret: JWT_SECRET, maxBodyBytes: LIMIT });
    server = await gw.listen(0);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a body over the limit is 413 PGRST413 with a PostgREST-shaped body, and nothing is written', async () => {
    const before = await parentsCount();
    const big = JSON.stringify([{ name: 'x'.repeat(LIMIT) }]);
    const res = await raw('/parents', { method: 'POST', body: big, headers: { 'Content-Type': 'application/json' } });
    expect(res.status).toBe(413);
    const b = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(b).sort()).toEqual(['code', 'details', 'hint', 'message']);
    expect(b.code).toBe('PGRST413');
    expect(String(b.details)).toContain(String(LIMIT));
    expect(await parentsCount()).toBe(before);
    // Exactly at the limit is still read (and then judged as JSON).
    const atLimit = JSON.stringify({ name: 'y'.repeat(LIMIT - 11) });
    expect(Buffer.byteLength(atLimit)).toBe(LIMIT);
    expect((await raw('/parents', { method: 'POST', body: atLimit })).status).toBe(201);
  });

  it('an endless streamed body is cut off after the limit: the stream is cancelled, not drained', async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled++;
        if (pulled > 10_000) return c.close();
        c.enqueue(new TextEncoder().encode('['.repeat(1000)));
      },
    });
    const res = await raw('/parents', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThan(20);
  });

  it('over HTTP: a declared Content-Length over the limit is refused before the body, and the connection closed', async () => {
    const { text } = await rawExchange(
      server.port,
      `POST /rest/v1/parents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\n\r\n`,
    );
    expect(statusOf(text)).toBe(413);
    expect(bodyOf(text).code).toBe('PGRST413');
  });

  it('over HTTP: a chunked body is read only up to the limit, then answered 413 and the socket closed', async () => {
    let timer: NodeJS.Timeout | undefined;
    const chunk = 'a'.repeat(1024);
    const { text, written } = await rawExchange(
      server.port,
      `POST /rest/v1/parents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      (s) => {
        timer = setInterval(() => {
          if (s.destroyed || s.writableEnded) return clearInterval(timer);
          s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
        }, 2);
      },
    );
    clearInterval(timer);
    expect(statusOf(text)).toBe(413);
    // The client kept writing until the server closed: far less than an unbounded read would take.
    expect(written).toBeLessThan(8 * 1024 * 1024);
  });

  it('deep JSON is 400 PGRST102, never a 500 stack overflow', async () => {
    // Under the 4 KiB limit of this gateway; 200 000 levels are refused too (tests/rest/render.test.ts).
    for (const body of [
      '['.repeat(2000) + ']'.repeat(2000),
      `{"name":"d","meta":${'{"a":'.repeat(65)}1${'}'.repeat(65)}}`,
    ]) {
      const res = await raw('/parents', { method: 'POST', body });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('PGRST102');
    }
    const ok = await raw('/parents?select=meta', {
      method: 'POST',
      body: `{"name":"d10","meta":${'{"a":'.repeat(10)}1${'}'.repeat(10)}}`,
      headers: { Prefer: 'return=representation' },
    });
    expect(ok.status).toBe(201);
  });

  it('numbers reach PostgreSQL as the client wrote them: exact, or PostgreSQL refuses them (4xx)', async () => {
    const huge = await raw('/parents', { method: 'POST', body: '{"name": "exact-1e400", "score": 1e400}' });
    expect(huge.status).toBe(201);
    const digits = '12345678901234567890.123456789012345678901';
    const precise = await raw('/parents', { method: 'POST', body: `[{"name": "exact-digits", "score": ${digits}}]` });
    expect(precise.status).toBe(201);
    const patch = await raw('/parents?name=eq.exact-digits', {
      method: 'PATCH',
      body: '{"score": 98765432109876543210}',
    });
    expect(patch.status).toBe(204);
    const stored = await sqlJson<{ name: string; score: string }[]>(
      ctx().db,
      `select name, score::text as score from public.parents where name like 'exact-%' order by name`,
    );
    expect(stored).toEqual([
      { name: 'exact-1e400', score: `1${'0'.repeat(400)}` },
      { name: 'exact-digits', score: '98765432109876543210' },
    ]);
    // A 20-digit integer does not fit bigint: PostgreSQL says so (22003 → 400); JavaScript would have rounded it.
    const before = await parentsCount();
    const tooBig = await raw('/parents', { method: 'POST', body: '{"id": 12345678901234567890, "name": "overflow"}' });
    expect(tooBig.status).toBe(400);
    expect(((await tooBig.json()) as { code: string }).code).toBe('22003');
    expect(await parentsCount()).toBe(before);
    const rpc = await raw('/rpc/add', { method: 'POST', body: '{"a": 12345678901234567890, "b": 1}' });
    expect(rpc.status).toBe(400);
    expect(((await rpc.json()) as { code: string }).code).toBe('22003');
    const missingDefault = await raw('/parents?columns=name,score', {
      method: 'POST',
      body: '[{"name": "exact-md", "score": 1e-400}]',
      headers: { Prefer: 'missing=default' },
    });
    expect(missingDefault.status).toBe(201);
    expect(
      (
        await sqlJson<{ s: string }[]>(ctx().db, `select score::text as s from public.parents where name = 'exact-md'`)
      )[0]!.s,
    ).toBe(`0.${'0'.repeat(399)}1`);
  });

  it('malformed %-encoding in the path is 400, not 500', async () => {
    for (const path of ['/it%E0%A4ems', '/items%zz', '/rpc/%C0%AF']) {
      const res = await raw(path, {}, null);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('PGRST100');
    }
  });

  it('TRACE, CONNECT and unknown methods are 405 over HTTP, not 500', async () => {
    for (const head of [
      'TRACE /rest/v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      'CONNECT 127.0.0.1:5432 HTTP/1.1\r\nHost: 127.0.0.1:5432\r\n\r\n',
      'PROPFIND /rest/v1/items HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    ]) {
      const { text } = await rawExchange(server.port, head);
      expect(statusOf(text), head).toBe(405);
      expect(bodyOf(text).code).toBe('PGRST117');
    }
    expect((await raw('/items', { method: 'PUT', body: '{}' })).status).toBe(405);
  });

  it('generated requests (those of the renderer property) never answer 5xx on a real engine', async () => {
    // The catalog of the property test has two objects the conformance fixture lacks.
    await ctx().db.exec(`create table public."odd""name" (id int primary key, "we""ird col" text);
      create function public.items_by_category(cat text) returns setof public.items language sql stable as $$ select * from public.items where category = cat $$;`);
    await gw.reloadSchemaCache();
    const statuses = new Map<number, number>();
    for (const r of fc.sample(requestArbitrary, { numRuns: 80, seed: 20261203 })) {
      const res = await gw.handle(toRequest(r, ctx().c.userA));
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      expect(res.status, `${res.status} ${await res.clone().text()} for ${JSON.stringify(r)}`).toBeLessThan(500);
    }
    expect([...statuses.keys()].some((s) => s < 300)).toBe(true);
    expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);
  });
});

describe('database unreachable → 503 PGRST001 without its address [pglite]', () => {
  it('a closed PGlite answers 503 PGRST001', async () => {
    const db = await pgliteEmpty();
    const gw = createGateway({ db, jwtSecret: JWT_SECRET });
    await db.close();
    const res = await gw.handle(new Request(`${SUPABASE_URL}/rest/v1/items`));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe('PGRST001');
  });
});

describePg('database unreachable → 503 PGRST001 without its address [postgres]', () => {
  let proxy: Server;
  const sockets = new Set<Socket>();
  let proxyPort = 0;
  beforeAll(async () => {
    const target = new URL(pgUrl());
    proxy = createServer((client) => {
      const up = connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, up]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(up).pipe(client);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    proxyPort = (proxy.address() as { port: number }).port;
  });
  afterAll(() => {
    for (const s of sockets) s.destroy();
    proxy?.close();
  });

  it('answers 503 PGRST001 with no host, port or driver message once the server is gone', async () => {
    const url = new URL(pgUrl());
    url.host = `127.0.0.1:${proxyPort}`;
    const db = await openNodePostgres(url.toString(), { max: 2 });
    const gw = createGateway({ db, jwtSecret: JWT_SECRET });
    try {
      const closed = new Promise<void>((r) => proxy.close(() => r()));
      for (const s of sockets) s.destroy();
      await closed;
      const res = await gw.handle(new Request(`${SUPABASE_URL}/rest/v1/items`));
      const text = await res.text();
      expect(res.status).toBe(503);
      expect(JSON.parse(text).code).toBe('PGRST001');
      expect(text).not.toContain(String(proxyPort));
      expect(text).not.toMatch(/127\.0\.0\.1|localhost|ECONNREFUSED|terminated/i);
    } finally {
      await db.close().catch(() => undefined);
    }
  });
});
