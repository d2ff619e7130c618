/**
 * Neon (serverless PostgreSQL): `ExternalPostgres` arguments and
 * connection strings from what Neon's dashboard shows (Project → Connection
 * Details: the endpoint host, role, database).
 *
 * Sources:
 * - primary seed, "Neon": `postgres://vibewarden:${DB_PASSWORD}@ep-cool-rain-12345.eu-central-1.aws.neon.tech/neondb?sslmode=require`,
 *   `tls_mode: require`, `connect_timeout: "15s"` (cold starts of 2–5 s),
 *   `pool.max_conns: 10`, `pool.min_conns: 1`;
 * - seed 003: host `ep-floral-truth-amttbc5a.c-5.us-east-1.aws.neon.tech`,
 *   role `neondb_owner`, the case-sensitive database `honeyDue`, the built-in
 *   PgBouncer on the `-pooler` host in transaction mode;
 * - Neon docs, "Connection pooling": the pooled host is the endpoint host
 *   with `-pooler` appended to its first label; PgBouncer in transaction mode
 *   with per-(user, database) pools of 90% of `max_connections`;
 *   `max_connections` is 104 on a 0.25 CU compute, 7 of them reserved for
 *   Neon's superuser; "Connect securely": `sslmode=verify-full` with
 *   `sslrootcert=system` (libpq 16+) checks Neon's publicly trusted certificate.
 */
import type * as pulumi from '@pulumi/pulumi';
import { GatewayPool, KratosPool, PoolerMode } from '../core/dsn';
import { ValidationError, check, checkInteger } from '../core/errors';
import { GatewayDatabaseConfig } from '../core/gateway';
import { ServerKind, SslMode, parseSslMode, validateClientTls } from '../core/tls';
import {
  ManagedPreset,
  PasswordPart,
  checkHostName,
  existingDatabaseName,
  formatProviderUrl,
  gatewayDatabaseConfig,
  validateClientDefaults,
} from './common';

/** Neon's port (its dashboard strings omit it). */
export const NEON_PORT = 5432;
/** `max_connections` of a 0.25 CU compute (Neon docs, "Connection pooling"). */
export const NEON_DEFAULT_MAX_CONNECTIONS = 104;
/** Connections Neon reserves for its own superuser. */
export const NEON_RESERVED_CONNECTIONS = 7;
/** The seed's `connect_timeout: "15s"`, for compute cold starts of 2–5 s. */
export const NEON_CONNECT_TIMEOUT_SECONDS = 15;
/** The seed's Neon pool: `max_conns: 10`, `min_conns: 1` (lets the pool drain on serverless). */
export const NEON_GATEWAY_POOL: Readonly<GatewayPool> = { maxConns: 10, minConns: 1 };
/** Kratos' pool on Neon: the seed's 10, idling down to 1 like the gateway's. */
export const NEON_KRATOS_POOL: Readonly<KratosPool> = { maxConns: 10, maxIdleConns: 1 };
/** The database every Neon project starts with. */
export const NEON_DEFAULT_DATABASE = 'neondb';
/** The role every Neon project starts with. */
export const NEON_DEFAULT_ROLE = 'neondb_owner';
/** libpq's keyword for "the operating system's CA store" (libpq 16+). */
export const SYSTEM_ROOT_CERT = 'system';

const EXAMPLE_HOST = 'ep-cool-rain-12345.eu-central-1.aws.neon.tech';
const POOLER_SUFFIX = '-pooler';

/**
 * Checks a Neon endpoint host (the direct one) and returns it.
 * @throws ValidationError naming `field` for a non-Neon host, a host that is
 *   already the `-pooler` host, or anything that is not a bare host name.
 */
export function checkNeonHost(host: string, field = 'host'): string {
  checkHostName(host, field, EXAMPLE_HOST);
  const [first] = host.split('.') as [string];
  check(
    host.endsWith('.neon.tech') && first.startsWith('ep-'),
    field,
    `"${host}" is not a Neon endpoint host (ep-<name>.<region>.aws.neon.tech)`,
    `Copy the host from Connection Details, e.g. "${EXAMPLE_HOST}"`,
  );
  check(
    !first.endsWith(POOLER_SUFFIX),
    field,
    `"${host}" is already the pooled (-pooler) host`,
    `Give the direct endpoint host ("${first.slice(0, -POOLER_SUFFIX.length)}${host.slice(first.length)}"): admin work and migrations use it, and the pooled host is derived from it`,
  );
  return host;
}

/**
 * The pooled host of a Neon endpoint: `-pooler` appended to the first DNS
 * label (`ep-x-123.eu-central-1.aws.neon.tech` → `ep-x-123-pooler.eu-central-1.aws.neon.tech`).
 * @throws ValidationError as {@link checkNeonHost}.
 */
export function neonPoolerHost(host: string, field = 'host'): string {
  return poolerHostOf(checkNeonHost(host, field));
}

