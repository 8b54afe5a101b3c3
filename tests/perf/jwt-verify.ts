/**
 * JWT verification cost, before and after the key cache (src/rest/jwt.ts), side by side in one run: jose's
 * compactVerify handed the raw secret (it imports an HMAC CryptoKey on every call — what the gateway did)
 * vs verifyJwt, which reuses one imported key and, for a token it already verified, skips the signature check
 * (the verified-token cache: the same token every call, as a client sends it). Rounds alternate which side goes first; the verdict is the
 * median of the per-round ratios, so one disturbed round cannot decide it.
 *
 * Gate (npm test): cached ÷ uncached median time ≤ 1.0 — the cache must not be slower. The gain itself is
 * evidence (reports/results/perf-jwt-verify.json).
 *
 *   npx tsx tests/perf/jwt-verify.ts            N=1000 ROUNDS=5 by default
 */
import { compactVerify } from 'jose';
import { mintAccessToken } from '../../src/auth/tokens.js';
import { Verdicts, summarise } from '../../src/harness/stats.js';
import { provenance, writeResults } from '../../src/report/results.js';
import { secretKey, verifyJwt } from '../../src/rest/jwt.js';

const N = Number(process.env.N ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SECRET = 'jwt-verify-bench-secret-0123456789-abcdef';

async function timeEach(fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const startedAt = new Date();
const token = await mintAccessToken(SECRET, { sub: '00000000-0000-4000-8000-00000000000a' });
const raw = new TextEncoder().encode(SECRET);
const key = secretKey(SECRET);
const uncached = () => compactVerify(token, raw, { algorithms: ['HS256'] });
const cached = () => verifyJwt(token, key);
await timeEach(uncached);
await timeEach(cached);
const samples: Record<'uncached' | 'cached', number[]> = { uncached: [], cached: [] };
const ratios: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? (['uncached', 'cached'] as const) : (['cached', 'uncached'] as const);
  const median: Record<string, number> = {};
  for (const side of order) {
    const s = await timeEach(side === 'cached' ? cached : uncached);
    samples[side].push(...s);
    median[side] = summarise(s).p50;
  }
  ratios.push(median.cached! / median.uncached!);
}
const u = summarise(samples.uncached);
const c = summarise(samples.cached);
const f = (x: number) => x.toFixed(4);
console.log(`JWT HS256 verification, ${ROUNDS} rounds x ${N} per side, ms per verification`);
console.log(`  raw secret (import per call)  p50=${f(u.p50)} p95=${f(u.p95)} p99=${f(u.p99)}`);
console.log(
  `  verifyJwt (cached key+token)  p50=${f(c.p50)} p95=${f(c.p95)} p99=${f(c.p99)}  (includes the claim checks)`,
);
console.log(`  per-round ratios cached/uncached: ${ratios.map((x) => x.toFixed(3)).join(', ')}`);
const verdicts = new Verdicts(null);
verdicts.measured('perf.jwt.verify', 'JWT verification: raw secret per call vs cached CryptoKey', {
  uncachedP50Ms: u.p50,
  uncachedP95Ms: u.p95,
  uncachedP99Ms: u.p99,
  cachedP50Ms: c.p50,
  cachedP95Ms: c.p95,
  cachedP99Ms: c.p99,
});
verdicts.gate(
  'perf.jwt.cache_ratio',
  'JWT verification with the key cache ÷ without (median of per-round median ratios)',
  summarise(ratios).p50,
  '<=',
  1.0,
);
console.log(
  `evidence: ${writeResults('perf-jwt-verify', provenance('none (in-process crypto)', startedAt), verdicts.records)}`,
);
