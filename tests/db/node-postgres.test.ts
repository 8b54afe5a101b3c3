/**
 * The node-postgres adapter's connection policy: TLS is mandatory towards anything that is not this
 * machine, and connection errors name the host without ever echoing the password.
 */
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/ephemeral-cluster.js';
import {
  connectionConfig,
  connectTimeoutSeconds,
  DEFAULT_CONNECT_TIMEOUT_S,
  isLocalUrl,
  openNodePostgres,
  redactUrl,
} from '../../src/db/node-postgres.js';
import { describePg, pgUrl } from '../support/pg.js';

const SECRET = 's3cret-Pa55';

describe('isLocalUrl', () => {
  it.each([
    'postgres://postgres@localhost:5432/postgres',
    'postgres://postgres@127.0.0.1:5432/postgres',
    'postgres://postgres@127.1.2.3/postgres',
    'postgres:///postgres?host=/var/run/postgresql',
    'postgres://postgres@%2Ftmp%2Fpg/postgres',
  ])('treats %s as local', (url) => {
    expect(isLocalUrl(url)).toBe(true);
  });

  it.each([
    'postgres://postgres@db.example.com:5432/postgres',
    'postgres://postgres@10.0.0.5:5432/postgres',
    'postgres://postgres@localhost.example.com/postgres',
    'postgres://postgres.abcdefghij:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres',
  ])('treats %s as remote', (url) => {
    expect(isLocalUrl(url)).toBe(false);
  });

  // Regression: a prefix check once let 127.attacker.example skip the TLS requirement.
  it('treats a DNS name that merely begins with "127." as remote, and [::1] as local', () => {
    expect(isLocalUrl('postgres://postgres@127.attacker.example/postgres')).toBe(false);
    expect(isLocalUrl('postgres://postgres@[::1]:5432/postgres')).toBe(true);
  });
});

describe('connectionConfig', () => {
  it.each(['disable', 'allow', 'prefer'])('refuses sslmode=%s towards a remote host, naming host and mode', (mode) => {
    const url = `postgres://admin:${SECRET}@db.example.com:5432/app?sslmode=${mode}`;
    let message = '';
    try {
      connectionConfig(url);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/remote host db\.example\.com/);
    expect(message).toContain(`sslmode=${mode}`);
    expect(message).toMatch(/TLS is required/);
    expect(message).not.toContain(SECRET);
  });

  it('requires verified TLS for a remote host when no sslmode is given', () => {
    const cfg = connectionConfig(`postgres://admin:${SECRET}@db.example.com:5432/app`);
    expect(cfg.ssl).toEqual({ rejectUnauthorized: true });
  });

  it('verify-full verifies the certificate; require encrypts without verifying (libpq semantics)', () => {
    const full = connectionConfig('postgres://a@db.example.com/app?sslmode=verify-full');
    expect(full.ssl).toEqual({ rejectUnauthorized: true });
    expect(new URL(full.connectionString!).searchParams.has('sslmode')).toBe(false);
    const req = connectionConfig('postgres://a@db.example.com/app?sslmode=require');
    expect(req.ssl).toEqual({ rejectUnauthorized: false });
  });

  it('leaves local URLs alone, sslmode=disable included (the supabase CLI needs it locally)', () => {
    const url = 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable';
    expect(connectionConfig(url)).toEqual({
      connectionString: url,
      connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_S * 1000,
    });
  });

  it('redactUrl hides the password and keeps the host', () => {
    const r = redactUrl(`postgres://admin:${SECRET}@db.example.com:5432/app`);
    expect(r).toBe('postgres://admin:***@db.example.com:5432/app');
  });
});

describe('openNodePostgres on a bad URL', () => {
  it('names host and port, not the password, when nothing listens', async () => {
    const port = await freePort(); // free a moment ago: nothing listens there
    const err = await openNodePostgres(`postgres://postgres:${SECRET}@127.0.0.1:${port}/postgres`).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toContain(`cannot connect to postgres://postgres:***@127.0.0.1:${port}/postgres`);
    expect(message).toMatch(/ECONNREFUSED/);
    expect(message).not.toContain(SECRET);
  });

  it('names the host, not the password, when the host does not resolve', async () => {
    // .invalid is reserved (RFC 6761): it never resolves, so this cannot reach a real server.
    const err = await openNodePostgres(
      `postgres://admin:${SECRET}@db.shipspeak.invalid:5432/app?sslmode=require`,
    ).catch((e: Error) => e);
    const message = (err as Error).message;
    expect(message).toContain('db.shipspeak.invalid');
    expect(message).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(message).not.toContain(SECRET);
  });

  it('refuses before connecting when a remote URL disables TLS', async () => {
    await expect(openNodePostgres(`postgres://admin:${SECRET}@db.example.com/app?sslmode=disable`)).rejects.toThrow(
      /TLS is required/,
    );
  });
});

describePg('openNodePostgres on the provided PostgreSQL', () => {
  it('connects, queries, and describes itself without a password', async () => {
    const db = await openNodePostgres(pgUrl(), { max: 2 });
    try {
      const r = await db.query<{ one: number }>('select 1 as one');
      expect(r.rows).toEqual([{ one: 1 }]);
      expect(db.engine).toBe('postgres');
      expect(db.description).toMatch(/^PostgreSQL \(postgres:\/\//);
      const pw = new URL(pgUrl()).password;
      if (pw) expect(db.description).not.toContain(pw);
    } finally {
      await db.close();
    }
  });
});

describe('connect timeout', () => {
  it('is libpq connect_timeout from the URL, else PGCONNECT_TIMEOUT, else the default; nonsense is refused', () => {
    expect(connectTimeoutSeconds('postgres://u@localhost/db', {})).toBe(DEFAULT_CONNECT_TIMEOUT_S);
    expect(connectTimeoutSeconds('postgres://u@localhost/db', { PGCONNECT_TIMEOUT: '3' })).toBe(3);
    expect(connectTimeoutSeconds('postgres://u@localhost/db?connect_timeout=2', { PGCONNECT_TIMEOUT: '3' })).toBe(2);
    expect(() => connectTimeoutSeconds('postgres://u@localhost/db?connect_timeout=abc', {})).toThrow(
      /positive number of seconds, got "abc"/,
    );
    expect(connectionConfig('postgres://u@localhost/db?connect_timeout=2').connectionTimeoutMillis).toBe(2000);
  });

  it('a server that accepts the connection and never answers fails in connect_timeout with a hint, not a hang', async () => {
    // A real TCP listener that swallows the startup packet: what a half-open firewall or a hung proxy looks like.
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const t0 = performance.now();
    try {
      await expect(
        openNodePostgres(`postgres://postgres@127.0.0.1:${port}/postgres?connect_timeout=1`),
      ).rejects.toThrow(/cannot connect to .*timeout.*no answer within 1 s/);
      // Wide ceiling: the point is "returns", not how fast.
      expect(performance.now() - t0).toBeLessThan(30_000);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});
