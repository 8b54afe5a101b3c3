import { expect, it } from 'vitest';
import { quoteConfValue, quoteLiteral } from '../../src/db/quote.js';

/**
 * src/db/quote.ts: an SQL literal and a postgresql.conf value are quoted differently. The configuration file's
 * scanner reads backslash escapes inside quotes, so `a\tb` written bare would come back with a tab in it (checked
 * by hand with `postgres -C application_name` on a data directory: the doubled form reads back as written).
 */
it('a postgresql.conf value doubles quotes and backslashes; an SQL literal only quotes', () => {
  expect(quoteConfValue(`it's C:\\tmp`)).toBe(`'it''s C:\\\\tmp'`);
  expect(quoteConfValue('/tmp/socket dir')).toBe(`'/tmp/socket dir'`);
  expect(quoteLiteral(`it's C:\\tmp`)).toBe(`'it''s C:\\tmp'`);
});
