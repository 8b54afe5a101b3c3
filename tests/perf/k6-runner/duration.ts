/** k6 duration strings ("30s", "1m30s", "500ms", "2h") to milliseconds; a bare number is seconds, as in k6. */
export function parseDuration(value: string | number, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`${what}: ${value} is not a non-negative number of seconds`);
    return value * 1000;
  }
  const s = value.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|us|µs|s|m|h)/gy;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001 };
  let ms = 0;
  let pos = 0;
  for (const m of s.matchAll(re)) {
    ms += Number(m[1]) * unit[m[2]!]!;
    pos = m.index + m[0].length;
  }
  if (s === '' || pos !== s.length)
    throw new Error(`${what}: "${value}" is not a k6 duration (e.g. "30s", "1m30s", "500ms")`);
  return ms;
}
