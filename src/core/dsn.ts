/**
 * Connection strings in each client's dialect, built from one typed
 * connection description.
 *
 * - libpq URL: what psql, pg_dump and every driver that hands the URI to
 *   libpq accept. Only libpq's own keywords.
 * - pgx URL: the auth gateway's dialect (the primary seed's `BuildDSN`):
 *   libpq keywords plus `pool_max_conns` / `pool_min_conns`.
 * - Kratos DSN: libpq keywords plus Kratos' own pool keys (`max_conns`,
 *   `max_idle_conns`, `max_conn_lifetime`, `max_conn_idle_time`), never
 *   `pool_min_conns` (Kratos rejects it), and `default_query_exec_mode=exec`
 *   behind a transaction-mode pooler.
 *
 * User names, passwords and database names are percent-encoded, so any
 * password works (`@ : / ? # % ' "`, spaces, non-ASCII); `+` is encoded too,
 * because Go's query parser reads a bare `+` as a space.
 */
import { ValidationError, check, checkInteger } from './errors';
import { LIBPQ_KEYWORDS, PGX_ONLY_KEYWORDS, PGX_POOLER_SAFE_EXEC_MODE, TYPED_KEYWORDS } from './params';
import { ClientTls, SslMode, parseSslMode } from './tls';
import { formatGoDurationSeconds } from './duration';
import { domainToASCII } from 'node:url';
import { validateHost, validatePort } from './validate';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** One server address. */
export interface HostPort {
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  /** TCP port. @default 5432 */
  port: number;
}

/** libpq's `target_session_attrs` values (libpq 14+). */
export enum TargetSessionAttrs {
  Any = 'any',
  ReadWrite = 'read-write',
  ReadOnly = 'read-only',
  Primary = 'primary',
  Standby = 'standby',
  PreferStandby = 'prefer-standby',
}

/** What sits at the endpoint: the server itself or a connection pooler in some mode. */
export enum PoolerMode {
  /** The endpoint is PostgreSQL itself. */
  None = 'none',
  /** A pooler in session mode (Supabase port 5432, PgBouncer session): transparent to clients. */
  Session = 'session',
  /**
   * A pooler in transaction mode (Supabase port 6543, Neon `-pooler`, PgBouncer transaction):
   * no named prepared statements, so pgx clients need `default_query_exec_mode=exec`.
   */
  Transaction = 'transaction',
}

/** The auth gateway's connection pool (primary seed, `database.pool`). */
export interface GatewayPool {
  /** Maximum open connections (`pool.max_conns` → `pool_max_conns`). @default 10 */
  maxConns: number;
  /** Minimum idle connections kept open (`pool.min_conns` → `pool_min_conns`). @default 2 */
  minConns: number;
}

/** Kratos' connection pool, set through its DSN. */
export interface KratosPool {
  /** Maximum open connections (`max_conns`). @default 10 */
  maxConns: number;
  /** Maximum idle connections (`max_idle_conns`). @default 2 */
  maxIdleConns: number;
  /** Close connections older than this, in seconds (`max_conn_lifetime`); unset = never. */
  maxConnLifetimeSeconds?: number;
  /** Close connections idle longer than this, in seconds (`max_conn_idle_time`); unset = never. */
  maxConnIdleTimeSeconds?: number;
}

/** Seed defaults (primary seed, config reference). */
export const DEFAULT_GATEWAY_POOL: Readonly<GatewayPool> = { maxConns: 10, minConns: 2 };
export const DEFAULT_KRATOS_POOL: Readonly<KratosPool> = { maxConns: 10, maxIdleConns: 2 };
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 10;

/** Length of generated passwords, in characters (letters and digits). */
export const DEFAULT_PASSWORD_LENGTH = 32;

/** The login options every component that generates passwords takes. */
export interface LoginOptions {
  /** Length of generated passwords, in characters, 16–128. @default 32 */
  passwordLength?: number;
  /** libpq `connect_timeout` of the clients, in seconds, 1–3600. @default 10 (or the strategy's own) */
  connectTimeoutSeconds?: number;
}

