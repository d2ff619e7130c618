/**
 * `SharedPostgres`: one server, many app instances, one database each (the
 * primary seed's Strategy 3) — with the connection budget checked before
 * any resource is created and PUBLIC's CONNECT revoked on every database, so
 * no instance can reach another's data.
 */
import * as pulumi from '@pulumi/pulumi';
import { BudgetReport } from '../core/budget';
import { InstanceSpec, planServer } from '../core/plan';
import { InstanceDatabase } from './instance-database';
import { bootstrapSqlOutput } from './logins';
import { PostgresServerHandle } from './server-handle';

/** Arguments of {@link SharedPostgres}. */
export interface SharedPostgresArgs {
  /** The server all instances share (from any strategy). */
  server: PostgresServerHandle;
  /** The app instances; each gets its own database and login role. */
  instances: InstanceSpec[];
  /** Prefix of default database names, e.g. `"vw_"` gives `vw_blog`. @default "" */
  namePrefix?: string;
  /**
   * Let `pulumi destroy` (or removing an instance) drop databases and owner
   * roles. By default they are retained on delete. @default false
   */
  allowDeletion?: boolean;
  /** Length of generated passwords, in characters. @default 32 */
  passwordLength?: number;
  /** libpq `connect_timeout` of the clients, in seconds. @default 10 */
  connectTimeoutSeconds?: number;
}

/**
 * N app instances on one server.
 *
 * Before anything is created it plans every instance, rejects duplicate
 * database or role names, and checks the connection budget: the sum of every
 * instance's pools (Kratos + gateway + extra consumers) must fit the server's
 * `max_connections` minus its reserved slots; otherwise a
 * `ConnectionBudgetError` lists each instance's share and the per-instance
 * maximum that would fit. Each instance's share becomes its login role's
 * CONNECTION LIMIT, so the server enforces the budget too.
 *
 * Instances provision in parallel: nothing in one instance waits for another.
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
 */
export class SharedPostgres extends pulumi.ComponentResource {
  /** The connection budget that was checked. */
  public readonly budget: BudgetReport;
  /** Each instance's database component, by instance name. */
  public readonly instances: Record<string, InstanceDatabase>;
  /** libpq URL per instance (secret). */
  public readonly urls: pulumi.Output<Record<string, string>>;
  /** Kratos DSN per instance (secret). */
  public readonly kratosDsns: pulumi.Output<Record<string, string>>;
  /** One idempotent psql script for the whole server (secret: it holds SCRAM verifiers). */
  public readonly bootstrapSql: pulumi.Output<string>;

  constructor(name: string, args: SharedPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    const { budget } = planServer(args.instances, args.server, { namePrefix: args.namePrefix ?? '', adminUser: args.server.adminUser });
    super('postgres-strategies:index:SharedPostgres', name, {}, opts);
    this.budget = budget;
    this.instances = {};
    for (const spec of args.instances) {
      this.instances[spec.name] = new InstanceDatabase(
        `${name}-${spec.name}`,
        {
          server: args.server,
          instance: spec,
          namePrefix: args.namePrefix,
          allowDeletion: args.allowDeletion,
          passwordLength: args.passwordLength,
          connectTimeoutSeconds: args.connectTimeoutSeconds,
        },
        { parent: this },
      );
    }
    const byName = (pick: (d: InstanceDatabase) => pulumi.Output<string>): pulumi.Output<Record<string, string>> => {
      const names = Object.keys(this.instances);
      return pulumi.secret(
        pulumi.all(names.map((n) => pick(this.instances[n] as InstanceDatabase))).apply((values) => Object.fromEntries(names.map((n, i) => [n, values[i] as string]))),
      );
    };
    this.urls = byName((d) => d.url);
    this.kratosDsns = byName((d) => d.kratosDsn);
    const databases = Object.values(this.instances);
    this.bootstrapSql = bootstrapSqlOutput(
      databases.map((d) => d.plan),
      new Map(databases.flatMap((d) => [...d.verifiers])),
    );
    this.registerOutputs({ urls: this.urls, kratosDsns: this.kratosDsns });
  }
}
