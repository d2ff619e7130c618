/**
 * The plan for app instances on one server: for each instance an owner role,
 * its database, PUBLIC's CONNECT and TEMPORARY revoked on it, a per-role
 * connection limit, and optionally seed 004's least-privilege shape.
 *
 * Why the PUBLIC revoke: PostgreSQL grants CONNECT and TEMPORARY on every new
 * database to PUBLIC, so the primary seed's Strategy 3 as written lets role
 * `vw_blog` log into database `vw_admin`. Only `REVOKE ALL ON DATABASE … FROM
 * PUBLIC` stops it (provider-facts.md; verified by the integration tests).
 *
 * The plan is data. The SQL renderer (`render-sql.ts`) and the Pulumi
 * components translate it, and nothing else decides names, limits or grants.
 */
import { ConnectionConsumer, InstanceConsumers, InstanceShare, ServerCapacity, checkConnectionBudget, BudgetReport, validateCapacity } from './budget';
import { DEFAULT_GATEWAY_POOL, DEFAULT_KRATOS_POOL, GatewayPool, KratosPool, PoolerMode, validateGatewayPool, validateKratosPool } from './dsn';
import { ValidationError, check, checkInteger } from './errors';
import { IdentifierKind, validateIdentifier } from './identifiers';

/** How an instance's roles are shaped. */
export enum RoleShape {
  /**
   * One login role owns the database (the primary seed's Strategy 3 with the
   * PUBLIC revoke). The app, its migrations and Kratos all use it.
   */
  Owner = 'owner',
  /**
   * Seed 004's three roles: `<db>_owner` (NOLOGIN) owns the database and its
   * objects; `<db>` (LOGIN) may read and write rows; `<db>_ro` (LOGIN) may only
   * read. Schema changes run as the owner (`SET ROLE <db>_owner` from an
   * admin), so Kratos, which migrates its own tables, needs {@link Owner}.
   */
  LeastPrivilege = 'least-privilege',
}

/** What a role is for. */
export enum RolePurpose {
  /** Owns the database. */
  Owner = 'owner',
  /** The role the application logs in as. */
  App = 'app',
  /** Read-only login (reports, backups). */
  ReadOnly = 'read-only',
}

/** One app instance on a shared server, as the user describes it. */
export interface InstanceSpec {
  /**
   * The instance's name, e.g. `"blog"`: lower-case letters, digits, `_` and
   * `-`, starting with a letter, at most 40 characters. Names the outputs and
   * the Pulumi resources.
   */
  name: string;
  /**
   * The database name (the login role is named like it).
   * @default `<namePrefix><name>` with `-` as `_` (e.g. `vw_blog`)
   * Warning: changing it (or `namePrefix`, or `name` when this is unset)
   * renames the database and its roles **in place** on the next `pulumi up`
   * (`ALTER DATABASE … RENAME`, `ALTER ROLE … RENAME`; verified on the real
   * engine): the data stays, every URL output changes, and the rename fails
   * while sessions are open on the database. See docs/reference.md, "Renames".
   */
  database?: string;
  /**
   * Names this instance had before (former values of `name`). Its Pulumi
   * resources then move to the new name (Pulumi `aliases`) instead of being
   * created anew next to the old ones: the database and roles are renamed in
   * place with their data and passwords. Without it, a changed `name` creates
   * a new, empty database and the old one leaves the stack (retained on the
   * server unless `allowDeletion`). Each a valid instance name other than
   * `name` and other instances' names. Harmless to keep after the rename.
   * @default []
   */
  previousNames?: string[];
  /** How the roles are shaped. @default RoleShape.Owner */
  shape?: RoleShape;
  /** The gateway's pool (primary seed `database.pool`). @default { maxConns: 10, minConns: 2 } */
  gatewayPool?: GatewayPool;
  /** Kratos' pool (its DSN's max_conns / max_idle_conns). @default { maxConns: 10, maxIdleConns: 2 } */
  kratosPool?: KratosPool;
  /** Other clients of this database (workers, cron jobs), counted in the budget. @default [] */
  extraConsumers?: ConnectionConsumer[];
  /** Connections the read-only role may hold (least-privilege shape only). @default 2 */
  readOnlyConnections?: number;
}

