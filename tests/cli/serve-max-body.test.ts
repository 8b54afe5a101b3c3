import { describe, expect, it } from 'vitest';
import { serveConfig } from '../../src/commands/serve.js';
import { runCli } from '../../src/commands/dispatch.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/rest/body.js';

/** `serve --max-body-bytes`: parsed strictly, 1 MiB by default (the gateway suites prove the limit itself). */
describe('serve --max-body-bytes', () => {
  const log = () => undefined;
  it('defaults to 1 MiB and takes a positive integer', () => {
    expect(DEFAULT_MAX_BODY_BYTES).toBe(1024 * 1024);
    expect(serveConfig({}, log, {}).maxBodyBytes).toBe(DEFAULT_MAX_BODY_BYTES);
    expect(serveConfig({ maxBodyBytes: '2048' }, log, {}).maxBodyBytes).toBe(2048);
  });

  it('refuses anything else before starting, naming the flag', async () => {
    for (const bad of ['0', '-1', '1e6', '1.5', 'abc', '', '99999999999999999']) {
      expect(() => serveConfig({ maxBodyBytes: bad }, log, {}), bad).toThrow(
        /--max-body-bytes expects a positive whole number/,
      );
    }
    const err: string[] = [];
    const code = await runCli(['serve', '--max-body-bytes', 'lots', '--port', '0'], {
      out: () => undefined,
      err: (l: string) => void err.push(l),
      ask: async () => null,
    });
    // A malformed value is a usage error: exit 2, like every other option of every command.
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('--max-body-bytes expects a positive whole number, got "lots"');
  });
});

describe('token --expires-in', () => {
  it('a malformed value is a usage error (exit 2) naming the flag, before any database is opened', async () => {
    for (const bad of ['0', 'soon', '1.5', '99999999999999999']) {
      const err: string[] = [];
      const code = await runCli(['token', '--user', 'pro', '--expires-in', bad], {
        out: () => undefined,
        err: (l: string) => void err.push(l),
        ask: async () => null,
      });
      expect(code, bad).toBe(2);
      expect(err.join('\n')).toContain(`--expires-in expects a positive whole number, got "${bad}"`);
    }
  });
});
