import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openIsolatedPGlite } from '../../src/db/pglite-isolated.js';
import { applyBootstrap } from '../../src/migrate/bootstrap.js';
import { migrateUp } from '../../src/migrate/runner.js';
import { loadRawCatalog, type RawCatalog } from '../../src/rest/schema-cache.js';
import {
  catalogKey,
  hasSnapshot,
  restoreSnapshot,
  SnapshotError,
  snapshotHash,
  snapshotPath,
  writeSnapshot,
  type SnapshotKind,
} from '../../src/serve/snapshot.js';
import { childEnv, ROOT, startServe, type Served } from './support.js';

/**
 * serve's snapshot cache (src/serve/snapshot.ts, issue #17): a start from a cached copy answers exactly as a start
 * from scratch, and a copy that is not byte for byte what was stored is refused, removed and rebuilt.
 * Every test uses its own cache directory (SHIPSPEAK_SNAPSHOT_DIR), never the shared one other suites start from.
 */
const work = mkdtempSync(join(tmpdir(), 'shipspeak-snapshot-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every file (relative path → bytes) under dir. */
function tree(dir: string, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) for (const [k, v] of tree(path, `${prefix}${name}/`)) out.set(k, v);
    else out.set(`${prefix}${name}`, readFileSync(path, 'hex'));
  }
  return out;
}

describe('snapshot copies: stored with a manifest, refused when anything differs', () => {
  const kind: SnapshotKind = 'migrated';
  const hash = 'feedfacefeedface';
  // Catalog rows as the gateway's loader returns them, i.e. parsed from the catalog's JSON (only their round trip
  // matters here).
  const catalog = JSON.parse(
    JSON.stringify({
      schemas: ['public'],
      tables: [{ schema: 'public', name: 'things', kind: 'table', columns: [], uniques: [], pk: null }],
      foreignKeys: [],
      viewColumns: [],
      routines: [],
      roles: ['anon', 'authenticated'],
      types: [],
    }),
  ) as RawCatalog;
  let source: string;

  beforeEach(async () => {
    process.env.SHIPSPEAK_SNAPSHOT_DIR = mkdtempSync(join(work, 'cache-'));
    // Stands in for the database's data directory: real files, an empty directory (PostgreSQL needs those).
    source = mkdtempSync(join(work, 'data-'));
    mkdirSync(join(source, 'base', '5'), { recursive: true });
    mkdirSync(join(source, 'pg_tblspc'));
    writeFileSync(join(source, 'PG_VERSION'), '17\n');
    writeFileSync(join(source, 'base', '5', '1259'), Buffer.alloc(8192, 7));
    await writeSnapshot({ snapshotTo: async (to) => cpSync(source, to, { recursive: true }) }, kind, hash, {
      key: catalogKey(['public']),
      rows: catalog,
    });
  });
  afterAll(() => delete process.env.SHIPSPEAK_SNAPSHOT_DIR);

  const restoreInto = () => {
    const into = mkdtempSync(join(work, 'into-'));
    restoreSnapshot(kind, hash, into);
    return into;
  };
  const refused = (why: RegExp) => {
    const into = mkdtempSync(join(work, 'into-'));
    expect(() => restoreSnapshot(kind, hash, into)).toThrow(SnapshotError);
    expect(() => restoreSnapshot(kind, hash, into)).toThrow(why);
    // Nothing was written: a refused copy leaves the target as it was.
    expect(readdirSync(into)).toEqual([]);
  };
  const data = () => join(snapshotPath(kind, hash), 'data');

  it('restores every file and directory as it was', () => {
    expect(hasSnapshot(kind, hash)).toBe(true);
    const into = restoreInto();
    expect(tree(into)).toEqual(tree(source));
    expect(existsSync(join(into, 'pg_tblspc'))).toBe(true);
  });

  it('returns the catalog rows stored with the copy for their key, and none for another key', () => {
    const into = mkdtempSync(join(work, 'into-'));
    expect(restoreSnapshot(kind, hash, into, catalogKey(['public']))).toEqual(catalog);
    // Rows read for other exposed schemas describe other tables: never used for these.
    expect(catalogKey(['public', 'auth'])).not.toBe(catalogKey(['public']));
    const other = mkdtempSync(join(work, 'into-'));
    expect(restoreSnapshot(kind, hash, other, catalogKey(['public', 'auth']))).toBeUndefined();
    expect(tree(other)).toEqual(tree(source));
  });

  it('a changed byte in the catalog rows (same size), or their loss, refuses the whole copy', () => {
    const file = join(snapshotPath(kind, hash), 'catalog.json');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('things', 'thinks'));
    refused(/catalog.json differs from its checksum/);
    rmSync(file);
    refused(/catalog.json unreadable/);
  });

  it('a changed byte (same size) is refused', () => {
    const f = join(data(), 'base', '5', '1259');
    const bytes = readFileSync(f);
    bytes[4096] = bytes[4096]! ^ 1;
    writeFileSync(f, bytes);
    refused(/base\/5\/1259 differs from its checksum/);
  });

  it('a truncated or grown file is refused', () => {
    appendFileSync(join(data(), 'PG_VERSION'), 'x');
    refused(/PG_VERSION differs from its checksum/);
  });

  it('a foreign file, a missing file and a missing directory are refused', () => {
    writeFileSync(join(data(), 'base', '5', '99999'), 'planted');
    refused(/base\/5\/99999 \(not in the manifest\)/);
    rmSync(join(data(), 'base', '5', '99999'));
    rmSync(join(data(), 'PG_VERSION'));
    refused(/PG_VERSION \(missing\)/);
    writeFileSync(join(data(), 'PG_VERSION'), '17\n');
    rmSync(join(data(), 'pg_tblspc'), { recursive: true });
    refused(/directories differ/);
  });

  it("another snapshot's copy under this name, or an unreadable manifest, is refused", () => {
    const manifest = join(snapshotPath(kind, hash), 'manifest.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { hash: string };
    writeFileSync(manifest, JSON.stringify({ ...m, hash: '0123456789abcdef' }));
    refused(/describes another snapshot/);
    writeFileSync(manifest, '{"format"');
    refused(/manifest.json unreadable/);
  });
});