/** A role the plan creates. */
export interface RolePlan {
  name: string;
  purpose: RolePurpose;
  login: boolean;
  /** CONNECTION LIMIT; -1 means none (for NOLOGIN roles). */
  connectionLimit: number;
}

/** Database-level privileges a role ends up with (PUBLIC: none). */
export interface DatabaseGrantPlan {
  /** A role name, or `PUBLIC`. */
  role: string;
  /** Exactly these privileges; `[]` revokes all. */
  privileges: Array<'CONNECT' | 'TEMPORARY' | 'CREATE'>;
}

/** Kinds of schema objects a grant covers. */
export enum SchemaObjectType {
  Schema = 'schema',
  Table = 'table',
  Sequence = 'sequence',
}

/**
 * A grant inside the database (least-privilege shape). With `defaults`, the
 * same privileges also apply to objects the owner creates later (ALTER
 * DEFAULT PRIVILEGES FOR ROLE owner).
 */
export interface SchemaGrantPlan {
  schema: string;
  /** A role name, or `PUBLIC`. */
  role: string;
  objectType: SchemaObjectType;
  privileges: string[];
  defaults: boolean;
}

/** Everything one instance gets on the server. */
export interface InstancePlan {
  instance: string;
  database: string;
  shape: RoleShape;
  /** The database owner. */
  owner: RolePlan;
  /** The role the app and Kratos log in as (the owner in {@link RoleShape.Owner}). */
  login: RolePlan;
  /** The read-only role (least-privilege shape). */
  readOnly?: RolePlan;
  /** Roles to create, in order (owner first). */
  roles: RolePlan[];
  databaseGrants: DatabaseGrantPlan[];
  schemaGrants: SchemaGrantPlan[];
  gatewayPool: GatewayPool;
  kratosPool: KratosPool;
  /** Everything that connects, for the budget. */
  consumers: ConnectionConsumer[];
  /** Former instance names (see {@link InstanceSpec.previousNames}); absent when none. */
  previousNames?: string[];
}

/** The plan of a whole server. */
export interface ServerPlan {
  instances: InstancePlan[];
  budget: BudgetReport;
}

const INSTANCE_NAME = /^[a-z][a-z0-9_-]{0,39}$/;
export const DEFAULT_READ_ONLY_CONNECTIONS = 2;

/** Validates an instance name. @throws ValidationError */
export function validateInstanceName(name: string, field: string): void {
  check(
    typeof name === 'string' && INSTANCE_NAME.test(name),
    field,
    `"${String(name)}" is not a valid instance name`,
    'Use 1–40 lower-case letters, digits, "_" or "-", starting with a letter (e.g. "blog")',
  );
}

/**
 * Plans one instance.
 * @param namePrefix prefix of the default database name (e.g. `"vw_"`).
 * @throws ValidationError for a bad name, pool or connection count.
 */
