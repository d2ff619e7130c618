/**
 * The one rule for a connection pooler in front of PostgreSQL (Neon's
 * `-pooler` host, Supabase's Supavisor, a PgBouncer): its mode, host and
 * port, the suffix it wants on role names, and the server connections it
 * opens per (role, database). The server handle (`ExternalPostgres` and every
 * strategy) and the managed presets check a pooler here and nowhere else, so
 * a preset never hands `ExternalPostgres` a pooler that it then refuses.
 *
 * Where earlier copies disagreed, the rule is:
 * - host and port: exactly the server's own rules (`validateHost`,
 *   `validatePort`): a DNS name (IDNA), IPv4, or IPv6 without brackets (a
 *   zone allowed), and a whole-number port 1–65535. (The server handle had a
 *   looser bare-host pattern that let `10.0.0.999` through.)
 * - user suffix: letters, digits, `.`, `_` and `-`, at most 63 characters,
 *   or none. Supavisor's `.<project-ref>` is of that alphabet; a character
 *   outside it (`%`, `+`, `#`, a space, non-ASCII) is no pooler's convention
 *   and would be percent-encoded into a user name nobody expects. (The
 *   handle's rule only refused whitespace, `@`, `:` and `/`.)
 * - server pool size: 1 to 262143, the largest `max_connections` PostgreSQL
 *   accepts (MAX_BACKENDS, `pg_settings.max_val`): any pool the server could
 *   hold is a valid setting, and the budget check then compares it with the
 *   actual server. (The handle stopped at 10000, so a preset could accept a
 *   Supabase Pool Size that `ExternalPostgres` refused.)
 *
 * Pure: values that are not known yet (a Pulumi Output or Promise) are left
 * to the caller.
 */
import { PoolerMode } from './dsn';
import { check, checkInteger } from './errors';
import { MAX_CONNECTIONS_LIMIT } from './budget';
import { validateHost, validatePort } from './validate';

/** The largest server pool a pooler may open per (role, database): PostgreSQL's ceiling of max_connections. */
export const MAX_SERVER_POOL_SIZE: number = MAX_CONNECTIONS_LIMIT;

/** A pooler user suffix: `[A-Za-z0-9._-]`, 0–63 characters. */
const USER_SUFFIX = /^[A-Za-z0-9._-]{0,63}$/;

/** A pooler's fields as a strategy or preset gives them; host and port may not be known yet. */
export interface PoolerFields {
  host: unknown;
  port: unknown;
  mode: PoolerMode;
  userSuffix?: string;
  serverPoolSize?: number;
}

/** Whether a value is known now (not an Output, Promise or other object). */
function known(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

/**
 * Checks a pooler's server pool size.
 * @throws ValidationError naming `field` for anything but a whole number from 1 to {@link MAX_SERVER_POOL_SIZE}.
 */
export function validateServerPoolSize(size: number, field: string): number {
  checkInteger(size, field, 1, MAX_SERVER_POOL_SIZE, 'connections');
  return size;
}

/**
 * Checks the suffix a pooler wants on each role name (Supavisor: `.<project-ref>`).
 * @throws ValidationError naming `field` for a character outside `[A-Za-z0-9._-]` or more than 63 characters.
 */
export function validatePoolerUserSuffix(suffix: string, field: string): string {
  check(
    typeof suffix === 'string' && USER_SUFFIX.test(suffix),
    field,
    `${JSON.stringify(suffix)} is not a pooler user suffix (letters, digits, ".", "_" and "-", at most 63)`,
    'Give the suffix the pooler expects, e.g. Supavisor\'s ".<project-ref>", or leave it out',
  );
  return suffix;
}

/**
 * Checks a pooler's fields; host and port only when they are known.
 * @param field the user's field of the pooler, e.g. `pooler`; errors name `<field>.mode`, `.host`, `.port`, `.userSuffix`, `.serverPoolSize`.
 * @throws ValidationError for a mode other than session or transaction, a
 *   host or port the server itself would refuse (see {@link validateHost},
 *   {@link validatePort}), a bad user suffix or pool size.
 */
export function validatePooler(pooler: PoolerFields, field = 'pooler'): void {
  check(
    pooler.mode === PoolerMode.Session || pooler.mode === PoolerMode.Transaction,
    `${field}.mode`,
    `"${String(pooler.mode)}" is not a pooler mode`,
    `Use ${PoolerMode.Session} or ${PoolerMode.Transaction}; leave the pooler out when clients connect to PostgreSQL directly`,
  );
  if (known(pooler.host)) validateHost(pooler.host, `${field}.host`, { portField: `${field}.port` });
  if (known(pooler.port)) validatePort(pooler.port, `${field}.port`);
  if (pooler.userSuffix !== undefined) validatePoolerUserSuffix(pooler.userSuffix, `${field}.userSuffix`);
  if (pooler.serverPoolSize !== undefined) validateServerPoolSize(pooler.serverPoolSize, `${field}.serverPoolSize`);
}
