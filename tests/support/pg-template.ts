/**
 * PostgreSQL template databases shared by the test files of one vitest run: the first file that needs a
 * state (bootstrap + migrations, say) builds it once as a database named <run prefix>_<key hash>, under an
 * advisory lock so concurrent workers wait instead of building it twice; every file then gets its own copy
 * with CREATE DATABASE … TEMPLATE, which copies files instead of replaying 30-odd migrations. Global setup
 * hands out the run's prefix and drops the templates at the end.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { withDatabase } from '../../src/db/ephemeral-cluster.js';
import { connectionConfig, openNodePostgres } from '../../src/db/node-postgres.js';
import { quoteIdent as ident } from '../../src/db/quote.js';

function runPrefix(): string {
  try {
    return inject('pgTemplatePrefix') ?? '';
  } catch {
    return '';
  }
}

/**
 * The template database for `key` on the server behind `superuserUrl`, built by `prepare` the first time;
 * null outside a run whose global setup provides a prefix (the caller then builds its database itself).
 * The key must stand for everything `prepare` does (engines.ts hashes prepare's source into it).
 */
export async function sharedTemplate(
  superuserUrl: string,
  key: string,
  prepare: (db: Database) => Promise<void>,
): Promise<string | null> {
  const prefix = runPrefix();
  if (!prefix) return null;
  const name = `${prefix}_${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
  const admin = new pg.Client(connectionConfig(superuserUrl));
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock(hashtext($1))', [name]);
    const found = await admin.query('select 1 from pg_catalog.pg_database where datname = $1', [name]);
    if (found.rowCount === 0) {
      await admin.query(`create database ${ident(name)}`);
      try {
        const db = await openNodePostgres(withDatabase(superuserUrl, name), { max: 1 });
        try {
          await prepare(db);
        } finally {
          await db.close();
        }
      } catch (e) {
        // A half-built template must not be copied by the next file.
        await admin.query(`drop database if exists ${ident(name)} with (force)`);
        throw e;
      }
    }
    return name;
  } finally {
    await admin.end().catch(() => undefined); // ending the session releases the advisory lock
  }
}

/** Global setup's teardown: drops this run's templates (on an ephemeral cluster they go with it anyway). */
export async function dropTemplates(superuserUrl: string, prefix: string): Promise<void> {
  const admin = new pg.Client(connectionConfig(superuserUrl));
  await admin.connect();
  try {
    const r = await admin.query<{ datname: string }>(
      `select datname from pg_catalog.pg_database where starts_with(datname, $1)`,
      [`${prefix}_`],
    );
    for (const { datname } of r.rows) await admin.query(`drop database if exists ${ident(datname)} with (force)`);
  } finally {
    await admin.end();
  }
}
