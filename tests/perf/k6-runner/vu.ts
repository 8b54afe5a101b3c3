/**
 * One k6 VU (or the init/setup and teardown contexts) in a worker thread. k6's script API is synchronous, so
 * a VU blocks on Atomics.wait while the runner on the main thread performs the HTTP request, then reads the
 * answer with receiveMessageOnPort — the VU's JavaScript sees `http.get(...)` return a Response, as in k6.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { setBridge, type Bridge } from './bridge.js';
import type { FromVu, HttpResponseMsg, VuData } from './protocol.js';

const data = workerData as VuData;
const flag = new Int32Array(data.flag);
const port = data.port;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function post(msg: FromVu): void {
  port.postMessage(msg);
}

/** Sends `msg` and blocks this thread until the runner answers. */
function call<T>(msg: FromVu): T {
  Atomics.store(flag, 0, 0);
  post(msg);
  const waited = Atomics.wait(flag, 0, 0, 10 * 60_000);
  const got = receiveMessageOnPort(port);
  if (waited === 'timed-out' || !got) throw new Error(`k6 runner did not answer a ${msg.type} call`);
  return got.message as T;
}

const vuTags = (): Record<string, string> =>
  data.scenario ? { scenario: data.scenario.name, ...data.scenario.tags } : {};

const b: Bridge = {
  http: (req) => call<HttpResponseMsg>({ ...req, tags: { ...vuTags(), ...req.tags } }),
  emit: (samples) => post({ type: 'samples', samples }),
  log: (level, text) => post({ type: 'log', level, text }),
  tags: vuTags,
  sleep: (ms) => void Atomics.wait(sleeper, 0, 0, Math.max(0, ms)),
};
setBridge(b);

const g = globalThis as Record<string, unknown>;
g.__ENV = { ...data.env };
g.__VU = data.vu;
g.__ITER = 0;
// k6's console goes to the runner's log, prefixed like k6's.
for (const level of ['log', 'info', 'warn', 'error'] as const) {
  console[level] = (...args: unknown[]) =>
    b.log(level === 'log' ? 'info' : level, args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
}

type Fn = (data?: unknown) => unknown;

async function main(): Promise<void> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(data.scriptUrl)) as Record<string, unknown>;
  } catch (e) {
    post({
      type: 'fatal',
      message: `script error during init: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
    });
    return;
  }
  const setupData = data.setupJson === null ? undefined : (JSON.parse(data.setupJson) as unknown);
  if (data.role === 'init') {
    let options: unknown;
    try {
      options = JSON.parse(JSON.stringify(mod.options ?? {}));
    } catch (e) {
      post({ type: 'fatal', message: `options must be plain data: ${(e as Error).message}` });
      return;
    }
    post({ type: 'options', options, exports: Object.keys(mod).filter((k) => typeof mod[k] === 'function') });
    if (typeof mod.setup === 'function') {
      try {
        const r = await (mod.setup as Fn)();
        post({ type: 'setup-data', json: r === undefined ? null : JSON.stringify(r) });
      } catch (e) {
        post({ type: 'fatal', message: `setup() threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` });
        return;
      }
    } else post({ type: 'setup-data', json: null });
    return;
  }
  if (data.role === 'teardown') {
    if (typeof mod.teardown === 'function') await (mod.teardown as Fn)(setupData);
    return;
  }
  const sc = data.scenario!;
  const fn = mod[sc.exec];
  if (typeof fn !== 'function') {
    post({ type: 'fatal', message: `scenario "${sc.name}": the script exports no function "${sc.exec}"` });
    return;
  }
  // Like k6, every VU is initialised before any starts iterating: wait until the runner says go.
  call<{ go: true }>({ type: 'ready' });
  const started = Date.now();
  const stopAt = started + (sc.executor === 'constant-vus' ? sc.durationMs! : sc.maxDurationMs);
  for (let iter = 0; Date.now() < stopAt; iter++) {
    if (sc.executor === 'per-vu-iterations' && iter >= sc.iterations!) break;
    if (sc.executor === 'shared-iterations' && !call<{ ok: boolean }>({ type: 'next' }).ok) break;
    g.__ITER = iter;
    const t0 = performance.now();
    try {
      await (fn as Fn)(setupData);
      b.emit([
        { metric: 'iterations', value: 1, tags: vuTags() },
        { metric: 'iteration_duration', value: performance.now() - t0, tags: vuTags() },
      ]);
    } catch (e) {
      // As in k6: an exception ends this iteration (logged), not the test.
      b.log('error', `VU ${data.vu} iteration ${iter}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
}

await main();
post({ type: 'done' });
