/**
 * `npm run test:gateway-property`: the renderer's property (tests/rest/render.test.ts runs 3000 cases in
 * `npm test`) at a heavier count, with no time cap. No database is used.
 *
 *   npm run test:gateway-property                  # 50 000 requests
 *   RUNS=200000 SEED=42 npm run test:gateway-property
 */
import fc from 'fast-check';
import { catalogCache } from './support/catalog.js';
import { gatewayProperty, type PropertyOutcome } from './support/request-arbitrary.js';

const runs = Number(process.env.RUNS ?? 50_000);
const seed = process.env.SEED === undefined ? undefined : Number(process.env.SEED);
const outcome: PropertyOutcome = { accepted: 0, refused: 0, byCode: new Map() };
const t0 = performance.now();
const details = await fc.check(gatewayProperty(catalogCache(), outcome), {
  numRuns: runs,
  ...(seed !== undefined ? { seed } : {}),
});
const seconds = (performance.now() - t0) / 1000;
if (details.failed) {
  console.error(fc.defaultReportMessage(details));
  console.log('0 passed, 1 failed');
  process.exit(1);
}
console.log(
  `gateway property: ${details.numRuns} requests in ${seconds.toFixed(1)} s (seed ${details.seed}): ${outcome.accepted} rendered in the allowed shape, ${outcome.refused} refused before SQL`,
);
console.log(
  `refusals by code: ${[...outcome.byCode]
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n}`)
    .join(', ')}`,
);
const ok = details.numRuns === runs && outcome.accepted > 0 && outcome.refused > 0;
console.log(ok ? '1 passed, 0 failed' : '0 passed, 1 failed');
process.exit(ok ? 0 : 1);
