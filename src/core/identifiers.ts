/**
 * PostgreSQL identifiers (role and database names) and SQL quoting.
 *
 * Names are validated before anything is created so that a name never
 * depends on quoting to work: a name that Postgres would case-fold when
 * written without quotes (seed 003's `"honeyDue"` database, which psql users
 * then reach as `honeydue` and get "database does not exist"), a reserved
 * keyword, or a name owned by Postgres itself or by a managed service is
 * rejected with a message that says so.
 *
 * Sources: PostgreSQL docs "Identifiers and Key Words" (§4.1.1: unquoted
 * names are folded to lower case, NAMEDATALEN - 1 = 63 bytes, letters,
 * digits, `_` and `$`; `$` is refused here because it is non-standard and
 * clashes with dollar quoting), Appendix C (reserved key words), "Predefined Roles"
 * (`pg_` prefix), and the managed services' documented system roles.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from './errors';

/** What a name is for; reserved-name rules differ slightly between them. */
export enum IdentifierKind {
  Role = 'role',
  Database = 'database',
}

/** Longest identifier Postgres keeps (NAMEDATALEN - 1), in bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

const UNQUOTED = /^[a-z_][a-z0-9_]*$/;

/**
 * Key words that Postgres reserves (Appendix C, "reserved" and "reserved (can
 * be function or type)" in PostgreSQL 14–18). None can be an unquoted database
 * name; some of the second kind (left, join, verbose, ...) are accepted as
 * unquoted role names by CREATE ROLE but not elsewhere, so they are refused
 * for both (the integration tests check this list against real servers).
 */
export const RESERVED_KEYWORDS: ReadonlySet<string> = new Set([
  'all', 'analyse', 'analyze', 'and', 'any', 'array', 'as', 'asc', 'asymmetric', 'authorization',
  'binary', 'both', 'case', 'cast', 'check', 'collate', 'collation', 'column', 'concurrently',
  'constraint', 'create', 'cross', 'current_catalog', 'current_date', 'current_role',
  'current_schema', 'current_time', 'current_timestamp', 'current_user', 'default', 'deferrable',
  'desc', 'distinct', 'do', 'else', 'end', 'except', 'false', 'fetch', 'for', 'foreign', 'freeze',
  'from', 'full', 'grant', 'group', 'having', 'ilike', 'in', 'initially', 'inner', 'intersect',
  'into', 'is', 'isnull', 'join', 'lateral', 'leading', 'left', 'like', 'limit', 'localtime',
  'localtimestamp', 'natural', 'not', 'notnull', 'null', 'offset', 'on', 'only', 'or', 'order',
  'outer', 'overlaps', 'placing', 'primary', 'references', 'returning', 'right', 'select',
  'session_user', 'similar', 'some', 'symmetric', 'system_user', 'table', 'tablesample', 'then',
  'to', 'trailing', 'true', 'union', 'unique', 'user', 'using', 'variadic', 'verbose', 'when',
  'where', 'window', 'with',
]);

/** Exact names owned by Postgres or by a managed service. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  // PostgreSQL itself
  'postgres', 'template0', 'template1', 'public', 'none', 'information_schema',
  // AWS RDS / Aurora
  'rdsadmin', 'rdsrepladmin', 'rdstopmgr',
  // Neon
  'neon_superuser', 'cloud_admin', 'neondb_owner',
  // Supabase
  'authenticator', 'anon', 'authenticated', 'service_role', 'dashboard_user', 'pgbouncer',
  'pgsodium_keyholder', 'pgsodium_keyiduser', 'pgsodium_keymaker',
  // Google Cloud SQL / AlloyDB (cloudsql* is a reserved prefix)
  'alloydbadmin', 'alloydbsuperuser',
  // Azure Database for PostgreSQL (azure_* is a reserved prefix)
  'azuresu',
  // pg_hba.conf key words: a database or role of that name needs quoting there
  'replication', 'sameuser', 'samerole', 'samegroup',
]);

/** Name prefixes owned by Postgres or by a managed service. */
export const RESERVED_PREFIXES: readonly string[] = [
  'pg_', // PostgreSQL's predefined roles and system catalogs
  'rds_', // AWS RDS roles (rds_superuser, rds_replication, rds_iam, ...)
  'supabase_', // Supabase roles and databases (supabase_admin, supabase_auth_admin, ...)
  'azure_', // Azure roles and databases (azure_pg_admin, azure_superuser, azure_maintenance, ...)
  'cloudsql', // Cloud SQL roles
];