export function planInstance(spec: InstanceSpec, namePrefix = '', field = 'instance'): InstancePlan {
  validateInstanceName(spec.name, `${field}.name`);
  const previousNames = spec.previousNames ?? [];
  check(Array.isArray(previousNames), `${field}.previousNames`, 'is not a list of names', 'Give the former names as a list, e.g. ["blog"]');
  previousNames.forEach((n, i) => {
    validateInstanceName(n, `${field}.previousNames[${i}]`);
    check(n !== spec.name, `${field}.previousNames[${i}]`, `"${n}" is the instance's current name`, 'List only names the instance had before');
    check(previousNames.indexOf(n) === i, `${field}.previousNames[${i}]`, `"${n}" is listed twice`, 'List each former name once');
  });
  const former = previousNames.length > 0 ? { previousNames: [...previousNames] } : {};
  const database = validateIdentifier(
    spec.database ?? `${namePrefix}${spec.name.replace(/-/g, '_')}`,
    IdentifierKind.Database,
    spec.database === undefined ? `${field}.name (with namePrefix "${namePrefix}")` : `${field}.database`,
  );
  const shape = spec.shape ?? RoleShape.Owner;
  check(
    Object.values(RoleShape).includes(shape),
    `${field}.shape`,
    `"${String(shape)}" is not a role shape`,
    `Use one of: ${Object.values(RoleShape).join(', ')}`,
  );
  const gatewayPool = spec.gatewayPool ?? { ...DEFAULT_GATEWAY_POOL };
  const kratosPool = spec.kratosPool ?? { ...DEFAULT_KRATOS_POOL };
  validateGatewayPool(gatewayPool, `${field}.gatewayPool`);
  validateKratosPool(kratosPool, `${field}.kratosPool`);
  const extra = spec.extraConsumers ?? [];
  extra.forEach((c, i) => {
    check(typeof c.name === 'string' && c.name.length > 0, `${field}.extraConsumers[${i}].name`, 'is empty', 'Name the consumer');
    checkInteger(c.maxConnections, `${field}.extraConsumers[${i}].maxConnections`, 1, 10000, 'connections');
  });
  const appConsumers: ConnectionConsumer[] = [
    { name: 'kratos', maxConnections: kratosPool.maxConns },
    { name: 'gateway', maxConnections: gatewayPool.maxConns },
    ...extra,
  ];
  const appConnections = appConsumers.reduce((s, c) => s + c.maxConnections, 0);
  const roleName = (suffix: string): string =>
    validateIdentifier(`${database}${suffix}`, IdentifierKind.Role, `${field}.database (role "${database}${suffix}")`);

  if (shape === RoleShape.Owner) {
    const owner: RolePlan = { name: roleName(''), purpose: RolePurpose.Owner, login: true, connectionLimit: appConnections };
    return {
      ...former,
      instance: spec.name,
      database,
      shape,
      owner,
      login: owner,
      roles: [owner],
      databaseGrants: [{ role: 'PUBLIC', privileges: [] }],
      schemaGrants: [],
      gatewayPool,
      kratosPool,
      consumers: appConsumers,
    };
  }

  const readOnlyConnections = spec.readOnlyConnections ?? DEFAULT_READ_ONLY_CONNECTIONS;
  checkInteger(readOnlyConnections, `${field}.readOnlyConnections`, 1, 10000, 'connections');
  const owner: RolePlan = { name: roleName('_owner'), purpose: RolePurpose.Owner, login: false, connectionLimit: -1 };
  const app: RolePlan = { name: roleName(''), purpose: RolePurpose.App, login: true, connectionLimit: appConnections };
  const readOnly: RolePlan = { name: roleName('_ro'), purpose: RolePurpose.ReadOnly, login: true, connectionLimit: readOnlyConnections };
  const schema = 'public';
  const tableRw = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];
  return {
    ...former,
    instance: spec.name,
    database,
    shape,
    owner,
    login: app,
    readOnly,
    roles: [owner, app, readOnly],
    databaseGrants: [
      { role: 'PUBLIC', privileges: [] },
      { role: app.name, privileges: ['CONNECT', 'TEMPORARY'] },
      { role: readOnly.name, privileges: ['CONNECT'] },
    ],
    schemaGrants: [
      { schema, role: 'PUBLIC', objectType: SchemaObjectType.Schema, privileges: ['USAGE'], defaults: false },
      // Before PostgreSQL 15 schema public belongs to the bootstrap superuser, so the owner
      // (who runs migrations) needs CREATE on it explicitly; on 15+ it has it as pg_database_owner.
      // After PUBLIC's line: a check of the owner's effective CREATE must not count PUBLIC's.
      { schema, role: owner.name, objectType: SchemaObjectType.Schema, privileges: ['USAGE', 'CREATE'], defaults: false },
      { schema, role: app.name, objectType: SchemaObjectType.Schema, privileges: ['USAGE'], defaults: false },
      { schema, role: readOnly.name, objectType: SchemaObjectType.Schema, privileges: ['USAGE'], defaults: false },
      { schema, role: app.name, objectType: SchemaObjectType.Table, privileges: tableRw, defaults: true },
      { schema, role: app.name, objectType: SchemaObjectType.Sequence, privileges: ['SELECT', 'USAGE'], defaults: true },
      { schema, role: readOnly.name, objectType: SchemaObjectType.Table, privileges: ['SELECT'], defaults: true },
      { schema, role: readOnly.name, objectType: SchemaObjectType.Sequence, privileges: ['SELECT'], defaults: true },
    ],
    gatewayPool,
    kratosPool,
    consumers: [...appConsumers, { name: 'read-only', maxConnections: readOnlyConnections }],
  };
}

