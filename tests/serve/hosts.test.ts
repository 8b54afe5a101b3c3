/** The Host allow-list of `serve` (DNS-rebinding guard) and its `--allowed-hosts` flag, in-process. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/commands/dispatch.js';
import { guardHost, hostAllowed, hostName, parseAllowedHosts } from '../../src/serve/hosts.js';

describe('Host allow-list', () => {
  it('accepts the loopback names with or without a port, and nothing else by default', () => {
    for (const h of [
      'localhost',
      'LOCALHOST:54321',
      '127.0.0.1:1',
      '127.1.2.3',
      '[::1]:54321',
      'app.localhost',
      'a.b.localhost:80',
      'localhost.',
    ])
      expect(hostAllowed(h, []), h).toBe(true);
    for (const h of [
      null,
      '',
      'evil.example',
      'localhost.evil.example',
      'evillocalhost',
      '127.0.0.1.nip.io',
      '10.0.0.1',
      '[::2]',
      '0.0.0.0',
      'user@localhost',
      'localhost:abc',
      'a b',
    ])
      expect(hostAllowed(h, []), String(h)).toBe(false);
  });

  it('--allowed-hosts adds exact names and *.suffix wildcards', () => {
    const allowed = parseAllowedHosts(' Dev.Example , *.preview.example ');
    expect(allowed).toEqual(['dev.example', '*.preview.example']);
    expect(hostAllowed('dev.example:54321', allowed)).toBe(true);
    expect(hostAllowed('pr-1.preview.example', allowed)).toBe(true);
    expect(hostAllowed('preview.example', allowed)).toBe(false);
    expect(hostAllowed('other.example', allowed)).toBe(false);
    for (const bad of ['http://x.example', 'x.example:80', 'a*.example', 'x.example/path'])
      expect(() => parseAllowedHosts(bad), bad).toThrow(/--allowed-hosts/);
    expect(hostName('[::1]:8080')).toBe('[::1]');
  });

  it('guardHost answers 403 with a PostgREST-shaped JSON body and never calls the handler', async () => {
    let called = 0;
    const guarded = guardHost(async () => {
      called++;
      return new Response('ok');
    }, []);
    const res = await guarded(new Request('http://127.0.0.1:1/rest/v1/', { headers: { host: 'evil.example' } }));
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['code', 'details', 'hint', 'message']);
    expect(body.hint).toMatch(/--allowed-hosts/);
    expect(called).toBe(0);
    expect(
      (await guarded(new Request('http://127.0.0.1:1/rest/v1/', { headers: { host: 'localhost:1' } }))).status,
    ).toBe(200);
    expect(called).toBe(1);
  });
});

describe('serve flags are validated before anything starts (exit 2)', () => {
  const cli = async (args: string[]) => {
    const err: string[] = [];
    const code = await runCli(args, { out: () => undefined, err: (l) => err.push(l), ask: async () => null });
    return { code, err: err.join('\n') };
  };
  for (const [args, message] of [
    [['--statement-timeout', '8'], /--statement-timeout must be a duration with a unit/],
    [['--statement-timeout', '0s'], /--statement-timeout must be a duration/],
    [['--max-rows', '0'], /--max-rows expects a positive whole number/],
    [['--max-rows', 'lots'], /--max-rows expects a positive whole number/],
    [['--db-pool', '0'], /--db-pool expects a positive whole number/],
    [['--db-pool-acquisition-timeout', '10'], /--db-pool-acquisition-timeout must be a duration with a unit/],
    [['--allowed-hosts', 'http://x.example'], /--allowed-hosts: "http:\/\/x.example" is not a host name/],
  ] as const) {
    it(`serve ${args.join(' ')} → exit 2`, async () => {
      const r = await cli(['serve', '--port', '0', ...args]);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
    });
  }
});
