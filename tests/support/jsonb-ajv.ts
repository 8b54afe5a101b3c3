import { Ajv, type ValidateFunction } from 'ajv';
import { loadColumnSchemas, type ColumnSchema } from '../../src/schema/jsonb-schemas.js';

/**
 * The reference verdicts for the JSONB columns' JSON Schemas (fixtures/schemas): Ajv, strict, so an unknown
 * keyword is an error and no part of a schema is silently ignored. One home for the tests that compare the
 * database's private.jsonb_matches_schema with it (jsonb-schemas.test.ts, jsonb-schemas-property.test.ts).
 */
export const schemas = loadColumnSchemas();
export const ajv = new Ajv({ strict: true, allErrors: true });
ajv.addKeyword('x-db-columns');
export const validators = new Map<string, ValidateFunction>(schemas.map((s) => [s.name, ajv.compile(s.schema)]));

/** Columns whose exact validators predate 0034 (0006): named here, so a new column cannot slip past both. */
export const EXACT_VALIDATORS: Record<string, string> = {
  'public.meeting_transcripts.segments': 'meeting_transcripts_segments_valid',
  'public.meeting_analyses.dimension_scores': 'meeting_analyses_dimension_scores_valid',
  'public.session_feedback.dimension_scores': 'session_feedback_dimension_scores_valid',
};

export const columnName = (c: ColumnSchema['columns'][number]) => `${c.schema}.${c.table}.${c.column}`;

/** The schemas that private.jsonb_matches_schema guards (at least one column not under an exact validator). */
export const checkedSchemas = schemas.filter((s) => !s.columns.every((c) => EXACT_VALIDATORS[columnName(c)]));
