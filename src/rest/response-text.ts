/**
 * The text a gateway Response was built from, remembered beside it. The HTTP transport (http-server.ts)
 * writes that text straight to the socket instead of reading the Response's body stream back into a buffer
 * (a ReadableStream read, a copy and several promises per request: ~5 % of a request's CPU under the
 * throughput bench, issue 17 item 5). A Response's body never changes after it is built, so the text is
 * exactly what the stream would yield; any other Response (wrapped, rebuilt, fetched) is read as before.
 */
const texts = new WeakMap<Response, string>();

/** `new Response(text, init)`, with the text remembered for the HTTP transport. */
export function textResponse(text: string | null, init: ResponseInit): Response {
  const response = new Response(text, init);
  if (text !== null) texts.set(response, text);
  return response;
}

/** The text `response` was built from by textResponse, if it was. */
export function responseText(response: Response): string | undefined {
  return texts.get(response);
}