describe('serve --seed from the snapshot cache (PGlite)', () => {
  const cache = mkdtempSync(join(tmpdir(), 'shipspeak-snapshot-serve-'));
  afterAll(() => rmSync(cache, { recursive: true, force: true }));
  const env = () => childEnv({ SHIPSPEAK_SNAPSHOT_DIR: cache });

  /**
   * What a client sees: every module, every profile (service_role) and personas' own views. Columns filled by
   * now() are left out: the rebuilt database is seeded at another time.
   */
  async function answers(s: Served): Promise<unknown[]> {
    const get = async (path: string, token: string) => {
      const r = await fetch(`${s.url}/rest/v1/${path}`, {
        headers: { apikey: s.anonKey, authorization: `Bearer ${token}` },
      });
      return { path, status: r.status, body: await r.json() };
    };
    return Promise.all([
      get('modules?select=id,slug,title,dimension,required_tier,is_published,content&order=id', s.serviceKey),
      get('profiles?select=id,role,tier&order=id', s.serviceKey),
      get('meetings?select=id,title,status&order=id', s.personaTokens.pro!),
      get('modules?select=id,title&order=id', s.personaTokens.free_a!),
    ]);
  }

  async function run(): Promise<{ served: Served; seen: unknown[] }> {
    const served = await startServe(['--port', '0', '--seed'], env(), 180_000);
    try {
      return { served, seen: await answers(served) };
    } finally {
      expect(await served.stop()).toBe(0);
    }
  }

  it('a start from the cache answers as the start from scratch that wrote it; a tampered copy is rebuilt', async () => {
    const scratch = await run();
    expect(scratch.served.stdout()).toMatch(/open PGlite \d+ ms \(new database\)/);
    expect(scratch.served.stdout()).toMatch(/seeded-dev, cached for the next start/);

    const cached = await run();
    expect(cached.served.stdout()).toMatch(/from the seeded-dev snapshot [0-9a-f]{16}/);
    expect(cached.served.stdout()).not.toMatch(/bootstrap \d+ ms/);
    // The gateway's schema cache came from the catalog rows stored with the copy, and answers the same.
    expect(cached.served.stdout()).toMatch(/schema cache \d+ ms \(catalog rows from the snapshot\)/);
    expect(cached.seen).toEqual(scratch.seen);

    // Flip one byte in the largest file of the seeded copy.
    const entry = readdirSync(cache).find((n) => n.startsWith('pglite-seeded-dev-'))!;
    const files = [...tree(join(cache, entry, 'data')).keys()].map((f) => join(cache, entry, 'data', f));
    const largest = files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const bytes = readFileSync(largest);
    bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0xff;
    writeFileSync(largest, bytes);

    const rebuilt = await run();
    expect(rebuilt.served.stderr()).toMatch(
      /snapshot cache .* is not usable: .* differs from its checksum; removed it, building the database from the migrations instead/,
    );
    expect(rebuilt.served.stdout()).toMatch(/open PGlite \d+ ms \(new database\)/);
    expect(rebuilt.served.stdout()).toMatch(/seeded-dev, cached for the next start/);
    expect(rebuilt.seen).toEqual(scratch.seen);
  }, 600_000); // three starts, two of them cold, on a machine that may be loaded: a wide ceiling, not a target

  it('catalog rows stored with a copy that the migrations then change are not used', async () => {
    // A copy one migration behind sql/, stored under the current hash with the catalog rows read from it: what
    // serve would load if a stale copy ever matched. serve applies the last migration, so the rows are stale.
    const stale = mkdtempSync(join(tmpdir(), 'shipspeak-snapshot-stale-'));
    try {
      const versions = readdirSync(join(ROOT, 'sql', 'migrations'))
        .filter((f) => /^\d{4}_.*\.sql$/.test(f))
        .map((f) => f.slice(0, 4))
        .sort();
      process.env.SHIPSPEAK_SNAPSHOT_DIR = stale;
      const db = await openIsolatedPGlite();
      try {
        await applyBootstrap(db);
        await migrateUp(db, { to: versions.at(-2)! });
        const rows = await loadRawCatalog(db, ['public']);
        await writeSnapshot(db, 'migrated', snapshotHash('migrated'), { key: catalogKey(['public']), rows });
      } finally {
        await db.close();
        delete process.env.SHIPSPEAK_SNAPSHOT_DIR;
      }
      const served = await startServe(['--port', '0'], childEnv({ SHIPSPEAK_SNAPSHOT_DIR: stale }), 180_000);
      try {
        expect(served.stdout()).toMatch(/from the migrated snapshot [0-9a-f]{16}/);
        expect(served.stdout()).toMatch(/migrate \d+ ms \(1 migration\(s\) applied\)/);
        expect(served.stdout()).toMatch(/schema cache \d+ ms[,\n]/);
        expect(served.stdout()).not.toMatch(/catalog rows from the snapshot/);
        const r = await fetch(`${served.url}/rest/v1/modules?select=id`, {
          headers: { apikey: served.serviceKey, authorization: `Bearer ${served.serviceKey}` },
        });
        expect(r.status).toBe(200);
      } finally {
        expect(await served.stop()).toBe(0);
      }
    } finally {
      rmSync(stale, { recursive: true, force: true });
    }
  }, 600_000); // an in-process build and one start, on a machine that may be loaded: a hang catcher only
});
