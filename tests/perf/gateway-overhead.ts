/**
 * Gateway overhead: the same request through the in-process fetch adapter vs the very SQL the gateway runs,
 * replayed directly on the Database (same transaction, same set_config prelude, same statement, same params).
 * The difference is what the gateway itself costs per request: URL/JWT/grammar parsing, planning, Request and
 * Response objects. A third row shows a bare `db.query` of an equivalent hand-written query for scale.
 *
 *   npx tsx tests/perf/gateway-overhead.ts            # PGlite (in memory)
 *   DATABASE_URL=postgres://… npx tsx tests/perf/gateway-overhead.ts
 *   N=5000 npx tsx tests/perf/gateway-overhead.ts
 */
import { openDatabase } from '../../src/db/open.js';
import { createGateway } from '../../src/rest/index.js';
import { recordingDatabase } from '../../src/bench/capture.js';
import { summarise, Verdicts } from '../../src/harness/stats.js';
import { provenance, writeResults } from '../../src/report/results.js';
import { JWT_SECRET, SUPABASE_URL, USER_A, prepareFixture, token } from '../rest/support/fixture.js';

// Nothing here is gated (the figures are evidence), so N only sets the precision of the printed percentiles:
// 1,000 timed requests per side leave 10 samples beyond p99, and halve the bench's share of `npm test`
// (2 cases x 3 sides x (N + warm-up) PGlite requests). N=5000 for a finer tail.
const N = Number(process.env.N ?? 1000);
const WARMUP = Math.min(200, N);

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return out;
}

const fmt = (n: number) => n.toFixed(3).padStart(8);

async function main(): Promise<void> {
  const startedAt = new Date();
  const base = await openDatabase();
  const verdicts = new Verdicts(base.engine === 'pglite' ? 'pglite' : 'postgresql');
  try {
    if (base.engine === 'pglite') await prepareFixture(base);
    else if (!(await base.query(`select to_regclass('public.items') is not null as ok`)).rows[0]?.ok)
      await prepareFixture(base);
    const rec = recordingDatabase(base, { rollback: false });
    const gateway = createGateway({ db: rec, jwtSecret: JWT_SECRET });
    const userA = await token({ sub: USER_A, role: 'authenticated', extra: { aud: 'authenticated' } });

    const cases = [
      {
        name: 'anon list  GET /items?select=id,name,price&category=eq.b&order=id&limit=10',
        path: '/items?select=id,name,price&category=eq.b&order=id&limit=10',
        headers: {} as Record<string, string>,
        bare: {
          sql: `select id, name, price from public.items where category = $1 order by id limit 10`,
          params: ['b'],
        },
      },
      {
        name: 'user embed GET /parents?select=id,name,children(id,label) (RLS)',
        path: '/parents?select=id,name,children(id,label)',
        headers: { Authorization: `Bearer ${userA}` },
        bare: { sql: `select p.id, p.name from public.parents p where p.owner_id = $1`, params: [USER_A] },
      },
    ];

    console.log(`gateway overhead on ${base.description}; N=${N} after ${WARMUP} warm-up requests; times in ms`);
    for (const c of cases) {
      const url = `${SUPABASE_URL}/rest/v1${c.path}`;
      const viaGateway = async () => {
        const res = await gateway.fetch(url, { headers: c.headers });
        if (res.status !== 200) throw new Error(`${c.path}: HTTP ${res.status} ${await res.text()}`);
        await res.text();
      };
      // The first request also loads the schema cache; record the statements of the second.
      await viaGateway();
      rec.take();
      await viaGateway();
      const statements = rec.take();
      if (statements.length !== 2)
        throw new Error(`expected the prelude and one statement, recorded ${statements.length}`);
      const sameSql = () =>
        base.transaction(async (tx) => {
          for (const s of statements) await tx.query(s.sql, s.params);
        });
      const g = summarise(await time(viaGateway));
      rec.take();
      const d = summarise(await time(sameSql));
      const b = summarise(await time(() => base.query(c.bare.sql, c.bare.params)));
      console.log(`\n${c.name}`);
      console.log(`  ${'path'.padEnd(44)}     p50      p95      p99     mean`);
      console.log(
        `  ${'gateway (in-process fetch)'.padEnd(44)}${fmt(g.p50)} ${fmt(g.p95)} ${fmt(g.p99)} ${fmt(g.mean)}`,
      );
      console.log(
        `  ${'same SQL direct (tx + prelude + statement)'.padEnd(44)}${fmt(d.p50)} ${fmt(d.p95)} ${fmt(d.p99)} ${fmt(d.mean)}`,
      );
      console.log(
        `  ${'bare db.query (no tx, no role, no JSON)'.padEnd(44)}${fmt(b.p50)} ${fmt(b.p95)} ${fmt(b.p99)} ${fmt(b.mean)}`,
      );
      console.log(
        `  gateway overhead per request: p50 ${(g.p50 - d.p50).toFixed(3)} ms, mean ${(g.mean - d.mean).toFixed(3)} ms`,
      );
      const id = c.path.startsWith('/items') ? 'anon_list' : 'user_embed';
      // Reported, not gated: an in-process difference of two sub-millisecond medians is evidence, not a gate.
      verdicts.measured(`perf.gateway_overhead.${id}`, `gateway (in-process) vs the same SQL direct: ${c.name}`, {
        gatewayP50Ms: g.p50,
        gatewayP95Ms: g.p95,
        gatewayP99Ms: g.p99,
        directP50Ms: d.p50,
        directP95Ms: d.p95,
        directP99Ms: d.p99,
        bareP50Ms: b.p50,
        overheadP50Ms: g.p50 - d.p50,
        ratioP50: g.p50 / d.p50,
        n: N,
      });
    }
    console.log(
      `evidence: ${writeResults('perf-gateway-overhead', provenance(base.description, startedAt), verdicts.records)}`,
    );
  } finally {
    await base.close();
  }
}

await main();
