/**
 * Any managed PostgreSQL that enforces TLS (Hetzner Managed Databases, a
 * provider's cluster, your own server behind PgBouncer): `ExternalPostgres`
 * arguments with `require` or stronger enforced, an optional pooled
 * endpoint, and the provider's connection string.
 *
 * Source: primary seed, "Hetzner Managed Databases" ("enforce TLS. Always
 * use tls_mode: require or stronger"; `postgres://vibewarden:<password>@<db-host>.hc-<region>.hetzner.cloud:5432/vibewarden`,
 * `connect_timeout: "10s"`, pool 10 / 2) and "TLS enforced by the provider"
 * for every managed service of Strategy 2.
 */
import type * as pulumi from '@pulumi/pulumi';
import { DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_GATEWAY_POOL, DEFAULT_KRATOS_POOL, DEFAULT_PORT, GatewayPool, KratosPool } from '../core/dsn';
import { ValidationError, check } from '../core/errors';
import { GatewayDatabaseConfig } from '../core/gateway';
import { validatePooler } from '../core/pooler';
import { ServerKind, SslMode, parseSslMode, permittedSslModes, validateClientTls } from '../core/tls';
import { validateHost, validatePort } from '../core/validate';
import type { PoolerEndpoint } from '../provisioning/server-handle';
import { ManagedPreset, PasswordPart, existingDatabaseName, formatProviderUrl, gatewayDatabaseConfig, validateClientDefaults } from './common';

/** Arguments of {@link tlsEnforcedServer}. */
export interface TlsEnforcedServerArgs {
  /** The server's host name or IP address, by the same rules as `ExternalPostgres.host` (`validateHost`). */
  host: string;
  /** @default 5432 */
  port?: number;
  /** The admin role (the service credentials' user). */
  adminUser: string;
  /** Its password; pass a secret. */
  adminPassword: pulumi.Input<string>;
  /** An existing database the admin connects to (mixed case allowed). @default "postgres" */
  adminDatabase?: string;
  /**
   * `require`, `verify-ca` or `verify-full`; anything weaker is refused.
   * @default SslMode.VerifyFull when `sslrootcert` is given, else SslMode.Require
   */
  sslmode?: SslMode;
  /** CA bundle path on the machine running Pulumi. */
  sslrootcert?: string;
  /** CA bundle path on the app clients. @default sslrootcert */
  clientSslRootCert?: string;
  /** The server's `max_connections`. @default 100 */
  maxConnections?: number;
  /** Slots app roles cannot use. @default 3 */
  reservedConnections?: number;
  /**
   * A pooled client endpoint (the provider's PgBouncer, your own), checked by
   * the core's one pooler rule, the same `ExternalPostgres` applies. @default none
   */
  pooler?: PoolerEndpoint;
  /** Clients' `connect_timeout`, in seconds. @default 10 (the seed's) */
  connectTimeoutSeconds?: number;
  /** The gateway's pool. @default { maxConns: 10, minConns: 2 } (the seed's) */
  gatewayPool?: GatewayPool;
  /** Kratos' pool. @default { maxConns: 10, maxIdleConns: 2 } */
  kratosPool?: KratosPool;
}

/** Parses an sslmode for a TLS-enforcing server. @throws ValidationError naming `field` for disable / allow / prefer. */
export function enforcedSslMode(value: SslMode | undefined, sslrootcert: string | undefined, field = 'sslmode'): SslMode {
  const mode = parseSslMode(value ?? (sslrootcert ? SslMode.VerifyFull : SslMode.Require), field);
  const permitted = permittedSslModes(ServerKind.Managed);
  if (!permitted.includes(mode)) {
    throw new ValidationError(
      field,
      `"${mode}" is weaker than the provider enforces (it refuses connections without TLS; allow/prefer may fall back to plain text)`,
      `Use one of: ${permitted.join(', ')}`,
    );
  }
  return mode;
}

/** The pooler after the core's one pooler rule (what ExternalPostgres checks too). */
function checkedPooler(pooler: PoolerEndpoint): PoolerEndpoint {
  validatePooler(pooler, 'pooler');
  return { ...pooler };
}

