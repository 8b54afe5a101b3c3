import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database, Queryable } from '../db/database.js';
import { quoteIdent as ident, quoteLiteral as literal, quoteRole } from '../db/quote.js';
import { MigrationError } from './errors.js';
import { loadMigrations, SQL_DIR } from './files.js';
import { splitStatements } from './split-statements.js';

/**
 * sql/policies/<table>.sql is the only place RLS policies are written, and yet every change to them must be
 * versioned and reversible like any other schema change. The bridge: policy files are declarative (the
 * desired set of policies of one table), and `shipspeak-db policies migration <name>` turns the difference
 * between the files and a database at head into an ordinary migration pair (up: drop the table's current
 * policies, create the file's; down: the exact opposite, rendered from the catalog). `policyDrift` is
 * the test that the database's policies equal the files.
 */
export interface PolicyDef {
  name: string;
  permissive: string;
  roles: string[];
  cmd: string;
  using: string | null;
  check: string | null;
  comment: string | null;
}
export type PolicySet = Record<string, PolicyDef[]>;

const POLICY_FILE_RE = /^([a-z_][a-z0-9_]*)\.sql$/;
const ALLOWED = /^(create\s+policy|comment\s+on\s+policy)\s/i;

export interface PolicyFile {
  table: string;
  path: string;
  sql: string;
}

export function loadPolicyFiles(sqlDir: string = SQL_DIR): PolicyFile[] {
  const dir = join(sqlDir, 'policies');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      const m = POLICY_FILE_RE.exec(file);
      if (!m) throw new MigrationError(`malformed policy file name ${path}: expected <table>.sql`, path);
      const table = m[1]!;
      const sql = readFileSync(path, 'utf8');
      for (const stmt of splitStatements(sql)) {
        const body = stmt.replace(/--[^\n]*\n/g, '').trim();
        if (!ALLOWED.test(body)) {
          throw new MigrationError(
            `${path} may only contain create policy / comment on policy statements, found: ${body.slice(0, 60)}`,
            path,
          );
        }
        const on = /\son\s+("?[a-z_][a-z0-9_]*"?)\.("?[a-z_][a-z0-9_]*"?)/i.exec(body);
        if (!on || on[1]!.replace(/"/g, '') !== 'public' || on[2]!.replace(/"/g, '') !== table) {
          throw new MigrationError(
            `${path} holds the policies of public.${table} only; a statement targets ${on ? `${on[1]}.${on[2]}` : 'an unqualified table'}`,
            path,
          );
        }
      }
      return { table, path, sql };
    });
}

export async function readPolicies(db: Queryable): Promise<PolicySet> {
  const r = await db.query<PolicyDef & { table: string }>(`
    select c.relname as "table", p.polname as name,
           case when p.polpermissive then 'permissive' else 'restrictive' end as permissive,
           (select coalesce(array_agg(case when r = 0 then 'public' else pg_get_userbyid(r) end order by 1), '{}')
              from unnest(p.polroles) r) as roles,
           case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update' when 'd' then 'delete' else 'all' end as cmd,
           pg_get_expr(p.polqual, p.polrelid) as using, pg_get_expr(p.polwithcheck, p.polrelid) as check,
           obj_description(p.oid, 'pg_policy') as comment
      from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' order by 1, 2`);
  const set: PolicySet = {};
  for (const { table, ...def } of r.rows) {
    set[table] ??= [];
    set[table].push(def);
  }
  return set;
}

/** A policy as DDL, from the catalog: what a down file needs to restore it exactly. */
export function renderPolicy(table: string, p: PolicyDef): string {
  const lines = [
    `create policy ${ident(p.name)} on public.${ident(table)}`,
    `  as ${p.permissive} for ${p.cmd}`,
    `  to ${p.roles.map(quoteRole).join(', ')}`,
  ];
  if (p.using !== null) lines.push(`  using (${p.using})`);
  if (p.check !== null) lines.push(`  with check (${p.check})`);
  let sql = `${lines.join('\n')};\n`;
  if (p.comment !== null)
    sql += `comment on policy ${ident(p.name)} on public.${ident(table)} is ${literal(p.comment)};\n`;
  return sql;
}

