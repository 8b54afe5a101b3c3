#!/usr/bin/env node
// The registry this project installs from serves only the linux-x64 builds of the Supabase and squawk
// CLIs, so `npm install` leaves their other-platform optional packages out of package-lock.json and
// `npm ci` then refuses the lock ("Missing: @supabase/cli-darwin-arm64 from lock file"). This records
// those optional entries with their os/cpu, which npm skips on every other platform. Run it after any
// `npm install` that rewrites the lock: `node scripts/lock-platform-entries.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const platform = (name) => {
  const n = name.split('/').pop();
  const os = n.includes('darwin') ? 'darwin' : n.includes('win32') || n.includes('windows') ? 'win32' : 'linux';
  return { os: [os], cpu: [n.includes('arm64') ? 'arm64' : 'x64'], ...(n.includes('musl') ? { libc: ['musl'] } : {}) };
};
const added = [];
for (const parent of ['node_modules/supabase', 'node_modules/squawk-cli']) {
  for (const [name, version] of Object.entries(lock.packages[parent]?.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (lock.packages[key]) continue;
    lock.packages[key] = { version, dev: true, optional: true, ...platform(name) };
    added.push(`${name}@${version}`);
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `recorded ${added.join(', ')}` : 'lock already complete');
