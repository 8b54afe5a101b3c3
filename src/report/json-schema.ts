import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';

/**
 * The JSON Schemas kept in src/report/schemas (controls catalogue, a suite's results file, compliance.json),
 * compiled once with Ajv. `check` returns one readable line per violation, each naming the JSON path.
 */
export type SchemaName = 'controls' | 'results' | 'compliance';

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const compiled = new Map<SchemaName, ValidateFunction>();

export function schemaPath(name: SchemaName): URL {
  return new URL(`./schemas/${name}.schema.json`, import.meta.url);
}

function validator(name: SchemaName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(schemaPath(name), 'utf8')) as object);
    compiled.set(name, v);
  }
  return v;
}

/** Violations of the named schema, e.g. `/records/3/status must be equal to one of the allowed values`; [] when valid. */
export function check(name: SchemaName, data: unknown): string[] {
  const v = validator(name);
  if (v(data)) return [];
  return (v.errors ?? []).slice(0, 10).map((e) => {
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
        : e.keyword === 'enum'
          ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)})`
          : '';
    return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${extra}`;
  });
}
