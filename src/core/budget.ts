/**
 * The connection budget of one server shared by many app instances (the
 * primary seed's "Connection pool sizing for multi-instance"): every
 * instance's consumers (Kratos pool + gateway pool + others) summed against
 * the server's `max_connections` minus the slots it reserves.
 *
 * Each instance's share becomes its login role's CONNECTION LIMIT, so the
 * server enforces the same budget that is checked here.
 */
import { ValidationError, check, checkInteger } from './errors';
import { PG_MAJORS_SUPPORTED, PgSettingValue, parsePgSettingValue, pgSetting } from './pg-settings';

/** One client pool that holds connections to the server. */
export interface ConnectionConsumer {
  /** What it is, for messages ("kratos", "gateway", "worker"). */
  name: string;
  /** The most connections it may open at once (its pool's max). */
  maxConnections: number;
}

/** All consumers of one app instance. */
export interface InstanceConsumers {
  /** The instance's name. */
  instance: string;
  consumers: ConnectionConsumer[];
}

/**
 * The smallest default share of the admin (the deployment's `@pulumi/postgresql`
 * provider), in connections: what a server with fewer than 50 usable
 * connections gives it (two instances provisioned at once). Larger servers
 * give more: {@link defaultAdminConnections}.
 */
export const DEFAULT_ADMIN_MAX_CONNECTIONS = 4;

/** The largest default share of the admin, in connections (eight instances provisioned at once). */
export const MAX_DEFAULT_ADMIN_CONNECTIONS = 16;

/** The admin's default share is one connection per this many the server has for roles (max_connections − reserved). */
export const ADMIN_CONNECTIONS_PER_USABLE = 10;

/**
 * The admin's default share of a server, in connections: a tenth of the
 * slots roles can use (`max_connections − reserved`), at least
 * {@link DEFAULT_ADMIN_MAX_CONNECTIONS} (4) and at most
 * {@link MAX_DEFAULT_ADMIN_CONNECTIONS} (16). The budget counts it like any
 * app pool, and `pulumi up` provisions ⌊share / 2⌋ instances at once
 * ({@link adminProviderLanes}): 100 − 3 reserved → 9 (4 instances at once),
 * 200 → 16 (8 at once).
 * Warning: on a server whose instances use the last slots, the larger share
 * can make the budget check refuse a program that fitted with 4; set
 * `adminMaxConnections` (e.g. 4) to choose the share yourself.
 * Numbers that are not whole connections give the smallest share; the
 * budget check ({@link validateCapacity}) names them.
 */
export function defaultAdminConnections(maxConnections: number, reservedConnections: number): number {
  const share = Math.floor((maxConnections - reservedConnections) / ADMIN_CONNECTIONS_PER_USABLE);
  if (!Number.isFinite(share)) return DEFAULT_ADMIN_MAX_CONNECTIONS;
  return Math.min(MAX_DEFAULT_ADMIN_CONNECTIONS, Math.max(DEFAULT_ADMIN_MAX_CONNECTIONS, share));
}

/**
 * The most connections one `@pulumi/postgresql` operation holds at once: a
 * database create, rename, owner change or drop keeps a transaction open on
 * one pooled connection (it holds `pg_advisory_xact_lock` on the admin role)
 * while it runs its statements on a second one (terraform-provider-postgresql
 * `createDatabase`, `setDBOwner`, `resourcePostgreSQLDatabaseDelete`); a
 * grant holds one transaction in the instance's database, and every read
 * (refresh) one connection. Every other operation holds one.
 */
export const CONNECTIONS_PER_PROVIDER_OPERATION = 2;

/**
 * How many instances `pulumi up` provisions at once on one server so that the
 * admin never holds more than its share: ⌊adminConnections / 2⌋ (at least
 * 1). Each instance's operations run one after another (each holds at most
 * {@link CONNECTIONS_PER_PROVIDER_OPERATION}), and an instance starts only
 * when one of this many slots is free — the program registers its first
 * resource then; nothing is recorded between instances in the state.
 * @throws ValidationError when adminConnections < 2 (no database operation fits).
 */
