import { SUPABASE_URL } from './fixture.js';
import type { GeneratedRequest } from './to-parts.js';

/** A generated request as the web Request the gateway handles (in-process transport). */
export function toRequest(r: GeneratedRequest, token: string | null): Request {
  const headers = new Headers({ 'Content-Type': 'application/json' });
  if (token) headers.set('Authorization', `Bearer ${token}`);
  if (r.prefer) headers.set('Prefer', r.prefer);
  if (r.range) headers.set('Range', r.range);
  const target = r.target.split('/').map(encodeURIComponent).join('/');
  return new Request(`${SUPABASE_URL}/rest/v1/${target}${r.search ? `?${r.search}` : ''}`, {
    method: r.method,
    headers,
    ...(r.body !== undefined && r.method !== 'GET' ? { body: r.body } : {}),
  });
}