/**
 * The grants of schema public repeated in another schema, for the roles that
 * use the owner's objects: every grant in `grants` that also sets the
 * owner's default privileges (`defaults`) and goes to a role other than
 * PUBLIC and `owner`, with `schema` in place of its own, and USAGE on
 * `schema` for each such role. For a least-privilege plan's `schemaGrants`
 * that is what the shape gives its app and read-only roles in public: USAGE,
 * the table and sequence privileges and their default privileges (nothing
 * for PUBLIC, and nothing for the owner, who owns the schema). `migrate`
 * grants these in each schema it restores outside public (see
 * src/migrate), where the owner's default privileges in public do not reach.
 * @returns the grants, schema USAGE first; `[]` when no grant sets defaults (the owner shape).
 */
export function grantsLikePublic(grants: readonly SchemaGrantPlan[], schema: string, owner: string): SchemaGrantPlan[] {
  const objects = grants.filter((g) => g.defaults && g.objectType !== SchemaObjectType.Schema && g.role !== 'PUBLIC' && g.role !== owner);
  const roles = [...new Set(objects.map((g) => g.role))];
  return [
    ...roles.map((role) => ({ schema, role, objectType: SchemaObjectType.Schema, privileges: ['USAGE'], defaults: false })),
    ...objects.map((g) => ({ ...g, schema, privileges: [...g.privileges] })),
  ];
}

/** Options of a server-wide plan. */
export interface ServerPlanOptions {
  /** Prefix of default database names. @default "" */
  namePrefix?: string;
  /** The admin role, which no instance role may be named after. */
  adminUser?: string;
  /** The database the admin connects to, which no instance may take. */
  adminDatabase?: string;
}

/** Database names no instance may take: the templates and the default maintenance database. */
export const SYSTEM_DATABASES: readonly string[] = ['postgres', 'template0', 'template1'];

/**
 * Refuses an instance that would take the admin's own role or database (or a
 * system database): its owner role would become the admin, or
 * `allowDeletion` could drop the database the provider connects to.
 * @throws ValidationError naming `<field>.database` or `<field>.name`.
 */
export function checkAdminIdentity(plan: InstancePlan, admin: { user?: string; database?: string }, field: string): void {
  const databaseField = `${field}.database`;
  for (const r of plan.roles) {
    if (admin.user !== undefined && r.name === admin.user) {
      throw new ValidationError(databaseField, `role "${r.name}" would be the admin role itself`, 'Give the instance another database name, or connect as another admin');
    }
  }
  if (admin.database !== undefined && plan.database === admin.database) {
    throw new ValidationError(
      databaseField,
      `database "${plan.database}" is the admin's own database (adminDatabase), which the admin provider connects to`,
      'Give the instance another database name (set `database` or namePrefix), or connect the admin to another database',
    );
  }
  if (SYSTEM_DATABASES.includes(plan.database)) {
    throw new ValidationError(databaseField, `database "${plan.database}" is a system database`, 'Give the instance another database name');
  }
}

