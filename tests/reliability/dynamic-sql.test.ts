/**
 * Injection safety inside the database (issue #16, part 5): every plpgsql function of the project's schemas,
 * read from the catalog of a database at head, builds dynamic SQL only with format() and %I/%L or USING.
 * The lint itself is shown to catch each unsafe shape, so it cannot pass by finding nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import type { ScratchDatabase } from '../../src/db/ephemeral-cluster.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { lintDynamicSql, plpgsqlFunctions, RAW_SPLICE_ALLOWED } from '../../src/migrate/dynamic-sql.js';
import { migratedScratchDatabase } from '../../src/migrate/scratch.js';
import { describePg, pgUrl } from '../support/pg.js';
import { reliabilityEvidence } from './support/evidence.js';

const evidence = reliabilityEvidence('dynamic-sql', 'PostgreSQL 15 (schema at head)');

describe('the dynamic SQL lint', () => {
  const unsafe: [string, string][] = [
    ['concatenation', `begin execute 'delete from public.t where id = ' || p_id; end`],
    ['a bare variable', `declare q text; begin q := 'drop table ' || t; execute q; end`],
    ['a concatenated format string', `begin execute format('select %I from ' || t, c); end`],
    ['%s splicing', `begin execute pg_catalog.format('select * from public.t where name = %s', p_name); end`],
    ['positional %1$s splicing', `begin execute format('select %1$s', p_expr) into v; end`],
  ];
  it.each(unsafe)('the lint flags %s', (_what, source) => {
    const findings = lintDynamicSql({ name: 'public.unsafe', source });
    expect(findings).toHaveLength(1);
  });

  const safe: [string, string][] = [
    ['%I and %L', `begin execute format('delete from %I.%I where note = %L', s, t, n); end`],
    [
      'USING parameters',
      `begin execute pg_catalog.format('select count(*) from public.%I where id = $1', t) into v using p_id; end`,
    ],
    ['a dollar-quoted format string', `begin execute format($q$update %I set a = 1$q$, t); end`],
    ['%% and comments', `begin -- execute 'x' || y;\n execute format('select 100%% from %I', t); end`],
    [
      'grant execute in a literal',
      `begin execute format('grant execute on function %I.%I() to authenticated', s, f); end`,
    ],
  ];
  it.each(safe)('the lint accepts %s', (_what, source) => {
    expect(lintDynamicSql({ name: 'public.safe', source })).toEqual([]);
  });
});

describePg('dynamic SQL in the project plpgsql functions on PostgreSQL 15', () => {
  let scratch: ScratchDatabase;
  let db: Database;
  beforeAll(async () => {
    scratch = await migratedScratchDatabase(pgUrl(), 'lint');
    db = await openNodePostgres(scratch.url, { max: 1 });
  });
  afterAll(async () => {
    await db?.close();
    await scratch?.drop();
  });

  it('no project function EXECUTEs concatenated or unquoted text', async () => {
    const fns = await plpgsqlFunctions(db);
    const withExecute = fns.filter((f) => /\bexecute\s/i.test(f.source));
    const findings = fns.flatMap(lintDynamicSql);
    expect(fns.length).toBeGreaterThan(10);
    expect(withExecute.length).toBeGreaterThan(0);
    expect(findings).toEqual([]);
    evidence.pass(
      'functions',
      'every plpgsql function in public/private/audit builds dynamic SQL with format() %I/%L or USING',
      {
        plpgsqlFunctions: fns.length,
        functionsWithExecute: withExecute.length,
        findings: findings.length,
        rawSpliceAllowed: Object.keys(RAW_SPLICE_ALLOWED).length,
      },
      { functionsWithExecute: withExecute.map((f) => f.name), rawSpliceAllowed: RAW_SPLICE_ALLOWED },
      'postgresql',
    );
  });
});
