/**
 * The harness's data, named in one place: the code under src/harness takes these paths as arguments, so
 * nothing under src/ reads from tests/.
 */
import { fileURLToPath } from 'node:url';

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/** The expected-outcome matrix: persona × table × operation, asserted by pgTAP and by supabase-js. */
export const MATRIX_PATH = here('./rls/matrix.json');
/** The pgTAP test files (*.sql) and their SQL helpers. */
export const PGTAP_DIR = here('./pgtap/');
export const PGTAP_HELPERS = here('./pgtap/support/helpers.sql');
/** The hot-query catalogue of the benchmarks (tests/perf/queries.ts and `npm run bench`). */
export const HOT_QUERY_CATALOGUE = here('./perf/queries.json');

/** Everything the pgTAP suite reads besides the database. */
export const PGTAP_SUITE = { dir: PGTAP_DIR, helpersPath: PGTAP_HELPERS, matrixPath: MATRIX_PATH };
