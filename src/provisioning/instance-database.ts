/**
 * `InstanceDatabase`: one app instance's database on any server handle —
 * the core's plan as `@pulumi/postgresql` resources, with generated
 * passwords and typed connection outputs in every client's dialect.
 */
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import { checkConnectionBudget } from '../core/budget';
import { ConnectionDescription, DEFAULT_CONNECT_TIMEOUT_SECONDS, libpqUrl } from '../core/dsn';
import { checkInteger } from '../core/errors';
import { InstancePlan, InstanceSpec, RolePlan, SchemaObjectType, planInstance } from '../core/plan';
import { validateClientTls } from '../core/tls';
import { InstanceEnv, bootstrapSqlOutput, connectionOutputs, generateLogin } from './logins';
import { PostgresServerHandle } from './server-handle';

/** Arguments of {@link InstanceDatabase}. */
export interface InstanceDatabaseArgs {
  /** The server to provision on (from any strategy). */
  server: PostgresServerHandle;
  /** The instance: name, database, role shape, pools. */
  instance: InstanceSpec;
  /** Prefix of the default database name. @default "" */
  namePrefix?: string;
  /**
   * Let `pulumi destroy` (or removing the instance) drop the database and
   * its owner role. By default both are retained on delete: the resources
   * leave the stack, the data stays on the server.
   * @default false
   */
  allowDeletion?: boolean;
  /** Length of generated passwords, in characters (letters and digits). @default 32 */
  passwordLength?: number;
  /** libpq `connect_timeout` of the clients, in seconds. @default 10 (the seed's "10s") */
  connectTimeoutSeconds?: number;
  /** libpq `application_name` of the clients. @default the instance name */
  applicationName?: string;
}

export type { InstanceEnv } from './logins';

interface Login {
  role: postgresql.Role;
  password: pulumi.Output<string>;
  verifier: pulumi.Output<string>;
}

/**
 * One app instance's database, roles and grants on a server.
 *
 * Resources (default {@link RoleShape.Owner} shape): a `random.RandomPassword`
 * and a `random.RandomBytes` SCRAM salt, a `postgresql.Role` (LOGIN, CONNECTION
 * LIMIT = the instance's pools, password stored as a SCRAM-SHA-256 verifier),
 * a `postgresql.Database` owned by it, and a `postgresql.Grant` that revokes
 * PUBLIC's CONNECT and TEMPORARY on it — without which every other role on
 * the server could connect. The least-privilege shape adds seed 004's owner
 * (NOLOGIN), read-only role, grants and default privileges; grants within a
 * database are applied one after another (concurrent grants fail with
 * "tuple concurrently updated").
 *
 * Passwords are generated once and stay stable across runs. Every output
 * that carries a password is a Pulumi secret.
 *
 * Warning: changing the database name or the instance name creates a new,
 * empty database. The database and its owner role are retained on delete
 * unless `allowDeletion` is set, so the old data stays on the server.
 *
 * @throws ValidationError before anything is created: bad names, pools,
 *   TLS settings, or a share larger than the server's connection budget.
 */
export class InstanceDatabase extends pulumi.ComponentResource {
  /** The plan this component applied. */
  public readonly plan: InstancePlan;
  /** Database name. */
  public readonly database: pulumi.Output<string>;
  /** The role the app and Kratos log in as. */
  public readonly user: pulumi.Output<string>;
  /** Its password (secret). */
  public readonly password: pulumi.Output<string>;
  /** The typed connection (secret: it carries the password). */
  public readonly connection: pulumi.Output<ConnectionDescription>;
  /** libpq URL for psql, pg_dump and libpq drivers (secret). */
  public readonly url: pulumi.Output<string>;
  /** pgx URL with the gateway's pool (secret). */
  public readonly pgxUrl: pulumi.Output<string>;
  /** Ory Kratos DSN (secret). */
  public readonly kratosDsn: pulumi.Output<string>;
  /** Environment maps (secret). */
  public readonly env: InstanceEnv;
  /** Read-only role's libpq URL (least-privilege shape only; secret). */
  public readonly readOnlyUrl?: pulumi.Output<string>;
  /** The same plan as an idempotent psql script (secret: it holds SCRAM verifiers). */
  public readonly bootstrapSql: pulumi.Output<string>;
  /** The server's CA certificate (PEM), when the server handle has one. */
  public readonly rootCertPem?: pulumi.Output<string>;
  /** SCRAM-SHA-256 verifiers of the login roles, by role name (secret). */
  public readonly verifiers: ReadonlyMap<string, pulumi.Output<string>>;

