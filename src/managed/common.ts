/**
 * What the managed-service presets share: the shape they return (the
 * arguments of `ExternalPostgres` plus client defaults), host and
 * existing-database checks, and the provider's own connection-string form
 * (the primary seed's `database.external_url` with its `database:` block).
 *
 * Pure: no Pulumi runtime import (only types), so every preset is tested
 * directly against the seeds' URLs.
 */
import type { ExternalPostgresArgs } from '../provisioning/external';
import { GatewayPool, KratosPool, checkConnectTimeout, percentEncode, validateGatewayPool, validateKratosPool, writePostgresUrl } from '../core/dsn';
import { ValidationError, check } from '../core/errors';
import { GatewayDatabaseConfig } from '../core/gateway';
import { MAX_IDENTIFIER_BYTES } from '../core/identifiers';
import { GATEWAY_TLS_MODES, SslMode } from '../core/tls';
import { HostKind, validateHost, validatePort } from '../core/validate';

/**
 * What the app instances on a managed server should use: pass
 * `connectTimeoutSeconds` to `SharedPostgres` / `InstanceDatabase` and the
 * pools to each instance (`gatewayPool`, `kratosPool`).
 */
export interface ManagedClientDefaults {
  /** libpq `connect_timeout` of the app clients, in seconds. */
  connectTimeoutSeconds: number;
  /** The auth gateway's pool (`database.pool`). */
  gatewayPool: GatewayPool;
  /** Kratos' pool (its DSN's `max_conns` / `max_idle_conns`). */
  kratosPool: KratosPool;
}

/** A preset's result: the server's arguments and the clients' defaults. */
export interface ManagedPreset {
  /** Arguments of `ExternalPostgres` (direct endpoint for the admin, `pooler` for the app clients). */
  server: ExternalPostgresArgs;
  /** Defaults for the instances provisioned on it. */
  clients: ManagedClientDefaults;
}

/**
 * Checks a host name as a provider's dashboard shows it: the server's own
 * host rule (`validateHost`: no scheme, port, path, user info or brackets),
 * and then a DNS name in lower case, as dashboards print them and as the
 * provider-specific patterns (Neon's `ep-…neon.tech`, Supavisor's
 * `aws-N-<region>.pooler.supabase.com`) expect.
 * @throws ValidationError naming `field`, with a fix that shows `example`.
 */
export function checkHostName(host: string, field: string, example: string): string {
  const kind = validateHost(host, field, { portField: '' });
  check(kind === HostKind.DnsName, field, `"${host}" is an IP address, not the provider's host name`, `Copy the host name from the dashboard, e.g. "${example}"`);
  check(host === host.toLowerCase(), field, `"${host}" has upper-case letters`, `Write it in lower case, as the dashboard shows it, e.g. "${example}"`);
  return host;
}

/**
 * Checks the name of a database that already exists and is only connected
 * to (never created). Unlike a new database's name, it may hold upper-case
 * letters: seed 003's Neon database was created as `"honeyDue"` in the
 * dashboard, and is reached as `honeyDue` exactly (libpq passes `dbname`
 * through without case folding; `honeydue` gets "database does not exist").
 * SQL that names it must quote it (`quoteIdent` gives `"honeyDue"`).
 * New databases are still validated by `validateIdentifier`, which refuses
 * such names.
 * @throws ValidationError for an empty name, one longer than 63 bytes, or a NUL.
 */
export function existingDatabaseName(name: string, field: string): string {
  check(typeof name === 'string' && name.length > 0, field, 'the database name is empty', 'Give the name of the existing database, exactly as the dashboard shows it');
  check(!name.includes('\0'), field, 'contains a NUL character', 'Remove it');
  const bytes = Buffer.byteLength(name, 'utf8');
  check(
    bytes <= MAX_IDENTIFIER_BYTES,
    field,
    `"${name}" is ${bytes} bytes long; PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES} bytes, so no such database exists`,
    'Copy the database name from the dashboard',
  );
  return name;
}

const PLACEHOLDER = /^(\$\{[A-Za-z_][A-Za-z0-9_]*\}|<[a-z][a-z0-9_-]*>|\[[a-z][a-z0-9_-]*\])$/;

