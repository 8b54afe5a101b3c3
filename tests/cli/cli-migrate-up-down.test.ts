import { describe, expect, it } from 'vitest';
import { all, appliedCount, cliInProcess, dataDirs, SPAWNS_TIMEOUT } from './support.js';

const dataDir = dataDirs();

describe('migrate on a persistent PGlite (in-process: the same runCli the process calls)', () => {
  it(
    'up --steps N applies exactly N; --to 3 means --to 0003; --dry-run changes nothing',
    async () => {
      const d = dataDir();
      const dry = await cliInProcess(['migrate', 'up', '--dry-run', '--data-dir', d]);
      expect(dry.code).toBe(0);
      expect(dry.out).toContain(`would apply ${all[0]!.version}_${all[0]!.name}`);
      expect(dry.out).toMatch(new RegExp(`${all.length} migration\\(s\\) would be applied; nothing was changed`));
      expect(await appliedCount(d)).toBe(0);
      const one = await cliInProcess(['migrate', 'up', '--steps', '1', '--data-dir', d]);
      expect(one.code).toBe(0);
      expect(one.out).toContain(`applying ${all[0]!.version}_${all[0]!.name}…`);
      expect(await appliedCount(d)).toBe(1);
      const three = await cliInProcess(['migrate', 'up', '--to', '3', '--data-dir', d]);
      expect(three.code).toBe(0);
      expect(await appliedCount(d)).toBe(all.filter((m) => m.version <= '0003').length);
    },
    SPAWNS_TIMEOUT,
  );

  it(
    'down shows the plan with row counts, refuses without --yes off a terminal, --dry-run and --json change nothing',
    async () => {
      const d = dataDir();
      expect((await cliInProcess(['seed', '--data-dir', d])).code).toBe(0);
      const before = await appliedCount(d);
      expect(before).toBe(all.length);
      const refused = await cliInProcess(['migrate', 'down', '--to', '0', '--data-dir', d]);
      expect(refused.code).toBe(2);
      expect(refused.out).toMatch(
        /will revert 0002_profiles_and_progress\n\s+drops public\.user_progress — \d+ row\(s\)/,
      );
      expect(refused.err).toMatch(/pass --yes to confirm.*nothing was changed/);
      expect(await appliedCount(d)).toBe(before);
      const dry = await cliInProcess(['migrate', 'down', '--steps', '2', '--dry-run', '--json', '--data-dir', d]);
      expect(dry.code).toBe(0);
      const plan = JSON.parse(dry.out) as { migrations: { version: string }[] };
      expect(plan.migrations.map((m) => m.version)).toEqual(
        all
          .slice(-2)
          .map((m) => m.version)
          .reverse(),
      );
      expect(await appliedCount(d)).toBe(before);
      const yes = await cliInProcess(['migrate', 'down', '--steps', '1', '--yes', '--data-dir', d]);
      expect(yes.code).toBe(0);
      expect(await appliedCount(d)).toBe(before - 1);
    },
    SPAWNS_TIMEOUT,
  );
});
