#!/usr/bin/env node
// Runs the CLI in-process (signals reach the CLI itself) with no build step to forget: from the compiled copy of
// src/ that compile-cache.js keeps up to date with the sources (Node's own loader, fast start), else through tsx
// (compiledModule then has said why on stderr, unless SHIPSPEAK_COMPILE_CACHE=0 asked for it).
import { compiledModule } from './compile-cache.js';

const compiled = await compiledModule('cli.js');
if (compiled) {
  // Stack traces name the .ts sources only when asked for (reading source maps costs start-up time).
  if (process.argv.includes('--verbose')) process.setSourceMapsEnabled(true);
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
