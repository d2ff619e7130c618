/**
 * `SharedPostgres`: one server, many app instances, one database each (the
 * primary seed's Strategy 3) — with the connection budget checked before
 * any resource is created and PUBLIC's CONNECT revoked on every database, so
 * no instance can reach another's data.
 */
import * as pulumi from '@pulumi/pulumi';
import { BudgetReport } from '../core/budget';
import { GatewayEnv } from '../core/gateway';
import { ValidationError } from '../core/errors';
import { InstanceSpec, planInstances } from '../core/plan';
import { CLAIMED_PLAN, InstanceDatabase, InstanceDatabaseArgs } from './instance-database';
import { bootstrapSqlOutput } from './logins';
import { PostgresServerHandle } from './server-handle';

/** Arguments of {@link SharedPostgres}. */
export interface SharedPostgresArgs {
  /** The server all instances share (from any strategy). */
  server: PostgresServerHandle;
  /** The app instances; each gets its own database and login role. */
  instances: InstanceSpec[];
  /**
   * Prefix of default database names, e.g. `"vw_"` gives `vw_blog`. @default ""
   * Warning: changing it renames every instance's database and roles in place
   * (`ALTER … RENAME`) on the next `pulumi up`; see {@link InstanceDatabase}.
   */
  namePrefix?: string;
  /**
   * Let `pulumi destroy` (or removing an instance) drop databases and roles
   * (grants go with the database). By default every resource on the server
   * is retained on delete
   * (see {@link InstanceDatabase}). Warning: with `true`, removing an
   * instance drops its database and data. @default false
   */
  allowDeletion?: boolean;
  /**
   * Take over each instance's database and roles of the same names that already exist on
   * the server — left by an earlier stack's `pulumi destroy` (retained on
   * delete) or made by hand — instead of creating them: the roles and the
   * database are imported (the `import` resource option, with their names as
   * IDs), keeping the data, the owner and the roles' current passwords
   * (`ignoreChanges: ["password"]` while set). A preview without it names any
   * that exist. Afterwards set it back to false and run `pulumi up` again:
   * that gives the roles this stack's generated passwords, which the URL
   * outputs carry (until then they do not work). Import fails when a role or
   * a database does not exist. @default false
   */
  adopt?: boolean;
  /** Length of generated passwords, in characters. @default 32 */
  passwordLength?: number;
  /** libpq `connect_timeout` of the clients, in seconds. @default 10 */
  connectTimeoutSeconds?: number;
}

/** Keys that runtimes and test tools probe on any object; never an instance name. */
const PROBED_KEYS = new Set(['then', 'constructor', 'toJSON', 'asymmetricMatch', 'nodeType', 'tagName', 'inspect']);

/**
 * `instances` as a record whose unknown keys throw a ValidationError naming
 * the instances that exist (instead of handing back `undefined`, which fails
 * later as a bare TypeError).
 */
function strictInstances(component: string, record: Record<string, InstanceDatabase>): Record<string, InstanceDatabase> {
  return new Proxy(record, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || key in target || key in Object.prototype || PROBED_KEYS.has(key) || key.startsWith('$$') || key.startsWith('@@')) {
        return Reflect.get(target, key, receiver);
      }
      throw new ValidationError(
        `instances["${key}"]`,
        `SharedPostgres "${component}" has no instance "${key}"`,
        `Use one of: ${Object.keys(target).join(', ')}`,
      );
    },
  });
}

/**
 * N app instances on one server.
 *
 * Before anything is created it plans every instance, rejects duplicate
 * database or role names, and claims the instances on the server handle: the
 * budget is checked across everything provisioned on the same handle (other
 * `SharedPostgres` and `InstanceDatabase` components too), and no database
 * or role may be another component's or the admin's own. The sum of every
 * instance's pools (Kratos + gateway + extra consumers; behind a transaction
 * pooler with a known `serverPoolSize`, the pooler's server connections
 * instead) must fit the server's `max_connections` minus its reserved slots,
 * the admin's share (`adminMaxConnections`, by default a tenth of the usable
 * slots, 4 to 16) and the maintenance headroom; otherwise a
 * `ConnectionBudgetError` lists each instance's share, what is already
 * claimed, and the per-instance maximum that would fit. Each instance's
 * pools become its login role's CONNECTION LIMIT, so the server enforces the
 * budget too.
 *
 * What depends on what: inside an instance, every operation on the server
 * depends on the one before it (role, the admin's membership, database,
 * grants: one chain). Between instances the state records nothing, so
 * `pulumi destroy --target`, `pulumi state delete` and `--continue-on-error`
 * concern one instance alone. What bounds the admin's connections is a wait
 * in the program, not a dependency: `pulumi up` provisions at most
 * ⌊adminMaxConnections / 2⌋ instances at once (the handle's lanes, taken
 * round robin in the order of `instances`; an instance's first resource is
 * registered when the instance before it in its lane has finished, failed
 * or been skipped). `pulumi refresh` and `destroy` are not driven by the
 * program: they run at the engine's `--parallel` (one admin connection per
 * read, two per database dropped under `allowDeletion`), so on a server at
 * its budget give them `--parallel` {@link BudgetReport.adminParallel}
 * (`budget.adminParallel`: ⌊share / 2⌋).
 * Renames: see {@link InstanceDatabase} (a changed `namePrefix` renames in
 * place; a changed instance name creates a new database).
 *
 * @example
 * ```ts
 * const shared = new SharedPostgres('shared', {
 *   server: external.handle,
 *   namePrefix: 'vw_',
 *   instances: [{ name: 'blog' }, { name: 'admin' }, { name: 'api' }],
 * });
 * export const blogDsn = shared.instances['blog'].kratosDsn;
 * ```
 * @throws ValidationError (or ConnectionBudgetError) before any resource.
 */
