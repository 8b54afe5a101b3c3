import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compiledModule, fallbackNotice } from '../../bin/compile-cache.js';

/**
 * bin/compile-cache.js: the CLI runs from a compiled copy of src/ (issue #17, start-up time). What must hold: the
 * copy always matches the sources (an edit selects a new tree), `import.meta.url` still names the .ts source (modules
 * find repository files through it), a broken source or an unwritable cache gives null (the caller falls back to
 * tsx) after saying why once on stderr, and the real CLI runs from the cache.
 */
const work = mkdtempSync(join(tmpdir(), 'shipspeak-compile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function project(name: string, files: Record<string, string>): { srcDir: string; cacheDir: string } {
  const srcDir = join(work, name, 'src');
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(srcDir, file, '..'), { recursive: true });
    writeFileSync(join(srcDir, file), text);
  }
  return { srcDir, cacheDir: join(work, name, 'cache') };
}

async function load(url: URL | null): Promise<Record<string, unknown>> {
  expect(url).not.toBeNull();
  // A fresh query string: the module registry would otherwise hand back the first import of the same file.
  return (await import(`${url!.href}?${Math.random()}`)) as Record<string, unknown>;
}

describe('compile cache (bin/compile-cache.js)', () => {
  it('runs the compiled sources; import.meta.url names the .ts source; an edit compiles a new tree', async () => {
    const p = project('edit', {
      'main.ts':
        "import { twice } from './lib/twice.js';\nexport const value: number = twice(21);\nexport const here = import.meta.url;\n",
      'lib/twice.ts': 'export const twice = (n: number): number => n * 2;\n',
      'lib/data.json': '{ "answer": 42 }\n',
      'data.ts':
        "import data from './lib/data.json' with { type: 'json' };\nexport const answer: number = data.answer;\n",
    });
    const first = await compiledModule('main.js', p);
    const m = await load(first);
    expect(m.value).toBe(42);
    // A file that is not TypeScript is copied beside the compiled modules that import it.
    expect((await load(await compiledModule('data.js', p))).answer).toBe(42);
    expect(m.here).toBe(pathToFileURL(join(p.srcDir, 'main.ts')).href);
    expect(fileURLToPath(first!).startsWith(p.cacheDir)).toBe(true);

    // A second start finds the same tree.
    expect((await compiledModule('main.js', p))!.href).toBe(first!.href);

    // Editing a file the entry only imports changes the key too.
    writeFileSync(join(p.srcDir, 'lib/twice.ts'), 'export const twice = (n: number): number => n * 3;\n');
    const second = await compiledModule('main.js', p);
    expect(second!.href).not.toBe(first!.href);
    expect((await load(second)).value).toBe(63);
    expect(readdirSync(p.cacheDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('two checkouts with identical sources sharing one cache each run a tree that names their own sources', async () => {
    // A git worktree whose node_modules links to another checkout's shares its cache folder. Each compiled file
    // carries its source's URL (which finds sql/), so one shared tree would read the other checkout's files.
    const files = { 'main.ts': 'export const here = import.meta.url;\n' };
    const a = project('checkout-a', files);
    const b = { ...project('checkout-b', files), cacheDir: a.cacheDir };
    const fromA = await compiledModule('main.js', a);
    const fromB = await compiledModule('main.js', b);
    expect(fromB!.href).not.toBe(fromA!.href);
    expect((await load(fromA)).here).toBe(pathToFileURL(join(a.srcDir, 'main.ts')).href);
    expect((await load(fromB)).here).toBe(pathToFileURL(join(b.srcDir, 'main.ts')).href);
  });

  it('a source that does not compile gives null (the CLI then runs through tsx), says why once, and leaves nothing behind', async () => {
    const p = project('broken', { 'main.ts': 'export const x: number = ;\n' });
    const said: string[] = [];
    expect(await compiledModule('main.js', { ...p, warn: (line) => said.push(line) })).toBeNull();
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^shipspeak-db: running through tsx \(a slower start\): no compiled copy of src\/ \(/);
    // The reason is esbuild's, naming the file and what it could not parse.
    expect(said[0]).toMatch(/main\.ts:1:\d+: Unexpected ";"/);
    expect(said[0]!.endsWith('\n')).toBe(true);
    expect(said[0]!.trimEnd()).not.toContain('\n');
    expect(existsSync(p.cacheDir) ? readdirSync(p.cacheDir) : []).toEqual([]);
  });

  it('a cache directory that cannot be written gives null and names the error; a normal first compile says nothing', async () => {
    const p = project('unwritable', { 'main.ts': 'export const x: number = 1;\n' });
    // A regular file where the cache directory should be: unwritable whoever runs the test (root included).
    const blocker = join(work, 'unwritable', 'not-a-dir');
    writeFileSync(blocker, '');
    const said: string[] = [];
    const warn = (line: string) => said.push(line);
    expect(await compiledModule('main.js', { srcDir: p.srcDir, cacheDir: join(blocker, 'cache'), warn })).toBeNull();
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/no compiled copy of src\/ \(ENOTDIR: not a directory/);
    said.length = 0;
    // The expected path — first run after an edit, then a cache hit — is the cache's own work: no message.
    expect(await compiledModule('main.js', { ...p, warn })).not.toBeNull();
    expect(await compiledModule('main.js', { ...p, warn })).not.toBeNull();
    expect(said).toEqual([]);
  });

  it('fallbackNotice: one line with the first line of the reason', () => {
    expect(fallbackNotice(new Error("EROFS: read-only file system, mkdir '/x'\nmore detail"))).toBe(
      "shipspeak-db: running through tsx (a slower start): no compiled copy of src/ (EROFS: read-only file system, mkdir '/x'); SHIPSPEAK_COMPILE_CACHE=0 skips the cache silently\n",
    );
  });

  it('the real CLI starts from the compiled tree, and prints the same as through tsx', () => {
    const bin = fileURLToPath(new URL('../../bin/shipspeak-db.js', import.meta.url));
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [bin, 'help', 'serve'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    const compiled = run({});
    const viaTsx = run({ SHIPSPEAK_COMPILE_CACHE: '0' });
    expect(compiled.status).toBe(0);
    // Neither the compiled start nor the fallback that was asked for explains itself on stderr.
    expect(compiled.stderr).toBe('');
    expect(viaTsx.stderr).toBe('');
    expect(compiled.stdout).toContain('--no-cache');
    expect(compiled.stdout).toBe(viaTsx.stdout);
  });
});
