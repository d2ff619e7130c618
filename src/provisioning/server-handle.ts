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
import { ServerKind, SslMode } from '../core/tls';
import type { ServerCatalog } from './retained';

export { ServerClaims } from '../core/plan';

import { DEFAULT_ADMIN_MAX_CONNECTIONS, DEFAULT_MAINTENANCE_CONNECTIONS, adminProviderLanes, adminProviderPoolSize, defaultAdminConnections } from '../core/budget';

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
  /**
   * The admin's share, in connections, counted in the budget: `pulumi up`
   * holds at most this many admin sessions on the server (see {@link lanes}).
   */
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
   * The instances' lanes: `pulumi up` provisions at most `lanes.count`
   * instances at once on this server, whatever `--parallel` is, without any
   * dependency between instances in the state; see {@link ProviderLanes}.
   */
  lanes: ProviderLanes;
}

/** One lane of {@link ProviderLanes}: the instances that provision in it, one after another. */
export interface ProviderLane {
  /**
   * Resolves when the instance before this one in the lane has finished:
   * the engine answered the registration of its last resource (created,
   * updated, unchanged, or failed or skipped under `--continue-on-error`).
   * Give it, resolved to the instance's own dependencies, as the `dependsOn`
   * of the instance's first resource on the server: the program registers
   * that resource only then, and the state records no dependency on the
   * other instance.
   */
  turn(): Promise<void>;
  /** Records `resource` as this instance's last: the lane's next instance starts when the engine has answered it. */
  finish(resource: pulumi.Resource): void;
}

/**
 * Bounds how many instances `pulumi up` provisions at once on one server,
 * whatever the engine's parallelism: `count` lanes (⌊adminConnections / 2⌋,
 * see `adminProviderLanes` in the core). Components take a lane in the order
 * they are constructed (round robin); each instance runs its provider
 * operations one after another (its own `dependsOn` chain), and starts when
 * the instance before it in its lane has finished ({@link ProviderLane.turn}).
 *
 * The wait is the program's, not the state's: an instance's first resource
 * is registered only when its turn comes, with no dependency on another
 * instance. So `pulumi destroy --target` and `pulumi state delete` of one
 * instance, and `--continue-on-error` with one failing instance, concern
 * that instance alone. Operations the program does not drive (`pulumi
 * refresh`, `pulumi destroy`, deleting removed instances) run at the
 * engine's `--parallel`: one connection per read, two per database delete
 * (`engineParallelism` in the core gives the `--parallel` that fits).
 * A preview takes no turns: it runs no provider operation on the server
 * (Check and Diff only), so every instance registers at once.
 *
 * Why a bound: each instance holds at most 2 admin connections at once
 * (`CONNECTIONS_PER_PROVIDER_OPERATION`), so `pulumi up` holds at most
 * `2 × count ≤ adminConnections`, the share the budget counts. The
 * provider's own pool is not the bound (it is per database the provider
 * enters); see `adminProviderPoolSize` in the core for why it is the
 * server's `max_connections`.
 */
export class ProviderLanes {
  private readonly tails: Promise<void>[];
  private taken = 0;

  constructor(readonly count: number) {
    this.tails = Array.from({ length: count }, () => Promise.resolve());
  }

  /** The next lane, round robin. */
  take(): ProviderLane {
    const index = this.taken++ % this.count;
    const turn = this.tails[index] as Promise<void>;
    return {
      turn: () => turn,
      finish: (resource) => {
        if (!pulumi.runtime.isDryRun()) this.tails[index] = answered(resource);
      },
    };
  }
}

/**
 * Resolves when the engine has answered the registration of `resource`:
 * its URN is known then, whether the resource was created, updated, left
 * unchanged, or failed or was skipped under `--continue-on-error` (the
 * engine answers those with a result, their outputs unknown). A
 * registration the engine refused ends the whole run.
 */
function answered(resource: pulumi.Resource): Promise<void> {
  return new Promise((resolve) => {
    resource.urn.apply(() => resolve());
  });
}

/** What a strategy gives {@link createServerHandle}. */
export interface ServerHandleArgs
  extends Pick<
    PostgresServerHandle,
    'host' | 'port' | 'kind' | 'sslmode' | 'sslrootcert' | 'rootCertPem' | 'maxConnections' | 'reservedConnections' | 'adminUser' | 'adminIsSuperuser' | 'provider'
  > {
  /**
   * The admin's share, in connections (the strategies' `adminMaxConnections`):
   * counted in the budget; `pulumi up` provisions ⌊share / 2⌋ instances at once.
   * @default defaultAdminConnections(maxConnections, reservedConnections): a tenth of the usable slots, 4 to 16
   */
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
  /** The admin's share (given, or the server's default). */
  adminConnections: number;
  /** The lane count (`adminProviderLanes`): instances `pulumi up` provisions at once. */
  lanes: number;
  /** What the strategy sets as its admin provider's `maxConnections` (`adminProviderPoolSize`). */
  providerPool: number;
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
  const adminConnections = args.adminConnections ?? defaultAdminConnections(args.maxConnections, args.reservedConnections);
  const maintenanceConnections = args.maintenanceConnections ?? DEFAULT_MAINTENANCE_CONNECTIONS;
  const lanes = adminProviderLanes(adminConnections, 'adminMaxConnections');
  checkInteger(maintenanceConnections, 'maintenanceConnections', 0, 1000, 'connections');
  check(typeof args.adminUser === 'string' && args.adminUser.length > 0, 'adminUser', 'is empty', 'Give the admin role the stack connects as');
  const pooler = args.pooler === undefined ? undefined : validatePoolerEndpoint(args.pooler);
  const adminDatabase = typeof args.adminDatabase === 'string' ? args.adminDatabase : undefined;
  const capacity = { maxConnections: args.maxConnections, reservedConnections: args.reservedConnections, adminConnections, maintenanceConnections };
  try {
    const claims = new ServerClaims(capacity, { user: args.adminUser, ...(adminDatabase !== undefined ? { database: adminDatabase } : {}) }, pooler);
    const providerPool = adminProviderPoolSize(args.maxConnections);
    return { adminConnections, lanes, providerPool, maintenanceConnections, ...(adminDatabase !== undefined ? { adminDatabase } : {}), ...(pooler ? { pooler } : {}), claims };
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
 * The strategy must set its admin provider's `maxConnections` to the
 * `providerPool` {@link validateServerHandleArgs} returns (the server's
 * `max_connections`: the provider then never waits for a pooled
 * connection; the share bounds the admin instead), and should call
 * {@link validateServerHandleArgs} before it registers the provider, so bad
 * numbers fail before any resource.
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
    ...(checked.pooler ? { pooler: checked.pooler } : {}),
    standbys: args.standbys ?? [],
    dependsOn: args.dependsOn ?? [],
    claims: checked.claims,
    ...(args.catalog ? { catalog: args.catalog } : {}),
    lanes: new ProviderLanes(checked.lanes),
  };
}
