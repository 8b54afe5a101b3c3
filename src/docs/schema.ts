import type { Queryable } from '../db/database.js';

/**
 * docs/schema.md, read from the catalog of a database at head: a Mermaid ERD of the public tables (columns,
 * PK/FK, relationships from pg_constraint) and a table/column reference from the `comment on` texts, with each
 * table's policies. Everything is ordered by name so the same schema always renders the same bytes (the drift
 * test in tests/docs compares them).
 */

interface Column {
  table: string;
  name: string;
  type: string;
  notnull: boolean;
  default: string | null;
  comment: string | null;
}

interface ForeignKey {
  name: string;
  table: string;
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
}

interface Policy {
  table: string;
  name: string;
  command: string;
  permissive: string;
  roles: string[];
  comment: string | null;
}

const TABLES = `
  select c.relname as name, obj_description(c.oid, 'pg_class') as comment, c.relrowsecurity as rls
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p')
  order by c.relname`;

const COLUMNS = `
  select c.relname as table, a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type,
         a.attnotnull as notnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid) as default,
         col_description(c.oid, a.attnum) as comment
  from pg_catalog.pg_attribute a
  join pg_catalog.pg_class c on c.oid = a.attrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
  where n.nspname = 'public' and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
  order by c.relname, a.attnum`;

// Key columns in constraint order (conkey/confkey are ordered, unnest keeps it with ordinality).
const CONSTRAINTS = `
  select con.conname as name, con.contype as kind, c.relname as table,
         array(select a.attname from unnest(con.conkey) with ordinality k(n, i)
               join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.i)::text[] as columns,
         rn.nspname as ref_schema, r.relname as ref_table,
         array(select a.attname from unnest(con.confkey) with ordinality k(n, i)
               join pg_catalog.pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.i)::text[] as ref_columns
  from pg_catalog.pg_constraint con
  join pg_catalog.pg_class c on c.oid = con.conrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_class r on r.oid = con.confrelid
  left join pg_catalog.pg_namespace rn on rn.oid = r.relnamespace
  where n.nspname = 'public' and con.contype in ('p', 'u', 'f')
  order by c.relname, con.conname`;

const POLICIES = `
  select c.relname as table, p.polname as name,
         case p.polcmd when 'r' then 'select' when 'a' then 'insert' when 'w' then 'update'
                       when 'd' then 'delete' else 'all' end as command,
         case when p.polpermissive then 'permissive' else 'restrictive' end as permissive,
         array(select case when r = 0 then 'public' else pg_catalog.pg_get_userbyid(r) end
               from unnest(p.polroles) r order by 1)::text[] as roles,
         obj_description(p.oid, 'pg_policy') as comment
  from pg_catalog.pg_policy p
  join pg_catalog.pg_class c on c.oid = p.polrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public'
  order by c.relname, p.polname`;

/** Mermaid's erDiagram attribute types allow letters, digits, `_`, `-`, `()` and `[]` only. */
function mermaidType(type: string): string {
  return type
    .replace(/ /g, '_')
    .replace(/,/g, '-')
    .replace(/[^A-Za-z0-9_\-()[\]]/g, '');
}

