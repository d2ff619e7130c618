/**
 * `ExternalPostgres`: a server this stack does not create — a managed
 * service (RDS, Neon, Supabase, Hetzner Managed Databases) or any existing
 * PostgreSQL — turned into a {@link PostgresServerHandle} from an admin
 * connection (the primary seed's Strategies 2 and 3).
 */
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import { DEFAULT_PORT, checkConnectTimeout } from '../core/dsn';
import { check } from '../core/errors';
import { ServerKind, SslMode, parseSslMode, sslModeVerifiesCertificate, validateClientTls } from '../core/tls';
import { validateHost, validatePort, validateRootCertPem } from '../core/validate';
import { checkedInput } from './checked-input';
import { serverCatalog } from './retained';
import { checkRootCertFile } from './root-cert-file';
import { PoolerEndpoint, PostgresServerHandle, createServerHandle, validateServerHandleArgs } from './server-handle';

/** Arguments of {@link ExternalPostgres}. */
export interface ExternalPostgresArgs {
  /**
   * Host name or IP address of the server: a DNS name (non-ASCII names are
   * converted with IDNA), an IPv4 address, or an IPv6 address without
   * brackets (a zone like `fe80::1%eth0` allowed). Not `host:port` (RDS's
   * `endpoint` output is host:port, use `address`), not a URL.
   */
  host: pulumi.Input<string>;
  /** TCP port, a number 1–65535 (from stack config: `config.requireNumber`). @default 5432 */
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
   * `global-bundle.pem` for RDS), for the admin connection; `system` for the
   * operating system's trusted CAs (libpq 16+). A relative path is taken from
   * the Pulumi project folder and made absolute. Checked at preview: the file
   * must exist and hold PEM certificates (a CA that has not expired for
   * verify-ca / verify-full).
   */
  sslrootcert?: string;
  /**
   * Path of the CA bundle on the app clients' machines: what every client URL
   * and env map carries as `sslrootcert`. Set it whenever the apps do not run
   * on the machine that runs Pulumi (not checked here: the file is theirs).
   * @default the absolute path of sslrootcert
   */
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
  /**
   * A connection pooler in front of the server (Neon's `-pooler` host,
   * Supavisor, PgBouncer): the second client endpoint. The admin provider and
   * migrations (`url`, `kratosMigrateDsn`) always use `host`/`port`; each
   * instance's `pooledUrl`, `kratosDsn`, `pgxUrl` and gateway env go through
   * the pooler. @default none: every client connects directly
   */
  pooler?: PoolerEndpoint;
  /**
   * The admin's share of the server, in connections: the most admin sessions
   * `pulumi up` holds at once (it provisions ⌊share / 2⌋ instances at once),
   * counted in the connection budget. A non-superuser admin cannot use
   * `superuser_reserved_connections`, so its connections always come out of
   * the app roles' share. The provider's own pool is the server's
   * `max_connections` (see `adminProviderPoolSize`).
   * @default a tenth of max_connections − reserved, from 4 to 16 (`defaultAdminConnections`: 9 at 100)
   */
  adminMaxConnections?: number;
  /**
   * Connections kept free for deploys and maintenance (psql, pg_dump, a
   * migration run by hand), counted in the connection budget.
   * @default 3
   */
  maintenanceConnections?: number;
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
 * The admin's share (`adminMaxConnections`, by default a tenth of the
 * server's usable slots, 4 to 16) bounds the sessions `pulumi up` holds and
 * is counted in the connection budget together with a maintenance headroom
 * (default 3), since a non-superuser admin cannot use
 * `superuser_reserved_connections`. The
 * handle carries a claims registry: every `SharedPostgres` and
 * `InstanceDatabase` on it is checked against everything else on the same
 * server. With `pooler`, apps connect through the pooler and the admin and
 * migrations directly.
 *
 * @throws ValidationError before anything is created, naming the argument
 *   (`ExternalPostgres.host`, …) and the fix: a host with a scheme, port,
 *   path or brackets, or not a valid IP address or DNS name; a port that is
 *   a string or outside 1–65535; an sslmode the server kind or the auth
 *   gateway does not permit (`prefer`, `allow`; `disable` on a managed
 *   server); a verify mode without a root certificate; a `rootCertPem` that
 *   is not parseable PEM, holds a private key, or (for verify-ca/verify-full)
 *   has no unexpired CA certificate; an `sslrootcert` file that does not
 *   exist or holds no PEM certificate (`ExternalPostgres.sslrootcert`, with
 *   the absolute path looked at); impossible connection numbers. A host,
 *   port or rootCertPem known only at deploy (another resource's output) is
 *   checked when it is known, with the same message.
 */
export class ExternalPostgres extends pulumi.ComponentResource {
  /** The handle to provision databases on. */
  public readonly handle: PostgresServerHandle;
  /** The admin provider (also in the handle). */
  public readonly provider: postgresql.Provider;

  constructor(name: string, args: ExternalPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    const kind = args.kind ?? ServerKind.Managed;
    check(Object.values(ServerKind).includes(kind), 'ExternalPostgres.kind', `"${String(kind)}" is not a server kind`, `Use one of: ${Object.values(ServerKind).join(', ')}`);
    const sslmode = parseSslMode(args.sslmode ?? (args.sslrootcert ? SslMode.VerifyFull : SslMode.Require), 'ExternalPostgres.sslmode');
    validateClientTls({ sslmode, sslrootcert: args.sslrootcert ?? args.clientSslRootCert }, kind, 'ExternalPostgres');
    // Plain values now, before any resource; values known only at deploy inside apply, with the same messages.
    const host = checkedInput(args.host, (h) => validateHost(h, 'ExternalPostgres.host', { portField: 'ExternalPostgres.port' }));
    const port = checkedInput(args.port ?? DEFAULT_PORT, (p) => validatePort(p, 'ExternalPostgres.port'));
    const verify = sslModeVerifiesCertificate(sslmode);
    // Absolute, and checked now: a relative path would be copied into every client URL, and a missing file would
    // pass preview and fail inside the provider.
    const sslrootcert = args.sslrootcert === undefined ? undefined : checkRootCertFile(args.sslrootcert, 'ExternalPostgres.sslrootcert', { verify });
    const rootCertPem =
      args.rootCertPem === undefined ? undefined : checkedInput(args.rootCertPem, (pem) => validateRootCertPem(pem, 'ExternalPostgres.rootCertPem', { verify }));
    const maxConnections = args.maxConnections ?? 100;
    const reservedConnections = args.reservedConnections ?? 3;
    const connectTimeout = args.connectTimeoutSeconds ?? 15;
    checkConnectTimeout(connectTimeout);
    const handleArgs = {
      host,
      port,
      kind,
      sslmode,
      sslrootcert: args.clientSslRootCert ?? sslrootcert,
      rootCertPem,
      maxConnections,
      reservedConnections,
      adminConnections: args.adminMaxConnections,
      maintenanceConnections: args.maintenanceConnections,
      adminUser: args.adminUser,
      adminDatabase: args.adminDatabase ?? 'postgres',
      adminIsSuperuser: args.adminIsSuperuser ?? false,
      pooler: args.pooler,
    };
    // The connection numbers, the admin user and the pooler (the same checks every strategy's handle gets).
    const { providerPool } = validateServerHandleArgs(handleArgs);

    super('postgres-strategies:index:ExternalPostgres', name, {}, opts);

    this.provider = new postgresql.Provider(
      `${name}-admin`,
      {
        host,
        port,
        username: args.adminUser,
        password: pulumi.secret(args.adminPassword),
        database: args.adminDatabase ?? 'postgres',
        sslmode,
        sslrootcert,
        superuser: args.adminIsSuperuser ?? false,
        connectTimeout,
        // Never the bound (the share is, see ProviderLanes): the server's own limit, so no operation waits for a pooled connection.
        maxConnections: providerPool,
      },
      { parent: this },
    );
    // At preview, roles and databases a new stack would create but that exist already are named (retained.ts).
    const catalog = serverCatalog({ host, port, user: args.adminUser, password: args.adminPassword, database: args.adminDatabase ?? 'postgres', sslmode, sslrootcert, connectTimeoutSeconds: connectTimeout });
    this.handle = createServerHandle({ ...handleArgs, provider: this.provider, catalog });
    this.registerOutputs({ host, port: this.handle.port, sslmode });
  }
}