function dropAll(table: string, policies: PolicyDef[]): string {
  return policies.map((p) => `drop policy ${ident(p.name)} on public.${ident(table)};\n`).join('');
}

class Rollback extends Error {}

/** The policies the files describe, computed on the database itself inside a transaction that is rolled back. */
export async function expectedPolicies(db: Database, files: PolicyFile[]): Promise<PolicySet> {
  let expected: PolicySet = {};
  await db
    .transaction(async (tx) => {
      const current = await readPolicies(tx);
      for (const [table, policies] of Object.entries(current)) await tx.exec(dropAll(table, policies));
      for (const f of files) {
        try {
          await tx.exec(f.sql);
        } catch (e) {
          throw new MigrationError(`${f.path} does not apply: ${(e as Error).message}`, f.path);
        }
      }
      expected = await readPolicies(tx);
      throw new Rollback();
    })
    .catch((e: unknown) => {
      if (!(e instanceof Rollback)) throw e;
    });
  return expected;
}

export interface PolicyDrift {
  table: string;
  current: PolicyDef[];
  expected: PolicyDef[];
}

/**
 * Tables whose policies in the database differ from sql/policies (empty = in sync). The expected set is
 * computed on `scratch` (default: the database itself, inside a rolled-back transaction); pass a scratch
 * database at the same head to leave the inspected one untouched — not even a rolled-back lock.
 */
export async function policyDrift(
  db: Database,
  sqlDir: string = SQL_DIR,
  scratch: Database = db,
): Promise<PolicyDrift[]> {
  const files = loadPolicyFiles(sqlDir);
  const current = await readPolicies(db);
  const expected = await expectedPolicies(scratch, files);
  const tables = [...new Set([...Object.keys(current), ...Object.keys(expected)])].sort();
  return tables
    .map((table) => ({ table, current: current[table] ?? [], expected: expected[table] ?? [] }))
    .filter((d) => JSON.stringify(d.current) !== JSON.stringify(d.expected));
}

/**
 * Writes the next-numbered migration pair that brings a database at head to the policy files. Returns the
 * paths written, or null when there is nothing to do.
 */
export async function writePolicyMigration(
  db: Database,
  name: string,
  sqlDir: string = SQL_DIR,
): Promise<{ up: string; down: string } | null> {
  if (!/^[a-z0-9]+(_[a-z0-9]+)*$/.test(name))
    throw new MigrationError(`migration name must be lower_snake_case, got "${name}"`);
  const drift = await policyDrift(db, sqlDir);
  if (drift.length === 0) return null;
  const files = new Map(loadPolicyFiles(sqlDir).map((f) => [f.table, f]));
  const migrations = loadMigrations(sqlDir);
  const version = String(Number(migrations.at(-1)?.version ?? '0') + 1).padStart(4, '0');
  const header = (what: string) =>
    `-- ${what}: generated by \`shipspeak-db policies migration ${name}\` from sql/policies; do not edit by hand.\n`;
  let up = header('Brings RLS policies to sql/policies');
  let down = header('Restores the RLS policies that were in force before the matching up migration');
  for (const d of drift) {
    const file = files.get(d.table);
    up += `\n-- public.${d.table}\n${dropAll(d.table, d.current)}${file ? `${file.sql.trimEnd()}\n` : ''}`;
    down += `\n-- public.${d.table}\n${dropAll(d.table, d.expected)}${d.current.map((p) => renderPolicy(d.table, p)).join('')}`;
  }
  const upPath = join(sqlDir, 'migrations', `${version}_${name}.sql`);
  const downPath = join(sqlDir, 'down', `${version}_${name}.sql`);
  writeFileSync(upPath, up);
  writeFileSync(downPath, down);
  return { up: upPath, down: downPath };
}