  constructor(name: string, args: InstanceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    const server = args.server;
    const plan = planInstance(args.instance, args.namePrefix ?? '', 'instance');
    checkConnectionBudget(server, [{ instance: plan.instance, consumers: plan.consumers }], 'instance');
    validateClientTls({ sslmode: server.sslmode, sslrootcert: server.sslrootcert }, server.kind, 'server');
    const passwordLength = args.passwordLength ?? 32;
    checkInteger(passwordLength, 'passwordLength', 16, 128, 'characters');
    const connectTimeoutSeconds = args.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS;
    checkInteger(connectTimeoutSeconds, 'connectTimeoutSeconds', 1, 3600, 'seconds');

    super('postgres-strategies:index:InstanceDatabase', name, {}, opts);
    this.plan = plan;

    const retain = !(args.allowDeletion ?? false);
    const onServer: pulumi.CustomResourceOptions = { parent: this, provider: server.provider, dependsOn: server.dependsOn };

    // 1. Generated passwords and their SCRAM verifiers (stable salts keep the verifier stable).
    const logins = new Map<string, Login>();
    const verifiers = new Map<string, pulumi.Output<string>>();
    for (const role of plan.roles.filter((r) => r.login)) {
      const generated = generateLogin(`${name}-${role.purpose}`, passwordLength, this);
      verifiers.set(role.name, generated.verifier);
      logins.set(role.name, { role: undefined as unknown as postgresql.Role, ...generated });
    }
    this.verifiers = verifiers;

    // 2. Roles (owner first).
    const roles = new Map<string, postgresql.Role>();
    for (const role of plan.roles) {
      const resource = this.createRole(name, role, verifiers.get(role.name), onServer, retain && role === plan.owner);
      roles.set(role.name, resource);
      const login = logins.get(role.name);
      if (login) login.role = resource;
    }
    const owner = roles.get(plan.owner.name) as postgresql.Role;

    // 3. The database, owned by the owner role (so it is dropped before the role).
    const database = new postgresql.Database(
      `${name}-database`,
      { name: plan.database, owner: owner.name },
      { ...onServer, dependsOn: [...server.dependsOn, owner], retainOnDelete: retain },
    );

    // 4. Grants, one after another within the database.
    this.createGrants(name, plan, database, owner, roles, onServer);

    // 5. Outputs.
    const login = logins.get(plan.login.name) as Login;
    this.database = database.name;
    this.user = login.role.name;
    this.password = login.password;
    this.rootCertPem = server.rootCertPem === undefined ? undefined : pulumi.output(server.rootCertPem);
    // A secret: it carries `password`, which is one (a login's secret password).
    const describe = (user: pulumi.Output<string>, password: pulumi.Output<string>): pulumi.Output<ConnectionDescription> =>
      pulumi.all([server.host, server.port, database.name, user, password]).apply(
        ([host, port, db, u, p]): ConnectionDescription => ({
          hosts: [{ host, port }],
          database: db,
          user: u,
          password: p,
          tls: { sslmode: server.sslmode, ...(server.sslrootcert ? { sslrootcert: server.sslrootcert } : {}) },
          connectTimeoutSeconds,
          applicationName: args.applicationName ?? plan.instance,
          pooler: server.pooler,
        }),
      );
    this.connection = describe(this.user, this.password);
    const derived = connectionOutputs(this.connection, plan);
    this.url = derived.url;
    this.pgxUrl = derived.pgxUrl;
    this.kratosDsn = derived.kratosDsn;
    this.env = derived.env;
    if (plan.readOnly) {
      const ro = logins.get(plan.readOnly.name) as Login;
      this.readOnlyUrl = describe(ro.role.name, ro.password).apply((c) => libpqUrl(c));
    }
    this.bootstrapSql = bootstrapSqlOutput([plan], verifiers);

    this.registerOutputs({
      database: this.database,
      user: this.user,
      password: this.password,
      url: this.url,
      pgxUrl: this.pgxUrl,
      kratosDsn: this.kratosDsn,
      readOnlyUrl: this.readOnlyUrl,
    });
  }

  private createRole(
    name: string,
    role: RolePlan,
    verifier: pulumi.Output<string> | undefined,
    opts: pulumi.CustomResourceOptions,
    retain: boolean,
  ): postgresql.Role {
    return new postgresql.Role(
      `${name}-${role.purpose}-role`,
      {
        name: role.name,
        login: role.login,
        connectionLimit: role.connectionLimit,
        createDatabase: false,
        createRole: false,
        inherit: true,
        // A SCRAM verifier, never the plain password: PostgreSQL stores it as is.
        ...(verifier ? { password: verifier } : {}),
      },
      { ...opts, retainOnDelete: retain },
    );
  }

  private createGrants(
    name: string,
    plan: InstancePlan,
    database: postgresql.Database,
    owner: postgresql.Role,
    roles: Map<string, postgresql.Role>,
    opts: pulumi.CustomResourceOptions,
  ): void {
    const roleName = (role: string): pulumi.Input<string> => (role === 'PUBLIC' ? 'public' : (roles.get(role) as postgresql.Role).name);
    let previous: pulumi.Resource = database;
    const chain = <R extends pulumi.Resource>(make: (o: pulumi.CustomResourceOptions) => R): void => {
      previous = make({ ...opts, dependsOn: [previous] });
    };
    for (const g of plan.databaseGrants) {
      const label = g.role === 'PUBLIC' ? 'revoke-public' : `${roleLabel(plan, g.role)}-database-grant`;
      chain((o) => new postgresql.Grant(`${name}-${label}`, { database: database.name, role: roleName(g.role), objectType: 'database', privileges: g.privileges }, o));
    }
    for (const g of plan.schemaGrants) {
      const who = g.role === 'PUBLIC' ? 'public' : roleLabel(plan, g.role);
      chain(
        (o) =>
          new postgresql.Grant(
            `${name}-${who}-${g.objectType}-grant`,
            { database: database.name, schema: g.schema, role: roleName(g.role), objectType: g.objectType, privileges: g.privileges },
            o,
          ),
      );
      if (g.defaults && g.objectType !== SchemaObjectType.Schema) {
        chain(
          (o) =>
            new postgresql.DefaultPrivileges(
              `${name}-${who}-${g.objectType}-defaults`,
              { database: database.name, owner: owner.name, schema: g.schema, role: roleName(g.role), objectType: g.objectType, privileges: g.privileges },
              o,
            ),
        );
      }
    }
  }
}

function roleLabel(plan: InstancePlan, role: string): string {
  return plan.roles.find((r) => r.name === role)?.purpose ?? role;
}
