import { openIsolatedPGlite } from './src/db/pglite-isolated.js';
let t0 = performance.now();
const db = await openIsolatedPGlite({});
console.log('open', Math.round(performance.now()-t0));
await db.exec(`create table t(x int)`);
await db.transaction(async (tx) => { await tx.query(`insert into t values (1),(2)`); });
await new Promise((r) => setTimeout(r, 3000));
db.setStatementTimeout(1000);
for (let i = 0; i < 2; i++) {
t0 = performance.now();
const slow = db.query(`select count(*) from generate_series(1,30000000)`).catch((e) => `err ${e.code} ${e.message} at ${Math.round(performance.now()-t0)}`);
const fast = db.query(`select count(*) n from t`).then((r) => `fast ${JSON.stringify(r.rows)} at ${Math.round(performance.now()-t0)}`);
console.log(await slow); console.log(await fast, db.restarts());
await new Promise((r) => setTimeout(r, 2000));
}
await db.close();
console.log('closed');
