/**
 * The Supabase platform layer (sql/bootstrap) proven fact by fact on both engines: PGlite (PostgreSQL 18
 * in WASM) and a real PostgreSQL 15 (global setup's cluster, or TEST_PG_URL). On PostgreSQL every
 * database is a scratch one (CREATE DATABASE bs_<random>, dropped at the end); roles are cluster-wide,
 * so the role facts hold whether this run created the roles or found them (idempotency is the point).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, Queryable } from '../../src/db/database.js';
import { isPgError } from '../../src/db/database.js';
import { pgliteEmpty } from '../support/pglite-head.js';
import { openNodePostgres } from '../../src/db/node-postgres.js';
import { applyBootstrap, listBootstrapFiles, type BootstrapResult } from '../../src/migrate/bootstrap.js';
import { describeRequiring, pgAvailability } from '../support/pg.js';

const API_ROLES = ['anon', 'authenticated', 'service_role'] as const;

/**
 * auth.users as Supabase Auth's migrations leave it (github.com/supabase/auth migrations/, see
 * sql/bootstrap/0003_auth_users.sql for the file list): [name, type, not null, generated].
 */
const AUTH_USERS_SPEC: [string, string, boolean, boolean][] = [
  ['instance_id', 'uuid', false, false],
  ['id', 'uuid', true, false],
  ['aud', 'character varying(255)', false, false],
  ['role', 'character varying(255)', false, false],
  ['email', 'character varying(255)', false, false],
  ['encrypted_password', 'character varying(255)', false, false],
  ['email_confirmed_at', 'timestamp with time zone', false, false],
  ['invited_at', 'timestamp with time zone', false, false],
  ['confirmation_token', 'character varying(255)', false, false],
  ['confirmation_sent_at', 'timestamp with time zone', false, false],
  ['recovery_token', 'character varying(255)', false, false],
  ['recovery_sent_at', 'timestamp with time zone', false, false],
  ['email_change_token_new', 'character varying(255)', false, false],
  ['email_change', 'character varying(255)', false, false],
  ['email_change_sent_at', 'timestamp with time zone', false, false],
  ['last_sign_in_at', 'timestamp with time zone', false, false],
  ['raw_app_meta_data', 'jsonb', false, false],
  ['raw_user_meta_data', 'jsonb', false, false],
  ['is_super_admin', 'boolean', false, false],
  ['created_at', 'timestamp with time zone', false, false],
  ['updated_at', 'timestamp with time zone', false, false],
  ['phone', 'text', false, false],
  ['phone_confirmed_at', 'timestamp with time zone', false, false],
  ['phone_change', 'text', false, false],
  ['phone_change_token', 'character varying(255)', false, false],
  ['phone_change_sent_at', 'timestamp with time zone', false, false],
  ['confirmed_at', 'timestamp with time zone', false, true],
  ['email_change_token_current', 'character varying(255)', false, false],
  ['email_change_confirm_status', 'smallint', false, false],
  ['banned_until', 'timestamp with time zone', false, false],
  ['reauthentication_token', 'character varying(255)', false, false],
  ['reauthentication_sent_at', 'timestamp with time zone', false, false],
  ['is_sso_user', 'boolean', true, false],
  ['deleted_at', 'timestamp with time zone', false, false],
  ['is_anonymous', 'boolean', true, false],
];

/** Opens fresh, empty databases of one engine and disposes of them at the end. */
interface Engine {
  fresh(): Promise<Database>;
  dispose(): Promise<void>;
}

function pgliteEngine(): Engine {
  const opened: Database[] = [];
  return {
    async fresh() {
      // A restored empty PGlite (initdb's data directory, dumped once per run) instead of a cold initdb each.
      const db = await pgliteEmpty();
      opened.push(db);
      return db;
    },
    async dispose() {
      await Promise.all(opened.map((d) => d.close().catch(() => undefined)));
    },
  };
}

