// Plain-JavaScript copies of src/**/*.ts, made on demand and kept in node_modules/.cache/shipspeak-db, so the CLI
// runs on Node's own ESM loader instead of through tsx's loader hooks. Measured on `serve` (issue #17): tsx's
// hooks thread, resolver and source maps cost ~2 s of CPU per process start (and again in every PGlite worker
// thread); the compiled tree loads in a fraction of that. It is a cache, not a build step: `npm ci` stays the
// only set-up, the first run after any edit under src/ compiles again (~0.3 s), and when compiling is not possible
// the caller falls back to tsx, saying why on stderr.
//
// The tree mirrors src/ (node_modules/.cache/shipspeak-db/js-<key>/serve/start.js …); packages resolve from the
// repository's node_modules, which encloses it. Each file is transpiled on its own by esbuild (types stripped, exactly what tsx does to each file), so import
// specifiers ('./x.js') and the module graph are unchanged. One rewrite: `import.meta.url` becomes the URL of the
// .ts source file, because modules use it to find repository files (`new URL('../../sql/', import.meta.url)`),
// which do not move. `import.meta.filename` is left alone: it names the file that actually runs (the one place
// that needs it is the PGlite worker, which must start the compiled thread module, not the source).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SRC = join(ROOT, 'src');
export const COMPILE_CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'shipspeak-db');
/** Compiled trees kept: a running server may still load modules (e.g. a new PGlite worker) from an older one. */
const KEEP = 8;

/** Every file under `dir` (TypeScript to compile, anything else such as JSON to copy), sorted, relative, with '/'. */
export function sourceFiles(dir = SRC, prefix = '') {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.isDirectory()) out.push(...sourceFiles(join(dir, entry.name), `${prefix}${entry.name}/`));
    else out.push(`${prefix}${entry.name}`);
  }
  return out;
}

/**
 * The cache key: where the sources are, every source file's path and content, tsconfig.json, the esbuild version
 * and this file. Any edit to any of them selects another tree, so a stale compiled file is never run. The source
 * folder is part of it because each compiled file carries its source's absolute URL (`import.meta.url`, which finds
 * sql/ and fixtures/): two checkouts with identical sources sharing one cache (a git worktree whose node_modules is
 * a link to another's) would otherwise run one tree that reads the other checkout's sql/.
 */
export function compileKey(files, contents, srcDir = SRC) {
  const h = createHash('sha256');
  h.update(`src ${srcDir}\n`);
  const esbuildVersion = JSON.parse(
    readFileSync(join(ROOT, 'node_modules', 'esbuild', 'package.json'), 'utf8'),
  ).version;
  h.update(`esbuild ${esbuildVersion}\n`);
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  h.update(readFileSync(join(ROOT, 'tsconfig.json')));
  for (let i = 0; i < files.length; i++) {
    h.update(`\0${files[i]}\0`);
    h.update(contents[i]);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Transpiles the .ts files (relative to srcDir) into outDir/…/*.js with external source maps, and copies the other
 * files, so a module that imports one (JSON, say) finds it beside it as it would in src/.
 */
async function compileTree(srcDir, files, contents, outDir) {
  const { transform } = await import('esbuild');
  const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'));
  await Promise.all(
    files.map(async (file, i) => {
      const source = join(srcDir, file);
      if (!file.endsWith('.ts') || file.endsWith('.d.ts')) {
        mkdirSync(dirname(join(outDir, file)), { recursive: true });
        writeFileSync(join(outDir, file), contents[i]);
        return;
      }
      const r = await transform(contents[i], {
        loader: 'ts',
        format: 'esm',
        target: 'node20',
        sourcefile: source,
        sourcemap: 'external',
        tsconfigRaw: { compilerOptions: tsconfig.compilerOptions },
        define: { 'import.meta.url': JSON.stringify(pathToFileURL(source).href) },
      });
      const target = join(outDir, file.replace(/\.ts$/, '.js'));
      mkdirSync(dirname(target), { recursive: true });
      const base = target.slice(dirname(target).length + 1);
      writeFileSync(target, `${r.code}//# sourceMappingURL=${base}.map\n`);
      writeFileSync(`${target}.map`, r.map);
    }),
  );
}

/** Removes all but the KEEP most recent trees, and leftovers of interrupted compiles older than an hour. */
function prune(cacheDir) {
  const trees = [];
  for (const name of readdirSync(cacheDir)) {
    if (!name.startsWith('js-')) continue;
    const path = join(cacheDir, name);
    const mtime = statSync(path).mtimeMs;
    if (name.endsWith('.tmp')) {
      if (Date.now() - mtime > 3_600_000) rmSync(path, { recursive: true, force: true });
    } else trees.push({ path, mtime });
  }
  trees.sort((a, b) => b.mtime - a.mtime);
  for (const t of trees.slice(KEEP)) rmSync(t.path, { recursive: true, force: true });
}

/**
 * The line a fallback to tsx prints (once, on stderr), so a slow start is explainable: the cache could not give a
 * compiled copy — a source esbuild cannot transpile, a cache directory that cannot be written (read-only
 * node_modules, a full disk), esbuild missing. The reason is esbuild's first error with its place, or else the
 * error's first line.
 */
export function fallbackNotice(error) {
  // esbuild's message starts "Transform failed with 1 error:"; its first error says where and what.
  const first = error?.errors?.[0];
  const reason = first?.location
    ? `${first.location.file}:${first.location.line}:${first.location.column}: ${first.text}`
    : (error instanceof Error ? error.message : String(error)).split('\n')[0];
  return `shipspeak-db: running through tsx (a slower start): no compiled copy of src/ (${reason}); SHIPSPEAK_COMPILE_CACHE=0 skips the cache silently\n`;
}

/**
 * The compiled <entry>.js for the current sources under srcDir (default src/), compiling them first if needed —
 * the first run after an edit, which is the cache's ordinary work and says nothing; null when that is not possible
 * (the caller then runs the TypeScript through tsx, which reports any syntax error with its location), after
 * `warn` has been given fallbackNotice(error) (default: stderr). SHIPSPEAK_COMPILE_CACHE=0 skips the cache, quietly:
 * the fallback was asked for.
 */
export async function compiledModule(
  entry,
  { srcDir = SRC, cacheDir = COMPILE_CACHE_DIR, warn = (line) => process.stderr.write(line) } = {},
) {
  if (process.env.SHIPSPEAK_COMPILE_CACHE === '0') return null;
  try {
    const files = sourceFiles(srcDir);
    const contents = files.map((f) => readFileSync(join(srcDir, f)));
    const dir = join(cacheDir, `js-${compileKey(files, contents, srcDir)}`);
    const target = join(dir, entry);
    if (existsSync(target)) return pathToFileURL(target);
    // Built beside the final place and renamed in at once: a concurrent start sees a whole tree or none.
    const tmp = `${dir}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    try {
      await compileTree(srcDir, files, contents, tmp);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process finished the same tree first: theirs is identical.
      rmSync(tmp, { recursive: true, force: true });
      if (!existsSync(target)) throw e;
    }
    prune(cacheDir);
    return pathToFileURL(target);
  } catch (e) {
    warn(fallbackNotice(e));
    return null;
  }
}
