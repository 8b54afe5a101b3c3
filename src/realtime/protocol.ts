/**
 * Phoenix channel frames as realtime-js speaks them. vsn 2.0.0 (realtime-js's default): a JSON array
 * `[join_ref, ref, topic, event, payload]`; vsn 1.0.0: a JSON object with the same five fields. Binary
 * frames (realtime-js's user-broadcast encoding) are not Phoenix JSON frames and are refused like garbage.
 */
export type Vsn = '1.0.0' | '2.0.0';

export interface Frame {
  join_ref: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: Record<string, unknown>;
}

export class FrameError extends Error {}

const str = (v: unknown) =>
  v === null || v === undefined ? null : typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

export function decodeFrame(text: string, vsn: Vsn): Frame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new FrameError('not a Phoenix frame: invalid JSON');
  }
  let parts: unknown[];
  if (vsn === '2.0.0') {
    if (!Array.isArray(raw) || raw.length !== 5)
      throw new FrameError('not a Phoenix frame: expected [join_ref, ref, topic, event, payload]');
    parts = raw;
  } else {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new FrameError('not a Phoenix frame: expected an object');
    const o = raw as Record<string, unknown>;
    parts = [o.join_ref, o.ref, o.topic, o.event, o.payload];
  }
  const [joinRef, ref, topic, event, payload] = parts;
  const jr = str(joinRef);
  const r = str(ref);
  if (
    jr === undefined ||
    r === undefined ||
    typeof topic !== 'string' ||
    topic === '' ||
    typeof event !== 'string' ||
    event === ''
  ) {
    throw new FrameError(
      'not a Phoenix frame: join_ref/ref must be strings or null, topic and event non-empty strings',
    );
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw new FrameError('not a Phoenix frame: payload must be an object');
  return { join_ref: jr, ref: r, topic, event, payload: payload as Record<string, unknown> };
}

export function encodeFrame(f: Frame, vsn: Vsn): string {
  return vsn === '2.0.0' ? JSON.stringify([f.join_ref, f.ref, f.topic, f.event, f.payload]) : JSON.stringify(f);
}
