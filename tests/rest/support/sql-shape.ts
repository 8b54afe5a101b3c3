import type { Statement } from '../../../src/rest/sql.js';

/**
 * The allowed shape of every statement the gateway renders, checked token by token:
 *  - a double-quoted identifier is a schema-cache name, one of the gateway's own aliases, or — only right
 *    after `as` — an output label the client chose;
 *  - a single-quoted literal is one the renderer itself writes ('[]', '0');
 *  - `$n` refers to a parameter that exists, and every parameter is referred to;
 *  - a bare word is SQL vocabulary of the renderer (or an internal `_pgrst_…` name), a bare number one the
 *    renderer writes (0, 1; 2 and 10 only in the CSV writer's substring(…, 2, …) and chr(10));
 *  - no `;`, comment (`--`, `/*`) or other character outside this grammar.
 * Text from a request can therefore only be in a parameter, or quoted as a cache name or label.
 */
export const VOCABULARY = new Set(
  `select from where and or not as count int coalesce json_agg row_to_json limit offset bigint order by asc desc nulls
   first last cast exists in false is null true unknown distinct like ilike any all text json_strip_nulls with insert
   into values default on conflict do nothing update set excluded returning xmax delete json_populate_recordset
   json_populate_record json json_to_record cross join lateral to_json set_config n body total inserted
   to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery regconfig explain format string_agg
   json_object_keys chr substring length row`.split(/\s+/),
);
const INTERNAL_WORD = /^(_?pgrst_[a-z0-9_]+|t\d+)$/;
const INTERNAL_IDENT = /^(t\d+|_?pgrst_[a-z0-9_]+)$/;
const LITERALS = new Set(['[]', '0', ',', '']);
const NUMBERS = new Set(['0', '1', '2', '10']);
const PUNCT = new Set([...'(),.=<>!~*@&:-+|[]']);

export interface ShapeViolation {
  at: number;
  what: string;
}

export function sqlShapeViolations(stmt: Statement, cacheNames: Set<string>): ShapeViolation[] {
  const s = stmt.sql;
  const out: ShapeViolation[] = [];
  const used = new Set<number>();
  let prevWord = '';
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') {
      let j = i + 1;
      let name = '';
      for (;;) {
        if (j >= s.length) {
          out.push({ at: i, what: 'unterminated quoted identifier' });
          return out;
        }
        if (s[j] === '"') {
          if (s[j + 1] === '"') {
            name += '"';
            j += 2;
            continue;
          }
          break;
        }
        name += s[j++];
      }
      if (!cacheNames.has(name) && !INTERNAL_IDENT.test(name) && prevWord !== 'as')
        out.push({ at: i, what: `identifier "${name}" is not in the schema cache` });
      prevWord = '"';
      i = j + 1;
    } else if (c === "'") {
      const j = s.indexOf("'", i + 1);
      const lit = j < 0 ? s.slice(i + 1) : s.slice(i + 1, j);
      if (j < 0 || !LITERALS.has(lit)) out.push({ at: i, what: `literal '${lit}'` });
      if (j < 0) return out;
      prevWord = "'";
      i = j + 1;
    } else if (c === '$') {
      const m = /^\$(\d+)/.exec(s.slice(i));
      const k = m ? Number(m[1]) : NaN;
      if (!m || k < 1 || k > stmt.params.length) out.push({ at: i, what: `parameter ${m?.[0] ?? '$'} out of range` });
      else used.add(k);
      prevWord = '$';
      i += m ? m[0].length : 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const w = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i))![0];
      if (!VOCABULARY.has(w) && !INTERNAL_WORD.test(w)) out.push({ at: i, what: `word ${w}` });
      prevWord = w;
      i += w.length;
    } else if (/[0-9]/.test(c)) {
      const num = /^[0-9]+/.exec(s.slice(i))![0];
      if (!NUMBERS.has(num)) out.push({ at: i, what: `number ${num}` });
      prevWord = num;
      i += num.length;
    } else if (/\s/.test(c)) {
      i++;
    } else if (PUNCT.has(c)) {
      if (c === '-' && s[i + 1] === '-') out.push({ at: i, what: 'comment --' });
      prevWord = c;
      i++;
    } else {
      out.push({ at: i, what: `character ${JSON.stringify(c)}` });
      i++;
    }
  }
  for (let k = 1; k <= stmt.params.length; k++)
    if (!used.has(k)) out.push({ at: -1, what: `parameter $${k} never used` });
  return out;
}
