/**
 * `ExternalPostgres`: a server this stack does not create — a managed
 * service (RDS, Neon, Supabase, Hetzner Managed Databases) or any existing
 * PostgreSQL — turned into a {@link PostgresServerHandle} from an admin
 * connection (the primary seed's Strategies 2 and 3).
 */
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import { DEFAULT_PORT, PoolerMode } from '../core/dsn';
import { check, checkInteger } from '../core/errors';
import { ServerKind, SslMode, parseSslMode, validateClientTls } from '../core/tls';
import { PostgresServerHandle } from './server-handle';

/** Arguments of {@link ExternalPostgres}. */
export interface ExternalPostgresArgs {
  /** Host name of the server (not `host:port`; RDS's `endpoint` output is host:port, use `address`). */
  host: pulumi.Input<string>;
  /** Port. @default 5432 */
  port?: pulumi.Input<number>;
  /** The admin role the stack connects as (RDS master user, `neondb_owner`, Supabase `postgres`). */
  adminUser: string;
  /** The admin's password; pass a secret (`config.requireSecret`). */
  adminPassword: pulumi.Input<string>;
  /** Database the admin connects to. @default "postgres" */
  adminDatabase?: pulumi.Input<string>;
  /**
   * Whether the admin is a superuser. Must be false on managed services,
   * where the provider would otherwise try to read pg_authid and fail.
   * @default false
   */
  adminIsSuperuser?: boolean;
  /** Where the server runs. A managed server never accepts `disable`. @default ServerKind.Managed */
  kind?: ServerKind;
  /**
   * libpq sslmode for the admin connection and for app clients.
   * @default SslMode.VerifyFull when `sslrootcert` is given, else SslMode.Require (the seed's default)
   */
  sslmode?: SslMode;
  /**
   * Path of the CA bundle on the machine running Pulumi (e.g. AWS's
   * `global-bundle.pem` for RDS), for the admin connection.
   */
  sslrootcert?: string;
  /** Path of the CA bundle on the app clients. @default sslrootcert */
  clientSslRootCert?: string;
  /** The CA certificate (PEM), exported to consumers of the handle. */
  rootCertPem?: pulumi.Input<string>;
  /** The server's `max_connections`, in connections. @default 100 (most managed services' default) */
  maxConnections?: number;
  /**
   * Slots app roles cannot use, in connections: `superuser_reserved_connections`
   * (3) + the provider's own (RDS: 2 more) + admin/monitoring headroom.
   * @default 3
   */
  reservedConnections?: number;
  /** What sits at the client endpoint. @default PoolerMode.None */
  pooler?: PoolerMode;
  /** Seconds the provider waits to connect. @default 15 (Neon cold starts take 2–5 s) */
  connectTimeoutSeconds?: number;
}

/**
 * A {@link PostgresServerHandle} for a server the stack does not create.
 *
 * Creates one resource: a `@pulumi/postgresql` provider connected as the
 * admin. Nothing on the server changes until databases are provisioned on
 * the handle.
 *
 * @example
 * ```ts
 * const cfg = new pulumi.Config();
 * const server = new ExternalPostgres('shared-db', {
 *   host: cfg.require('host'),
 *   adminUser: cfg.require('adminUser'),
 *   adminPassword: cfg.requireSecret('adminPassword'),
 *   sslmode: SslMode.VerifyFull,
 *   sslrootcert: 'global-bundle.pem',
 * });
 * ```
 * @throws ValidationError before anything is created, for an sslmode the
 *   server kind does not permit, a verify mode without a root certificate,
 *   or impossible connection numbers.
 */
export class ExternalPostgres extends pulumi.ComponentResource {
  /** The handle to provision databases on. */
  public readonly handle: PostgresServerHandle;
  /** The admin provider (also in the handle). */
  public readonly provider: postgresql.Provider;

  constructor(name: string, args: ExternalPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    const kind = args.kind ?? ServerKind.Managed;
    check(Object.values(ServerKind).includes(kind), 'kind', `"${String(kind)}" is not a server kind`, `Use one of: ${Object.values(ServerKind).join(', ')}`);
    const sslmode = parseSslMode(args.sslmode ?? (args.sslrootcert ? SslMode.VerifyFull : SslMode.Require), 'sslmode');
    validateClientTls({ sslmode, sslrootcert: args.sslrootcert ?? args.clientSslRootCert }, kind, 'ExternalPostgres');
    const maxConnections = args.maxConnections ?? 100;
    const reservedConnections = args.reservedConnections ?? 3;
    checkInteger(maxConnections, 'maxConnections', 1, 262143, 'connections');
    checkInteger(reservedConnections, 'reservedConnections', 0, maxConnections - 1, 'connections');
    check(typeof args.adminUser === 'string' && args.adminUser.length > 0, 'adminUser', 'is empty', 'Give the admin role the stack connects as');
    const connectTimeout = args.connectTimeoutSeconds ?? 15;
    checkInteger(connectTimeout, 'connectTimeoutSeconds', 1, 3600, 'seconds');

    super('postgres-strategies:index:ExternalPostgres', name, {}, opts);

    this.provider = new postgresql.Provider(
      `${name}-admin`,
      {
        host: args.host,
        port: args.port ?? DEFAULT_PORT,
        username: args.adminUser,
        password: pulumi.secret(args.adminPassword),
        database: args.adminDatabase ?? 'postgres',
        sslmode,
        sslrootcert: args.sslrootcert,
        superuser: args.adminIsSuperuser ?? false,
        connectTimeout,
      },
      { parent: this },
    );
    this.handle = {
      host: args.host,
      port: args.port ?? DEFAULT_PORT,
      kind,
      sslmode,
      sslrootcert: args.clientSslRootCert ?? args.sslrootcert,
      rootCertPem: args.rootCertPem,
      maxConnections,
      reservedConnections,
      adminUser: args.adminUser,
      adminIsSuperuser: args.adminIsSuperuser ?? false,
      provider: this.provider,
      pooler: args.pooler ?? PoolerMode.None,
      dependsOn: [],
    };
    this.registerOutputs({ host: args.host, port: this.handle.port, sslmode });
  }
}