export function adminProviderLanes(adminConnections: number, field = 'adminMaxConnections'): number {
  checkInteger(adminConnections, field, 1, 1000, 'connections');
  check(
    adminConnections >= CONNECTIONS_PER_PROVIDER_OPERATION,
    field,
    `${adminConnections} connection is fewer than one database operation of the admin provider holds at once (${CONNECTIONS_PER_PROVIDER_OPERATION}: a transaction holding the advisory lock, and the statement)`,
    `Give at least ${CONNECTIONS_PER_PROVIDER_OPERATION} (one instance provisioned at a time), or leave it unset for the server's default share`,
  );
  return Math.max(1, Math.floor(adminConnections / CONNECTIONS_PER_PROVIDER_OPERATION));
}

/**
 * The `--parallel` that keeps what the engine runs outside the program's
 * lanes — `pulumi refresh`, the refresh of `pulumi up --refresh`, `pulumi
 * destroy` and the deletes of removed instances — inside the admin's share:
 * ⌊adminConnections / 2⌋, at least 1 (8 for a share of 16, 2 for 4). A read
 * holds one connection, a database drop two; and the provider keeps no
 * connection idle, so it opens a new one for every statement while the
 * server may still count the one it has just closed. Measured on the real
 * engine with exactly the share left to a non-superuser admin: `pulumi
 * refresh` of 100 instances at `--parallel 16` was refused slots in two runs
 * of three, at 8 never (test/e2e/engine/scale.test.ts checks 8 and 32).
 */
export function engineParallelism(adminConnections: number): number {
  return Math.max(1, Math.floor(adminConnections / CONNECTIONS_PER_PROVIDER_OPERATION));
}

/**
 * The admin provider's `maxConnections` (its pool, per database it enters):
 * the server's `max_connections`, so a provider operation never waits for a
 * pooled connection. The pool does not bound the admin's sessions (a pool is
 * per database, and every instance's grants run in the instance's own
 * database): the share does, through {@link adminProviderLanes} in `pulumi up`
 * and {@link engineParallelism} in `pulumi refresh` / `destroy`. A smaller pool can only
 * add a hang: the provider holds a transaction with an advisory lock on the
 * admin role on one pooled connection while it waits for a second one, and
 * with every pooled connection held by operations waiting on that lock it
 * waits forever (cyrilgdn/terraform-provider-postgresql #514, #98). With
 * no dependency between instances, `pulumi destroy --parallel 16` of 40
 * `allowDeletion` instances dropped nothing in 240 s with a pool of 4 (the
 * real engine); with this pool test/e2e/engine/lanes.test.ts drops them all.
 * At the server's own limit the server refuses a connection (an error)
 * before the pool could make anything wait.
 */
export function adminProviderPoolSize(maxConnections: number): number {
  return maxConnections;
}

/** Connections kept free for deploys and maintenance (psql, pg_dump, a migration run by hand). */
export const DEFAULT_MAINTENANCE_CONNECTIONS = 3;

/** What the server offers. */
export interface ServerCapacity {
  /** The server's `max_connections`. @default 100 on most managed services */
  maxConnections: number;
  /**
   * Slots app roles cannot use: `superuser_reserved_connections` (default 3)
   * + `reserved_connections` (PostgreSQL 16+, default 0) + any the provider
   * keeps for itself (RDS keeps 2 more for rdsadmin). A non-superuser admin
   * (RDS, Neon, Supabase) cannot use these slots either.
   */
  reservedConnections: number;
  /**
   * The admin's share: connections the deployment (the admin's
   * `@pulumi/postgresql` provider) may hold at once; `pulumi up` provisions
   * ⌊share / 2⌋ instances at once to stay inside it. Counted against the
   * server like any app pool. @default 0 (not counted; the components count
   * {@link defaultAdminConnections} unless told)
   */
  adminConnections?: number;
  /**
   * Headroom kept free for deploys and maintenance: a psql session, a
   * pg_dump, a migration run by hand. @default 0
   */
  maintenanceConnections?: number;
}

