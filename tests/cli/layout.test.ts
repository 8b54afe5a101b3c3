/**
 * The folder map is a promise: product code (the runner, the gateway and serve, the CLI, the report …) lives
 * under src/, the proof that it works lives in src/harness (with src/bench, the benchmark tooling) and tests/.
 * These checks read the import statements of every source file, so a product module that starts depending on
 * the harness, a src/ file that reads from tests/, or an import cycle fails here with the file named.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');
/** Folders of src/ that exist for the proof, not the product. */
const PROOF = ['src/harness/', 'src/bench/'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** Repository-relative paths of the files a module imports (relative specifiers only; packages are not ours). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(SPECIFIER)].map((m) =>
    relative(ROOT, resolve(dirname(file), m[1]!)).replace(/\.js$/, '.ts'),
  );
}

const files = sourceFiles(SRC).map((f) => relative(ROOT, f));
const graph = new Map(files.map((f) => [f, importsOf(join(ROOT, f))]));
const isProof = (f: string) => PROOF.some((p) => f.startsWith(p));

describe('the folder map holds', () => {
  it('finds the modules it checks', () => {
    expect(files.filter(isProof).length).toBeGreaterThan(5);
    expect(files.filter((f) => !isProof(f)).length).toBeGreaterThan(50);
  });

  it('no file under src/ imports or reads anything under tests/', () => {
    const offenders = files.flatMap((f) => [
      ...graph
        .get(f)!
        .filter((to) => to.startsWith('tests/'))
        .map((to) => `${f} imports ${to}`),
      ...(/new URL\(\s*['"][^'"]*tests\//.test(readFileSync(join(ROOT, f), 'utf8')) ? [`${f} reads tests/`] : []),
    ]);
    expect(offenders).toEqual([]);
  });

  it('product modules import no harness or benchmark module', () => {
    const offenders = files
      .filter((f) => !isProof(f))
      .flatMap((f) =>
        graph
          .get(f)!
          .filter(isProof)
          .map((to) => `${f} imports ${to}`),
      );
    expect(offenders).toEqual([]);
  });

  it('the import graph of src/ has no cycle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...path.slice(path.indexOf(f)), f].join(' -> '));
        return;
      }
      state.set(f, 'open');
      for (const to of graph.get(f) ?? []) if (graph.has(to)) visit(to, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
