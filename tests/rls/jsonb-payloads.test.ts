/**
 * A client that skips validation cannot store a JSONB payload of the wrong shape: through supabase-js, as the
 * row's owner (so RLS allows the write), the database's schema constraint (migration 0034) refuses it with
 * PostgREST's check-violation answer and the row keeps its previous value. The typed client refuses the
 * same payloads at compile time (the @ts-expect-error lines fail `npm run typecheck` if the types regress
 * to `Json`).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createUser, deleteCreatedUsers, serviceClient, type CreatedUser } from '../../src/harness/users.js';
import type { ProfilePreferences } from '../../types/database.js';
import { describeEachEnvironment } from './support/environments.js';
import { moduleRow, must, sessionRow } from './support/world.js';

describeEachEnvironment('JSONB payloads are checked by the database', (ctx) => {
  let user: CreatedUser;
  beforeAll(async () => {
    user = await createUser(ctx().env);
  });
  afterAll(async () => void (await deleteCreatedUsers(ctx().env)));

  const preferences = async () =>
    (await user.client.from('profiles').select('preferences').eq('id', user.id).single()).data?.preferences;

  it('a well-formed payload is stored and read back typed', async () => {
    const good: ProfilePreferences = { theme: 'dark', coaching_focus: ['clarity', 'pacing'], locale: 'en-GB' };
    const r = await user.client
      .from('profiles')
      .update({ preferences: good })
      .eq('id', user.id)
      .select('preferences')
      .single();
    expect(r.error, JSON.stringify(r.error)).toBeNull();
    expect(r.data?.preferences).toEqual(good);
    // Typed, not Json: this property access compiles only because the column has the schema's type.
    expect((await preferences())?.theme).toBe('dark');
  });

  // Each bad payload is typed ProfilePreferences: the @ts-expect-error lines prove the compiler refuses it too.
  // @ts-expect-error theme is an enum of the schema
  const unknownTheme: ProfilePreferences = { theme: 'neon' };
  // @ts-expect-error no such preference in the schema (additionalProperties: false)
  const unknownKey: ProfilePreferences = { font_size: 'large' };
  // @ts-expect-error coaching_focus holds dimensions
  const wrongItem: ProfilePreferences = { coaching_focus: [42] };
  it.each([
    ['an unknown enum value', unknownTheme],
    ['an unknown key', unknownKey],
    ['a wrong item type', wrongItem],
    ['a duplicate item', { coaching_focus: ['clarity', 'clarity'] }],
    ['a malformed locale', { locale: 'English' }],
  ] as [string, ProfilePreferences][])('%s is refused with 23514 and the row is unchanged', async (_label, bad) => {
    const before = await preferences();
    const r = await user.client.from('profiles').update({ preferences: bad }).eq('id', user.id).select('preferences');
    expect(r.error?.code).toBe('23514');
    expect(r.error?.message).toMatch(/profiles_preferences_matches_schema/);
    expect(r.status).toBe(400);
    expect(await preferences()).toEqual(before);
  });

  it('a practice session with impossible metrics or a scenario without its prompt is refused', async () => {
    const service = serviceClient(ctx().env);
    const mod = must('module', await service.from('modules').insert(moduleRow()).select('id'))[0]!;
    try {
      const noPrompt = await user.client
        .from('practice_sessions')
        // @ts-expect-error the scenario schema requires prompt
        .insert({ ...sessionRow(user.id, mod.id), scenario: { ai_role: 'CFO' } })
        .select('id');
      expect(noPrompt.error?.code).toBe('23514');
      expect(noPrompt.error?.message).toMatch(/practice_sessions_scenario_matches_schema/);
      const session = must(
        'session',
        await user.client.from('practice_sessions').insert(sessionRow(user.id, mod.id)).select('id'),
      )[0]!;
      const r = await user.client
        .from('practice_sessions')
        // @ts-expect-error words_per_minute is a number
        .update({ metrics: { words_per_minute: 'fast' } })
        .eq('id', session.id)
        .select('id');
      expect(r.error?.code).toBe('23514');
      expect(r.error?.message).toMatch(/practice_sessions_metrics_matches_schema/);
      const ok = await user.client
        .from('practice_sessions')
        .update({ metrics: { words_per_minute: 142.5, pause_count: 3 } })
        .eq('id', session.id)
        .select('metrics')
        .single();
      expect(ok.error).toBeNull();
      expect(ok.data?.metrics.words_per_minute).toBe(142.5);
    } finally {
      await deleteCreatedUsers(ctx().env);
      await service.from('modules').delete().eq('id', mod.id);
    }
  });
});
