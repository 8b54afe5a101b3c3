/**
 * Encryption in transit, proven on a real server (issue #16, part 3): a PostgreSQL 15 cluster with
 * `ssl = on`, a CA and server certificate made here with openssl, and TCP logins accepted only over TLS.
 * The node-postgres engine connects with sslmode=verify-full; pg_stat_ssl shows the session encrypted; a
 * wrong CA, a wrong host name and an unencrypted login are each refused with a clear error.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findPostgresBinaries, startEphemeralCluster, type EphemeralCluster } from '../../src/db/ephemeral-cluster.js';
import { connectionConfig, openNodePostgres } from '../../src/db/node-postgres.js';
import { describeRequiring } from '../support/pg.js';
import { makeTestPki, type TestPki } from './support/certs.js';
import { reliabilityEvidence } from './support/evidence.js';

const evidence = reliabilityEvidence('tls', 'PostgreSQL 15 (ephemeral cluster with ssl=on)');
const binaries = findPostgresBinaries()
  ? null
  : 'no PostgreSQL 15 server binaries (the TLS drill starts its own cluster)';

async function refusal(url: string): Promise<string> {
  return openNodePostgres(url, { max: 1 }).then(
    async (db) => {
      await db.close();
      return 'connected';
    },
    (e: Error) => e.message,
  );
}

describeRequiring('encryption in transit on PostgreSQL 15', binaries, () => {
  let pki: TestPki;
  let cluster: EphemeralCluster;
  const url = (host: string, params: Record<string, string>) =>
    `postgres://postgres@${host}:${cluster.port}/postgres?${new URLSearchParams(params).toString()}`;

  beforeAll(async () => {
    pki = makeTestPki('localhost');
    cluster = await startEphemeralCluster({ preload: false, tls: { certPem: pki.certPem, keyPem: pki.keyPem } });
  });
  afterAll(async () => {
    await cluster?.stop();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('verify-full with the right CA connects, and pg_stat_ssl shows the session encrypted', async () => {
    const db = await openNodePostgres(url('localhost', { sslmode: 'verify-full', sslrootcert: pki.caFile }), {
      max: 1,
    });
    try {
      const r = await db.query<{ ssl: boolean; version: string; cipher: string; bits: number }>(
        `select ssl, version, cipher, bits from pg_catalog.pg_stat_ssl where pid = pg_catalog.pg_backend_pid()`,
      );
      const row = r.rows[0]!;
      expect(row.ssl).toBe(true);
      expect(row.version).toMatch(/^TLSv1\.[23]$/);
      expect(row.bits).toBeGreaterThanOrEqual(128);
      evidence.pass(
        'verify-full',
        'node-postgres sslmode=verify-full with the issuing CA: session encrypted (pg_stat_ssl)',
        {
          ssl: row.ssl,
          tlsVersion: row.version,
          cipher: row.cipher,
          bits: row.bits,
        },
      );
    } finally {
      await db.close();
    }
  });

  it('a certificate from another CA is refused', async () => {
    const msg = await refusal(url('localhost', { sslmode: 'verify-full', sslrootcert: pki.otherCaFile }));
    expect(msg).not.toBe('connected');
    expect(msg).toMatch(/self[- ]signed certificate|unable to verify|unable to get local issuer/i);
    evidence.pass(
      'wrong-ca',
      'a server certificate not signed by the trusted CA is refused',
      { refused: true },
      { error: msg },
    );
  });

  it('the right certificate reached under a host name it was not issued for is refused', async () => {
    const msg = await refusal(url('127.0.0.1', { sslmode: 'verify-full', sslrootcert: pki.caFile }));
    expect(msg).not.toBe('connected');
    expect(msg).toMatch(/does not match certificate's altnames|Hostname\/IP does not match/i);
    evidence.pass(
      'wrong-host',
      'the certificate does not name the host connected to: refused',
      { refused: true },
      { error: msg },
    );
  });

  it('an unencrypted login is rejected by the server', async () => {
    const msg = await refusal(url('127.0.0.1', { sslmode: 'disable' }));
    expect(msg).not.toBe('connected');
    expect(msg).toMatch(/no encryption|pg_hba\.conf rejects/i);
    evidence.pass(
      'plaintext-rejected',
      'an unencrypted TCP login is rejected by the server (hostnossl … reject)',
      { refused: true },
      { error: msg },
    );
  });

  it('a non-local DATABASE_URL without TLS is refused before any connection (the URL rule)', () => {
    for (const mode of ['disable', 'allow', 'prefer']) {
      expect(() => connectionConfig(`postgres://u:p@db.example.com:5432/postgres?sslmode=${mode}`)).toThrow(
        /TLS is required for non-local databases/,
      );
    }
    // verify-full towards a remote host keeps certificate verification on.
    expect(connectionConfig('postgres://u:p@db.example.com:5432/postgres?sslmode=verify-full').ssl).toEqual({
      rejectUnauthorized: true,
    });
    evidence.pass(
      'remote-rule',
      'sslmode=disable/allow/prefer towards a non-local host is refused',
      { modesRefused: 3 },
      null,
      null,
    );
  });
});