/**
 * Checks a libpq `connect_timeout`: whole seconds, 1–3600.
 * @throws ValidationError naming `field`.
 */
export function checkConnectTimeout(seconds: number, field = 'connectTimeoutSeconds'): number {
  checkInteger(seconds, field, 1, 3600, 'seconds');
  return seconds;
}

/**
 * Applies the defaults of {@link LoginOptions} and checks them.
 * @throws ValidationError naming `passwordLength` or `connectTimeoutSeconds`.
 */
export function checkLoginOptions(options: LoginOptions, defaultConnectTimeoutSeconds = DEFAULT_CONNECT_TIMEOUT_SECONDS): Required<LoginOptions> {
  const passwordLength = options.passwordLength ?? DEFAULT_PASSWORD_LENGTH;
  checkInteger(passwordLength, 'passwordLength', 16, 128, 'characters');
  const connectTimeoutSeconds = checkConnectTimeout(options.connectTimeoutSeconds ?? defaultConnectTimeoutSeconds);
  return { passwordLength, connectTimeoutSeconds };
}
export const DEFAULT_PORT = 5432;
/** What stands in for a password in printed output. */
export const REDACTED = 'REDACTED';

/** Everything needed to connect one client to one database. */
export interface ConnectionDescription {
  /** One or more servers; several give a libpq multi-host URL (tried in order). */
  hosts: HostPort[];
  /** Database name. */
  database: string;
  /** Role to log in as. */
  user: string;
  /** Password in plain text; omitted from URLs when absent (e.g. for `.pgpass` users). */
  password?: string;
  /** sslmode and root certificate. */
  tls: ClientTls;
  /** libpq `connect_timeout`, in whole seconds. @default 10 */
  connectTimeoutSeconds?: number;
  /** libpq `application_name`, shown in pg_stat_activity. */
  applicationName?: string;
  /** libpq `target_session_attrs`, for multi-host URLs. */
  targetSessionAttrs?: TargetSessionAttrs;
  /** What the endpoint is. @default PoolerMode.None */
  pooler?: PoolerMode;
  /**
   * Extra libpq parameters (e.g. `keepalives_idle`); typed fields may not be repeated here.
   * The pgx URL, gateway env map and Kratos DSN refuse the libpq-only ones in
   * {@link PGX_REFUSED_LIBPQ_KEYWORDS} (pgx would send them to the server, which refuses the login).
   */
  params?: Record<string, string>;
}

/** Percent-encodes everything but RFC 3986's unreserved characters. */
export function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Encodes a query value; `/` stays readable (file paths), everything else as {@link percentEncode}. */
function encodeQueryValue(text: string): string {
  return percentEncode(text).replace(/%2F/g, '/');
}

/**
 * A host as a URL writes it: an IPv6 address in brackets with its zone's
 * `%` encoded as `%25` (RFC 6874; libpq decodes it back, `fe80::1%eth0` →
 * `[fe80::1%25eth0]`), a non-ASCII name in its IDNA (punycode) form by the
 * WHATWG URL rules (`node:url` domainToASCII; `bücher.example` →
 * `xn--bcher-kva.example`), anything else as given.
 */
export function urlHost(host: string): string {
  if (host.includes(':')) {
    const [address, zone] = host.split('%') as [string, string?];
    return `[${address}${zone === undefined ? '' : `%25${percentEncode(zone)}`}]`;
  }
  return /[^\x00-\x7f]/.test(host) ? domainToASCII(host) : host;
}