/** Why a name is not acceptable, or `undefined` if it is. */
export function identifierProblem(name: string, kind: IdentifierKind): { problem: string; fix: string } | undefined {
  if (typeof name !== 'string' || name.length === 0) {
    return { problem: `the ${kind} name is empty`, fix: `Give a ${kind} name such as "vw_blog"` };
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    return {
      problem: `"${name}" is ${bytes} bytes long and Postgres silently truncates names to ${MAX_IDENTIFIER_BYTES} bytes`,
      fix: `Shorten it to at most ${MAX_IDENTIFIER_BYTES} bytes`,
    };
  }
  const lower = name.toLowerCase();
  if (name !== lower && UNQUOTED.test(lower)) {
    return {
      problem: `"${name}" has upper-case letters: SQL that writes it without double quotes means "${lower}", so every script and tool must quote it exactly or miss it`,
      fix: `Use "${lower}" (or snake_case) instead`,
    };
  }
  if (!UNQUOTED.test(name)) {
    return {
      problem: `"${name}" is not a plain SQL identifier; it would only work double-quoted`,
      fix: 'Use lower-case letters, digits and underscores, starting with a letter or underscore (for example "vw_blog")',
    };
  }
  if (RESERVED_KEYWORDS.has(name)) {
    return {
      problem: `"${name}" is a reserved SQL key word and cannot be written unquoted`,
      fix: `Choose another name, for example "${name}_db" or "app_${name}"`,
    };
  }
  if (RESERVED_NAMES.has(name)) {
    return {
      problem: `"${name}" is reserved by PostgreSQL or a managed service`,
      fix: 'Choose a name of your own, for example with your application as prefix',
    };
  }
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix !== undefined) {
    return {
      problem: `names starting with "${prefix}" are reserved by PostgreSQL or a managed service`,
      fix: `Choose a name that does not start with "${prefix}"`,
    };
  }
  return undefined;
}

/**
 * Validates a role or database name and returns it unchanged.
 * @throws ValidationError naming `field` when the name would be folded,
 *   truncated, needs quoting, is a reserved key word or a reserved name.
 */
export function validateIdentifier(name: string, kind: IdentifierKind, field: string): string {
  const issue = identifierProblem(name, kind);
  if (issue) throw new ValidationError(field, issue.problem, issue.fix);
  return name;
}

/** Quotes an identifier for SQL: `"` + name with `"` doubled + `"`. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new ValidationError('identifier', 'contains a NUL byte', 'Remove it');
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Quotes a string literal for SQL with standard_conforming_strings on (the
 * default since PostgreSQL 9.1; the rendered scripts set it explicitly):
 * `'` + text with `'` doubled + `'`. Backslashes are literal.
 */
export function quoteLiteral(text: string): string {
  if (text.includes('\0')) throw new ValidationError('literal', 'contains a NUL byte', 'Remove it');
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * A cloud resource name from free text (a component name and a stack name):
 * lower case, letters, digits and single `-`, no `-` at either end — a DNS
 * label (RFC 1123), which Hetzner requires of server names and RDS of
 * identifiers. When `letterPrefix` is given, a name that does not start with
 * a letter gets it in front (`letterPrefix-…`). A name longer than `max` is
 * cut and ends in `-` + 8 hex digits of the text's SHA-256, so two long texts
 * that share a start still differ. The empty string when the text has no
 * letter or digit (and no prefix).
 */
export function nameFromText(text: string, max = 63, letterPrefix?: string): string {
  let name = text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (letterPrefix !== undefined && !/^[a-z]/.test(name)) name = `${letterPrefix}-${name}`.replace(/-+$/, '');
  if (name.length > max) {
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 8);
    name = `${name.slice(0, max - 9).replace(/-+$/, '')}-${hash}`;
  }
  return name;
}
