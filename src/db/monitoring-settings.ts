import { quoteConfValue } from './quote.js';
/**
 * The server logging configuration the project asks for (issue #16, monitoring): what a database error, a
 * slow statement, a lock wait, a DDL statement or a role change leaves in the server log — and, as much, what
 * never reaches it (bind parameter values: user ids, e-mails, tokens, transcript text).
 *
 * The ephemeral PostgreSQL 15 cluster applies exactly these (src/db/ephemeral-cluster.ts) and
 * tests/reliability/monitoring.test.ts checks both the settings and the log lines they produce.
 * docs/operations.md says how to apply them on a Supabase project.
 */

/** Core PostgreSQL settings (no extension needed). */
export const LOGGING_SETTINGS: Record<string, string> = {
  // The failing statement's text is logged beside every ERROR (its text, never its parameter values).
  log_min_error_statement: 'error',
  // A session waiting on a lock longer than deadlock_timeout is logged with who holds the lock.
  log_lock_waits: 'on',
  deadlock_timeout: '1s',
  // Statements slower than this are logged with their duration (text only, see the next two).
  log_min_duration_statement: '1s',
  // Privacy: bind parameter values are never written, neither for slow statements nor on errors.
  log_parameter_max_length: '0',
  log_parameter_max_length_on_error: '0',
  // DETAIL lines quote row values ("Key (email)=(…) already exists"): keep the message, drop the detail.
  log_error_verbosity: 'terse',
  // Temporary files over 10 MB (sorts or hashes spilling to disk: a missing index or a small work_mem).
  log_temp_files: '10MB',
  log_autovacuum_min_duration: '10s',
  log_checkpoints: 'on',
  // Time, pid, user, database, application, SQLSTATE: enough to join a log line to a request log line.
  log_line_prefix: '%m [%p] %q%u@%d %a %e ',
};

/** auto_explain: the plan of any statement slower than the threshold, without running it twice. */
export const AUTO_EXPLAIN_SETTINGS: Record<string, string> = {
  'auto_explain.log_min_duration': '1s',
  'auto_explain.log_analyze': 'off',
  'auto_explain.log_format': 'text',
  'auto_explain.log_nested_statements': 'on',
  // PostgreSQL 15's auto_explain logs the query text without bind parameter values (16 adds
  // auto_explain.log_parameter_max_length, which should then be set to 0).
};

/**
 * pgaudit: every DDL statement and role/privilege change, as `AUDIT: SESSION,…` lines. Statement text only:
 * no parameters, no catalog noise.
 */
export const PGAUDIT_SETTINGS: Record<string, string> = {
  'pgaudit.log': 'ddl, role',
  'pgaudit.log_parameter': 'off',
  'pgaudit.log_catalog': 'off',
  'pgaudit.log_relation': 'off',
  'pgaudit.log_statement_once': 'on',
};

/** Everything above that applies given the preloaded libraries, as postgresql.conf values (quoted). */
export function monitoringConf(preloaded: string[]): Record<string, string> {
  const all: Record<string, string> = { ...LOGGING_SETTINGS };
  if (preloaded.includes('auto_explain')) Object.assign(all, AUTO_EXPLAIN_SETTINGS);
  if (preloaded.includes('pgaudit')) Object.assign(all, PGAUDIT_SETTINGS);
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, quoteConfValue(v)]));
}
