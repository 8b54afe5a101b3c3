/**
 * `npm run test:pgtap [-- file ...]`: the pgTAP suite (src/harness/pgtap/run.ts) over this directory's files,
 * its helpers (support/helpers.sql) and the expected-outcome matrix (tests/rls/matrix.json).
 */
import { runPgtapSuite } from '../../src/harness/pgtap/run.js';
import { PGTAP_SUITE } from '../paths.js';

runPgtapSuite(PGTAP_SUITE, process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`test:pgtap: ${e.stack ?? e.message}`);
    process.exit(1);
  },
);
