import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MigrationError } from '../../src/migrate/errors.js';
import { loadMigrations } from '../../src/migrate/files.js';
import { checkManifest, manifestPath, updateManifest } from '../../src/migrate/manifest.js';
import { sqlTree, tablePair } from '../support/sql-tree.js';

/**
 * sql/migrations.sum is the committed hash chain of the migration history: it is what makes an edited landed
 * migration fail CI, where every database starts empty and the runner's own checksums never see it.
 */
describe('the committed migration manifest', () => {
  it('records exactly the repository migrations, chain intact', () => {
    expect(checkManifest(loadMigrations())).toEqual([]);
  });

  const recorded = () => {
    const root = sqlTree({ ...tablePair('0001', 'a'), ...tablePair('0002', 'b'), ...tablePair('0003', 'c') });
    updateManifest(loadMigrations(root), { root });
    expect(checkManifest(loadMigrations(root), root)).toEqual([]);
    return root;
  };
  const kinds = (root: string) => checkManifest(loadMigrations(root), root).map((p) => `${p.kind}:${p.version}`);

  it('names an edited up file and an edited down file of a landed migration', () => {
    const root = recorded();
    writeFileSync(join(root, 'migrations/0001_a.sql'), 'create table public.a (id bigint primary key);\n');
    writeFileSync(join(root, 'down/0002_b.sql'), 'drop table if exists public.b;\n');
    const problems = checkManifest(loadMigrations(root), root);
    expect(problems.map((p) => p.kind)).toEqual(['edited', 'edited']);
    expect(problems[0]!.message).toContain(join(root, 'migrations/0001_a.sql'));
    expect(problems[1]!.message).toContain(join(root, 'down/0002_b.sql'));
  });

  it('names a removed landed migration, an unrecorded new one and one numbered below the last', () => {
    const root = recorded();
    rmSync(join(root, 'migrations/0002_b.sql'));
    rmSync(join(root, 'down/0002_b.sql'));
    for (const [k, v] of Object.entries({ ...tablePair('0004', 'd'), ...tablePair('0000', 'z') }))
      writeFileSync(join(root, k), v);
    expect(kinds(root)).toEqual(['missing-file:0002', 'out-of-order:0000', 'unrecorded:0004']);
  });

  it('detects a hand-edited manifest by its broken chain', () => {
    const root = recorded();
    const path = manifestPath(root);
    // Re-point line 2 at edited content, as someone hiding an edit would have to.
    writeFileSync(join(root, 'migrations/0002_b.sql'), 'create table public.b (id int primary key, x int);\n');
    const newHash = loadMigrations(root).find((f) => f.version === '0002')!.checksum;
    writeFileSync(path, readFileSync(path, 'utf8').replace(/(0002_b up=sha256:)[0-9a-f]{64}/, `$1${newHash}`));
    expect(kinds(root)).toEqual(['broken-chain:0002']);
  });

  it('migrate hash appends new migrations, refuses an edited older one, re-hashes only the newest on request', () => {
    const root = recorded();
    for (const [k, v] of Object.entries(tablePair('0004', 'd'))) writeFileSync(join(root, k), v);
    expect(updateManifest(loadMigrations(root), { root })).toEqual({ added: ['0004_d'], rehashed: null });
    writeFileSync(join(root, 'migrations/0004_d.sql'), 'create table public.d (id int primary key, note text);\n');
    expect(() => updateManifest(loadMigrations(root), { root })).toThrow(/--rehash-last/);
    expect(updateManifest(loadMigrations(root), { root, rehashLast: true })).toEqual({ added: [], rehashed: '0004' });
    expect(checkManifest(loadMigrations(root), root)).toEqual([]);
    writeFileSync(join(root, 'migrations/0001_a.sql'), 'create table public.a (id int primary key, y int);\n');
    const err = (() => {
      try {
        updateManifest(loadMigrations(root), { root, rehashLast: true });
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MigrationError);
    expect((err as Error).message).toMatch(/0001_a\.sql was edited after it landed/);
  });

  it('a repository without a manifest is a problem, not a pass', () => {
    const root = sqlTree(tablePair('0001', 'a'));
    expect(kinds(root)).toEqual(['no-manifest:null']);
  });
});
