import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/db/ephemeral-cluster.js';
import { childEnv, runCli, type Finished } from './support.js';

/**
 * Bad input: one clear line on stderr (a usage error adds the command's usage line, as every command does), a
 * non-zero exit, nothing on stdout that looks like a ready server.
 */
function expectOneLineFailure(r: Finished, pattern: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  if (r.code === 2 && lines.length === 2) expect(lines[1]).toMatch(/^usage: shipspeak-db (serve|token) /);
  else expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^shipspeak-db: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stdout).not.toMatch(/ready in/);
}

describe('shipspeak-db serve: bad input', () => {
  it('port in use', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['serve', '--port', String(port)]);
      expectOneLineFailure(r, new RegExp(`port ${port} is already in use on 127\\.0\\.0\\.1.*--port`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('unreachable DATABASE_URL', async () => {
    const port = await freePort();
    const r = await runCli(
      ['serve', '--port', '0'],
      childEnv({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/nowhere` }),
    );
    expectOneLineFailure(r, new RegExp(`cannot connect to postgres://postgres@127\\.0\\.0\\.1:${port}/nowhere`));
  });

  it('unknown schema', async () => {
    const r = await runCli(['serve', '--port', '0', '--schemas', 'public,no_such_schema']);
    expectOneLineFailure(r, /schema "no_such_schema" does not exist in PGlite/);
  });

  it('secret shorter than 32 characters, by flag or by SHIPSPEAK_JWT_SECRET', async () => {
    const byFlag = await runCli(['serve', '--port', '0', '--jwt-secret', 'too-short-secret']);
    expectOneLineFailure(byFlag, /JWT secret must be at least 32 characters \(got 16\)/);
    const byEnv = await runCli(['serve', '--port', '0'], childEnv({ SHIPSPEAK_JWT_SECRET: 'x'.repeat(31) }));
    expectOneLineFailure(byEnv, /at least 32 characters \(got 31\)/);
  });

  it('a port that is not a number, an unknown anon role, an unknown flag', async () => {
    expectOneLineFailure(await runCli(['serve', '--port', 'http']), /--port expects a port from 0 to 65535/);
    expectOneLineFailure(
      await runCli(['serve', '--port', '0', '--anon-role', 'nobody_here']),
      /anon role "nobody_here" does not exist/,
    );
    expectOneLineFailure(await runCli(['serve', '--prot', '1']), /Unknown option '--prot'/);
  });

  it('token without a reachable server or database says what to do', async () => {
    const port = await freePort();
    const r = await runCli(['token', '--user', 'pro', '--url', `http://127.0.0.1:${port}`]);
    expectOneLineFailure(r, /no shipspeak-db serve is answering at .*pass --url, --data-dir or DATABASE_URL/);
    expectOneLineFailure(await runCli(['token', '--user', 'nobody']), /--user must be a persona/);
  });
});
