import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/**
 * A TCP relay in front of PostgreSQL that counts database round trips as the wire shows them, without timing:
 * a round trip starts whenever the client sends after the server has answered (or first). Statements written
 * together (pipelined) are one flight however many protocol messages and Syncs they hold; statements each
 * waiting for the previous answer are one flight each.
 */
export interface RoundTripProxy {
  /** The upstream URL with host and port replaced by the relay's. */
  url: string;
  /** Client-to-server flights since the last reset. */
  flights(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startRoundTripProxy(upstreamUrl: string): Promise<RoundTripProxy> {
  const upstream = new URL(upstreamUrl);
  let flights = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const db = connect(Number(upstream.port || 5432), upstream.hostname);
    let last: 'up' | 'down' | null = null;
    for (const s of [client, db]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk) => {
      if (last !== 'up') flights++;
      last = 'up';
      db.write(chunk);
    });
    db.on('data', (chunk) => {
      last = 'down';
      client.write(chunk);
    });
    client.on('close', () => db.destroy());
    db.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(upstreamUrl);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as AddressInfo).port);
  return {
    url: url.toString(),
    flights: () => flights,
    reset: () => {
      flights = 0;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
