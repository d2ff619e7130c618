/**
 * The one contract between "where the server runs" and "what lives inside
 * it": every strategy (external, local Docker, managed, self-managed)
 * produces a {@link PostgresServerHandle} with {@link createServerHandle},
 * and databases and roles are provisioned onto any handle by
 * `InstanceDatabase` and `SharedPostgres`.
 *
 * A handle carries a {@link ServerClaims} registry: everything provisioned on
 * the server (connection budget shares, database and role names) is claimed
 * there before any resource is registered, so several components on one
 * server are checked together, and no instance may take the admin's own role
 * or database.
 */
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import { PoolerMode } from '../core/dsn';
import { ValidationError, check, checkInteger } from '../core/errors';
import { validatePooler } from '../core/pooler';
import { ServerClaims } from '../core/plan';
import { LoginRotationSpec, resolveLoginRotation } from '../core/rotation';
import { ServerKind, SslMode } from '../core/tls';
import type { ServerCatalog } from './retained';

export { ServerClaims } from '../core/plan';

import { DEFAULT_ADMIN_MAX_CONNECTIONS, DEFAULT_MAINTENANCE_CONNECTIONS, adminProviderLanes } from '../core/budget';

export { DEFAULT_ADMIN_MAX_CONNECTIONS, DEFAULT_MAINTENANCE_CONNECTIONS };

/** A hot standby (read replica) that app clients may read from. */
export interface StandbyEndpoint {
  /** Host name of the standby (RDS: the replica's `address`). */
  host: pulumi.Input<string>;
  /** Its port. */
  port: pulumi.Input<number>;
}

/** A connection pooler in front of the server: the second, optional client endpoint. */
export interface PoolerEndpoint {
  /** Pooler host (Neon `ep-x-pooler…`, Supabase `aws-0-<region>.pooler.supabase.com`, a PgBouncer). */
  host: pulumi.Input<string>;
  /** Pooler port (Supabase 6543 transaction / 5432 session, PgBouncer 6432). */
  port: pulumi.Input<number>;
  /** Session or Transaction (PoolerMode from src/core/dsn.ts; None is not allowed here). */
  mode: PoolerMode;
  /**
   * Appended to each role name when connecting through the pooler
   * (Supavisor: `.<project-ref>`): letters, digits, `.`, `_` and `-`, at
   * most 63 characters. @default ""
   */
  userSuffix?: string;
  /**
   * Server connections the pooler opens per (role, database) pair, 1–262143
   * (PgBouncer `default_pool_size`, Supavisor's pool size). Behind a
   * transaction pooler the budget counts `min(serverPoolSize, Kratos + gateway
   * pools)` per instance instead of the clients' pools; unset, the clients'
   * pools are counted.
   */
  serverPoolSize?: number;
}

/** The pooler as the handle carries it (defaults applied). */
export interface PoolerHandle {
  host: pulumi.Input<string>;
  port: pulumi.Input<number>;
  mode: PoolerMode;
  userSuffix: string;
  serverPoolSize?: number;
}

/** A PostgreSQL server, wherever it runs. */
export interface PostgresServerHandle {
  /** Host name app clients connect to directly (may differ from the admin provider's host, e.g. `postgres` on a Docker network). */
  host: pulumi.Input<string>;
  /** Port app clients connect to directly. */
  port: pulumi.Input<number>;
  /** Where the server runs; decides which sslmodes clients may use. */
  kind: ServerKind;
  /** The sslmode app clients use. */
  sslmode: SslMode;
  /** Path of the root certificate on the app clients (libpq `sslrootcert`); needed for verify-ca / verify-full. */
  sslrootcert?: string;
  /** The CA certificate (PEM) that signs the server certificate, when known. */
  rootCertPem?: pulumi.Input<string>;
  /** The server's `max_connections`, in connections. A plain number: the budget is checked before anything is created. */
  maxConnections: number;
  /** Connection slots app roles cannot use (superuser_reserved_connections + provider reserve), in connections. */
  reservedConnections: number;
  /** The admin provider's `maxConnections` (per database it enters), counted in the budget. */
  adminConnections: number;
  /** Connections kept free for deploys and maintenance, counted in the budget. */
  maintenanceConnections: number;
  /** The admin role's name (no app role may take it). */
  adminUser: string;
  /** The database the admin connects to, when known as a plain value (no instance may take it). */
  adminDatabase?: string;
  /** Whether the admin is a superuser (false on RDS, Neon, Supabase). */
  adminIsSuperuser: boolean;
  /** The `@pulumi/postgresql` provider connected as the admin (always through the direct endpoint). */
  provider: postgresql.Provider;
  /**
   * The admin's libpq URL, as the provider connects (secret): what runs the
   * SQL the provider has no resource for (login rotation's
   * `LoginRevocation`). Absent on handles that do not give it; alternating
   * logins are refused on those.
   */
  adminUrl?: pulumi.Output<string>;
  /**
   * The default login rotation of every instance provisioned on the server
   * (see `InstanceSpec.loginRotation`; an instance's own fields win, the
   * rotation and revocation numbers add up). @default off
   */
  loginRotation?: LoginRotationSpec;
  /** The pooler in front of the server, when there is one: pooled client outputs go through it. */
  pooler?: PoolerHandle;
  /** Hot standbys clients may read from: each instance gets a `readerUrl` when there is one. @default [] */
  standbys: StandbyEndpoint[];
  /** Resources that must be ready before anything is created on the server (e.g. a healthy container). */
  dependsOn: pulumi.Resource[];
  /** What is already provisioned on this server (budget, names); see {@link ServerClaims}. */
  claims: ServerClaims;
  /**
   * Reads the server's catalog as the admin, at preview, to name roles and
   * databases a new stack would trip on (see `checkNotRetained`); only for
   * servers the stack does not create (ExternalPostgres).
   */
  catalog?: ServerCatalog;
  /**
   * The admin provider's operation lanes: every resource the provider
   * creates, changes or deletes on this server waits for the one before it in
   * its lane, so at most `lanes.count` operations run at once whatever
   * `pulumi up --parallel` is; see {@link ProviderLanes}.
   */
  lanes: ProviderLanes;
}

