import type { Queryable } from '../db/database.js';

/**
 * Injection safety inside the database: every EXECUTE in a plpgsql function must build its text with
 * `format()` from one literal format string, so identifiers go through %I, values through %L or USING $n.
 * Concatenation (`'… ' || x`), a bare variable, or a format string that is itself concatenated is a finding.
 *
 * `%s` splices text unquoted. It is allowed only in functions listed in {@link RAW_SPLICE_ALLOWED}, each with
 * why its `%s` arguments are SQL fragments built from the catalog rather than caller input; an entry that no
 * longer uses `%s` is reported too, so the list cannot go stale.
 */
export const RAW_SPLICE_ALLOWED: Record<string, string> = {
  'audit.capture_source':
    'writes the capture trigger source; every %s argument is a column list or expression assembled from pg_attribute and audit.column_classification with %I-quoted names',
  'public.export_my_data':
    'the %s is the owner filter (user_id = $1 or a foreign-key column = $1) built from pg_constraint with %I; the user id itself is a USING parameter',
};

/** Functions whose result is executed as SQL: each is linted itself, so executing its result is allowed. */
export const SQL_GENERATORS = new Set(['audit.capture_source']);

export interface DynamicSqlFinding {
  fn: string;
  /** The EXECUTE statement (trimmed to 200 characters). */
  statement: string;
  problem: string;
}

export interface PlpgsqlFunction {
  /** schema.name */
  name: string;
  source: string;
}

/** plpgsql functions in the given schemas (default: the project's). */
export async function plpgsqlFunctions(
  db: Queryable,
  schemas = ['public', 'private', 'audit'],
): Promise<PlpgsqlFunction[]> {
  const r = await db.query<{ name: string; source: string }>(
    `select n.nspname || '.' || p.proname as name, p.prosrc as source
       from pg_catalog.pg_proc p
       join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       join pg_catalog.pg_language l on l.oid = p.prolang
      where l.lanname = 'plpgsql' and n.nspname = any ($1::text[])
      order by 1`,
    [schemas],
  );
  return r.rows;
}

/** Blanks out comments, keeping offsets (so string literals and dollar quotes stay intact). */
function stripComments(src: string): string {
  return src
    .replace(/--[^\n]*/g, (m) => ' '.repeat(m.length))
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '));
}

/** Blanks out the contents of every literal (keeping offsets), so a keyword inside a string is not code. */
function maskLiterals(src: string): string {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    const lit =
      c === "'" || c === '$' || ((c === 'E' || c === 'e') && src[i + 1] === "'" && !/\w/.test(src[i - 1] ?? ' '))
        ? readLiteral(src, i)
        : null;
    if (lit) {
      out += src.slice(i, lit.end).replace(/[^\n]/g, ' ');
      i = lit.end - 1;
    } else out += c;
  }
  return out;
}

/** Reads one SQL literal ('…' with '' escapes, E'…', or $tag$…$tag$) at `i`; returns its text and end. */
function readLiteral(s: string, i: number): { text: string; end: number } | null {
  const dollar = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(s.slice(i));
  if (dollar) {
    const tag = dollar[0];
    const close = s.indexOf(tag, i + tag.length);
    if (close < 0) return null;
    return { text: s.slice(i + tag.length, close), end: close + tag.length };
  }
  let j = i;
  if (s[j] === 'E' || s[j] === 'e') j++;
  if (s[j] !== "'") return null;
  let text = '';
  for (j++; j < s.length; j++) {
    if (s[j] === "'" && s[j + 1] === "'") {
      text += "'";
      j++;
    } else if (s[j] === "'") return { text, end: j + 1 };
    else text += s[j];
  }
  return null;
}

/** The text of the statement starting at `i` up to its terminating `;` (skipping literals and parentheses). */
function statementAt(s: string, i: number): string {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s[j]!;
    if (c === "'" || c === '$') {
      const lit = readLiteral(s, j);
      if (lit) {
        j = lit.end - 1;
        continue;
      }
    }
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ';' && depth <= 0) return s.slice(i, j);
  }
  return s.slice(i);
}

/** Findings for one function body. */
export function lintDynamicSql(fn: PlpgsqlFunction): DynamicSqlFinding[] {
  const src = stripComments(fn.source);
  const findings: DynamicSqlFinding[] = [];
  let usesRawSplice = false;
  // EXECUTE as a plpgsql statement: at the start of a statement (after ; or a block keyword), not
  // `grant execute` / `execute function` inside a literal.
  const code = maskLiterals(src);
  const re = /(^|[;\s])execute\s+(?!function\b|procedure\b)/gi;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const start = m.index + m[0].length;
    const stmt = statementAt(src, start);
    const shown = `execute ${stmt.replace(/\s+/g, ' ').trim()}`.slice(0, 200);
    const add = (problem: string) => findings.push({ fn: fn.name, statement: shown, problem });
    const expr = stmt.replace(/\s+(into|using)\s[\s\S]*$/i, '').trim();
    const call = /^(?:pg_catalog\.)?format\s*\(\s*/i.exec(expr);
    if (!call) {
      const generator = /^([a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*)\s*\(/i.exec(expr);
      if (generator && SQL_GENERATORS.has(generator[1]!.toLowerCase())) continue;
      add(
        /\|\|/.test(expr)
          ? 'EXECUTE of concatenated text: use format() with %I/%L or USING'
          : 'EXECUTE of text not built by format() in the same statement',
      );
      continue;
    }
    const lit = readLiteral(expr, call[0].length);
    if (!lit) {
      add('the format string is not a single literal');
      continue;
    }
    const after = expr.slice(lit.end).trimStart();
    if (!after.startsWith(',') && !after.startsWith(')')) {
      add('the format string is concatenated or computed: keep it one literal');
      continue;
    }
    if (/%(\d+\$)?s/.test(lit.text.replace(/%%/g, ''))) {
      usesRawSplice = true;
      if (!(fn.name in RAW_SPLICE_ALLOWED))
        add('format() splices text unquoted with %s: use %I (identifier) or %L / USING (value)');
    }
  }
  // The generator itself builds its text with format() in a return statement, not EXECUTE.
  if (!usesRawSplice && fn.name in RAW_SPLICE_ALLOWED) {
    const formats = [...src.matchAll(/(?:pg_catalog\.)?format\s*\(\s*/gi)].map(
      (f) => readLiteral(src, f.index! + f[0].length)?.text ?? '',
    );
    if (!formats.some((t) => /%(\d+\$)?s/.test(t.replace(/%%/g, '')))) {
      findings.push({
        fn: fn.name,
        statement: '',
        problem: 'listed in RAW_SPLICE_ALLOWED but no longer uses %s: remove the entry',
      });
    }
  }
  return findings;
}