function postgresEngine(adminUrl: string): Engine {
  const opened: { db: Database; name: string }[] = [];
  const admin = () => {
    const c = new pg.Client({ connectionString: adminUrl });
    return c.connect().then(() => c);
  };
  return {
    async fresh() {
      const name = `bs_${randomBytes(6).toString('hex')}`;
      const c = await admin();
      try {
        await c.query(`create database ${name}`);
      } finally {
        await c.end();
      }
      const u = new URL(adminUrl);
      u.pathname = `/${name}`;
      const db = await openNodePostgres(u.toString(), { max: 4 });
      opened.push({ db, name });
      return db;
    },
    async dispose() {
      await Promise.all(opened.map((o) => o.db.close().catch(() => undefined)));
      if (opened.length === 0) return;
      const c = await admin();
      try {
        for (const o of opened) await c.query(`drop database if exists ${o.name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Everything the bootstrap owns, read straight from the catalogs (independent of bootstrap.ts). */
async function catalogState(db: Queryable): Promise<unknown> {
  const q = async (sql: string) => (await db.query(sql)).rows;
  return {
    roles: await q(`select rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication,
                           rolbypassrls, rolconfig
                    from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')
                    order by rolname`),
    members: await q(`select g.rolname as granted, m.rolname as member
                      from pg_auth_members am join pg_roles g on g.oid = am.roleid join pg_roles m on m.oid = am.member
                      where m.rolname in ('anon', 'authenticated', 'service_role', 'authenticator')
                      order by 1, 2`),
    namespaces: await q(`select nspname, pg_get_userbyid(nspowner) as owner, nspacl::text as acl
                         from pg_namespace where nspname in ('public', 'auth', 'extensions') order by 1`),
    classes: await q(`select c.relname, c.relkind, c.relrowsecurity, c.relacl::text as acl,
                             pg_get_userbyid(c.relowner) as owner
                      from pg_class c join pg_namespace n on n.oid = c.relnamespace
                      where n.nspname in ('auth', 'extensions') order by 1`),
    attributes: await q(`select a.attname, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull, a.attgenerated
                         from pg_attribute a where a.attrelid = 'auth.users'::regclass and a.attnum > 0 order by a.attnum`),
    procs: await q(`select p.proname, p.prosrc, p.proconfig, p.provolatile, p.proacl::text as acl
                    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                    where n.nspname = 'auth' order by 1`),
    defaultAcl:
      await q(`select pg_get_userbyid(d.defaclrole) as role, n.nspname, d.defaclobjtype, d.defaclacl::text as acl
                         from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace order by 1, 2, 3`),
    publications: await q(`select pubname, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate
                           from pg_publication order by 1`),
  };
}

async function expectSqlState(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isPgError(err) ? err.code : err).toBe(code);
}

function bootstrapSuite(engineName: string, makeEngine: () => Engine) {
  let engine: Engine;
  let db: Database;
  let first: BootstrapResult;
  let files: string[];

  beforeAll(async () => {
    engine = makeEngine();
    files = (await listBootstrapFiles()).map((f) => f.name);
    db = await engine.fresh();
    first = await applyBootstrap(db);
  });
  afterAll(async () => engine?.dispose());

  it('runs every file once, in order, on a database that lacks the platform layer', () => {
    expect(files.length).toBeGreaterThan(0);
    expect(first.supabase).toBe(false);
    expect([...first.applied, ...first.skipped].sort()).toEqual(files);
    expect(first.reasons).toEqual({});
    // Roles are cluster-wide: on a shared PostgreSQL cluster 0001 may find them all in place already.
    // Everything else is per database, and a fresh PGlite has nothing at all.
    const mustApply = engineName === 'pglite' ? files : files.filter((f) => !f.startsWith('0001_'));
    expect(first.applied.filter((f) => mustApply.includes(f))).toEqual(mustApply);
  });

  it('creates anon, authenticated, service_role and authenticator with Supabase attributes', async () => {
    const r = await db.query<{
      rolname: string;
      rolinherit: boolean;
      rolbypassrls: boolean;
      rolcanlogin: boolean;
      rolsuper: boolean;
    }>(
      `select rolname, rolinherit, rolbypassrls, rolcanlogin, rolsuper from pg_roles
       where rolname in ('anon', 'authenticated', 'service_role', 'authenticator') order by rolname`,
    );
    // INHERIT for the API roles since supabase/postgres 20230529180330_alter_api_roles_for_inherit.
    expect(r.rows).toEqual([
      { rolname: 'anon', rolinherit: true, rolbypassrls: false, rolcanlogin: false, rolsuper: false },
      { rolname: 'authenticated', rolinherit: true, rolbypassrls: false, rolcanlogin: false, rolsuper: false },
      { rolname: 'authenticator', rolinherit: false, rolbypassrls: false, rolcanlogin: true, rolsuper: false },
      { rolname: 'service_role', rolinherit: true, rolbypassrls: true, rolcanlogin: false, rolsuper: false },
    ]);
  });

  it('lets authenticator switch to each API role, but not to the superuser', async () => {
    // SET ROLE is checked against the session user, so the test becomes authenticator first (as PostgREST
    // logs in). PGlite never reverts a SET [LOCAL] SESSION AUTHORIZATION (not at commit, rollback or
    // RESET), so this runs on a database of its own that is discarded afterwards.
    const own = await engine.fresh();
    await applyBootstrap(own);
    const superuser = (await own.query<{ u: string }>(`select current_user as u`)).rows[0]!.u;
    for (const role of API_ROLES) {
      const m = await own.query<{ member: boolean }>(`select pg_has_role('authenticator', $1, 'member') as member`, [
        role,
      ]);
      expect(m.rows[0]?.member, `authenticator member of ${role}`).toBe(true);
    }
    const who = await own.transaction(async (tx) => {
      await tx.exec(`set local session authorization authenticator`);
      const seen: unknown[] = [];
      for (const role of API_ROLES) {
        await tx.exec(`set local role ${role}`);
        seen.push((await tx.query(`select current_user as cu, session_user as su`)).rows[0]);
      }
      return seen;
    });
    expect(who).toEqual(API_ROLES.map((role) => ({ cu: role, su: 'authenticator' })));
    await expectSqlState(
      own.transaction(async (tx) => {
        await tx.exec(`set local session authorization authenticator`);
        await tx.exec(`set local role ${superuser}`);
      }),
      '42501',
    );
  });

  it('creates auth.users with the columns and types of Supabase Auth', async () => {
    const r = await db.query<{ attname: string; type: string; attnotnull: boolean; generated: boolean }>(
      `select attname, format_type(atttypid, atttypmod) as type, attnotnull, attgenerated <> '' as generated
       from pg_attribute where attrelid = 'auth.users'::regclass and attnum > 0 and not attisdropped order by attnum`,
    );
    expect(r.rows.map((c) => [c.attname, c.type, c.attnotnull, c.generated])).toEqual(AUTH_USERS_SPEC);
    const pk = await db.query<{ def: string }>(
      `select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = 'auth.users'::regclass and contype = 'p'`,
    );
    expect(pk.rows).toEqual([{ def: 'PRIMARY KEY (id)' }]);
    const rls = await db.query<{ on: boolean }>(
      `select relrowsecurity as on from pg_class where oid = 'auth.users'::regclass`,
    );
    expect(rls.rows[0]?.on).toBe(true);
  });

  it('keeps email unique among non-SSO users only, and derives confirmed_at', async () => {
    const idx = await db.query<{ def: string }>(
      `select indexdef as def from pg_indexes where schemaname = 'auth' and indexname = 'users_email_partial_key'`,
    );
    expect(idx.rows[0]?.def).toBe(
      'CREATE UNIQUE INDEX users_email_partial_key ON auth.users USING btree (email) WHERE (is_sso_user = false)',
    );
    const email = `dup-${randomUUID()}@example.invalid`;
    await db.transaction(async (tx) => {
      await tx.query(`insert into auth.users (id, email, is_sso_user) values ($1, $2, true), ($3, $2, true)`, [
        randomUUID(),
        email,
        randomUUID(),
      ]);
      await tx.query(`insert into auth.users (id, email, email_confirmed_at) values ($1, $2, '2024-01-02T00:00:00Z')`, [
        randomUUID(),
        email,
      ]);
      const c = await tx.query<{ same: boolean }>(
        `select confirmed_at = email_confirmed_at as same from auth.users where email = $1 and not is_sso_user`,
        [email],
      );
      expect(c.rows).toEqual([{ same: true }]);
    });
    await expectSqlState(
      db.query(`insert into auth.users (id, email) values ($1, $2)`, [randomUUID(), email]),
      '23505',
    );
  });

  it('auth.uid()/role()/email()/jwt() read the request claims, as an API role, and are null when unset', async () => {
    const sub = randomUUID();
    const claims = { sub, role: 'authenticated', email: 'claims@example.invalid', app_metadata: { tier: 'pro' } };
    const got = await db.transaction(async (tx) => {
      await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(claims)]);
      await tx.exec(`set local role authenticated`);
      return (
        await tx.query<{ uid: string; role: string; email: string; jwt: unknown }>(
          `select auth.uid() as uid, auth.role() as role, auth.email() as email, auth.jwt() as jwt`,
        )
      ).rows[0];
    });
    expect(got).toEqual({ uid: sub, role: 'authenticated', email: 'claims@example.invalid', jwt: claims });

    for (const role of API_ROLES) {
      const unset = await db.transaction(async (tx) => {
        // An empty setting is what a pooled session holds after an earlier request's local claims ended.
        await tx.query(`select set_config('request.jwt.claims', '', true)`);
        await tx.exec(`set local role ${role}`);
        return (
          await tx.query(`select auth.uid() as uid, auth.role() as role, auth.email() as email, auth.jwt() as jwt`)
        ).rows[0];
      });
      expect(unset, role).toEqual({ uid: null, role: null, email: null, jwt: null });
      const fx = await db.query<{ ok: boolean }>(
        `select bool_and(has_function_privilege($1, p.oid, 'execute')) as ok
         from pg_proc p where p.pronamespace = 'auth'::regnamespace and p.proname in ('uid', 'role', 'email', 'jwt')`,
        [role],
      );
      expect(fx.rows[0]?.ok, `${role} executes auth helpers`).toBe(true);
    }
    const fresh = await db.query(`select auth.uid() as uid, auth.jwt() as jwt`);
    expect(fresh.rows[0]).toEqual({ uid: null, jwt: null });
  });

  it('auth.uid() also honours the legacy request.jwt.claim.sub setting, which wins over the claims', async () => {
    const legacy = randomUUID();
    const uids = await db.transaction(async (tx) => {
      await tx.query(`select set_config('request.jwt.claim.sub', $1, true)`, [legacy]);
      const only = (await tx.query<{ uid: string }>(`select auth.uid() as uid`)).rows[0]?.uid;
      await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: randomUUID() })]);
      const both = (await tx.query<{ uid: string }>(`select auth.uid() as uid`)).rows[0]?.uid;
      return { only, both };
    });
    expect(uids).toEqual({ only: legacy, both: legacy });
  });

  it('grants ALL on new public tables, USAGE on new sequences and EXECUTE on new functions to the API roles', async () => {
    await db.exec(`
      create table public.bs_default_privs (id bigint generated by default as identity primary key, note text);
      create sequence public.bs_default_privs_seq;
      create function public.bs_default_privs_fn() returns int language sql as 'select 1';
    `);
    for (const role of API_ROLES) {
      for (const priv of ['select', 'insert', 'update', 'delete', 'truncate', 'references', 'trigger']) {
        const t = await db.query<{ ok: boolean }>(
          `select has_table_privilege($1, 'public.bs_default_privs', $2) as ok`,
          [role, priv],
        );
        expect(t.rows[0]?.ok, `${role} ${priv} on new table`).toBe(true);
      }
      for (const seq of ['public.bs_default_privs_seq', 'public.bs_default_privs_id_seq']) {
        const s = await db.query<{ ok: boolean }>(
          `select has_sequence_privilege($1, $2, 'usage') and has_sequence_privilege($1, $2, 'select')
                  and has_sequence_privilege($1, $2, 'update') as ok`,
          [role, seq],
        );
        expect(s.rows[0]?.ok, `${role} on ${seq}`).toBe(true);
      }
    }
    // EXECUTE also reaches everyone through PUBLIC; the default privilege must name each API role itself.
    const fnAcl = await db.query<{ grantee: string; privilege_type: string }>(
      `select pg_get_userbyid(a.grantee) as grantee, a.privilege_type
       from pg_proc p, aclexplode(p.proacl) a
       where p.oid = 'public.bs_default_privs_fn()'::regprocedure and a.grantee <> 0
       order by 1`,
    );
    for (const role of API_ROLES) expect(fnAcl.rows).toContainEqual({ grantee: role, privilege_type: 'EXECUTE' });
    for (const role of API_ROLES) {
      const u = await db.query<{ ok: boolean }>(
        `select has_schema_privilege($1, 'public', 'usage') and has_schema_privilege($1, 'extensions', 'usage')
                and has_schema_privilege($1, 'auth', 'usage') as ok`,
        [role],
      );
      expect(u.rows[0]?.ok, `${role} usage on public, extensions, auth`).toBe(true);
    }
  });

  it('service_role bypasses RLS; anon and authenticated see nothing without a policy', async () => {
    await db.exec(`
      create table public.bs_rls (id int primary key);
      alter table public.bs_rls enable row level security;
      insert into public.bs_rls values (1), (2);
    `);
    const counts: Record<string, number> = {};
    for (const role of API_ROLES) {
      counts[role] = await db.transaction(async (tx) => {
        await tx.exec(`set local role ${role}`);
        return Number((await tx.query<{ n: string }>(`select count(*) as n from public.bs_rls`)).rows[0]?.n);
      });
    }
    const owner = Number((await db.query<{ n: string }>(`select count(*) as n from public.bs_rls`)).rows[0]?.n);
    expect(owner).toBeGreaterThan(0);
    expect(counts).toEqual({ anon: 0, authenticated: 0, service_role: owner });
  });

  it('gives the API roles no access at all to auth.users', async () => {
    for (const role of API_ROLES) {
      for (const priv of ['select', 'insert', 'update', 'delete', 'truncate', 'references', 'trigger']) {
        const t = await db.query<{ ok: boolean }>(`select has_table_privilege($1, 'auth.users', $2) as ok`, [
          role,
          priv,
        ]);
        expect(t.rows[0]?.ok, `${role} ${priv} on auth.users`).toBe(false);
      }
      await expectSqlState(
        db.transaction(async (tx) => {
          await tx.exec(`set local role ${role}`);
          await tx.query(`select id from auth.users limit 1`);
        }),
        '42501',
      );
    }
  });

  it('creates the empty supabase_realtime publication', async () => {
    const p = await db.query(
      `select pubname, puballtables, pubinsert, pubupdate, pubdelete, pubtruncate from pg_publication where pubname = 'supabase_realtime'`,
    );
    expect(p.rows).toEqual([
      {
        pubname: 'supabase_realtime',
        puballtables: false,
        pubinsert: true,
        pubupdate: true,
        pubdelete: true,
        pubtruncate: true,
      },
    ]);
    const members = await db.query(`select * from pg_publication_tables where pubname = 'supabase_realtime'`);
    expect(members.rows).toEqual([]);
    expect(first.applied).toContain('0006_realtime_publication.sql');
  });

  it('is idempotent: a second run changes nothing in the catalog and reports every file skipped', async () => {
    const before = await catalogState(db);
    const second = await applyBootstrap(db);
    expect(second).toEqual({ applied: [], skipped: files, reasons: {}, supabase: false });
    expect(await catalogState(db)).toEqual(before);
  });

  it('skips a file whose precondition is false, with its reason, without running it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bs-pre-'));
    try {
      writeFileSync(
        join(dir, '0001_needs_feature.sql'),
        `-- bootstrap:skip-unless: select false\n-- bootstrap:skip-reason: engine lacks the feature\ncreate table public.bs_never (id int);\n`,
      );
      const r = await applyBootstrap(db, { dir });
      expect(r).toEqual({
        applied: [],
        skipped: ['0001_needs_feature.sql'],
        reasons: { '0001_needs_feature.sql': 'engine lacks the feature' },
        supabase: false,
      });
      const t = await db.query<{ t: string | null }>(`select to_regclass('public.bs_never')::text as t`);
      expect(t.rows[0]?.t).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts a file as applied when it changes any object the bootstrap owns, and as skipped when it changes none', async () => {
    // One file per kind of object the bootstrap is responsible for (src/migrate/bootstrap.ts BOOTSTRAP_SCOPE),
    // each changing only that object; the catalog reader must see every one of them.
    const changes: Record<string, string> = {
      '0001_auth_column_comment.sql': `comment on column auth.users.email is 'changed by the bootstrap test';`,
      '0002_auth_index.sql': 'create index bs_probe_idx on auth.users (created_at);',
      '0003_auth_function_comment.sql': `comment on function auth.uid() is 'changed by the bootstrap test';`,
      '0004_public_schema_acl.sql': 'grant create on schema public to anon;',
      '0005_default_privileges.sql': 'alter default privileges in schema auth grant select on tables to anon;',
      '0006_publication_options.sql': `alter publication supabase_realtime set (publish = 'insert');`,
      // Roles are cluster-wide: changed only where the cluster is this test's own (PGlite).
      ...(engineName === 'pglite'
        ? {
            '0007_role_setting.sql': `alter role anon set statement_timeout = '1s';`,
            '0008_role_membership.sql': 'grant anon to service_role;',
          }
        : {}),
    };
    const noop = '0099_nothing_new.sql';
    const dir = mkdtempSync(join(tmpdir(), 'bs-scope-'));
    const other = await engine.fresh();
    try {
      await applyBootstrap(other);
      for (const [name, sql] of Object.entries(changes)) writeFileSync(join(dir, name), `${sql}\n`);
      writeFileSync(join(dir, noop), 'create schema if not exists auth;\n');
      const r = await applyBootstrap(other, { dir });
      expect(r).toEqual({ applied: Object.keys(changes), skipped: [noop], reasons: {}, supabase: false });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('recognises a real Supabase database (auth.users owned by supabase_auth_admin) and runs nothing there', async () => {
    const other = await engine.fresh();
    await other.exec(`
      do $$ begin
        if not exists (select from pg_roles where rolname = 'supabase_auth_admin') then
          create role supabase_auth_admin nologin noinherit;
        end if;
      exception when duplicate_object or unique_violation then null;
      end $$;
      create schema auth;
      create table auth.users (id uuid primary key);
      alter table auth.users owner to supabase_auth_admin;
    `);
    const r = await applyBootstrap(other);
    expect(r.supabase).toBe(true);
    expect(r.applied).toEqual([]);
    expect(r.skipped).toEqual(files);
    for (const f of files) expect(r.reasons[f]).toMatch(/real Supabase database/);
    const untouched = await other.query<{ uid: string | null; cols: string; pub: string }>(
      `select to_regprocedure('auth.uid()')::text as uid,
              (select count(*) from pg_attribute where attrelid = 'auth.users'::regclass and attnum > 0)::text as cols,
              (select count(*) from pg_publication)::text as pub`,
    );
    expect(untouched.rows[0]).toEqual({ uid: null, cols: '1', pub: '0' });
  });
}

describe('bootstrap on PGlite (PostgreSQL 18, WASM)', () => {
  bootstrapSuite('pglite', pgliteEngine);
});

const explicitPg = process.env.TEST_PG_URL?.trim();
const pg15 = explicitPg ? { url: explicitPg } : pgAvailability();
describeRequiring('bootstrap on PostgreSQL 15', 'url' in pg15 ? null : pg15.unavailable, () => {
  bootstrapSuite('postgres', () => postgresEngine((pg15 as { url: string }).url));
});
