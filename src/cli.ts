import { createInterface } from 'node:readline/promises';
import type { Io } from './commands/command.js';
import { runCli } from './commands/dispatch.js';

/** The `shipspeak-db` process: real stdout/stderr, a terminal prompt when there is one, the exit code. */
const io: Io = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  async ask(question) {
    if (!process.stdin.isTTY) return null;
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

runCli(process.argv.slice(2), io).then((code) => process.exit(code));
