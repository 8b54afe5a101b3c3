/**
 * The one place a name or a string becomes SQL text. Every identifier is quoted, always: a name left bare
 * only when it "looks" lower case still breaks on keywords (a policy named `select`) and on names a later
 * PostgreSQL makes reserved. Values travel as bind parameters wherever a statement can take them; literal
 * text is for the DDL that cannot (comment on … is '…').
 */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** schema.name, each part quoted. */
export const quoteQualified = (schema: string, name: string): string => `${quoteIdent(schema)}.${quoteIdent(name)}`;

/** A standard-conforming string literal (standard_conforming_strings is on in every supported PostgreSQL). */
export const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/**
 * A postgresql.conf value, single-quoted. Not an SQL literal: the configuration file's scanner also reads
 * backslash escapes inside quotes (`\t`, `\n`, octal), so a backslash is doubled as well as a quote.
 */
export const quoteConfValue = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/**
 * A role in a `to` list: PUBLIC is a keyword there, not a role, and must stay bare (quoted it would name a
 * role called "public", which does not exist).
 */
export const quoteRole = (role: string): string => (role === 'public' ? 'public' : quoteIdent(role));