/** Validates the parts every dialect shares. @throws ValidationError */
export function validateConnection(c: ConnectionDescription, field = 'connection'): void {
  check(c.hosts.length > 0, `${field}.hosts`, 'no host is given', 'Give at least one host');
  c.hosts.forEach((h, i) => {
    validateHost(h.host, `${field}.hosts[${i}].host`, { portField: `${field}.hosts[${i}].port` });
    validatePort(h.port, `${field}.hosts[${i}].port`);
  });
  check(c.database.length > 0, `${field}.database`, 'the database name is empty', 'Give the database name');
  check(c.user.length > 0, `${field}.user`, 'the user name is empty', 'Give the role to log in as');
  const texts: Array<[string, string | undefined]> = [['database', c.database], ['user', c.user], ['password', c.password]];
  for (const [name, text] of texts) {
    check(
      text === undefined || (!text.includes('\0') && !LONE_SURROGATE.test(text)),
      `${field}.${name}`,
      'contains a NUL character or broken UTF-16, which libpq cannot carry',
      'Remove it',
    );
  }
  parseSslMode(c.tls.sslmode, `${field}.tls.sslmode`);
  if (c.connectTimeoutSeconds !== undefined) {
    checkInteger(c.connectTimeoutSeconds, `${field}.connectTimeoutSeconds`, 1, 86400, 'seconds');
  }
  for (const key of Object.keys(c.params ?? {})) {
    check(
      !TYPED_KEYWORDS.has(key),
      `${field}.params.${key}`,
      `"${key}" is set by a typed field of the connection`,
      'Set it through the typed field (hosts, database, user, password, tls, connectTimeoutSeconds, applicationName, targetSessionAttrs)',
    );
  }
}

function checkParamKeys(c: ConnectionDescription, field: string, accepts: (key: string) => boolean, dialect: string): void {
  for (const key of Object.keys(c.params ?? {})) {
    if (!accepts(key)) {
      throw new ValidationError(
        `${field}.params.${key}`,
        `"${key}" is not a ${dialect} connection parameter (libpq rejects unknown URI parameters)`,
        `Remove it, or use one of libpq's keywords: ${[...LIBPQ_KEYWORDS.keys()].slice(0, 8).join(', ')}, ...`,
      );
    }
  }
}

/**
 * libpq keywords that pgx v5 does not read itself: it sends them to the server
 * as run-time parameters, and PostgreSQL refuses the login ("unrecognized
 * configuration parameter", or "cannot be changed now" for the
 * ssl_*_protocol_version server settings). So they may appear in libpq URLs
 * only, never in the pgx URL, the gateway env map or the Kratos DSN.
 * Source: pgconn.ParseConfig's notRuntimeParams (pgx v5.12.0); each key was
 * checked with a real pgx login on PostgreSQL 17 (test/e2e/pgx.test.ts).
 */
export const PGX_REFUSED_LIBPQ_KEYWORDS: ReadonlySet<string> = new Set([
  'fallback_application_name', 'keepalives', 'keepalives_idle', 'keepalives_interval', 'keepalives_count',
  'gssencmode', 'gsslib', 'gssdelegation', 'sslcompression', 'sslkeylogfile', 'sslcrl', 'sslcrldir', 'requirepeer',
  'ssl_min_protocol_version', 'ssl_max_protocol_version', 'load_balance_hosts',
  'oauth_issuer', 'oauth_client_id', 'oauth_client_secret', 'oauth_scope',
]);

function checkPgxForwardedKeys(c: ConnectionDescription, field: string, dialect: string): void {
  for (const key of Object.keys(c.params ?? {})) {
    check(
      !PGX_REFUSED_LIBPQ_KEYWORDS.has(key),
      `${field}.params.${key}`,
      `"${key}" is a libpq-only setting: pgx (${dialect}) sends it to the server as a run-time parameter and PostgreSQL refuses the login`,
      'Remove it; libpq URLs may carry it, the pgx URL, the gateway env map and the Kratos DSN may not',
    );
  }
}

