import type { Queryable } from '../db/database.js';

/**
 * Migration history, compatible with the Supabase CLI: `supabase_migrations.schema_migrations(version,
 * statements, name)` is what `supabase migration list` reads. Our checksums live beside it in a table of
 * our own, so the CLI's table keeps exactly the shape the CLI expects.
 */
export interface AppliedMigration {
  version: string;
  name: string;
  checksum: string | null;
  downChecksum: string | null;
  appliedAt: string | null;
}

// One constant key shared by every runner of this project: pg_advisory_xact_lock serialises them.
export const MIGRATION_LOCK_KEY = 4_711_202_611;

export async function ensureHistory(tx: Queryable): Promise<void> {
  await tx.exec(`
    create schema if not exists supabase_migrations;
    create table if not exists supabase_migrations.schema_migrations (
      version text not null primary key,
      statements text[],
      name text
    );
    create table if not exists supabase_migrations.shipspeak_checksums (
      version text primary key references supabase_migrations.schema_migrations (version) on delete cascade,
      checksum text not null,
      down_checksum text not null,
      applied_at timestamptz not null default now(),
      applied_by text not null default current_user,
      duration_ms integer not null
    );
    comment on table supabase_migrations.shipspeak_checksums is
      'SHA-256 of each applied migration and its down file, so an edited applied migration is refused (shipspeak-db).';
  `);
}

export async function historyExists(db: Queryable): Promise<boolean> {
  const r = await db.query<{ ok: boolean }>(
    `select to_regclass('supabase_migrations.shipspeak_checksums') is not null as ok`,
  );
  return r.rows[0]!.ok;
}

export async function readHistory(db: Queryable): Promise<AppliedMigration[]> {
  if (!(await historyExists(db))) return [];
  const r = await db.query<AppliedMigration>(`
    select m.version, m.name, c.checksum, c.down_checksum as "downChecksum", c.applied_at::text as "appliedAt"
      from supabase_migrations.schema_migrations m
      left join supabase_migrations.shipspeak_checksums c using (version)
     order by m.version`);
  return r.rows;
}

export async function recordApplied(
  tx: Queryable,
  m: { version: string; name: string; statements: string[]; checksum: string; downChecksum: string },
  durationMs: number,
): Promise<void> {
  await tx.query(`insert into supabase_migrations.schema_migrations (version, statements, name) values ($1, $2, $3)`, [
    m.version,
    m.statements,
    m.name,
  ]);
  await tx.query(
    `insert into supabase_migrations.shipspeak_checksums (version, checksum, down_checksum, duration_ms) values ($1, $2, $3, $4)`,
    [m.version, m.checksum, m.downChecksum, Math.round(durationMs)],
  );
}

export async function recordReverted(tx: Queryable, version: string): Promise<void> {
  await tx.query(`delete from supabase_migrations.schema_migrations where version = $1`, [version]);
}
