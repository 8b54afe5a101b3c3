import { createHash } from 'node:crypto';

/**
 * SHA-256 of a migration file. Line endings are normalised so a checkout with CRLF conversion does not
 * look like an edited migration; every other byte counts, comments included.
 */
export function checksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n'), 'utf8').digest('hex');
}
