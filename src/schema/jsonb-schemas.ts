import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The JSON Schemas of the JSONB columns (fixtures/schemas/*.schema.json): one home for reading them, for the
 * generated TypeScript types (src/schema/jsonb-types.ts), the database's schema constraints (migration 0034)
 * and the tests that prove the three agree.
 */
export const SCHEMAS_DIR = fileURLToPath(new URL('../../fixtures/schemas/', import.meta.url));

/** Keywords that only document; the database constraint and the drift check leave them out. */
const ANNOTATIONS = new Set(['$schema', '$id', 'title', 'description', 'x-db-columns', 'default', 'examples']);

export type JsonSchema = Record<string, unknown>;

export interface ColumnSchema {
  /** File name without .schema.json, e.g. practice-metrics. */
  name: string;
  file: string;
  schema: JsonSchema;
  /** "public.table.column" entries from x-db-columns. */
  columns: { schema: string; table: string; column: string }[];
}

export function loadColumnSchemas(dir: string = SCHEMAS_DIR): ColumnSchema[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.schema.json'))
    .sort()
    .map((f) => {
      const schema = JSON.parse(readFileSync(`${dir}${f}`, 'utf8')) as JsonSchema;
      const columns = ((schema['x-db-columns'] as string[] | undefined) ?? []).map((c) => {
        const [s, table, column] = c.split('.');
        if (!s || !table || !column) throw new Error(`${f}: x-db-columns entry "${c}" is not schema.table.column`);
        return { schema: s, table, column };
      });
      return { name: f.replace(/\.schema\.json$/, ''), file: `${dir}${f}`, schema, columns };
    });
}

/** The schema without annotation keywords, recursively (property names are kept whatever they are called). */
export function withoutAnnotations(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutAnnotations);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (ANNOTATIONS.has(k)) continue;
    out[k] =
      k === 'properties'
        ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([p, s]) => [p, withoutAnnotations(s)]))
        : withoutAnnotations(v);
  }
  return out;
}

/** practice-metrics → PracticeMetrics */
export function typeName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
}
