/**
 * The expected-outcome matrix (its data is tests/rls/matrix.json; the caller names the file): persona × table × operation → outcome. It is data so
 * that two very different suites — pgTAP inside PostgreSQL and supabase-js through the API — assert the same
 * expectations, and so a reviewer can read the permission model without reading SQL. This module only
 * loads and validates it; what each outcome means is documented in the file's "vocabulary".
 */
import { readFileSync } from 'node:fs';
import { PERSONA_NAMES, type PersonaName } from '../auth/personas.js';

// The personas are defined once (src/auth/personas.ts); the matrix file must name exactly those (parseMatrix).
export const PERSONAS: readonly PersonaName[] = PERSONA_NAMES;
export type Persona = PersonaName;

export const OPERATIONS = ['select', 'insert', 'update', 'delete'] as const;
export type Operation = (typeof OPERATIONS)[number];

export const OUTCOMES = {
  select: ['denied', 'none', 'own', 'tier', 'all'],
  insert: ['denied', 'own', 'all'],
  update: ['denied', 'none', 'own', 'all'],
  delete: ['denied', 'none', 'own', 'all'],
} as const satisfies Record<Operation, readonly string[]>;

export type SelectOutcome = (typeof OUTCOMES.select)[number];
export type InsertOutcome = (typeof OUTCOMES.insert)[number];
export type UpdateOutcome = (typeof OUTCOMES.update)[number];
export type DeleteOutcome = (typeof OUTCOMES.delete)[number];
export type Outcome = SelectOutcome | InsertOutcome | UpdateOutcome | DeleteOutcome;

export interface Expectation {
  select: SelectOutcome;
  insert: InsertOutcome;
  update: UpdateOutcome;
  delete: DeleteOutcome;
}

export interface TableEntry {
  /** Column naming the owning user (auth.users.id); null for the catalogue. */
  owner_column: string | null;
  note: string;
  expected: Record<Persona, Expectation>;
}

export interface Matrix {
  vocabulary: Record<Operation, Record<string, string>>;
  personas: Record<Persona, string>;
  operations: Operation[];
  tables: Record<string, TableEntry>;
}

/** One assertion: the unit both suites iterate over. */
export interface Cell {
  table: string;
  persona: Persona;
  operation: Operation;
  expected: Outcome;
}

function fail(path: string, what: string): never {
  throw new Error(`${path}: ${what}`);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

/** Parses and validates the matrix; any unknown persona, operation or outcome is an error, not a skip. */
export function parseMatrix(json: unknown, path = 'matrix'): Matrix {
  const m = json as Partial<Matrix>;
  if (!m || typeof m !== 'object') fail(path, 'not a JSON object');
  if (!m.personas || !sameSet(Object.keys(m.personas), PERSONAS))
    fail(path, `personas must be exactly ${PERSONAS.join(', ')}`);
  if (!Array.isArray(m.operations) || !sameSet(m.operations, OPERATIONS))
    fail(path, `operations must be exactly ${OPERATIONS.join(', ')}`);
  if (!m.vocabulary || !sameSet(Object.keys(m.vocabulary), OPERATIONS))
    fail(path, 'vocabulary must document every operation');
  for (const op of OPERATIONS) {
    if (!sameSet(Object.keys(m.vocabulary[op]), OUTCOMES[op]))
      fail(path, `vocabulary.${op} must document exactly ${OUTCOMES[op].join(', ')}`);
  }
  if (!m.tables || Object.keys(m.tables).length === 0) fail(path, 'no tables');
  for (const [table, entry] of Object.entries(m.tables)) {
    if (!/^[a-z_][a-z0-9_]*$/.test(table)) fail(path, `bad table name ${table}`);
    if (!entry || typeof entry !== 'object' || !entry.expected) fail(path, `${table}: missing "expected"`);
    if (entry.owner_column !== null && typeof entry.owner_column !== 'string')
      fail(path, `${table}: owner_column must be a column name or null`);
    if (!sameSet(Object.keys(entry.expected), PERSONAS))
      fail(path, `${table}: expected must list exactly ${PERSONAS.join(', ')}`);
    for (const persona of PERSONAS) {
      const row = entry.expected[persona] as unknown as Record<string, string>;
      if (!row || !sameSet(Object.keys(row), OPERATIONS))
        fail(path, `${table}.${persona}: must give ${OPERATIONS.join(', ')}`);
      for (const op of OPERATIONS) {
        if (!(OUTCOMES[op] as readonly string[]).includes(row[op]!)) {
          fail(path, `${table}.${persona}.${op}: "${row[op]}" is not one of ${OUTCOMES[op].join(', ')}`);
        }
      }
    }
  }
  return m as Matrix;
}

export function loadMatrix(path: string): Matrix {
  return parseMatrix(JSON.parse(readFileSync(path, 'utf8')), path);
}

/** Every cell, in a stable order (table, persona, operation). */
export function matrixCells(matrix: Matrix): Cell[] {
  const cells: Cell[] = [];
  for (const table of Object.keys(matrix.tables).sort()) {
    for (const persona of PERSONAS) {
      for (const operation of OPERATIONS) {
        cells.push({ table, persona, operation, expected: matrix.tables[table]!.expected[persona][operation] });
      }
    }
  }
  return cells;
}