/** One lane of {@link ProviderLanes}: a chain of provider operations that run one after another. */
export interface ProviderLane {
  /** What the next resource in this lane must depend on (empty for the first). */
  tail(): pulumi.Resource[];
  /** Records `resource` as the lane's last: the next one waits for it. */
  advance(resource: pulumi.Resource): void;
}

/**
 * Bounds how many `@pulumi/postgresql` operations run at once on one server,
 * whatever the engine's parallelism: `count` lanes (⌊adminConnections / 2⌋,
 * see `adminProviderLanes` in the core), each a chain of `dependsOn`.
 * Components take a lane in the order they are constructed (round robin),
 * so adding an instance at the end never changes another's lane.
 *
 * Why: the provider holds a transaction with an advisory lock on the admin
 * role open on one pooled connection while it runs a database's statements on
 * a second; with more such operations in flight than pooled connections,
 * `pulumi up` hangs forever (seen at 25 instances with a pool of 4 and
 * `--parallel 8`). With the lanes, the provider holds at most
 * `2 × count ≤ adminConnections` connections, the number the budget counts.
 */
export class ProviderLanes {
  private readonly tails: (pulumi.Resource | undefined)[];
  private taken = 0;

  constructor(readonly count: number) {
    this.tails = Array.from({ length: count }, () => undefined);
  }

  /** The next lane, round robin. */
  take(): ProviderLane {
    const index = this.taken++ % this.count;
    return {
      tail: () => {
        const last = this.tails[index];
        return last ? [last] : [];
      },
      advance: (resource) => {
        this.tails[index] = resource;
      },
    };
  }
}

/** What a strategy gives {@link createServerHandle}. */
export interface ServerHandleArgs
  extends Pick<
    PostgresServerHandle,
    | 'host'
    | 'port'
    | 'kind'
    | 'sslmode'
    | 'sslrootcert'
    | 'rootCertPem'
    | 'maxConnections'
    | 'reservedConnections'
    | 'adminUser'
    | 'adminIsSuperuser'
    | 'provider'
    | 'adminUrl'
    | 'loginRotation'
  > {
  /** The admin provider's `maxConnections`; the strategy must set the same number on its provider. @default DEFAULT_ADMIN_MAX_CONNECTIONS */
  adminConnections?: number;
  /** @default DEFAULT_MAINTENANCE_CONNECTIONS */
  maintenanceConnections?: number;
  /** The database the admin connects to (checked against instance names when a plain string). */
  adminDatabase?: pulumi.Input<string>;
  /** The pooler in front of the server, if any. */
  pooler?: PoolerEndpoint;
  /** Hot standbys (read replicas). @default [] */
  standbys?: StandbyEndpoint[];
  dependsOn?: pulumi.Resource[];
  /** The admin's view of the catalog, when the server exists before the stack. */
  catalog?: ServerCatalog;
}

/**
 * Validates a pooler endpoint's plain values (the core's one pooler rule,
 * `validatePooler`; values known only at deploy are not checked here).
 * @throws ValidationError naming `<field>.mode`, `.host`, `.port`, `.userSuffix` or `.serverPoolSize`.
 */