/**
 * libpq keywords that pgx 5.12 reads (the gateway's pgx) but Ory Kratos
 * v1.3.1's pgx (v5.6.0) does not: Kratos' pgx sends them to the server as
 * run-time parameters and PostgreSQL refuses the login ("unrecognized
 * configuration parameter"). So the Kratos DSN never carries them, among
 * them `channel_binding`, which Neon's dashboard strings now hold.
 * Source: pgconn.ParseConfig's notRuntimeParams in pgx v5.6.0 and v5.12.0
 * (Kratos v1.3.1's go.mod pins pgx v5.6.0); checked with the real Kratos in
 * test/e2e/kratos.test.ts.
 */
export const KRATOS_REFUSED_LIBPQ_KEYWORDS: ReadonlySet<string> = new Set([
  'channel_binding', 'require_auth', 'sslcertmode', 'sslnegotiation', 'min_protocol_version', 'max_protocol_version',
]);

/** The libpq query parameters of a connection, in a fixed order. */
function libpqParams(c: ConnectionDescription): [string, string][] {
  const out: [string, string][] = [['sslmode', c.tls.sslmode]];
  if (c.tls.sslrootcert) out.push(['sslrootcert', c.tls.sslrootcert]);
  out.push(['connect_timeout', String(c.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS)]);
  if (c.applicationName) out.push(['application_name', c.applicationName]);
  if (c.targetSessionAttrs) out.push(['target_session_attrs', c.targetSessionAttrs]);
  for (const key of Object.keys(c.params ?? {}).sort()) out.push([key, (c.params as Record<string, string>)[key] as string]);
  return out;
}

/** What {@link writePostgresUrl} writes: values already checked by the caller. */
export interface PostgresUrlParts {
  /** The role, percent-encoded into the URL. */
  user: string;
  /**
   * The password part exactly as it goes into the URL: a percent-encoded
   * password (see {@link percentEncode}) or a placeholder such as
   * `${DB_PASSWORD}`; none = no password in the URL.
   */
  passwordText?: string;
  /** One or more hosts; a host without a port is written without one (Neon's dashboard strings). */
  hosts: Array<{ host: string; port?: number }>;
  /** The database, percent-encoded into the URL. */
  database: string;
  /** Query parameters in order; values encoded as RFC 3986 query text (`/` kept readable). */
  params: Array<[string, string]>;
}

/**
 * The one writer of `postgres://` URLs: every dialect here and each
 * provider's own connection string go through it, so hosts are always
 * written by {@link urlHost} (IPv6 in brackets with an encoded zone, IDNA)
 * and every part is encoded the same way.
 */
export function writePostgresUrl(parts: PostgresUrlParts): string {
  const auth = percentEncode(parts.user) + (parts.passwordText !== undefined ? `:${parts.passwordText}` : '');
  const hosts = parts.hosts.map((h) => `${urlHost(h.host)}${h.port !== undefined ? `:${h.port}` : ''}`).join(',');
  const query = parts.params.map(([k, v]) => `${k}=${encodeQueryValue(v)}`).join('&');
  return `postgres://${auth}@${hosts}/${percentEncode(parts.database)}${query ? `?${query}` : ''}`;
}

function formatUrl(c: ConnectionDescription, params: [string, string][]): string {
  return writePostgresUrl({
    user: c.user,
    ...(c.password !== undefined ? { passwordText: percentEncode(c.password) } : {}),
    hosts: c.hosts,
    database: c.database,
    params,
  });
}

/**
 * The libpq URL (psql, pg_dump, libpq-based drivers).
 * @throws ValidationError for an invalid description or a non-libpq parameter.
 */
export function libpqUrl(c: ConnectionDescription, field = 'connection'): string {
  validateConnection(c, field);
  checkParamKeys(c, field, (k) => LIBPQ_KEYWORDS.has(k), 'libpq');
  return formatUrl(c, libpqParams(c));
}

/**
 * The pgx URL with the gateway's pool (the primary seed's `BuildDSN` output
 * for a typed connection): libpq parameters plus `pool_max_conns` and
 * `pool_min_conns`.
 * @throws ValidationError for an invalid description, pool or parameter.
 */
