/**
 * `npm run bench:auth-realtime` (not part of `npm test`): serve's local Auth and Realtime figures on both
 * engines, through supabase-js over real HTTP and WebSocket, with production settings (bcrypt cost 10):
 *   - sign-in latency: signInWithPassword round trips (N_SIGNIN);
 *   - change delivery: from sending a service_role UPDATE of a meeting's status to the owner's
 *     postgres_changes callback (N_CHANGES), which spans commit, capture (trigger queue on PGlite, wal2json
 *     on PostgreSQL), the per-subscriber RLS check and the WebSocket;
 *   - serve start-up is measured by tests/perf/serve-startup.ts (part of `npm run test:perf`).
 * Prints p50/p95/p99; exits 1 only when a wide ceiling is missed (shared machines are noisy).
 * PostgreSQL: DATABASE_URL (a superuser; a scratch database is created) or a throw-away cluster.
 *
 *   npx tsx tests/bench/auth-realtime.ts [N_CHANGES] [N_SIGNIN]
 */
import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { createAppClient, createServerClient } from '../../src/auth/client.js';
import { formatMs, summarise, Verdicts } from '../../src/harness/stats.js';
import { provenance, writeResults, type CheckRecord } from '../../src/report/results.js';
import { createScratchDatabase, startEphemeralCluster } from '../../src/db/ephemeral-cluster.js';
import { DEV_JWT_SECRET, startServer, type Running } from '../../src/serve/start.js';

const N_CHANGES = Number(process.argv[2] ?? 100);
const N_SIGNIN = Number(process.argv[3] ?? 20);
const CEILING_MS = 5000;
const PASSWORD = 'benchmark password';

const records: CheckRecord[] = [];
const startedAt = new Date();

async function bench(label: 'pglite' | 'postgresql', running: Running): Promise<boolean> {
  const app: SupabaseClient = await createAppClient(running.url, running.anonKey);
  const service = createServerClient(running.url, running.serviceRoleKey);
  const email = `bench.${randomUUID().slice(0, 8)}@example.test`;
  const up = await app.auth.signUp({ email, password: PASSWORD });
  if (up.error) throw up.error;
  const signIns: number[] = [];
  for (let i = 0; i < N_SIGNIN; i++) {
    const t0 = performance.now();
    const r = await app.auth.signInWithPassword({ email, password: PASSWORD });
    signIns.push(performance.now() - t0);
    if (r.error) throw r.error;
  }
  const uid = up.data.user!.id;
  const ins = await app
    .from('meetings')
    .insert({ user_id: uid, title: 'bench', storage_object_path: `${uid}/bench.webm` })
    .select('id')
    .single();
  if (ins.error) throw ins.error;
  const id = (ins.data as { id: string }).id;
  let resolveNext: ((at: number) => void) | undefined;
  await new Promise<void>((resolve, reject) => {
    app
      .channel('bench')
      .on('postgres_changes', { event: 'UPDATE', schema: 'public', table: 'meetings', filter: `id=eq.${id}` }, () =>
        resolveNext?.(performance.now()),
      )
      .subscribe((status, err) =>
        status === 'SUBSCRIBED' ? resolve() : status === 'CHANNEL_ERROR' ? reject(err) : undefined,
      );
  });
  const statuses = ['queued', 'transcribing'];
  const delivery: number[] = [];
  for (let i = 0; i < N_CHANGES; i++) {
    const got = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`change ${i} not delivered in 30 s`)), 30_000);
      resolveNext = (at) => {
        clearTimeout(timer);
        resolve(at);
      };
    });
    const t0 = performance.now();
    const r = await service
      .from('meetings')
      .update({ status: statuses[i % 2] })
      .eq('id', id);
    if (r.error) throw r.error;
    delivery.push((await got) - t0);
  }
  await app.removeAllChannels();
  const s = summarise(signIns);
  const d = summarise(delivery);
  console.log(`[${label}] sign-in (bcrypt cost 10)  ${formatMs(s, 1)}`);
  console.log(`[${label}] change delivery           ${formatMs(d, 1)}`);
  const v = new Verdicts(label);
  v.gate(
    `bench-auth-realtime.${label}.sign_in_p99`,
    `${label} signInWithPassword p99 (bcrypt cost 10), wide ceiling`,
    s.p99,
    '<=',
    CEILING_MS,
    ' ms',
    s,
  );
  v.gate(
    `bench-auth-realtime.${label}.delivery_p99`,
    `${label} postgres_changes delivery p99, wide ceiling`,
    d.p99,
    '<=',
    CEILING_MS,
    ' ms',
    d,
  );
  records.push(...v.records);
  return v.failedGates === 0;
}

const base = {
  port: 0,
  schemas: ['public'],
  anonRole: 'anon',
  jwtSecret: DEV_JWT_SECRET,
  seed: false,
  migrate: true,
  log: () => undefined,
};
let ok = true;
{
  const running = await startServer({ ...base, cache: true });
  try {
    ok = (await bench('pglite', running)) && ok;
  } finally {
    await running.stop();
  }
}
{
  const cluster = process.env.DATABASE_URL ? null : await startEphemeralCluster();
  const scratch = await createScratchDatabase(process.env.DATABASE_URL ?? cluster!.url, 'bench_authrt');
  const running = await startServer({ ...base, cache: false, databaseUrl: scratch.url });
  try {
    ok = (await bench('postgresql', running)) && ok;
  } finally {
    await running.stop();
    await scratch.drop();
    await cluster?.stop();
  }
}
writeResults('bench-auth-realtime', provenance('PGlite + PostgreSQL', startedAt), records);
process.exit(ok ? 0 : 1);
