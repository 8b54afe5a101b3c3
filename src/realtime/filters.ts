/**
 * postgres_changes filters as realtime-js sends them (`column=op.value`), with Supabase Realtime's operators:
 * eq, neq, lt, lte, gt, gte, in (`in.(a,b,c)`). Values compare as Realtime compares them after casting to
 * the column's type: numbers numerically, everything else as text.
 */
export type FilterOp = 'eq' | 'neq' | 'lt' | 'lte' | 'gt' | 'gte' | 'in';

export interface Filter {
  column: string;
  op: FilterOp;
  values: string[];
}

export class FilterError extends Error {}

const OPS: FilterOp[] = ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'in'];

export function parseFilter(text: string): Filter {
  const m = /^([^=]+)=([a-z]+)\.(.*)$/s.exec(text);
  if (!m) throw new FilterError(`invalid filter ${JSON.stringify(text)}: expected column=operator.value`);
  const [, column, op, value] = m as unknown as [string, string, string, string];
  if (!OPS.includes(op as FilterOp))
    throw new FilterError(`invalid filter operator ${JSON.stringify(op)}: one of ${OPS.join(', ')}`);
  if (op === 'in') {
    const list = /^\((.*)\)$/s.exec(value);
    if (!list) throw new FilterError(`invalid filter ${JSON.stringify(text)}: in takes a list, in.(a,b)`);
    return { column, op: 'in', values: list[1]!.split(',').map((v) => v.trim().replace(/^"(.*)"$/, '$1')) };
  }
  return { column, op: op as FilterOp, values: [value] };
}

function compare(a: unknown, b: string): number {
  if (typeof a === 'number') return a - Number(b);
  const s = typeof a === 'string' ? a : JSON.stringify(a);
  return s < b ? -1 : s > b ? 1 : 0;
}

export function matchesFilter(f: Filter, record: Record<string, unknown>): boolean {
  if (!(f.column in record)) return false;
  const v = record[f.column];
  if (v === null || v === undefined) return false;
  const c = compare(v, f.values[0]!);
  switch (f.op) {
    case 'eq':
      return c === 0;
    case 'neq':
      return c !== 0;
    case 'lt':
      return c < 0;
    case 'lte':
      return c <= 0;
    case 'gt':
      return c > 0;
    case 'gte':
      return c >= 0;
    case 'in':
      return f.values.some((x) => compare(v, x) === 0);
  }
}