export function pgxUrl(c: ConnectionDescription, pool: GatewayPool = DEFAULT_GATEWAY_POOL, field = 'connection'): string {
  validateGatewayPool(pool, `${field}.pool`);
  const params = pgxParams(c, field);
  params.push(['pool_max_conns', String(pool.maxConns)], ['pool_min_conns', String(pool.minConns)]);
  return formatUrl(c, params);
}

/**
 * The pgx URL without pool keys: what the gateway takes as
 * `database.external_url` (its BuildDSN adds the pool from
 * `database.pool.*`). Carries `default_query_exec_mode=exec` behind a
 * transaction pooler.
 * @throws ValidationError for an invalid description or parameter.
 */
export function pgxBaseUrl(c: ConnectionDescription, field = 'connection'): string {
  return formatUrl(c, pgxParams(c, field));
}

function pgxParams(c: ConnectionDescription, field: string): [string, string][] {
  validateConnection(c, field);
  for (const key of ['pool_max_conns', 'pool_min_conns']) {
    check(
      c.params?.[key] === undefined,
      `${field}.params.${key}`,
      `"${key}" is set from the pool settings`,
      'Set the pool through gatewayPool (maxConns, minConns) instead of a parameter',
    );
  }
  checkParamKeys(c, field, (k) => LIBPQ_KEYWORDS.has(k) || PGX_ONLY_KEYWORDS.has(k), 'pgx');
  checkPgxForwardedKeys(c, field, 'the gateway');
  const params = libpqParams(c);
  if (c.pooler === PoolerMode.Transaction && !c.params?.['default_query_exec_mode']) {
    params.push(['default_query_exec_mode', PGX_POOLER_SAFE_EXEC_MODE]);
  }
  return params;
}

/**
 * The Ory Kratos DSN (env var `DSN`): libpq parameters, Kratos' pool keys,
 * and `default_query_exec_mode=exec` behind a transaction pooler. Never
 * `pool_min_conns` or any other `pool_*` key, which Kratos rejects, nor a
 * key of {@link KRATOS_REFUSED_LIBPQ_KEYWORDS} (`channel_binding`, …), which
 * Kratos' pgx 5.6 would send to the server.
 * @throws ValidationError for an invalid description, pool or parameter.
 */
export function kratosDsn(c: ConnectionDescription, pool: KratosPool = DEFAULT_KRATOS_POOL, field = 'connection'): string {
  validateConnection(c, field);
  validateKratosPool(pool, `${field}.kratosPool`);
  checkParamKeys(
    c,
    field,
    (k) => LIBPQ_KEYWORDS.has(k) || (PGX_ONLY_KEYWORDS.has(k) && !k.startsWith('pool_')),
    'Kratos',
  );
  checkPgxForwardedKeys(c, field, 'Kratos');
  for (const key of Object.keys(c.params ?? {})) {
    check(
      !KRATOS_REFUSED_LIBPQ_KEYWORDS.has(key),
      `${field}.params.${key}`,
      `"${key}" is unknown to Kratos v1.3.1's pgx (v5.6): it sends it to the server as a run-time parameter and PostgreSQL refuses the login`,
      'Remove it from the connection Kratos uses; libpq URLs and the pgx URL may carry it',
    );
  }
  const params = libpqParams(c);
  if (c.pooler === PoolerMode.Transaction && !c.params?.['default_query_exec_mode']) {
    params.push(['default_query_exec_mode', PGX_POOLER_SAFE_EXEC_MODE]);
  }
  params.push(['max_conns', String(pool.maxConns)], ['max_idle_conns', String(pool.maxIdleConns)]);
  if (pool.maxConnLifetimeSeconds !== undefined) {
    params.push(['max_conn_lifetime', formatGoDurationSeconds(pool.maxConnLifetimeSeconds)]);
  }
  if (pool.maxConnIdleTimeSeconds !== undefined) {
    params.push(['max_conn_idle_time', formatGoDurationSeconds(pool.maxConnIdleTimeSeconds)]);
  }
  return formatUrl(c, params);
}

