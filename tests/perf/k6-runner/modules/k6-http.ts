/** The subset of `k6/http` the runner implements: synchronous get/post/put/patch/del/request, k6's Response. */
import { bridge } from '../bridge.js';
import type { HttpResponseMsg } from '../protocol.js';

interface Params {
  headers?: Record<string, string>;
  tags?: Record<string, string>;
  timeout?: string | number;
}

type Body = string | Record<string, unknown> | null | undefined;

export class Response {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly url: string;
  readonly error: string;
  readonly error_code: number;
  readonly timings: { duration: number; waiting: number };
  readonly request: { method: string; url: string };

  constructor(r: HttpResponseMsg, method: string) {
    this.status = r.status;
    this.body = r.body;
    this.headers = r.headers;
    this.url = r.url;
    this.error = r.error;
    this.error_code = r.error_code;
    this.timings = r.timings;
    this.request = { method, url: r.url };
  }

  /** Parses the body as JSON; with a selector (`a.b.0`), returns that part of it. */
  json(selector?: string): unknown {
    let v: unknown = JSON.parse(this.body);
    if (selector)
      for (const part of selector.split('.'))
        v = v === null || v === undefined ? undefined : (v as Record<string, unknown>)[part];
    return v;
  }
}

function timeoutMs(t: Params['timeout']): number {
  if (t === undefined) return 60_000;
  if (typeof t === 'number') return t;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(t);
  if (!m) throw new Error(`http params.timeout "${t}" is not a duration`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'];
}

export function request(method: string, url: string, body?: Body, params: Params = {}): Response {
  const headers = { ...(params.headers ?? {}) };
  let text: string | null = null;
  if (typeof body === 'string') text = body;
  else if (body !== null && body !== undefined) {
    // k6 form-encodes an object body.
    text = new URLSearchParams(Object.entries(body).map(([k, v]) => [k, String(v)])).toString();
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
  }
  const r = bridge().http({
    type: 'http',
    method: method.toUpperCase(),
    url,
    body: text,
    headers,
    tags: params.tags ?? {},
    timeoutMs: timeoutMs(params.timeout),
  });
  return new Response(r, method.toUpperCase());
}

export const get = (url: string, params?: Params) => request('GET', url, null, params);
export const head = (url: string, params?: Params) => request('HEAD', url, null, params);
export const post = (url: string, body?: Body, params?: Params) => request('POST', url, body, params);
export const put = (url: string, body?: Body, params?: Params) => request('PUT', url, body, params);
export const patch = (url: string, body?: Body, params?: Params) => request('PATCH', url, body, params);
export const del = (url: string, body?: Body, params?: Params) => request('DELETE', url, body, params);

export default { request, get, head, post, put, patch, del };
