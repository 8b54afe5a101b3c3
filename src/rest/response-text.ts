/**
 * A gateway Response built from a text, which the HTTP transport (http-server.ts) writes straight to the socket.
 *
 * Two costs are avoided per request (issue 17 item 5, measured hot in one process on Node 20): reading the
 * body stream back into a buffer (a ReadableStream read, a copy and several promises: ~5 % of a request's CPU
 * under the throughput bench), and building that stream at all — `new Response(text)` costs ~23 µs of CPU
 * (undici's body extraction creates a ReadableStream and its controller), `new Response(null)` ~1 µs. So a
 * TextResponse is a Response without a body of its own that keeps its text; only when something reads the body
 * through the web API (`text()`, `json()`, `body`, `clone()` …: the in-process fetch adapter, tests, the request
 * log reading an error) is a full Response with the same text made, once, and every body member answers from
 * it. A Response's body never changes after it is built, so the transport's text is exactly what those readers
 * see. Any other Response (wrapped, rebuilt, fetched) is read from its stream as before.
 */
class TextResponse extends Response {
  readonly #text: string;
  #full: Response | undefined;

  constructor(text: string, init: ResponseInit) {
    super(null, init);
    this.#text = text;
  }

  /** The text, unless the body was read through the web API (it is then used up, as for any Response). */
  static textOf(r: TextResponse): string | undefined {
    return r.#full?.bodyUsed ? undefined : r.#text;
  }

  /** The Response every body member answers from: the same text, status and headers, made on first use. */
  static full(r: TextResponse): Response {
    if (r.#full === undefined)
      r.#full = new Response(r.#text, { status: r.status, statusText: r.statusText, headers: r.headers });
    return r.#full;
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return TextResponse.full(this).arrayBuffer();
  }
  override blob(): Promise<Blob> {
    return TextResponse.full(this).blob();
  }
  override formData(): Promise<FormData> {
    return TextResponse.full(this).formData();
  }
  override json(): Promise<unknown> {
    return TextResponse.full(this).json();
  }
  override text(): Promise<string> {
    return TextResponse.full(this).text();
  }
  override clone(): Response {
    // Used up: the full Response's clone throws the TypeError any used Response's would.
    return this.#full ? this.#full.clone() : new TextResponse(this.#text, this);
  }
}
// `body` and `bodyUsed` are accessors of Response (undici); the DOM typings declare them as plain properties,
// which a subclass may not override with accessors in TypeScript, so they are defined on the prototype here.
Object.defineProperties(TextResponse.prototype, {
  body: {
    get(this: TextResponse) {
      return TextResponse.full(this).body;
    },
  },
  bodyUsed: {
    get(this: TextResponse) {
      return TextResponse.textOf(this) === undefined;
    },
  },
  // Newer than the typings (Node 20.19's undici has it).
  bytes: {
    value(this: TextResponse) {
      return (TextResponse.full(this) as Response & { bytes(): Promise<Uint8Array> }).bytes();
    },
    writable: true,
    configurable: true,
  },
});

/** A Response with `text` as its body (null: none), remembered for the HTTP transport. */
export function textResponse(text: string | null, init: ResponseInit): Response {
  return text === null ? new Response(null, init) : new TextResponse(text, init);
}

/** The text `response` was built from by textResponse, if it was and its body was not read since. */
export function responseText(response: Response): string | undefined {
  return response instanceof TextResponse ? TextResponse.textOf(response) : undefined;
}
