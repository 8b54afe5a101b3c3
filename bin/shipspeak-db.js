#!/usr/bin/env node
// Runs the TypeScript CLI in-process through tsx: no build step to forget, and signals reach the CLI itself.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
