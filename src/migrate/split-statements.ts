/**
 * Splits a SQL script into statements at top-level semicolons, respecting quotes, dollar quotes and
 * comments. Used to record `statements` in Supabase's migration history the way the Supabase CLI does and
 * to reject transaction control inside a migration; execution itself always sends the whole script.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (c === "'" || c === '"') {
      i++;
      while (i < n) {
        if (sql[i] === c && sql[i + 1] === c) i += 2;
        else if (sql[i] === c) break;
        else i++;
      }
      i++;
    } else if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (m && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
        const tag = m[0];
        const end = sql.indexOf(tag, i + tag.length);
        i = end === -1 ? n : end + tag.length;
      } else i++;
    } else if (c === ';') {
      push(sql.slice(start, i));
      start = ++i;
    } else i++;
  }
  push(sql.slice(start));
  return out;

  function push(stmt: string) {
    if (stripComments(stmt).trim()) out.push(stmt.trim());
  }
}

function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

/** The first keyword(s) of a statement, lower-cased, comments skipped. */
export function leadingKeywords(stmt: string, count = 2): string {
  return stripComments(stmt).trim().split(/\s+/).slice(0, count).join(' ').toLowerCase();
}
