import { ApiError } from './errors.js';

/** The `Prefer` header (RFC 7240) as PostgREST reads it; several headers arrive joined with commas. */
export interface Preferences {
  return?: 'minimal' | 'representation' | 'headers-only';
  count?: 'exact' | 'planned' | 'estimated';
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
  missing?: 'default' | 'null';
  handling?: 'strict' | 'lenient';
}

const KNOWN: Record<string, readonly string[]> = {
  return: ['minimal', 'representation', 'headers-only'],
  count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  missing: ['default', 'null'],
  handling: ['strict', 'lenient'],
  // Understood but without effect here (Supabase never lets clients end transactions differently).
  tx: ['commit', 'rollback'],
  timezone: [],
};

export function parsePreferences(header: string | null): Preferences {
  const prefs: Record<string, string> = {};
  const invalid: string[] = [];
  for (const raw of (header ?? '').split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const [key = '', value = ''] = item.split('=', 2).map((s) => s.trim());
    const allowed = KNOWN[key];
    if (allowed && (allowed.length === 0 || allowed.includes(value))) prefs[key] ??= value;
    else invalid.push(item);
  }
  if (prefs.handling === 'strict' && invalid.length > 0) {
    throw new ApiError(400, 'PGRST122', 'Invalid preferences given with handling=strict', `Invalid preferences: ${invalid.join(', ')}`);
  }
  return prefs as Preferences;
}

/** `Preference-Applied`: the preferences that shaped the response, as PostgREST echoes them. */
export function appliedPreferences(p: Preferences, keys: (keyof Preferences)[]): string | null {
  const out = keys.filter((k) => p[k] !== undefined).map((k) => `${k}=${p[k]}`);
  return out.length ? out.join(', ') : null;
}
