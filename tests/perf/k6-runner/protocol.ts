import type { MessagePort } from 'node:worker_threads';
import type { Sample } from './metrics.js';

/** Messages between a VU worker and the runner (main thread). See vu.ts for the synchronous calls. */
export interface HttpRequestMsg {
  type: 'http';
  method: string;
  url: string;
  body: string | null;
  headers: Record<string, string>;
  tags: Record<string, string>;
  timeoutMs: number;
}

export interface HttpResponseMsg {
  status: number;
  body: string;
  headers: Record<string, string>;
  url: string;
  error: string;
  error_code: number;
  timings: { duration: number; waiting: number };
}

export type FromVu =
  | HttpRequestMsg
  | { type: 'next' }
  | { type: 'ready' }
  | { type: 'samples'; samples: Sample[] }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; text: string }
  | { type: 'options'; options: unknown; exports: string[] }
  | { type: 'setup-data'; json: string | null }
  | { type: 'done' }
  | { type: 'fatal'; message: string };

export type Role = 'init' | 'vu' | 'teardown';

export interface VuData {
  role: Role;
  scriptUrl: string;
  vu: number;
  env: Record<string, string>;
  /** JSON of setup()'s result (k6 passes a copy to every VU and to teardown). */
  setupJson: string | null;
  scenario: {
    name: string;
    executor: string;
    durationMs?: number;
    iterations?: number;
    maxDurationMs: number;
    exec: string;
    tags: Record<string, string>;
  } | null;
  /** Int32 flag the VU waits on while the runner answers a synchronous call. */
  flag: SharedArrayBuffer;
  port: MessagePort;
}