/**
 * The password part of a provider connection string: either a real password
 * (percent-encoded) or a placeholder written verbatim, as the seeds write
 * them: `${DB_PASSWORD}` (expanded from the environment by the gateway's
 * config loader), `<password>` or `[password]`.
 */
export interface PasswordPart {
  /** The password itself; percent-encoded into the URL. */
  password?: string;
  /** A placeholder written as is: `${NAME}`, `<name>` or `[name]`. */
  passwordPlaceholder?: string;
}

/** One connection string as a provider's dashboard shows it. */
export interface ProviderUrlParts extends PasswordPart {
  host: string;
  /** Omitted from the URL when absent (Neon's dashboard strings carry no port). */
  port?: number;
  user: string;
  database: string;
  /** Query parameters, in order (e.g. `[["sslmode", "require"]]`); none = no query. */
  params?: Array<[string, string]>;
}

/**
 * Formats `postgres://user:password@host[:port]/database[?k=v&…]` — the
 * provider's own form of the URL, which the primary seed copies into
 * `database.external_url` — with the core's one URL writer
 * (`writePostgresUrl`: host by `urlHost`, user, database and query
 * percent-encoded); a placeholder password is written verbatim.
 * @throws ValidationError when neither or both of password and placeholder
 *   are given, or the placeholder is not one of the accepted forms.
 */
export function formatProviderUrl(parts: ProviderUrlParts, field = 'password'): string {
  const hasPassword = parts.password !== undefined;
  const hasPlaceholder = parts.passwordPlaceholder !== undefined;
  check(
    hasPassword !== hasPlaceholder,
    field,
    hasPassword ? 'both a password and a placeholder are given' : 'neither a password nor a placeholder is given',
    'Give the password, or a placeholder such as "${DB_PASSWORD}" for a URL kept in a config file',
  );
  let secret: string;
  if (hasPlaceholder) {
    const p = parts.passwordPlaceholder as string;
    check(
      PLACEHOLDER.test(p),
      `${field}Placeholder`,
      `"${p}" is not a placeholder`,
      'Use ${NAME} (an environment variable), <name> or [name]',
    );
    secret = p;
  } else {
    secret = percentEncode(parts.password as string);
  }
  if (parts.port !== undefined) validatePort(parts.port, 'port');
  return writePostgresUrl({
    user: parts.user,
    passwordText: secret,
    hosts: [{ host: parts.host, ...(parts.port !== undefined ? { port: parts.port } : {}) }],
    database: parts.database,
    params: parts.params ?? [],
  });
}

/**
 * The primary seed's `database:` block for one connection string:
 * `external_url`, `tls_mode`, `connect_timeout` (a Go duration) and
 * `pool.max_conns` / `pool.min_conns`. `buildGatewayDsn` turns it into the
 * DSN the gateway uses.
 * @throws ValidationError for a tls_mode the gateway refuses or a bad pool.
 */
export function gatewayDatabaseConfig(externalUrl: string, tlsMode: SslMode, connectTimeoutSeconds: number, pool: GatewayPool): GatewayDatabaseConfig {
  if (!GATEWAY_TLS_MODES.includes(tlsMode)) {
    throw new ValidationError('sslmode', `the gateway's tls_mode does not accept "${tlsMode}"`, `Use one of: ${GATEWAY_TLS_MODES.join(', ')}`);
  }
  checkConnectTimeout(connectTimeoutSeconds);
  validateGatewayPool(pool, 'gatewayPool');
  return { externalUrl, tlsMode, connectTimeout: `${connectTimeoutSeconds}s`, maxConns: pool.maxConns, minConns: pool.minConns };
}

/** Validates the client defaults of a preset (user overrides included). @throws ValidationError */
export function validateClientDefaults(clients: ManagedClientDefaults): ManagedClientDefaults {
  checkConnectTimeout(clients.connectTimeoutSeconds);
  validateGatewayPool(clients.gatewayPool, 'gatewayPool');
  validateKratosPool(clients.kratosPool, 'kratosPool');
  return clients;
}

/** A pooler endpoint whose host and port are known values (what a preset fills in). */
export { type KnownPoolerEndpoint, throughPooler } from '../core/dsn';