/** One instance's line of the budget. */
export interface InstanceShare {
  instance: string;
  /** Sum of its consumers' maxConnections. */
  connections: number;
  consumers: ConnectionConsumer[];
}

/** The budget of a server. */
export interface BudgetReport {
  maxConnections: number;
  reservedConnections: number;
  /** The admin's share (0 when not counted): `pulumi up` holds at most this many admin sessions. */
  adminConnections: number;
  /**
   * The `--parallel` to give `pulumi refresh`, `pulumi up --refresh` and
   * `pulumi destroy` on a server at its budget (they are not bounded by the
   * program's lanes): {@link engineParallelism} of the share.
   */
  adminParallel: number;
  /** Headroom for deploys and maintenance (0 when not counted). */
  maintenanceConnections: number;
  /** maxConnections − reservedConnections − adminConnections − maintenanceConnections. */
  available: number;
  /** Sum of every share: the new instances' and those already claimed on the server. */
  total: number;
  /** available − total; negative when over budget. */
  headroom: number;
  /** The shares being checked. */
  shares: InstanceShare[];
  /** Shares already claimed on the same server by other components (`component/instance`). */
  claimed: InstanceShare[];
  /** The largest equal share per new instance that fits next to the claimed ones: ⌊(available − claimed) / instances⌋. */
  perInstanceMaxThatFits: number;
}

/** PostgreSQL's ceiling of max_connections (MAX_BACKENDS, 2^18 − 1), read from the newest major's pg_settings. */
export const MAX_CONNECTIONS_LIMIT: number = pgSetting('max_connections', PG_MAJORS_SUPPORTED[PG_MAJORS_SUPPORTED.length - 1] as number)?.max as number;

/** Options of {@link capacityFromPgConfig}. */
export interface PgConfigCapacityOptions {
  /**
   * The server's PostgreSQL major: its own parser reads the values (as
   * postgresql.conf does), and `reserved_connections` counts from 16 on.
   * @default unknown: the newest supported major's parser, and
   *   `reserved_connections` counts when given
   */
  major?: number;
  /** The user's field of the map; errors name `<field>.<key>`. @default "pgConfig" */
  field?: string;
  /** `max_connections` when the map has none (evaluated only then). @default 100, PostgreSQL's own */
  defaultMaxConnections?: number | (() => number);
  /** The field the default comes from, named when it leaves no slot (e.g. `instanceClass`). @default `<field>.max_connections` */
  defaultMaxConnectionsField?: string;
  /** `superuser_reserved_connections` when the map has none. @default 3, PostgreSQL's own */
  defaultSuperuserReserved?: number;
  /** More reserved slots read from the map: key → default (RDS: `rds.rds_superuser_reserved_connections` → 2). @default {} */
  extraReserved?: Record<string, number>;
}

/** The connection numbers a `pgConfig` gives the server. */
export interface PgConfigCapacity {
  /** `max_connections`. */
  maxConnections: number;
  /** Whether max_connections came from the map (else from the default). */
  maxConnectionsFromConfig: boolean;
  /** `superuser_reserved_connections` + `reserved_connections` (16+) + the extra reserved keys. */
  reservedConnections: number;
}

/**
 * Reads the server's connection numbers from a map of postgresql.conf
 * settings, exactly as the server will: each value through the major's own
 * parser (`200`, `"200"` and `"0xC8"` are the same 200; a key pg_settings
 * does not know, such as RDS's `rds.*`, must be a whole number or its
 * decimal digits). Used by every strategy that builds the server, so the
 * budget counts what the server runs.
 * @throws ValidationError naming `<field>.<key>` for a value that is not a
 *   whole number of connections from 0 to 262143 (a formula such as
 *   `{DBInstanceClassMemory/9531392}` cannot be read before the server
 *   exists), or naming `<field>.max_connections` (or the default's field)
 *   when the reserved slots leave none.
 */
