import { readFileSync } from 'node:fs';
import { EXIT_FAILED, EXIT_USAGE, helpText, parseCommandArgs, UsageError, type Command, type Io } from './command.js';
import { docsCommand, provideCliHelp } from './docs.js';
import { MIGRATE_COMMANDS } from './migrate.js';
import { policiesDiffCommand, policiesMigrationCommand } from './policies.js';
import { gateCommand, reportCommand } from './report.js';
import { seedCommand } from './seed.js';
import { statsCliCommand } from './stats.js';
import { serveCliCommand } from './serve.js';
import { tokenCliCommand } from './token.js';
import { typesCliCommand } from './gen-types.js';

/**
 * `shipspeak-db <command> [options]`. Each command owns its options (src/commands/*.ts); the name is checked
 * before any database is opened. Exit codes: 0 ok, 1 the command failed, 2 usage or configuration error.
 * `--verbose` prints the stack (and causes) of an unexpected error.
 */
const COMMANDS: Command[] = [
  ...MIGRATE_COMMANDS,
  seedCommand,
  policiesDiffCommand,
  policiesMigrationCommand,
  typesCliCommand,
  serveCliCommand,
  tokenCliCommand,
  reportCommand,
  gateCommand,
  statsCliCommand,
  docsCommand,
];

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The `shipspeak-db --help` text (also shown in docs/cli.md, kept there by `shipspeak-db docs`). */
export function cliOverview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: shipspeak-db <command> [options]       (shipspeak-db <command> --help for its options)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary.split('. ')[0]!.replace(/\.$/, '')}`),
    '',
    'Database: DATABASE_URL when set, else --data-dir DIR (persistent PGlite), else an in-memory PGlite (said when used).',
    'Global: --help, --version, --verbose (stack of an unexpected error). Exit: 0 ok, 1 failed, 2 usage/configuration error.',
  ].join('\n');
}
provideCliHelp(cliOverview);

/** `migrate up` → the two-word command; `seed` → the one-word one; the rest of argv is the command's. */
function findCommand(argv: string[]): { cmd: Command; rest: string[] } {
  const [first, second] = argv;
  const two = COMMANDS.find((c) => c.name === `${first} ${second}`);
  if (two) return { cmd: two, rest: argv.slice(2) };
  const one = COMMANDS.find((c) => c.name === first);
  if (one) return { cmd: one, rest: argv.slice(1) };
  const family = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  if (family.length) {
    const actions = family.map((c) => c.name.split(' ')[1]).join(' | ');
    throw new UsageError(
      second === undefined || second.startsWith('-')
        ? `${first} needs an action: ${actions}`
        : `unknown action "${second}" for ${first}: ${actions}`,
    );
  }
  throw new UsageError(`unknown command "${first}": run shipspeak-db --help`);
}

function describe(e: unknown, verbose: boolean): string {
  if (!(e instanceof Error)) return String(e);
  if (!verbose) return e.message;
  let text = e.stack ?? e.message;
  for (let c: unknown = e.cause; c instanceof Error; c = c.cause) text += `\ncaused by: ${c.stack ?? c.message}`;
  return text;
}

/** Runs one CLI invocation against `io`; returns the exit code. The process wrapper is src/cli.ts. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const verbose = argv.includes('--verbose');
  const args = argv.filter((a) => a !== '--verbose');
  try {
    if (args.length === 0 || args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
      const topic = args[0] === 'help' && args.length > 1 ? findCommand(args.slice(1)).cmd : null;
      io.out(topic ? helpText(topic) : cliOverview());
      return args.length === 0 ? EXIT_USAGE : 0;
    }
    if (args[0] === '--version' || args[0] === '-v') {
      io.out(`shipspeak-db ${VERSION}`);
      return 0;
    }
    const { cmd, rest } = findCommand(args);
    const parsed = parseCommandArgs(cmd, rest);
    if (parsed.help) {
      io.out(helpText(cmd));
      return 0;
    }
    return await cmd.run(parsed, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`shipspeak-db: ${e.message}`);
      io.err(e.command ? `usage: shipspeak-db ${e.command.synopsis}` : 'run shipspeak-db --help for the commands');
      return EXIT_USAGE;
    }
    io.err(`shipspeak-db: ${describe(e, verbose)}`);
    return EXIT_FAILED;
  }
}