/**
 * Plans every instance of one component and checks names across them (not
 * the budget): duplicate instance, database or role names, and the admin's
 * own role and database.
 * @throws ValidationError naming the user's field.
 */
export function planInstances(specs: InstanceSpec[], options: ServerPlanOptions = {}): InstancePlan[] {
  check(Array.isArray(specs) && specs.length > 0, 'instances', 'no instance is given', 'Give at least one instance');
  const prefix = options.namePrefix ?? '';
  check(
    /^([a-z_][a-z0-9_]*)?$/.test(prefix),
    'namePrefix',
    `"${prefix}" cannot start a database name`,
    'Use lower-case letters, digits and "_", starting with a letter or "_" (e.g. "vw_")',
  );
  const instances = specs.map((s, i) => planInstance(s, prefix, `instances[${i}]`));
  const seen = new Map<string, string>();
  const claim = (kind: string, name: string, owner: string, field: string): void => {
    const previous = seen.get(`${kind}:${name}`);
    if (previous !== undefined) {
      throw new ValidationError(field, `${kind} "${name}" is used by both ${previous} and ${owner}`, `Give each instance its own ${kind} name`);
    }
    seen.set(`${kind}:${name}`, owner);
  };
  instances.forEach((p, i) => {
    claim('instance', p.instance, `instances[${i}]`, `instances[${i}].name`);
    (p.previousNames ?? []).forEach((n, j) => claim('instance', n, `instances[${i}] (a previous name)`, `instances[${i}].previousNames[${j}]`));
    claim('database', p.database, `instance "${p.instance}"`, `instances[${i}].database`);
    for (const r of p.roles) claim('role', r.name, `instance "${p.instance}"`, `instances[${i}].database`);
    checkAdminIdentity(p, { user: options.adminUser, database: options.adminDatabase }, `instances[${i}]`);
  });
  return instances;
}

/**
 * Plans every instance of a shared server and checks the connection budget.
 * @throws ValidationError for a bad instance, duplicate instance/database/role
 *   names, or a role named like the admin; ConnectionBudgetError when the
 *   pools cannot all be open at once.
 */
export function planServer(specs: InstanceSpec[], capacity: ServerCapacity, options: ServerPlanOptions = {}): ServerPlan {
  const instances = planInstances(specs, options);
  const consumers: InstanceConsumers[] = instances.map((p) => ({ instance: p.instance, consumers: p.consumers }));
  const budget = checkConnectionBudget(capacity, consumers);
  return { instances, budget };
}

/** The client endpoint's pooler, as far as the budget is concerned. */
export interface PoolerBudget {
  mode: PoolerMode;
  /** Server connections the pooler opens per (role, database) pair. */
  serverPoolSize?: number;
}

/** Consumers that connect through the pooler when there is one (the others use the direct endpoint). */
export const POOLED_CONSUMERS: readonly string[] = ['kratos', 'gateway'];

/**
 * What an instance's clients really open on the server. Without a pooler, or
 * behind a session pooler (one server connection per client connection), the
 * clients' own pools. Behind a transaction pooler with a known
 * `serverPoolSize`, Kratos' and the gateway's pools are replaced by the
 * pooler's server connections for the instance's login role: at most
 * `min(serverPoolSize, their pools)`. Extra consumers and the read-only role
 * are counted as direct clients.
 */
export function serverConsumers(plan: InstancePlan, pooler?: PoolerBudget): ConnectionConsumer[] {
  if (!pooler || pooler.mode !== PoolerMode.Transaction || pooler.serverPoolSize === undefined) return plan.consumers;
  const pooled = plan.consumers.filter((c) => POOLED_CONSUMERS.includes(c.name));
  const direct = plan.consumers.filter((c) => !POOLED_CONSUMERS.includes(c.name));
  const clients = pooled.reduce((sum, c) => sum + c.maxConnections, 0);
  return [{ name: 'pooler', maxConnections: Math.min(pooler.serverPoolSize, clients) }, ...direct];
}