export function capacityFromPgConfig(pgConfig: Record<string, PgSettingValue>, options: PgConfigCapacityOptions = {}): PgConfigCapacity {
  const field = options.field ?? 'pgConfig';
  const newest = PG_MAJORS_SUPPORTED[PG_MAJORS_SUPPORTED.length - 1] as number;
  const read = (key: string, fallback: number): number => {
    const raw = pgConfig[key];
    if (raw === undefined) return fallback;
    const setting = pgSetting(key, options.major ?? newest);
    const parsed = setting ? parsePgSettingValue(setting, raw) : { ok: true as const, value: typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw };
    const value = parsed.ok ? parsed.value : undefined;
    check(
      typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_CONNECTIONS_LIMIT,
      `${field}.${key}`,
      `${JSON.stringify(raw)} is not a whole number of connections`,
      `Give a number from 0 to ${MAX_CONNECTIONS_LIMIT} (a formula such as {DBInstanceClassMemory/...} cannot be budgeted before the server exists)`,
    );
    return value;
  };
  const fromConfig = pgConfig['max_connections'] !== undefined;
  const fallback = options.defaultMaxConnections ?? 100;
  const maxConnections = fromConfig ? read('max_connections', 0) : typeof fallback === 'function' ? fallback() : fallback;
  const countsReserved = options.major === undefined || options.major >= 16;
  let reservedConnections = read('superuser_reserved_connections', options.defaultSuperuserReserved ?? 3) + (countsReserved ? read('reserved_connections', 0) : 0);
  for (const [key, fallbackReserved] of Object.entries(options.extraReserved ?? {})) reservedConnections += read(key, fallbackReserved);
  check(
    reservedConnections < maxConnections,
    fromConfig ? `${field}.max_connections` : options.defaultMaxConnectionsField ?? `${field}.max_connections`,
    `max_connections ${maxConnections} leaves no slot for app roles after ${reservedConnections} reserved`,
    fromConfig || !options.defaultMaxConnectionsField
      ? 'Raise max_connections or reserve fewer slots'
      : `Raise max_connections (set ${field}.max_connections, or change ${options.defaultMaxConnectionsField}) or reserve fewer slots`,
  );
  return { maxConnections, maxConnectionsFromConfig: fromConfig, reservedConnections };
}

/**
 * Checks a server's capacity numbers: each a whole number, and the reserved
 * slots, the admin provider's connections and the maintenance headroom
 * together below `max_connections`.
 * @throws ValidationError naming `<field>.<number>`.
 */
export function validateCapacity(capacity: ServerCapacity, field = 'server'): void {
  checkInteger(capacity.maxConnections, `${field}.maxConnections`, 1, MAX_CONNECTIONS_LIMIT, 'connections');
  checkInteger(capacity.reservedConnections, `${field}.reservedConnections`, 0, capacity.maxConnections - 1, 'connections');
  const admin = capacity.adminConnections ?? 0;
  const maintenance = capacity.maintenanceConnections ?? 0;
  checkInteger(admin, `${field}.adminConnections`, 0, 1000, 'connections');
  checkInteger(maintenance, `${field}.maintenanceConnections`, 0, 1000, 'connections');
  const kept = capacity.reservedConnections + admin + maintenance;
  if (kept >= capacity.maxConnections) {
    throw new ValidationError(
      `${field}.maxConnections`,
      `max_connections ${capacity.maxConnections} leaves no slot for app roles after ${capacity.reservedConnections} reserved + ${admin} for the admin (deploys) + ${maintenance} maintenance headroom`,
      'Raise max_connections, or lower reservedConnections, adminMaxConnections or maintenanceConnections',
    );
  }
}

/**
 * Computes the budget without judging it.
 * @param claimed shares other components already hold on the same server.
 * @throws ValidationError for impossible numbers.
 */