export function validatePoolerEndpoint(pooler: PoolerEndpoint, field = 'pooler'): PoolerHandle {
  validatePooler(pooler, field);
  const userSuffix = pooler.userSuffix ?? '';
  return {
    host: pooler.host,
    port: pooler.port,
    mode: pooler.mode,
    userSuffix,
    ...(pooler.serverPoolSize !== undefined ? { serverPoolSize: pooler.serverPoolSize } : {}),
  };
}

/** The validated numbers and pooler of a handle, and its claims registry. */
interface CheckedHandleArgs {
  adminConnections: number;
  /** The admin provider's lane count (`adminProviderLanes`). */
  lanes: number;
  maintenanceConnections: number;
  adminDatabase?: string;
  pooler?: PoolerHandle;
  claims: ServerClaims;
}

/**
 * The checks of {@link createServerHandle}, for a strategy to run before it
 * registers anything (its provider included).
 * @throws ValidationError for impossible connection numbers, an empty admin
 *   user or a bad pooler.
 */
export function validateServerHandleArgs(args: Omit<ServerHandleArgs, 'provider' | 'dependsOn'>): CheckedHandleArgs {
  const adminConnections = args.adminConnections ?? DEFAULT_ADMIN_MAX_CONNECTIONS;
  const maintenanceConnections = args.maintenanceConnections ?? DEFAULT_MAINTENANCE_CONNECTIONS;
  const lanes = adminProviderLanes(adminConnections, 'adminMaxConnections');
  checkInteger(maintenanceConnections, 'maintenanceConnections', 0, 1000, 'connections');
  check(typeof args.adminUser === 'string' && args.adminUser.length > 0, 'adminUser', 'is empty', 'Give the admin role the stack connects as');
  const pooler = args.pooler === undefined ? undefined : validatePoolerEndpoint(args.pooler);
  // The server's default rotation, checked once here (each instance merges its own over it).
  resolveLoginRotation(undefined, args.loginRotation, 'loginRotation');
  const adminDatabase = typeof args.adminDatabase === 'string' ? args.adminDatabase : undefined;
  const capacity = { maxConnections: args.maxConnections, reservedConnections: args.reservedConnections, adminConnections, maintenanceConnections };
  try {
    const claims = new ServerClaims(capacity, { user: args.adminUser, ...(adminDatabase !== undefined ? { database: adminDatabase } : {}) }, pooler);
    return { adminConnections, lanes, maintenanceConnections, ...(adminDatabase !== undefined ? { adminDatabase } : {}), ...(pooler ? { pooler } : {}), claims };
  } catch (e) {
    // The capacity's field names, as the strategies' args spell them.
    if (e instanceof ValidationError && e.field.startsWith('server.')) {
      throw new ValidationError(e.field.slice('server.'.length).replace('adminConnections', 'adminMaxConnections'), e.problem, e.fix);
    }
    throw e;
  }
}

/**
 * Makes a server handle with its {@link ServerClaims} registry. Every
 * strategy calls this once per server (ExternalPostgres, LocalPostgres, and
 * future RdsPostgres/Hetzner components): the handle must be created once per
 * server and shared, or two registries would each see half of what is
 * provisioned on it.
 *
 * The strategy must set its admin provider's `maxConnections` to
 * `adminConnections` (the provider opens up to 20 per database otherwise),
 * and should call {@link validateServerHandleArgs} before it registers the
 * provider, so bad numbers fail before any resource.
 *
 * @throws ValidationError for impossible connection numbers or a bad pooler.
 */
export function createServerHandle(args: ServerHandleArgs): PostgresServerHandle {
  const checked = validateServerHandleArgs(args);
  return {
    host: args.host,
    port: args.port,
    kind: args.kind,
    sslmode: args.sslmode,
    ...(args.sslrootcert !== undefined ? { sslrootcert: args.sslrootcert } : {}),
    ...(args.rootCertPem !== undefined ? { rootCertPem: args.rootCertPem } : {}),
    maxConnections: args.maxConnections,
    reservedConnections: args.reservedConnections,
    adminConnections: checked.adminConnections,
    maintenanceConnections: checked.maintenanceConnections,
    adminUser: args.adminUser,
    ...(checked.adminDatabase !== undefined ? { adminDatabase: checked.adminDatabase } : {}),
    adminIsSuperuser: args.adminIsSuperuser,
    provider: args.provider,
    ...(args.adminUrl !== undefined ? { adminUrl: pulumi.secret(args.adminUrl) } : {}),
    ...(args.loginRotation !== undefined ? { loginRotation: args.loginRotation } : {}),
    ...(checked.pooler ? { pooler: checked.pooler } : {}),
    standbys: args.standbys ?? [],
    dependsOn: args.dependsOn ?? [],
    claims: checked.claims,
    ...(args.catalog ? { catalog: args.catalog } : {}),
    lanes: new ProviderLanes(checked.lanes),
  };
}
