import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Queryable } from '../db/database.js';
import { renderSchemaDoc } from './schema.js';

/**
 * Figures in the docs that the code decides (policy and table counts, the matrix size, the pgTAP files, the
 * `--help` text) are never typed by hand: they sit between `<!-- generated:NAME -->` and `<!-- /generated -->`
 * and `shipspeak-db docs` rewrites what is between the markers. docs/schema.md is generated whole. The drift
 * test (tests/docs) renders everything into memory and compares it with the committed files.
 */

export const SCHEMA_DOC = 'docs/schema.md';

const BLOCK = /<!-- generated:([a-z0-9-]+) -->([\s\S]*?)<!-- \/generated -->/g;

/** README.md and every docs/*.md page: the files that may hold generated blocks. */
export function docFiles(root: string): string[] {
  const pages = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...pages];
}

/** The value of every generated block, from the catalog of `db` (a database at head) and the repository. */
export async function figures(db: Queryable, root: string, cliHelp: string): Promise<Record<string, string>> {
  const one = async (sql: string) => String((await db.query<{ n: number }>(sql)).rows[0]!.n);
  // The docs describe the proof too: the matrix's size is read from its data file (validated by the harness's
  // loader in the suites, so only its shape is used here; product code imports nothing from src/harness).
  const matrix = JSON.parse(readFileSync(join(root, 'tests/rls/matrix.json'), 'utf8')) as {
    tables: Record<string, unknown>;
    personas: Record<string, unknown>;
    operations: string[];
  };
  const cellCount = Object.keys(matrix.tables).length * Object.keys(matrix.personas).length * matrix.operations.length;
  const deps = (
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  ).dependencies;
  return {
    policies: await one(`select count(*)::int as n from pg_catalog.pg_policies where schemaname = 'public'`),
    tables: await one(
      `select count(*)::int as n from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind in ('r', 'p')`,
    ),
    matrix:
      `${Object.keys(matrix.tables).length} tables × ${Object.keys(matrix.personas).length} personas × ` +
      `${matrix.operations.length} operations = ${cellCount} cells`,
    'pgtap-files': String(readdirSync(join(root, 'tests/pgtap')).filter((f) => f.endsWith('.sql')).length),
    'cli-help': `\n\`\`\`\n${cliHelp}\n\`\`\`\n`,
    'column-privileges': await columnPrivileges(db),
    // Versions the docs name: of the packages, from package.json; of the PostgreSQL inside PGlite, from the
    // database the docs are rendered from (always an in-memory PGlite, see src/commands/docs.ts).
    'pglite-version': deps['@electric-sql/pglite']!,
    'pglite-postgres': (await db.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v,
    'supabase-js-version': deps['@supabase/supabase-js']!.replace(/^(\d+\.\d+)\..*$/, '$1'),
    quotas: await quotas(db),
    retention: await retention(db),
  };
}

/**
 * The columns `authenticated` may write, for the tables where it holds column privileges and not table
 * privileges (the rest it cannot write at all, or writes under an admin-only policy, as modules).
 */
async function columnPrivileges(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ table: string; ins: string[]; upd: string[] }>(
    `select c.relname as table,
            array(select a.attname from pg_catalog.pg_attribute a
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                    and has_column_privilege('authenticated', c.oid, a.attnum, 'INSERT') order by a.attnum)::text[] as ins,
            array(select a.attname from pg_catalog.pg_attribute a
                  where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                    and has_column_privilege('authenticated', c.oid, a.attnum, 'UPDATE') order by a.attnum)::text[] as upd
     from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p')
       and not has_table_privilege('authenticated', c.oid, 'INSERT')
       and not has_table_privilege('authenticated', c.oid, 'UPDATE')
     order by c.relname`,
  );
  const list = (cols: string[]) => (cols.length ? cols.map((c) => `\`${c}\``).join(', ') : 'nothing');
  const lines = ['| table | users may insert | users may update |', '|---|---|---|'];
  for (const r of rows)
    if (r.ins.length || r.upd.length) lines.push(`| \`${r.table}\` | ${list(r.ins)} | ${list(r.upd)} |`);
  return `\n${lines.join('\n')}\n`;
}

/** The default meeting quotas of private.tier_quotas, in tier order: "free = 5, pro = 100, enterprise = unlimited". */
async function quotas(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ tier: string; max_count: number | null }>(
    `select q.tier::text as tier, q.max_count from private.tier_quotas q
     where q.metric = 'meeting_uploaded' order by q.tier`,
  );
  return rows.map((r) => `${r.tier} = ${r.max_count ?? 'unlimited'}`).join(', ');
}

/** audit.retention_policies as a Markdown table, with each policy's own comment as the reason. */
async function retention(db: Queryable): Promise<string> {
  const { rows } = await db.query<{
    name: string;
    timestamp_column: string;
    keep_days: number;
    enabled: boolean;
    comment: string | null;
  }>(
    `select case when table_schema = 'public' then table_name else table_schema || '.' || table_name end as name,
            timestamp_column, keep_days, enabled, comment
     from audit.retention_policies order by table_schema = 'audit', keep_days, table_name`,
  );
  const lines = ['| table | measured from | keep (days) | enabled | why |', '|---|---|---|---|---|'];
  for (const r of rows)
    lines.push(
      `| ${r.name} | ${r.timestamp_column} | ${r.keep_days} | ${r.enabled ? 'yes' : '**no**'} | ${(r.comment ?? '').replace(/\|/g, '\\|')} |`,
    );
  return `\n${lines.join('\n')}\n`;
}

/** `text` with every generated block refreshed; an unknown block name is an error naming the file. */
export function fillBlocks(file: string, text: string, values: Record<string, string>): string {
  return text.replace(BLOCK, (_all, name: string) => {
    const value = values[name];
    if (value === undefined)
      throw new Error(`${file}: unknown generated block "${name}" (known: ${Object.keys(values).join(', ')})`);
    return `<!-- generated:${name} -->${value}<!-- /generated -->`;
  });
}

/**
 * Every generated file as it should be: path (relative to root) → content. `cliHelp` is the CLI's overview
 * (`cliOverview()`), passed in because the CLI contains the docs command (importing it here would be a cycle).
 */
export async function renderDocs(db: Queryable, root: string, cliHelp: string): Promise<Map<string, string>> {
  const values = await figures(db, root, cliHelp);
  const out = new Map<string, string>();
  for (const file of docFiles(root)) {
    if (file === SCHEMA_DOC) continue;
    out.set(file, fillBlocks(file, readFileSync(join(root, file), 'utf8'), values));
  }
  out.set(SCHEMA_DOC, await renderSchemaDoc(db));
  return out;
}

/**
 * Brings the files under `root` up to date with `db` (a database at head) and returns the stale ones;
 * with `check`, writes nothing and only returns them.
 */
export async function syncDocs(
  db: Queryable,
  root: string,
  { check = false, cliHelp }: { check?: boolean; cliHelp: string },
): Promise<string[]> {
  const stale: string[] = [];
  for (const [file, text] of await renderDocs(db, root, cliHelp)) {
    const path = join(root, file);
    if (existsSync(path) && readFileSync(path, 'utf8') === text) continue;
    stale.push(file);
    if (!check) writeFileSync(path, text);
  }
  return stale;
}
