import { parseArgs } from 'node:util';
import { openDatabase } from './db/open.js';
import { migrateCommand } from './commands/migrate.js';
import { seedCommand } from './commands/seed.js';
import { policiesCommand } from './commands/policies.js';
import { TYPES_FILE, typesCommand } from './commands/types.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';
import { existsSync, readFileSync } from 'node:fs';

const USAGE = `usage: shipspeak-db <command>
  migrate up [--to NNNN]              apply pending migrations (bootstrap first where missing)
  migrate down (--to NNNN | --steps K) revert applied migrations, newest first
  migrate status                      sql/migrations against sql/migrations.sum (no database needed), then
                                      applied / pending / drifted / missing per migration on DATABASE_URL
  migrate hash [--rehash-last]        record new migrations in sql/migrations.sum (--rehash-last: re-hash the
                                      newest entry, only for a migration that has not landed)
  seed [--name dev]                   load fixtures/<name>-seed.sql (migrates first)
  policies diff                       compare the database's RLS policies with sql/policies
  policies migration <name>           write the migration pair that applies sql/policies changes
  types [--check]                     regenerate types/database.types.ts with the Supabase CLI (--check: fail if stale)
  serve [--port 54321] [--schemas public] [--anon-role anon] [--jwt-secret S] [--data-dir DIR] [--seed] [--migrate] [--no-cache]
                                      local Supabase data API (PostgREST-compatible) on 127.0.0.1; prints URL and keys
  token --user <free_a|free_b|pro|admin|uuid> [--url URL] [--data-dir DIR] [--jwt-secret S] [--expires-in SECONDS]
                                      print a user access token, creating the user through the signup path when missing
The database is DATABASE_URL when set, otherwise an in-memory PGlite (use --data-dir to keep it).`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      steps: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      check: { type: 'boolean' },
      port: { type: 'string' },
      schemas: { type: 'string' },
      'anon-role': { type: 'string' },
      'jwt-secret': { type: 'string' },
      'data-dir': { type: 'string' },
      seed: { type: 'boolean' },
      migrate: { type: 'boolean' },
      'no-cache': { type: 'boolean' },
      user: { type: 'string' },
      url: { type: 'string' },
      'expires-in': { type: 'string' },
      'rehash-last': { type: 'boolean' },
    },
  });
  const [command, action] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const out = (line: string) => console.log(line);
  if (command === 'types') {
    // Needs a real PostgreSQL (the CLI reads its catalog), not the command's default engine.
    return typesCommand(values.check ?? false, existsSync(TYPES_FILE) ? readFileSync(TYPES_FILE, 'utf8') : null, out);
  }
  const err = (line: string) => console.error(line);
  if (command === 'serve') {
    // Owns its database (PGlite, a data directory or DATABASE_URL) and runs until SIGINT/SIGTERM.
    return serveCommand(
      {
        port: values.port,
        schemas: values.schemas,
        anonRole: values['anon-role'],
        jwtSecret: values['jwt-secret'],
        dataDir: values['data-dir'],
        seed: values.seed,
        migrate: values.migrate,
        cache: !values['no-cache'],
      },
      out,
      err,
    );
  }
  if (command === 'token') {
    return tokenCommand(
      { user: values.user, url: values.url, dataDir: values['data-dir'], jwtSecret: values['jwt-secret'], expiresIn: values['expires-in'] },
      out,
      err,
    );
  }
  if (command === 'migrate' && (action === 'hash' || (action === 'status' && !process.env.DATABASE_URL))) {
    // Repository-only: no database to open (an in-memory one would only show everything pending).
    return migrateCommand(null, { action, rehashLast: values['rehash-last'] ?? false, persistent: false }, out);
  }
  const db = await openDatabase();
  try {
    switch (command) {
      case 'migrate':
        return await migrateCommand(db, { action, to: values.to, steps: values.steps }, out);
      case 'policies':
        return await policiesCommand(db, action, positionals[2], out);
      case 'seed':
        return await seedCommand(db, values.name ?? 'dev', out);
      default:
        console.error(`unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`shipspeak-db: ${e.message}`);
    process.exit(1);
  },
);