/** `-pooler` on the first label of a checked endpoint host. */
function poolerHostOf(host: string): string {
  const dot = host.indexOf('.');
  return `${host.slice(0, dot)}${POOLER_SUFFIX}${host.slice(dot)}`;
}

/** Arguments of {@link neonServer}: what Neon's Connection Details show. */
export interface NeonServerArgs {
  /** The endpoint host (direct, without `-pooler`), e.g. `ep-cool-rain-12345.eu-central-1.aws.neon.tech`. */
  host: string;
  /** The role the stack provisions as (it has CREATEDB and CREATEROLE). @default "neondb_owner" */
  adminUser?: string;
  /** Its password; pass a secret (`config.requireSecret`). */
  adminPassword: pulumi.Input<string>;
  /**
   * An existing database the admin connects to; may be mixed-case as
   * created in the dashboard (seed 003's `honeyDue`).
   * @default "neondb"
   */
  database?: string;
  /**
   * sslmode of the admin and the app clients: `verify-full` (Neon's
   * certificate is publicly trusted, checked against the system CA store)
   * or `require` (the seed's).
   * @default SslMode.VerifyFull
   */
  sslmode?: SslMode;
  /**
   * The clients' `sslrootcert` for verify-full: `system` (libpq 16+, pgx 5)
   * or a CA bundle path for older clients (e.g. `/etc/ssl/certs/ca-certificates.crt`).
   * The admin provider (Go) always uses the system store unless a path is given.
   * @default "system"
   */
  sslrootcert?: string;
  /** Route app clients through the `-pooler` host (PgBouncer, transaction mode). @default true */
  pooled?: boolean;
  /** The compute's `max_connections`, in connections. @default 104 (0.25 CU) */
  maxConnections?: number;
  /** Clients' `connect_timeout`, in seconds. @default 15 (the seed's) */
  connectTimeoutSeconds?: number;
  /** The gateway's pool. @default { maxConns: 10, minConns: 1 } (the seed's) */
  gatewayPool?: GatewayPool;
  /** Kratos' pool. @default { maxConns: 10, maxIdleConns: 1 } */
  kratosPool?: KratosPool;
}

function neonTls(sslmode: SslMode | undefined, sslrootcert: string | undefined): { sslmode: SslMode; clientRoot?: string; adminRoot?: string } {
  const mode = parseSslMode(sslmode ?? SslMode.VerifyFull, 'sslmode');
  if (mode !== SslMode.Require && mode !== SslMode.VerifyFull) {
    throw new ValidationError(
      'sslmode',
      `"${mode}" is not a mode for Neon, which enforces TLS and serves a publicly trusted certificate`,
      'Use verify-full (with sslrootcert "system" or a CA bundle path) or require',
    );
  }
  if (mode === SslMode.Require) {
    check(sslrootcert === undefined, 'sslrootcert', 'is given but sslmode=require does not check certificates', 'Remove sslrootcert, or use sslmode=verify-full');
    return { sslmode: mode };
  }
  const clientRoot = sslrootcert ?? SYSTEM_ROOT_CERT;
  check(clientRoot.length > 0, 'sslrootcert', 'is empty', 'Give "system" or a CA bundle path');
  // The provider is Go: it checks against the system store when no file is given.
  return { sslmode: mode, clientRoot, adminRoot: clientRoot === SYSTEM_ROOT_CERT ? undefined : clientRoot };
}

/**
 * `ExternalPostgres` arguments for a Neon endpoint, and the client defaults
 * the seed gives for Neon.
 *
 * - Admin and migrations: the direct endpoint host, port 5432, as
 *   `neondb_owner` (not a superuser), to the existing database.
 * - App clients: the `-pooler` host (PgBouncer, transaction mode; so the
 *   Kratos and pgx DSNs get `default_query_exec_mode=exec`), its pools
 *   90% of `max_connections` per role and database; `pooled: false` sends
 *   them to the direct host.
 * - TLS: verify-full against the system CA store by default, or require.
 * - Budget: `max_connections` 104 (0.25 CU) with Neon's 7 reserved slots.
 * - Clients: connect_timeout 15 s, gateway pool 10 / 1.
 *
 * @throws ValidationError naming the field: a non-Neon or `-pooler` host,
 *   an sslmode other than verify-full / require, a root certificate with
 *   require, a bad database name, impossible numbers.
 */
