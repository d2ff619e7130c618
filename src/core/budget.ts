/**
 * The connection budget of one server shared by many app instances (the
 * primary seed's "Connection pool sizing for multi-instance"): every
 * instance's consumers (Kratos pool + gateway pool + others) summed against
 * the server's `max_connections` minus the slots it reserves.
 *
 * Each instance's share becomes its login role's CONNECTION LIMIT, so the
 * server enforces the same budget that is checked here.
 */
import { ValidationError, checkInteger } from './errors';

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

/** What the server offers. */
export interface ServerCapacity {
  /** The server's `max_connections`. @default 100 on most managed services */
  maxConnections: number;
  /**
   * Slots app roles cannot use: `superuser_reserved_connections` (default 3)
   * + `reserved_connections` (PostgreSQL 16+, default 0) + any the provider
   * keeps for itself (RDS keeps 2 more for rdsadmin) + admin/monitoring headroom.
   */
  reservedConnections: number;
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
  /** maxConnections − reservedConnections. */
  available: number;
  /** Sum of every instance's share. */
  total: number;
  /** available − total; negative when over budget. */
  headroom: number;
  shares: InstanceShare[];
  /** The largest equal share per instance that fits: ⌊available / instances⌋. */
  perInstanceMaxThatFits: number;
}

/** Computes the budget without judging it. @throws ValidationError for impossible numbers. */
export function connectionBudget(capacity: ServerCapacity, instances: InstanceConsumers[], field = 'server'): BudgetReport {
  checkInteger(capacity.maxConnections, `${field}.maxConnections`, 1, 262143, 'connections');
  checkInteger(capacity.reservedConnections, `${field}.reservedConnections`, 0, capacity.maxConnections - 1, 'connections');
  const shares = instances.map((inst, i) => {
    inst.consumers.forEach((c, j) =>
      checkInteger(c.maxConnections, `instances[${i}].consumers[${j}].maxConnections (${inst.instance}/${c.name})`, 0, 262143, 'connections'),
    );
    return {
      instance: inst.instance,
      connections: inst.consumers.reduce((sum, c) => sum + c.maxConnections, 0),
      consumers: inst.consumers,
    };
  });
  const available = capacity.maxConnections - capacity.reservedConnections;
  const total = shares.reduce((sum, s) => sum + s.connections, 0);
  return {
    maxConnections: capacity.maxConnections,
    reservedConnections: capacity.reservedConnections,
    available,
    total,
    headroom: available - total,
    shares,
    perInstanceMaxThatFits: instances.length === 0 ? available : Math.floor(available / instances.length),
  };
}

/** Raised when the instances' pools cannot all be open at once. */
export class ConnectionBudgetError extends ValidationError {
  readonly report: BudgetReport;
  constructor(field: string, report: BudgetReport) {
    const lines = report.shares.map(
      (s) => `${s.instance} ${s.connections} (${s.consumers.map((c) => `${c.name} ${c.maxConnections}`).join(' + ')})`,
    );
    super(
      field,
      `${report.shares.length} instance${report.shares.length === 1 ? '' : 's'} need${report.shares.length === 1 ? 's' : ''} ${report.total} connections but the server allows ${report.available} ` +
        `(max_connections ${report.maxConnections} − ${report.reservedConnections} reserved); shares: ${lines.join(', ')}`,
      `At most ${report.perInstanceMaxThatFits} connections per instance fit: lower the pools' max connections, ` +
        'put a transaction-mode pooler in front (PgBouncer, Supabase port 6543, Neon -pooler host), or raise max_connections',
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
export function checkConnectionBudget(capacity: ServerCapacity, instances: InstanceConsumers[], field = 'instances'): BudgetReport {
  const report = connectionBudget(capacity, instances);
  if (report.headroom < 0) throw new ConnectionBudgetError(field, report);
  return report;
}
