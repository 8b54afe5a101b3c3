import { ApiError } from './errors.js';

/** The `Prefer` header (RFC 7240) as PostgREST reads it; several headers arrive joined with commas. */
export interface Preferences {
  return?: 'minimal' | 'representation' | 'headers-only';
  count?: 'exact' | 'planned' | 'estimated';
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
  missing?: 'default' | 'null';
  handling?: 'strict' | 'lenient';
  /** Only present when the gateway's `txEnd` lets clients choose (PostgREST `db-tx-end = *-allow-override`). */
  tx?: 'commit' | 'rollback';
  /** An IANA zone for timestamptz output (PostgREST: set only when PostgreSQL knows the zone). */
  timezone?: string;
}

/**
 * PostgREST `db-tx-end`: how every request's transaction ends, and whether `Prefer: tx=` may change it.
 * `commit` (PostgREST's default) ignores `Prefer: tx`; `commit-allow-override` commits unless the client asks
 * for `tx=rollback` (what supabase-js `.rollback()` relies on); the `rollback*` pair is for test databases.
 */
export type TxEnd = 'commit' | 'commit-allow-override' | 'rollback' | 'rollback-allow-override';
export const TX_END_SETTINGS: readonly TxEnd[] = [
  'commit',
  'commit-allow-override',
  'rollback',
  'rollback-allow-override',
];

const KNOWN: Record<string, readonly string[]> = {
  return: ['minimal', 'representation', 'headers-only'],
  count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  missing: ['default', 'null'],
  handling: ['strict', 'lenient'],
  tx: ['commit', 'rollback'],
  timezone: [],
};

/**
 * @param txEnd the gateway's `db-tx-end`: without `-allow-override` a `tx=` preference is unfulfillable, so it
 * is ignored (lenient) or refused with PGRST122 (strict), as PostgREST does.
 */
export function parsePreferences(header: string | null, txEnd: TxEnd = 'commit'): Preferences {
  const prefs: Record<string, string> = {};
  const invalid: string[] = [];
  const txAllowed = txEnd.endsWith('-allow-override');
  for (const raw of (header ?? '').split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const [key = '', value = ''] = item.split('=', 2).map((s) => s.trim());
    const allowed = KNOWN[key];
    if (key === 'tx' && !txAllowed) invalid.push(item);
    else if (allowed && (allowed.length === 0 || allowed.includes(value))) prefs[key] ??= value;
    else invalid.push(item);
  }
  if (prefs.handling === 'strict' && invalid.length > 0) {
    throw new ApiError(
      400,
      'PGRST122',
      'Invalid preferences given with handling=strict',
      `Invalid preferences: ${invalid.join(', ')}`,
    );
  }
  return prefs as Preferences;
}

/** How this request's transaction ends: the client's `tx=` where allowed, else the setting's own end. */
export function transactionEnd(p: Preferences, txEnd: TxEnd): 'commit' | 'rollback' {
  return p.tx ?? (txEnd.startsWith('rollback') ? 'rollback' : 'commit');
}

/** `Preference-Applied`: the preferences that shaped the response, as PostgREST echoes them. */
export function appliedPreferences(p: Preferences, keys: (keyof Preferences)[]): string | null {
  const out = keys.filter((k) => p[k] !== undefined).map((k) => `${k}=${p[k]}`);
  return out.length ? out.join(', ') : null;
}
