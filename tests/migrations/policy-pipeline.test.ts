import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { catalogSnapshot, type CatalogSnapshot } from '../../src/db/catalog.js';
import {
  loadPolicyFiles,
  policyDrift,
  renderPolicy,
  writePolicyMigration,
  type PolicyDef,
} from '../../src/migrate/policies.js';
import { migrateDown, migrateUp } from '../../src/migrate/runner.js';
import { enginesUnderTest } from '../support/engines.js';
import { describeRequiring } from '../support/pg.js';
import { pgliteEmpty } from '../support/pglite-head.js';
import { sqlTree } from '../support/sql-tree.js';

// Empty PGlite databases, restored from one dump per run (tests/support/pglite-head.ts).
const fresh = pgliteEmpty;
let db: Database;
afterEach(async () => db?.close());

function notesTree(): string {
  const root = sqlTree({
    'migrations/0001_notes.sql': `create table public.notes (id int primary key, owner text not null);\nalter table public.notes enable row level security;\n`,
    'down/0001_notes.sql': `drop table public.notes;\n`,
  });
  mkdirSync(join(root, 'policies'));
  writeFileSync(
    join(root, 'policies/notes.sql'),
    `create policy notes_select_own on public.notes as permissive for select to public using (owner = current_user);\n` +
      `comment on policy notes_select_own on public.notes is 'owners read their notes';\n`,
  );
  return root;
}

/**
 * Applies the newest generated pair (no drift left), then reverts it and the pair before it, checking the
 * catalog after each down: generated migrations must be exactly reversible.
 */
async function applyThenRevertBoth(root: string, afterFirst: CatalogSnapshot, beforeFirst: CatalogSnapshot) {
  await migrateUp(db, { sqlDir: root });
  expect(await policyDrift(db, root)).toEqual([]);
  await migrateDown(db, { sqlDir: root, steps: 1 });
  expect(await catalogSnapshot(db)).toEqual(afterFirst);
  await migrateDown(db, { sqlDir: root, steps: 1 });
  expect(await catalogSnapshot(db)).toEqual(beforeFirst);
}

describe('sql/policies enters the versioned pipeline through generated migrations', () => {
  it('detects drift, generates a reversible migration, and is in sync after applying it', async () => {
    const root = notesTree();
    db = await fresh();
    await migrateUp(db, { sqlDir: root });
    const withoutPolicies = await catalogSnapshot(db);

    const drift = await policyDrift(db, root);
    expect(drift.map((d) => [d.table, d.current.length, d.expected.length])).toEqual([['notes', 0, 1]]);

    const written = await writePolicyMigration(db, 'notes_policies', root);
    expect(written!.up).toBe(join(root, 'migrations/0002_notes_policies.sql'));
    await migrateUp(db, { sqlDir: root });
    expect(await policyDrift(db, root)).toEqual([]);
    const withPolicies = await catalogSnapshot(db);
    expect(withPolicies.policies!['public.notes.notes_select_own']).toMatchObject({
      cmd: 'SELECT',
      comment: 'owners read their notes',
    });

    // A policy change: the file is edited, a new migration is generated, and its down restores the old policy exactly.
    writeFileSync(
      join(root, 'policies/notes.sql'),
      `create policy notes_select_own on public.notes as permissive for select to public using (owner = session_user);\n` +
        `comment on policy notes_select_own on public.notes is 'owners read their notes (session user)';\n`,
    );
    expect((await policyDrift(db, root)).map((d) => d.table)).toEqual(['notes']);
    await writePolicyMigration(db, 'notes_session_user', root);
    expect(readFileSync(join(root, 'down/0003_notes_session_user.sql'), 'utf8')).toContain(
      'using ((owner = CURRENT_USER))',
    );
    await applyThenRevertBoth(root, withPolicies, withoutPolicies);
  });

  it('renders policies whose names are SQL keywords (a policy named "select") as valid DDL in both directions', async () => {
    // The down file and the drift listing render policies from the catalog: a name that is a keyword, or not
    // lower case, must come back quoted, or the generated migration pair cannot be applied.
    const root = notesTree();
    writeFileSync(
      join(root, 'policies/notes.sql'),
      `create policy "select" on public.notes as permissive for select to public using (owner = current_user);\n` +
        `create policy "Owners Insert" on public.notes as permissive for insert to public with check (owner = current_user);\n`,
    );
    db = await fresh();
    await migrateUp(db, { sqlDir: root });
    const withoutPolicies = await catalogSnapshot(db);
    await writePolicyMigration(db, 'keyword_names', root);
    const down = readFileSync(join(root, 'down/0002_keyword_names.sql'), 'utf8');
    expect(down).toContain('drop policy "select" on public."notes"');
    await migrateUp(db, { sqlDir: root });
    expect(await policyDrift(db, root)).toEqual([]);
    const withPolicies = await catalogSnapshot(db);

    // Rendering from the catalog (what the next generated down file holds) applies and restores the same policies.
    writeFileSync(join(root, 'policies/notes.sql'), '');
    await writePolicyMigration(db, 'drop_keyword_names', root);
    expect(readFileSync(join(root, 'down/0003_drop_keyword_names.sql'), 'utf8')).toContain(
      'create policy "select" on public."notes"',
    );
    await applyThenRevertBoth(root, withPolicies, withoutPolicies);
  });

  it('writes nothing when the files and the database agree', async () => {
    const root = notesTree();
    db = await fresh();
    await migrateUp(db, { sqlDir: root });
    await writePolicyMigration(db, 'first', root);
    await migrateUp(db, { sqlDir: root });
    expect(await writePolicyMigration(db, 'second', root)).toBeNull();
  });

  it("refuses a policy file that does anything but create and comment on its own table's policies", () => {
    const root = notesTree();
    writeFileSync(join(root, 'policies/notes.sql'), `alter table public.notes disable row level security;\n`);
    expect(() => loadPolicyFiles(root)).toThrow(/policies\/notes\.sql may only contain create policy/);
    writeFileSync(
      join(root, 'policies/notes.sql'),
      `create policy p on public.other for select to public using (true);\n`,
    );
    expect(() => loadPolicyFiles(root)).toThrow(
      /holds the policies of public\.notes only; a statement targets public\.other/,
    );
    writeFileSync(join(root, 'policies/Notes.sql'), `select 1;`);
    expect(() => loadPolicyFiles(root)).toThrow(/malformed policy file name/);
  });
});

for (const engine of enginesUnderTest()) {
  describeRequiring(`sql/policies and the database at head agree (${engine.name})`, engine.missing, () => {
    it('every policy in the database is the one its file describes, and every file is applied', async () => {
      const head = await engine.fresh();
      try {
        await migrateUp(head);
        const drift = await policyDrift(head);
        const differing = drift.flatMap((d) => {
          const key = (p: PolicyDef) => JSON.stringify(p);
          const inDb = d.current.filter((p) => !d.expected.some((e) => key(e) === key(p)));
          const inFile = d.expected.filter((p) => !d.current.some((c) => key(c) === key(p)));
          return [
            ...inDb.map((p) => `database only: ${renderPolicy(d.table, p).trim()}`),
            ...inFile.map((p) => `file only: ${renderPolicy(d.table, p).trim()}`),
          ];
        });
        expect(differing, 'run `npm run db -- policies migration <name>` and commit the generated pair').toEqual([]);
        expect(loadPolicyFiles().length).toBeGreaterThanOrEqual(9);
      } finally {
        await head.close();
      }
    });
  });
}
