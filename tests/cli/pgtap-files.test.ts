import { describe, expect, it } from 'vitest';
import { selectFiles, testFiles } from '../../src/harness/pgtap/files.js';
import { PGTAP_DIR } from '../paths.js';

/** `npm run test:pgtap -- <file>`: picking pgTAP files by name, and a clear error for a name that is not there. */
describe('pgTAP file selection', () => {
  const all = testFiles(PGTAP_DIR);

  it('finds the committed files, and no argument means all of them', () => {
    expect(all.length).toBeGreaterThan(3);
    expect(selectFiles(all, [])).toEqual(all);
  });

  it('accepts a name with or without .sql, or a path, in the order given', () => {
    const [first, second] = [all[0]!, all[1]!];
    const base = (f: string) => f.split('/').pop()!;
    expect(selectFiles(all, [base(second), base(first).replace(/\.sql$/, '')])).toEqual([second, first]);
    expect(selectFiles(all, [`tests/pgtap/${base(first)}`])).toEqual([first]);
  });

  it('an unknown name is refused with the list of files', () => {
    expect(() => selectFiles(all, ['99_nope'])).toThrow(/no pgTAP file "99_nope"; available: .*00_schema/);
  });
});
