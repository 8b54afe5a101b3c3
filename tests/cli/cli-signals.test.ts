import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { childEnv, ROOT } from '../serve/support.js';

describe('signals reach the server however it is started', () => {
  it('npm run db -- serve stops on SIGTERM to npm: the port closes and nothing is left running', async () => {
    const proc = spawn('npm', ['run', '-s', 'db', '--', 'serve', '--port', '0'], {
      cwd: ROOT,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`serve not ready:\n${out}`)), 90_000);
      proc.stdout!.on('data', () => {
        const m = /API URL: (\S+)/.exec(out);
        if (m && /^Stop with/m.test(out)) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
    expect((await fetch(`${url}/rest/v1/`)).status).toBeLessThan(500);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    // Give a re-parented server (the old bug) time to show itself, then prove the port is closed.
    await new Promise((r) => setTimeout(r, 500));
    await expect(fetch(`${url}/rest/v1/`)).rejects.toThrow();
  });
});
