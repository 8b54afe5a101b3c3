import { afterEach, describe, expect, it } from 'vitest';
import { listen, type RunningServer } from '../../src/rest/http-server.js';
import { responseText, textResponse } from '../../src/rest/response-text.js';

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

// A textResponse has no body stream until something reads it through the web API (building the stream was
// ~23 µs of CPU per request): every body member must still answer exactly as a plain Response with that text.
describe('a textResponse read through the web API', () => {
  const init = { status: 201, statusText: 'Created', headers: { 'content-type': 'application/json', 'x-a': 'b' } };
  const plain = () => new Response(TEXT, init);
  const lazy = () => textResponse(TEXT, init);

  it('is a Response with the same status, headers and body members', async () => {
    for (const make of [plain, lazy]) {
      const r = make();
      expect(r).toBeInstanceOf(Response);
      expect([r.status, r.statusText, r.ok, r.headers.get('x-a'), r.bodyUsed]).toEqual([
        201,
        'Created',
        true,
        'b',
        false,
      ]);
    }
    const bytes = async (r: Response) => new Uint8Array(await r.arrayBuffer());
    const readers: ((r: Response) => Promise<unknown>)[] = [
      (r) => r.text(),
      (r) => r.json(),
      bytes,
      async (r) => (await r.blob()).text(),
      (r) => (r as Response & { bytes(): Promise<Uint8Array> }).bytes(),
      (r) => new Response(r.body).text(),
    ];
    for (const read of readers) expect(await read(lazy())).toEqual(await read(plain()));
  });

  it('is used up once read, and then refuses a second read and a clone as any Response does', async () => {
    const r = lazy();
    expect(responseText(r)).toBe(TEXT);
    expect(await r.text()).toBe(TEXT);
    expect(r.bodyUsed).toBe(true);
    expect(responseText(r)).toBeUndefined(); // the transport then reads it as any other Response
    await expect(r.text()).rejects.toThrow(TypeError);
    expect(() => r.clone()).toThrow(TypeError);
  });

  it('clones into an independent Response; reading the clone leaves the original unread', async () => {
    const r = lazy();
    const c = r.clone();
    expect(await c.text()).toBe(TEXT);
    expect([c.status, c.headers.get('x-a'), r.bodyUsed, responseText(r)]).toEqual([201, 'b', false, TEXT]);
    expect(await r.json()).toEqual(JSON.parse(TEXT));
    // Its stream, once taken, is the body: taking it twice gives the same stream, as for any Response.
    const s = lazy();
    expect(s.body).toBe(s.body);
    expect(textResponse(null, { status: 204 }).body).toBeNull();
  });
});