/** Checks a pool's max (≥ 1) and its lower/idle count (0..max), naming the fields. */
function checkPoolSizes(field: string, max: number, lowName: string, low: number): void {
  checkInteger(max, `${field}.maxConns`, 1, 10000, 'connections');
  checkInteger(low, `${field}.${lowName}`, 0, 10000, 'connections');
  check(low <= max, `${field}.${lowName}`, `${lowName} (${low}) is more than maxConns (${max})`, `Lower ${lowName} or raise maxConns`);
}

/** Validates a gateway pool. @throws ValidationError */
export function validateGatewayPool(pool: GatewayPool, field: string): void {
  checkPoolSizes(field, pool.maxConns, 'minConns', pool.minConns);
}

/** Validates a Kratos pool. @throws ValidationError */
export function validateKratosPool(pool: KratosPool, field: string): void {
  checkPoolSizes(field, pool.maxConns, 'maxIdleConns', pool.maxIdleConns);
  if (pool.maxConnLifetimeSeconds !== undefined) {
    checkInteger(pool.maxConnLifetimeSeconds, `${field}.maxConnLifetimeSeconds`, 1, 31536000, 'seconds');
  }
  if (pool.maxConnIdleTimeSeconds !== undefined) {
    checkInteger(pool.maxConnIdleTimeSeconds, `${field}.maxConnIdleTimeSeconds`, 1, 31536000, 'seconds');
  }
}

/** The same description with the password replaced by `REDACTED`, for logs and previews. */
export function redactPassword(c: ConnectionDescription): ConnectionDescription {
  return c.password === undefined ? c : { ...c, password: REDACTED };
}

/** A description with the sslmode forced (used for the "no TLS is refused" check). */
export function withSslMode(c: ConnectionDescription, sslmode: SslMode): ConnectionDescription {
  return { ...c, tls: { ...c.tls, sslmode } };
}

/**
 * A read connection: the standbys first, then the primary, with
 * `target_session_attrs=prefer-standby` (libpq 14+; pgx reads it too), so
 * reads go to a standby and fall back to the primary while none answers.
 * Hosts already in `primary` are not repeated.
 * Source: libpq's multi-host connection strings and `target_session_attrs`.
 */
export function readerConnection(primary: ConnectionDescription, standbys: readonly HostPort[]): ConnectionDescription {
  const same = (a: HostPort, b: HostPort): boolean => a.host === b.host && a.port === b.port;
  const readers = standbys.filter((s, i) => standbys.findIndex((t) => same(s, t)) === i);
  return {
    ...primary,
    hosts: [...readers, ...primary.hosts.filter((h) => !readers.some((r) => same(r, h)))],
    targetSessionAttrs: TargetSessionAttrs.PreferStandby,
  };
}

/** A pooler endpoint with known values (see `PoolerEndpoint` on the server handle). */
export interface KnownPoolerEndpoint {
  host: string;
  port: number;
  mode: PoolerMode;
  userSuffix?: string;
}

/**
 * The same connection through a pooler: the pooler's host and port, the
 * role name with the pooler's suffix (Supavisor's `vw_blog.<ref>`), and the
 * pooler mode, so the core adds `default_query_exec_mode=exec` to the pgx
 * and Kratos dialects behind a transaction pooler. Password, database and
 * TLS settings stay as they are.
 */
export function throughPooler(c: ConnectionDescription, pooler: KnownPoolerEndpoint): ConnectionDescription {
  return {
    ...c,
    hosts: [{ host: pooler.host, port: pooler.port }],
    user: `${c.user}${pooler.userSuffix ?? ''}`,
    pooler: pooler.mode,
  };
}
