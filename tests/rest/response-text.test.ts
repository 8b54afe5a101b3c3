import { afterEach, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../../src/rest/http-server.js';
import { textResponse } from '../../src/rest/response-text.js';

// The HTTP transport writes a gateway Response's remembered text instead of reading its body stream back
// (src/rest/response-text.ts). These prove the bytes and Content-Length on the wire are the same either way,
// for multi-byte text, an empty body, and Responses the transport must read as before (not built by
// textResponse, rebuilt from another, or whose clone was read first).
const TEXT = '{"name":"héllo — ✓ 🎉","n":1}';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function wire(make: () => Response | Promise<Response>): Promise<{ body: string; length: string | null }> {
  server = await listen(async () => make());
  const res = await fetch(`${server.url}/x`);
  return { body: await res.text(), length: res.headers.get('content-length') };
}

describe('remembered response text on the HTTP transport', () => {
  const expected = { body: TEXT, length: String(Buffer.byteLength(TEXT)) };

  it('writes the remembered text with its UTF-8 byte length', async () => {
    expect(await wire(() => textResponse(TEXT, { status: 200 }))).toEqual(expected);
    expect(await wire(() => textResponse('', { status: 200 }))).toEqual({ body: '', length: '0' });
  });

  it('reads any other Response from its body as before, with the same result', async () => {
    expect(await wire(() => new Response(TEXT))).toEqual(expected);
    expect(
      await wire(() => {
        const r = textResponse(TEXT, { status: 200 });
        return new Response(r.body, r);
      }),
    ).toEqual(expected);
    expect(
      await wire(async () => {
        const r = textResponse(TEXT, { status: 200 });
        expect(await r.clone().text()).toBe(TEXT); // as the request log reads an error body
        return r;
      }),
    ).toEqual(expected);
  });
});
