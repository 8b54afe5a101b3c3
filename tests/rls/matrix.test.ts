/**
 * The whole persona × table × operation matrix (tests/rls/matrix.json) asserted through supabase-js. One
 * test per table and operation: the six personas act at the same time (concurrent requests), each cell is
 * observed and named with the matrix vocabulary, and every cell is its own assertion.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { attachEvidence } from '../../src/report/test-evidence.js';
import { loadMatrix, OPERATIONS, PERSONAS } from '../../src/harness/matrix.js';
import { observe, selectTruth } from './support/cells.js';
import { describeEachEnvironment } from './support/environments.js';
import { buildWorld, destroyWorld, type World } from './support/world.js';
import { MATRIX_PATH } from '../paths.js';

const matrix = loadMatrix(MATRIX_PATH);

describeEachEnvironment('isolation matrix through supabase-js', (ctx) => {
  let world: World;
  let asserted = 0;
  let startedAt = 0;
  beforeAll(async () => {
    startedAt = performance.now();
    world = await buildWorld(ctx().env);
  });
  afterAll(async () => {
    if (world) await destroyWorld(world);
    const cells = Object.keys(matrix.tables).length * PERSONAS.length * OPERATIONS.length;
    console.log(
      `[figures] ${ctx().env.name}: matrix cells asserted through the API: ${asserted} of ${cells} in ${Math.round(performance.now() - startedAt)} ms`,
    );
  });

  for (const [table, entry] of Object.entries(matrix.tables).sort(([a], [b]) => a.localeCompare(b))) {
    for (const op of OPERATIONS) {
      const expected = PERSONAS.map((p) => `${p}=${entry.expected[p][op]}`).join(' ');
      it(`${table} · ${op}: ${expected}`, async ({ task }) => {
        const w = world;
        const truth = op === 'select' ? await selectTruth(w, table, entry.owner_column) : undefined;
        if (truth) expect(truth.all.length, `${table}: the fixture must hold rows`).toBeGreaterThan(0);
        // All six personas at once.
        const observed = await Promise.all(PERSONAS.map((p) => observe(w, table, entry.owner_column, p, op, truth)));
        // The observed cells, as evidence for the report's grid (engine from the environment's name).
        const name = ctx().env.name;
        attachEvidence(task, {
          engine: /pglite/i.test(name) ? 'pglite' : /postgres/i.test(name) ? 'postgresql' : null,
          evidence: {
            kind: 'matrix-cells',
            cells: PERSONAS.map((p, i) => ({
              table,
              operation: op,
              persona: p,
              expected: entry.expected[p][op],
              observed: observed[i]!.outcome,
            })),
          },
        });
        PERSONAS.forEach((p, i) => {
          const o = observed[i]!;
          expect
            .soft(
              o.outcome,
              `${table}.${op}.${p}: expected ${entry.expected[p][op]}, observed ${o.outcome} (${o.detail})`,
            )
            .toBe(entry.expected[p][op]);
          asserted += 1;
        });
      });
    }
  }
});