/** A Markdown table cell: one line, pipes escaped. */
function cell(text: string | null | undefined): string {
  return (text ?? '').replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

const entity = (schema: string, table: string) => (schema === 'public' ? table : `${schema}_${table}`);

export async function renderSchemaDoc(db: Queryable): Promise<string> {
  const tables = (await db.query<{ name: string; comment: string | null; rls: boolean }>(TABLES)).rows;
  const columns = (await db.query<Column>(COLUMNS)).rows;
  const constraints = (
    await db.query<{
      name: string;
      kind: string;
      table: string;
      columns: string[];
      ref_schema: string | null;
      ref_table: string | null;
      ref_columns: string[];
    }>(CONSTRAINTS)
  ).rows;
  const policies = (await db.query<Policy>(POLICIES)).rows;

  const pk = new Map<string, string[]>();
  const unique: { table: string; columns: string[] }[] = [];
  const fks: ForeignKey[] = [];
  for (const c of constraints) {
    if (c.kind === 'p') pk.set(c.table, c.columns);
    if (c.kind === 'p' || c.kind === 'u') unique.push({ table: c.table, columns: c.columns });
    if (c.kind === 'f')
      fks.push({
        name: c.name,
        table: c.table,
        columns: c.columns,
        refSchema: c.ref_schema!,
        refTable: c.ref_table!,
        refColumns: c.ref_columns,
      });
  }
  const colsOf = (t: string) => columns.filter((c) => c.table === t);
  const isFk = (t: string, col: string) => fks.some((f) => f.table === t && f.columns.includes(col));

  const out: string[] = [
    '# Schema reference',
    '',
    '<!-- Generated from the catalog of a database migrated to head by `npm run db -- docs` (src/docs/schema.ts).',
    '     Do not edit by hand: change the migration (its `comment on` texts), then regenerate; tests/docs fails when this file is stale. -->',
    '',
    `The ${tables.length} tables of schema \`public\`, as the migrations in \`sql/migrations\` leave them. Descriptions are`,
    "the database's own `comment on` texts; policies are the ones `sql/policies` defines (see [security.md](security.md)).",
    '',
    '## Entity–relationship diagram',
    '',
    '```mermaid',
    'erDiagram',
  ];
  // Tables outside public that public tables reference (auth.users): shown with the referenced columns only.
  const external = new Map<string, Set<string>>();
  for (const f of fks)
    if (f.refSchema !== 'public') {
      const key = `${f.refSchema}.${f.refTable}`;
      const set = external.get(key) ?? new Set<string>();
      for (const c of f.refColumns) set.add(c);
      external.set(key, set);
    }
  for (const [key, cols] of [...external].sort(([a], [b]) => a.localeCompare(b))) {
    const [schema, table] = key.split('.') as [string, string];
    out.push(`  ${entity(schema, table)} {`);
    for (const c of [...cols].sort()) out.push(`    uuid ${c} PK`);
    out.push('  }');
  }
  for (const t of tables) {
    out.push(`  ${t.name} {`);
    for (const c of colsOf(t.name)) {
      const keys = [pk.get(t.name)?.includes(c.name) ? 'PK' : '', isFk(t.name, c.name) ? 'FK' : '']
        .filter(Boolean)
        .join(', ');
      out.push(`    ${mermaidType(c.type)} ${c.name}${keys ? ` ${keys}` : ''}`);
    }
    out.push('  }');
  }
  for (const f of [...fks].sort((a, b) =>
    `${a.refTable}.${a.table}.${a.name}`.localeCompare(`${b.refTable}.${b.table}.${b.name}`),
  )) {
    const nullable = f.columns.some((col) => !colsOf(f.table).find((c) => c.name === col)?.notnull);
    const one = unique.some((u) => u.table === f.table && u.columns.every((c) => f.columns.includes(c)));
    out.push(
      `  ${entity(f.refSchema, f.refTable)} ${nullable ? '|o' : '||'}--${one ? 'o|' : 'o{'} ${f.table} : "${f.columns.join(', ')}"`,
    );
  }
  out.push('```', '', '## Tables', '');
  for (const t of tables) {
    out.push(`### ${t.name}`, '', cell(t.comment) || '_(no comment)_', '');
    out.push('| column | type | null | default | key | description |', '| --- | --- | --- | --- | --- | --- |');
    for (const c of colsOf(t.name)) {
      const keys: string[] = [];
      if (pk.get(t.name)?.includes(c.name)) keys.push('PK');
      for (const f of fks.filter((f) => f.table === t.name && f.columns.includes(c.name)))
        keys.push(
          `FK → ${f.refSchema === 'public' ? '' : `${f.refSchema}.`}${f.refTable}.${f.refColumns[f.columns.indexOf(c.name)]}`,
        );
      out.push(
        `| \`${c.name}\` | ${cell(c.type)} | ${c.notnull ? 'not null' : 'null'} | ${c.default === null ? '' : `\`${cell(c.default)}\``} | ${keys.join('<br>')} | ${cell(c.comment)} |`,
      );
    }
    const own = policies.filter((p) => p.table === t.name);
    out.push(
      '',
      `Row level security: ${t.rls ? 'on' : '**off**'}; ${own.length} ${own.length === 1 ? 'policy' : 'policies'}.`,
    );
    if (own.length) {
      out.push('', '| policy | command | roles | description |', '| --- | --- | --- | --- |');
      for (const p of own)
        out.push(
          `| \`${cell(p.name)}\` | ${p.command}${p.permissive === 'permissive' ? '' : ' (restrictive)'} | ${p.roles.join(', ')} | ${cell(p.comment)} |`,
        );
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
