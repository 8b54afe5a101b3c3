import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  /** PEM of the CA that signed the server certificate. */
  caFile: string;
  /** PEM of an unrelated CA (the "wrong CA" case). */
  otherCaFile: string;
  certPem: string;
  keyPem: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * A throw-away PKI made with the openssl command line: a CA, a server certificate it signs for the DNS name
 * `hostname` only (so the same server reached by IP fails host-name verification), and a second CA that
 * signed nothing. EC P-256 keys: fast to generate.
 */
export function makeTestPki(hostname = 'localhost'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'shipspeak-pki-'));
  const ca = (name: string) => {
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
    openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        `${name}.key`,
        '-sha256',
        '-days',
        '2',
        '-subj',
        `/CN=ShipSpeak test ${name}`,
        '-out',
        `${name}.crt`,
      ],
      dir,
    );
  };
  ca('ca');
  ca('other-ca');
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key'], dir);
  openssl(['req', '-new', '-key', 'server.key', '-subj', `/CN=${hostname}`, '-out', 'server.csr'], dir);
  writeFileSync(join(dir, 'server.ext'), `subjectAltName = DNS:${hostname}\nextendedKeyUsage = serverAuth\n`);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      'server.ext',
      '-out',
      'server.crt',
    ],
    dir,
  );
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    otherCaFile: join(dir, 'other-ca.crt'),
    certPem: readFileSync(join(dir, 'server.crt'), 'utf8'),
    keyPem: readFileSync(join(dir, 'server.key'), 'utf8'),
  };
}
