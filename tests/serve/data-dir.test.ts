import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { client, isRunning, runCli, startServe } from './support.js';

/**
 * `--data-dir`: the PGlite database survives a restart; one process per data directory (a second serve is
 * refused, `token` goes through the running server); SIGINT stops it cleanly.
 */
describe('shipspeak-db serve --data-dir', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'shipspeak-serve-')), 'db');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const userId = randomUUID();

  it('keeps users between runs; a second process on the same directory is refused; token works in both modes', async () => {
    const first = await startServe(['--port', '0', '--data-dir', dir]);
    try {
      // While it runs, `token --data-dir` reaches the database through the server recorded in the lock.
      const viaServer = await runCli(['token', '--user', userId, '--data-dir', dir]);
      expect(viaServer.code, viaServer.stderr).toBe(0);
      expect(viaServer.stderr).toContain(`${first.url}/auth/v1/admin/users`);

      const second = await runCli(['serve', '--port', '0', '--data-dir', dir]);
      expect(second.code).not.toBe(0);
      expect(second.stderr.trim().split('\n')).toHaveLength(1);
      expect(second.stderr).toMatch(
        new RegExp(`data directory .* is in use by process ${first.pid} \\(shipspeak-db serve at ${first.url}\\)`),
      );
    } finally {
      expect(await first.stop('SIGINT')).toBe(0);
    }
    expect(isRunning(first.pid)).toBe(false);

    // No server now: token opens the data directory itself and finds the user made through the server.
    const direct = await runCli(['token', '--user', userId, '--data-dir', dir]);
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stderr).not.toContain('created user');
    const persona = await runCli(['token', '--user', 'admin', '--data-dir', dir]);
    expect(persona.code, persona.stderr).toBe(0);
    expect(persona.stderr).toMatch(
      /created user 00000000-0000-4000-8000-00000000000d through the signup path \(PGlite/,
    );

    const again = await startServe(['--port', '0', '--data-dir', dir]);
    try {
      expect(again.stdout()).toMatch(/open PGlite \d+ ms \(existing database\)/);
      const user = client(again.url, again.anonKey, { accessToken: direct.stdout.trim() });
      const me = await user.from('profiles').select('id');
      expect(me.error).toBeNull();
      expect(me.data).toEqual([{ id: userId }]);
      // The admin persona created offline got its role from the owner after the signup trigger.
      const admin = client(again.url, again.anonKey, { accessToken: persona.stdout.trim() });
      const adminProfile = await admin.from('profiles').select('role').eq('id', '00000000-0000-4000-8000-00000000000d');
      expect(adminProfile.data).toEqual([{ role: 'admin' }]);
    } finally {
      expect(await again.stop('SIGTERM')).toBe(0);
    }
    expect(isRunning(again.pid)).toBe(false);
    // Six child processes one after another, each opening PGlite: beside other test files on two cores this
    // outlasted the 180 s default on a loaded machine (a hang catcher only; nothing asserts on the time).
  }, 360_000);

  it('token on a data directory that was never served says how to create it', async () => {
    const empty = join(dir, '..', 'never-served');
    const r = await runCli(['token', '--user', 'pro', '--data-dir', empty]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no database in .*never-served: run `shipspeak-db serve --data-dir/);
  });
});