/** Who claimed a name on a server. */
interface NameClaim {
  component: string;
  instance: string;
}

/**
 * Everything provisioned on one server, across components: the instances'
 * budget shares, their database and role names, and the admin's own role and
 * database. Each strategy creates one per server handle (through
 * `createServerHandle`), and every `SharedPostgres` / `InstanceDatabase` on
 * the handle claims its instances here before it registers any resource, so
 * two components on one server are checked together.
 *
 * Claims live as long as the program: they are checked within one
 * `pulumi up`/`preview`, not against what earlier runs created.
 */
export class ServerClaims {
  private readonly shares: InstanceShare[] = [];
  private readonly databases = new Map<string, NameClaim>();
  private readonly roles = new Map<string, NameClaim>();
  private readonly components = new Set<string>();

  constructor(
    /** The server's numbers, with the admin provider's connections and the maintenance headroom. */
    readonly capacity: ServerCapacity,
    /** The admin's role and (when known as a plain value) the database it connects to. */
    readonly admin: { user: string; database?: string },
    /** The client endpoint's pooler, if any. */
    readonly pooler?: PoolerBudget,
  ) {
    validateCapacity(capacity, 'server');
  }

  /** Shares claimed so far, as `component/instance`. */
  get claimed(): readonly InstanceShare[] {
    return this.shares;
  }

  /** The current budget of the server with nothing new added. */
  report(): BudgetReport {
    return checkConnectionBudget(this.capacity, [], 'instances', this.shares);
  }

  /**
   * Checks `plans` of component `component` against everything already
   * claimed, without recording them.
   * @param fields the user's field of each plan (e.g. `instances[0]`, `instance`).
   * @throws ValidationError when a database or role is claimed already or is
   *   the admin's own; ConnectionBudgetError when the server cannot hold
   *   every claimed share plus these.
   */
  check(component: string, plans: InstancePlan[], fields: string[] = plans.map((_, i) => `instances[${i}]`), budgetField = 'instances'): BudgetReport {
    check(!this.components.has(component), 'name', `a component named "${component}" already provisions on this server`, 'Give each component its own name');
    plans.forEach((p, i) => {
      const field = fields[i] ?? `instances[${i}]`;
      checkAdminIdentity(p, this.admin, field);
      const taken = (kind: string, name: string, by: NameClaim | undefined): void => {
        if (by) {
          throw new ValidationError(
            `${field}.database`,
            `${kind} "${name}" is already claimed on this server by ${by.component} (instance "${by.instance}")`,
            `Give instance "${p.instance}" another database name (set \`database\` or another namePrefix): two components may not manage the same ${kind}`,
          );
        }
      };
      taken('database', p.database, this.databases.get(p.database));
      for (const r of p.roles) taken('role', r.name, this.roles.get(r.name));
    });
    const consumers: InstanceConsumers[] = plans.map((p) => ({ instance: `${component}/${p.instance}`, consumers: serverConsumers(p, this.pooler) }));
    return checkConnectionBudget(this.capacity, consumers, budgetField, this.shares);
  }

  /**
   * {@link check}, then records the plans: later components on the same
   * server see them. Nothing is recorded when a check fails.
   */
  claim(component: string, plans: InstancePlan[], fields?: string[], budgetField?: string): BudgetReport {
    const report = this.check(component, plans, fields, budgetField);
    this.components.add(component);
    for (const p of plans) {
      this.databases.set(p.database, { component, instance: p.instance });
      for (const r of p.roles) this.roles.set(r.name, { component, instance: p.instance });
    }
    this.shares.push(...report.shares);
    return report;
  }
}