export class SharedPostgres extends pulumi.ComponentResource {
  /** The connection budget that was checked (with what other components on the server had claimed). */
  public readonly budget: BudgetReport;
  /**
   * Each instance's database component, by instance name. An unknown name
   * throws a ValidationError listing the instances that exist.
   */
  public readonly instances: Record<string, InstanceDatabase>;
  /** libpq URL per instance, direct endpoint (secret). */
  public readonly urls: pulumi.Output<Record<string, string>>;
  /** libpq URL per instance through the pooler, when the server has one, else direct (secret). */
  public readonly pooledUrls: pulumi.Output<Record<string, string>>;
  /** Kratos DSN (`kratos serve`) per instance, through the pooler when there is one (secret). */
  public readonly kratosDsns: pulumi.Output<Record<string, string>>;
  /** Kratos DSN for `kratos migrate` per instance, direct (secret). */
  public readonly kratosMigrateDsns: pulumi.Output<Record<string, string>>;
  /** pgx URL with the gateway's pool per instance, through the pooler when there is one (secret). */
  public readonly pgxUrls: pulumi.Output<Record<string, string>>;
  /** The auth gateway's env map (`VIBEWARDEN_DATABASE_*`) per instance (secret). */
  public readonly gatewayEnvs: pulumi.Output<Record<string, GatewayEnv>>;
  /** One idempotent psql script for the whole server (secret: it holds SCRAM verifiers). */
  public readonly bootstrapSql: pulumi.Output<string>;

  constructor(name: string, args: SharedPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    const server = args.server;
    const plans = planInstances(args.instances, { namePrefix: args.namePrefix ?? '', adminUser: server.adminUser, adminDatabase: server.adminDatabase });
    const budget = server.claims.claim(name, plans);
    super('postgres-strategies:index:SharedPostgres', name, {}, opts);
    this.budget = budget;
    const instances: Record<string, InstanceDatabase> = {};
    args.instances.forEach((spec, i) => {
      const childArgs: InstanceDatabaseArgs & { [CLAIMED_PLAN]: unknown } = {
        server,
        instance: spec,
        namePrefix: args.namePrefix,
        allowDeletion: args.allowDeletion,
        adopt: args.adopt,
        passwordLength: args.passwordLength,
        connectTimeoutSeconds: args.connectTimeoutSeconds,
        [CLAIMED_PLAN]: plans[i],
      };
      // Former names: the component and its children (named `<component>-…`) move instead of being created anew.
      const aliases = (plans[i]?.previousNames ?? []).map((former) => ({ name: `${name}-${former}` }));
      instances[spec.name] = new InstanceDatabase(`${name}-${spec.name}`, childArgs, { parent: this, ...(aliases.length > 0 ? { aliases } : {}) });
    });
    this.instances = strictInstances(name, instances);
    const byName = <T>(pick: (d: InstanceDatabase) => pulumi.Output<T>): pulumi.Output<Record<string, T>> => {
      const names = Object.keys(instances);
      return pulumi.secret(
        pulumi.all(names.map((n) => pick(instances[n] as InstanceDatabase))).apply((values) => Object.fromEntries(names.map((n, i) => [n, values[i] as T]))),
      ) as pulumi.Output<Record<string, T>>;
    };
    this.urls = byName((d) => d.url);
    this.pooledUrls = byName((d) => d.pooledUrl);
    this.kratosDsns = byName((d) => d.kratosDsn);
    this.kratosMigrateDsns = byName((d) => d.kratosMigrateDsn);
    this.pgxUrls = byName((d) => d.pgxUrl);
    this.gatewayEnvs = byName((d) => d.env.gateway);
    const databases = Object.values(instances);
    this.bootstrapSql = bootstrapSqlOutput(
      databases.map((d) => d.plan),
      new Map(databases.flatMap((d) => [...d.verifiers])),
    );
    // Nothing goes into the state (the maps are this object's properties; export the ones you need):
    // six maps of N secrets each slowed every checkpoint write of `pulumi up` (see InstanceDatabase).
    this.registerOutputs({});
  }
}