export function neonServer(args: NeonServerArgs): ManagedPreset {
  const host = checkNeonHost(args.host, 'host');
  const adminUser = args.adminUser ?? NEON_DEFAULT_ROLE;
  check(typeof adminUser === 'string' && adminUser.length > 0, 'adminUser', 'is empty', `Give the Neon role, e.g. "${NEON_DEFAULT_ROLE}"`);
  const database = existingDatabaseName(args.database ?? NEON_DEFAULT_DATABASE, 'database');
  const tls = neonTls(args.sslmode, args.sslrootcert);
  const maxConnections = args.maxConnections ?? NEON_DEFAULT_MAX_CONNECTIONS;
  checkInteger(maxConnections, 'maxConnections', NEON_RESERVED_CONNECTIONS + 1, 4000, 'connections');
  validateClientTls({ sslmode: tls.sslmode, sslrootcert: tls.clientRoot }, ServerKind.Managed, 'neon');
  const clients = validateClientDefaults({
    connectTimeoutSeconds: args.connectTimeoutSeconds ?? NEON_CONNECT_TIMEOUT_SECONDS,
    gatewayPool: { ...(args.gatewayPool ?? NEON_GATEWAY_POOL) },
    kratosPool: { ...(args.kratosPool ?? NEON_KRATOS_POOL) },
  });
  const pooled = args.pooled ?? true;
  return {
    server: {
      host,
      port: NEON_PORT,
      adminUser,
      adminPassword: args.adminPassword,
      adminDatabase: database,
      adminIsSuperuser: false,
      kind: ServerKind.Managed,
      sslmode: tls.sslmode,
      sslrootcert: tls.adminRoot,
      clientSslRootCert: tls.clientRoot,
      maxConnections,
      reservedConnections: NEON_RESERVED_CONNECTIONS,
      connectTimeoutSeconds: NEON_CONNECT_TIMEOUT_SECONDS,
      pooler: pooled
        ? {
            host: poolerHostOf(host),
            port: NEON_PORT,
            mode: PoolerMode.Transaction,
            // 90% of max_connections, already checked (8–4000 → 7–3600).
            serverPoolSize: Math.floor(maxConnections * 0.9),
          }
        : undefined,
    },
    clients,
  };
}

/** Arguments of {@link neonConnectionString}. */
export interface NeonConnectionStringArgs extends PasswordPart {
  /** The endpoint host (direct, without `-pooler`). */
  host: string;
  /** The role. */
  user: string;
  /** The database (may be an existing mixed-case one). @default "neondb" */
  database?: string;
  /** The `-pooler` host instead of the direct one. @default false */
  pooled?: boolean;
  /** sslmode in the URL. @default SslMode.Require (what the dashboard and the seed show) */
  sslmode?: SslMode;
  /** sslrootcert in the URL (verify-full only). @default "system" with verify-full */
  sslrootcert?: string;
  /**
   * `channel_binding=require` in the URL, as Neon's dashboard writes it
   * (libpq 13+ and pgx 5.8+ read it: SCRAM-SHA-256-PLUS binds the login to
   * the TLS channel, so a man in the middle cannot relay it even under
   * sslmode=require). `false` gives the older form without it (the primary
   * seed's `external_url`). Never put such a URL in Kratos' `DSN`: Kratos
   * v1.3.1's pgx 5.6 sends `channel_binding` to the server, which refuses the
   * login; the library's `kratosDsn` never carries it.
   * @default true
   */
  channelBinding?: boolean;
}

/**
 * Neon's connection string as its dashboard shows it (no port; `sslmode`
 * and `channel_binding=require` in the query, as the dashboard writes them
 * since 2025): `postgres://neondb_owner:…@ep-….neon.tech/neondb?sslmode=require&channel_binding=require`;
 * `pooled: true` gives the `-pooler` variant. With `channelBinding: false`
 * and the placeholder `${DB_PASSWORD}` this is the primary seed's
 * `external_url` byte for byte.
 * @throws ValidationError as {@link neonServer}, and for a bad password part.
 */
export function neonConnectionString(args: NeonConnectionStringArgs): string {
  const host = checkNeonHost(args.host, 'host');
  check(typeof args.user === 'string' && args.user.length > 0, 'user', 'is empty', `Give the Neon role, e.g. "${NEON_DEFAULT_ROLE}"`);
  const database = existingDatabaseName(args.database ?? NEON_DEFAULT_DATABASE, 'database');
  const tls = neonTls(args.sslmode ?? SslMode.Require, args.sslrootcert);
  const params: Array<[string, string]> = [['sslmode', tls.sslmode]];
  if (tls.clientRoot !== undefined) params.push(['sslrootcert', tls.clientRoot]);
  if (args.channelBinding ?? true) params.push(['channel_binding', 'require']);
  return formatProviderUrl({
    host: args.pooled ? poolerHostOf(host) : host,
    user: args.user,
    database,
    password: args.password,
    passwordPlaceholder: args.passwordPlaceholder,
    params,
  });
}

/**
 * The primary seed's `database:` block for Neon: the connection string,
 * `tls_mode` = its sslmode, `connect_timeout: "15s"`, pool 10 / 1.
 * @throws ValidationError as {@link neonConnectionString}.
 */
export function neonGatewayConfig(args: NeonConnectionStringArgs, pool: GatewayPool = NEON_GATEWAY_POOL): GatewayDatabaseConfig {
  const url = neonConnectionString(args);
  return gatewayDatabaseConfig(url, args.sslmode ?? SslMode.Require, NEON_CONNECT_TIMEOUT_SECONDS, { ...pool });
}