export function connectionBudget(capacity: ServerCapacity, instances: InstanceConsumers[], field = 'server', claimed: InstanceShare[] = []): BudgetReport {
  validateCapacity(capacity, field);
  const adminConnections = capacity.adminConnections ?? 0;
  const maintenanceConnections = capacity.maintenanceConnections ?? 0;
  const shares = instances.map((inst, i) => {
    inst.consumers.forEach((c, j) =>
      checkInteger(c.maxConnections, `instances[${i}].consumers[${j}].maxConnections (${inst.instance}/${c.name})`, 0, MAX_CONNECTIONS_LIMIT, 'connections'),
    );
    return {
      instance: inst.instance,
      connections: inst.consumers.reduce((sum, c) => sum + c.maxConnections, 0),
      consumers: inst.consumers,
    };
  });
  const available = capacity.maxConnections - capacity.reservedConnections - adminConnections - maintenanceConnections;
  const claimedTotal = claimed.reduce((sum, s) => sum + s.connections, 0);
  const total = claimedTotal + shares.reduce((sum, s) => sum + s.connections, 0);
  const left = Math.max(0, available - claimedTotal);
  return {
    maxConnections: capacity.maxConnections,
    reservedConnections: capacity.reservedConnections,
    adminConnections,
    adminParallel: engineParallelism(adminConnections),
    maintenanceConnections,
    available,
    total,
    headroom: available - total,
    shares,
    claimed: [...claimed],
    perInstanceMaxThatFits: instances.length === 0 ? left : Math.floor(left / instances.length),
  };
}

/** Raised when the instances' pools cannot all be open at once. */
export class ConnectionBudgetError extends ValidationError {
  readonly report: BudgetReport;
  constructor(field: string, report: BudgetReport) {
    const line = (s: InstanceShare): string => `${s.instance} ${s.connections} (${s.consumers.map((c) => `${c.name} ${c.maxConnections}`).join(' + ')})`;
    const claimedTotal = report.claimed.reduce((sum, s) => sum + s.connections, 0);
    const own = report.total - claimedTotal;
    const deductions = [
      `max_connections ${report.maxConnections}`,
      `${report.reservedConnections} reserved`,
      ...(report.adminConnections > 0 ? [`${report.adminConnections} admin (deploys: ${engineParallelism(report.adminConnections)} instances at once)`] : []),
      ...(report.maintenanceConnections > 0 ? [`${report.maintenanceConnections} maintenance headroom`] : []),
      ...(claimedTotal > 0 ? [`${claimedTotal} already claimed on this server by ${report.claimed.map((s) => `${s.instance} ${s.connections}`).join(', ')}`] : []),
    ];
    const allows = report.available - claimedTotal;
    super(
      field,
      `${report.shares.length} instance${report.shares.length === 1 ? '' : 's'} need${report.shares.length === 1 ? 's' : ''} ${own} connections but the server allows ${allows} ` +
        `(${deductions.join(' − ')}); shares: ${report.shares.map(line).join(', ')}`,
      `At most ${report.perInstanceMaxThatFits} connections per instance fit: lower the pools' max connections, ` +
        'put a transaction-mode pooler in front (PgBouncer, Supabase port 6543, Neon -pooler host), raise max_connections' +
        (report.adminConnections > DEFAULT_ADMIN_MAX_CONNECTIONS ? `, or give the admin a smaller share (adminMaxConnections: ${DEFAULT_ADMIN_MAX_CONNECTIONS} deploys 2 instances at once)` : ''),
    );
    this.name = 'ConnectionBudgetError';
    this.report = report;
  }
}

/**
 * Computes the budget and rejects it when it does not fit.
 * @throws ConnectionBudgetError listing every instance's share and the
 *   per-instance maximum that would fit.
 */
export function checkConnectionBudget(capacity: ServerCapacity, instances: InstanceConsumers[], field = 'instances', claimed: InstanceShare[] = []): BudgetReport {
  const report = connectionBudget(capacity, instances, 'server', claimed);
  if (report.headroom < 0) throw new ConnectionBudgetError(field, report);
  return report;
}
