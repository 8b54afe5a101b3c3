import { ApiError, errorResponse } from '../rest/errors.js';

/**
 * DNS-rebinding guard for `serve`: it prints a service_role key, and a web page on any origin can make a
 * browser send requests to 127.0.0.1 under its own host name. Like Vite's `server.allowedHosts` and Jupyter's
 * `allow_remote_access`, only requests whose Host names this machine's loopback (localhost, *.localhost,
 * 127.0.0.1 and the rest of 127/8, [::1]) or a host the user configured (`--allowed-hosts`) are answered;
 * others get 403 before anything else runs.
 */
const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** The host name of a Host header without its port, lower-cased ("[::1]:54321" → "[::1]"); null if malformed. */
export function hostName(header: string): string | null {
  const h = header.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]\s/@]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1]!.replace(/\.$/, '') : null;
}

export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || IPV4_LOOPBACK.test(name) || name === '[::1]';
}

/** Parses `--allowed-hosts a.example,*.dev.example`: names, optionally with a leading `*.` wildcard. */
export function parseAllowedHosts(value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  for (const n of names) {
    const bare = n.startsWith('*.') ? n.slice(2) : n;
    if (hostName(bare) !== bare || bare.includes('*'))
      throw new Error(
        `--allowed-hosts: "${n}" is not a host name (use names like app.example or *.example, without port or scheme)`,
      );
  }
  return names;
}

export function hostAllowed(header: string | null, allowed: readonly string[]): boolean {
  if (header === null) return false;
  const name = hostName(header);
  if (name === null) return false;
  if (isLoopbackName(name)) return true;
  return allowed.some((a) => (a.startsWith('*.') ? name.endsWith(a.slice(1)) : name === a));
}

/** Wraps a handler: requests with a Host outside the allow-list get 403 and never reach it. */
export function guardHost(
  handle: (r: Request) => Promise<Response>,
  allowed: readonly string[],
): (r: Request) => Promise<Response> {
  return async (request) => {
    const host = request.headers.get('host');
    if (hostAllowed(host, allowed)) return handle(request);
    const err = new ApiError(
      403,
      'SSDB403',
      `Host ${host === null ? '(none)' : JSON.stringify(host)} is not allowed`,
      'This local server answers only requests addressed to a loopback name (localhost, *.localhost, 127.0.0.1, [::1]), which protects its keys from DNS rebinding.',
      'To reach it under another name, start serve with --allowed-hosts <name>[,<name>…].',
    );
    return errorResponse(err, request.method.toUpperCase());
  };
}
