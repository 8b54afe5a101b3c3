import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { runCli } from '../../src/commands/dispatch.js';
import { cliOverview } from '../../src/commands/dispatch.js';
import { docFiles, fillBlocks, renderDocs, SCHEMA_DOC, syncDocs } from '../../src/docs/generate.js';
import { headingSlug, linkProblems } from '../../src/docs/links.js';
import { pgliteAtHead } from '../support/pglite-head.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const REGENERATE = 'stale: run `npm run db -- docs` and commit the result';

describe('generated docs (schema.md and the generated figures)', () => {
  let db: Database;
  let rendered: Map<string, string>;
  beforeAll(async () => {
    db = await pgliteAtHead(); // bootstrap + every migration, restored from the run's shared dump
    rendered = await renderDocs(db, ROOT, cliOverview());
  });
  afterAll(async () => db?.close());

  it('docs/schema.md is what the catalog at head gives', () => {
    const schema = rendered.get(SCHEMA_DOC)!;
    // Every public table of the catalog is an entity and has a reference section.
    expect(schema).toMatch(/```mermaid\nerDiagram\n/);
    expect(read(SCHEMA_DOC), `${SCHEMA_DOC} ${REGENERATE}`).toBe(schema);
  });

  it('names every public table with its comment, and every policy', async () => {
    const tables = (
      await db.query<{ name: string; comment: string | null }>(
        `select c.relname as name, obj_description(c.oid, 'pg_class') as comment from pg_catalog.pg_class c
         join pg_catalog.pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind in ('r', 'p')`,
      )
    ).rows;
    expect(tables.length).toBeGreaterThan(0);
    const schema = rendered.get(SCHEMA_DOC)!;
    for (const t of tables) {
      expect(schema).toContain(`\n  ${t.name} {\n`);
      expect(schema).toContain(`\n### ${t.name}\n\n${t.comment ?? '_(no comment)_'}\n`);
    }
    const policies = (
      await db.query<{ name: string }>(
        `select policyname as name from pg_catalog.pg_policies where schemaname = 'public'`,
      )
    ).rows;
    for (const p of policies) expect(schema).toContain(`| \`${p.name}\` |`);
  });

  it('every generated figure in README.md and docs/*.md is current', () => {
    let blocks = 0;
    for (const [file, text] of rendered) {
      if (file === SCHEMA_DOC) continue;
      blocks += (text.match(/<!-- generated:/g) ?? []).length;
      expect(read(file), `${file} ${REGENERATE}`).toBe(text);
    }
    // The figures the docs depend on are really in generated blocks (policies, matrix, --help, …).
    expect(blocks).toBeGreaterThanOrEqual(5);
  });

  it('shipspeak-db docs rewrites a stale figure and a stale schema.md, and --check only names them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'docs-sync-'));
    try {
      for (const part of ['README.md', 'package.json', 'docs', 'tests/pgtap'])
        cpSync(join(ROOT, part), join(root, part), { recursive: true });
      mkdirSync(join(root, 'tests/rls'), { recursive: true });
      cpSync(join(ROOT, 'tests/rls/matrix.json'), join(root, 'tests/rls/matrix.json'));
      expect(await syncDocs(db, root, { check: true, cliHelp: cliOverview() })).toEqual([]);
      const security = join(root, 'docs/security.md');
      const current = readFileSync(security, 'utf8');
      const typed = current.replace(/(<!-- generated:policies -->)\d+/, '$1999');
      expect(typed).not.toBe(current);
      writeFileSync(security, typed);
      writeFileSync(join(root, SCHEMA_DOC), '# edited by hand\n');
      expect(await syncDocs(db, root, { check: true, cliHelp: cliOverview() })).toEqual([
        'docs/security.md',
        SCHEMA_DOC,
      ]);
      expect(readFileSync(security, 'utf8')).toBe(typed); // --check wrote nothing
      expect(await syncDocs(db, root, { cliHelp: cliOverview() })).toEqual(['docs/security.md', SCHEMA_DOC]);
      expect(readFileSync(security, 'utf8')).toBe(current);
      expect(readFileSync(join(root, SCHEMA_DOC), 'utf8')).toBe(rendered.get(SCHEMA_DOC));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a typed figure that disagrees with the source is rewritten, and an unknown block is refused', () => {
    const stale = 'each of the <!-- generated:policies -->0<!-- /generated --> policies';
    expect(fillBlocks('x.md', stale, { policies: '7' })).toBe(
      'each of the <!-- generated:policies -->7<!-- /generated --> policies',
    );
    expect(() => fillBlocks('x.md', '<!-- generated:nope -->1<!-- /generated -->', { policies: '7' })).toThrow(
      /x\.md: unknown generated block "nope"/,
    );
  });
});

describe('shipspeak-db docs', () => {
  it('refuses an unknown flag or argument with exit 2 before opening any database', async () => {
    for (const args of [
      ['docs', '--write'],
      ['docs', 'extra'],
    ]) {
      const err: string[] = [];
      const code = await runCli(args, { out: () => undefined, err: (l) => err.push(l), ask: async () => null });
      expect(code).toBe(2);
      expect(err.join('\n')).toMatch(/--write|unexpected argument "extra"/);
    }
  });
});

describe('README.md', () => {
  it('is at most 200 lines (the rest lives in docs/)', () => {
    const lines = read('README.md').trimEnd().split('\n').length;
    expect(lines, `README.md has ${lines} lines; move detail to docs/`).toBeLessThanOrEqual(200);
  });

  it('keeps the newcomer set-up first: npm ci, then npm run report and npm test', () => {
    const setup = /## Set up[^\n]*\n\n```sh\n([\s\S]*?)```/.exec(read('README.md'));
    expect(setup).not.toBeNull();
    expect(setup![1]!.split('\n').map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual(
      expect.arrayContaining(['npm ci #', 'npm run report', 'npm test #']),
    );
  });

  it('links every page of docs/', () => {
    const readme = read('README.md');
    for (const page of docFiles(ROOT).filter((f) => f.startsWith('docs/'))) expect(readme).toContain(`](${page})`);
  });
});

describe('links', () => {
  it('every relative link in README.md and docs/*.md points at an existing file and heading', () => {
    let checked = 0;
    const problems: string[] = [];
    for (const file of docFiles(ROOT)) {
      const r = linkProblems(ROOT, file, read(file));
      checked += r.checked;
      problems.push(...r.problems.map((p) => `${p.file}: (${p.target}) ${p.problem}`));
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it('reports a missing file and a missing heading', () => {
    const dir = mkdtempSync(join(tmpdir(), 'links-'));
    try {
      writeFileSync(join(dir, 'a.md'), '# A page\n\n## The `x` part\n');
      const text = '[ok](a.md#the-x-part) [gone](b.md) [bad](a.md#nope) [web](https://example.com) `[code](c.md)`';
      const { checked, problems } = linkProblems(dir, 'index.md', text);
      expect(checked).toBe(3);
      expect(problems.map((p) => p.target)).toEqual(['b.md', 'a.md#nope']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(headingSlug('Audit trail, retention and privacy (migrations 0020–0022)')).toBe(
      'audit-trail-retention-and-privacy-migrations-00200022',
    );
  });
});

describe('docs/dependencies.md', () => {
  it('explains every npm package of package.json and every Debian package of .ci/run', () => {
    const page = read('docs/dependencies.md');
    const pkg = JSON.parse(read('package.json')) as Record<string, Record<string, string>>;
    const npm = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
    const debian = [
      .../PACKAGES=\(\n([\s\S]*?)\n\)/.exec(read('.ci/run'))![1]!.matchAll(/^\s*([a-z0-9][a-z0-9.+-]*)/gm),
    ].map((m) => m[1]!);
    expect(npm.length).toBeGreaterThan(0);
    expect(debian.length).toBeGreaterThan(0);
    const missing = [...npm, ...debian].filter((name) => !page.includes(`\`${name}\``));
    expect(missing, 'packages without a reason in docs/dependencies.md').toEqual([]);
  });
});