/**
 * `ExternalPostgres` arguments for a provider that enforces TLS.
 * @throws ValidationError naming the field: an sslmode weaker than require,
 *   verify modes without a CA, a bad host, port, pooler or database name.
 */
export function tlsEnforcedServer(args: TlsEnforcedServerArgs): ManagedPreset {
  const host = args.host;
  validateHost(host, 'host');
  const port = validatePort(args.port ?? DEFAULT_PORT, 'port');
  check(typeof args.adminUser === 'string' && args.adminUser.length > 0, 'adminUser', 'is empty', 'Give the admin role from the service credentials');
  const adminDatabase = existingDatabaseName(args.adminDatabase ?? 'postgres', 'adminDatabase');
  const sslmode = enforcedSslMode(args.sslmode, args.sslrootcert ?? args.clientSslRootCert);
  validateClientTls({ sslmode, sslrootcert: args.clientSslRootCert ?? args.sslrootcert }, ServerKind.Managed, 'server');
  const clients = validateClientDefaults({
    connectTimeoutSeconds: args.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS,
    gatewayPool: { ...(args.gatewayPool ?? DEFAULT_GATEWAY_POOL) },
    kratosPool: { ...(args.kratosPool ?? DEFAULT_KRATOS_POOL) },
  });
  return {
    server: {
      host,
      port,
      adminUser: args.adminUser,
      adminPassword: args.adminPassword,
      adminDatabase,
      adminIsSuperuser: false,
      kind: ServerKind.Managed,
      sslmode,
      sslrootcert: args.sslrootcert,
      clientSslRootCert: args.clientSslRootCert,
      maxConnections: args.maxConnections,
      reservedConnections: args.reservedConnections,
      pooler: args.pooler !== undefined ? checkedPooler(args.pooler) : undefined,
    },
    clients,
  };
}

/** Arguments of {@link tlsEnforcedConnectionString}. */
export interface TlsEnforcedConnectionStringArgs extends PasswordPart {
  host: string;
  /** @default 5432 */
  port?: number;
  user: string;
  /** An existing database (mixed case allowed). */
  database: string;
  /** sslmode written into the URL; absent = none (`tls_mode` carries it). Never weaker than require. */
  sslmode?: SslMode;
}

/**
 * The provider's connection string (`postgres://user:password@host:port/database`),
 * as the seed's Hetzner example writes it (no sslmode in the URL unless given).
 * @throws ValidationError for a bad host, port, database, sslmode or password part.
 */
export function tlsEnforcedConnectionString(args: TlsEnforcedConnectionStringArgs): string {
  const host = args.host;
  validateHost(host, 'host');
  check(typeof args.user === 'string' && args.user.length > 0, 'user', 'is empty', 'Give the role');
  const database = existingDatabaseName(args.database, 'database');
  const params: Array<[string, string]> = args.sslmode !== undefined ? [['sslmode', enforcedSslMode(args.sslmode, undefined)]] : [];
  return formatProviderUrl({
    host,
    port: args.port ?? DEFAULT_PORT,
    user: args.user,
    database,
    password: args.password,
    passwordPlaceholder: args.passwordPlaceholder,
    params,
  });
}

/**
 * The primary seed's `database:` block for a TLS-enforcing provider:
 * `tls_mode` require or stronger (default require), `connect_timeout: "10s"`,
 * pool 10 / 2.
 * @throws ValidationError as {@link tlsEnforcedConnectionString}, and for a tls_mode weaker than require.
 */
export function tlsEnforcedGatewayConfig(args: TlsEnforcedConnectionStringArgs, tlsMode: SslMode = SslMode.Require, pool: GatewayPool = DEFAULT_GATEWAY_POOL): GatewayDatabaseConfig {
  const url = tlsEnforcedConnectionString(args);
  return gatewayDatabaseConfig(url, enforcedSslMode(tlsMode, undefined, 'tlsMode'), DEFAULT_CONNECT_TIMEOUT_SECONDS, { ...pool });
}
