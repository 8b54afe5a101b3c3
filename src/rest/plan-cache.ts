import type { Statement } from '../db/database.js';
import type { SchemaCache } from './schema-cache.js';

/** The most read plans remembered per schema cache (each a statement of a few kB at most). */
export const DEFAULT_PLANS_PER_SCHEMA_CACHE = 500;

/**
 * Read plans remembered by what determines them, so a URL the gateway has already planned is not parsed,
 * planned and rendered again (issue 17 item 5: a client repeats the same few URLs). Only the gateway's own
 * output is stored — a plan its planner built from the schema cache and the statement its renderer made of it
 * (schema-cache identifiers quoted, every value a bind parameter) — under a key made of every input the planner
 * read. Nothing about the caller is in a plan: the role and the claims go in the per-request prelude, and
 * PostgreSQL applies RLS when the statement runs, so a plan made for one user answers another with that
 * user's rows. Kept per schema cache object: a reload (NOTIFY pgrst / reloadSchemaCache) makes a new one, so
 * no plan outlives the schema it was made from. Bounded, least recently used dropped first.
 */
export class PlanCache<T extends { statement: Readonly<Statement> }> {
  private readonly bySchema = new WeakMap<SchemaCache, Map<string, T>>();

  constructor(readonly capacity = DEFAULT_PLANS_PER_SCHEMA_CACHE) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new Error(`plan cache capacity must be a non-negative integer (got ${capacity})`);
  }

  get(cache: SchemaCache, key: string): T | undefined {
    const plans = this.bySchema.get(cache);
    const hit = plans?.get(key);
    if (hit !== undefined) {
      // Most recently used last.
      plans!.delete(key);
      plans!.set(key, hit);
    }
    return hit;
  }

  set(cache: SchemaCache, key: string, value: T): void {
    if (this.capacity === 0) return;
    let plans = this.bySchema.get(cache);
    if (!plans) {
      plans = new Map();
      this.bySchema.set(cache, plans);
    }
    if (!plans.has(key) && plans.size >= this.capacity) plans.delete(plans.keys().next().value!);
    Object.freeze(value.statement.params);
    plans.set(key, Object.freeze(value));
  }

  /** How many plans are remembered for this schema cache (for tests and diagnostics). */
  size(cache: SchemaCache): number {
    return this.bySchema.get(cache)?.size ?? 0;
  }
}
