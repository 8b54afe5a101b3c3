/**
 * A `fetch` that never opens a socket: it builds the web-standard Request and hands it to the gateway's
 * handler. Passed to supabase-js as `global.fetch`, it makes every suite run in-process at function-call speed.
 */
export type Handle = (request: Request) => Promise<Response>;

export function fetchAdapter(handle: Handle): typeof fetch {
  return async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request && init === undefined ? input : new Request(input, init);
    return handle(request);
  };
}
