/**
 * `InstanceDatabase`: one app instance's database on any server handle —
 * the core's plan as `@pulumi/postgresql` resources, with generated
 * passwords and typed connection outputs in every client's dialect.
 */
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import { ConnectionDescription, checkLoginOptions, libpqUrl, readerConnection, throughPooler } from '../core/dsn';
import { InstancePlan, InstanceSpec, RolePlan, SchemaObjectType, planInstance } from '../core/plan';
import { sslModeVerifiesCertificate, validateClientTls } from '../core/tls';
import { validateHost, validatePort, validateRootCertPem } from '../core/validate';
import { checkedInput } from './checked-input';
import { checkNotRetained, remindAdopted } from './retained';
import { InstanceEnv, bootstrapSqlOutput, connectionOutputs, generateLogin } from './logins';
import { PostgresServerHandle } from './server-handle';

/** Arguments of {@link InstanceDatabase}. */
export interface InstanceDatabaseArgs {
  /** The server to provision on (from any strategy). */
  server: PostgresServerHandle;
  /** The instance: name, database, role shape, pools. */
  instance: InstanceSpec;
  /**
   * Prefix of the default database name. @default ""
   * Warning: changing it renames the database and its roles in place on the
   * next `pulumi up` (see the class docs).
   */
  namePrefix?: string;
  /**
   * Let `pulumi destroy` (or removing the instance) drop the database and
   * its roles (grants go with the database). By default every resource on
   * the server is retained on delete: the resources leave the stack, and the
   * database (with its data and owner), the roles (with their passwords) and
   * the grants stay on the server exactly as they were. Warning: with
   * `true`, removing the instance drops its database and data.
   * @default false
   */
  allowDeletion?: boolean;
  /**
   * Take over a database and roles of the same names that already exist on
   * the server — left by an earlier stack's `pulumi destroy` (retained on
   * delete) or made by hand — instead of creating them: the roles and the
   * database are imported (the `import` resource option, with their names as
   * IDs), keeping the data, the owner and the roles' current passwords
   * (`ignoreChanges: ["password"]` while set). A preview without it names any
   * that exist. Afterwards set it back to false and run `pulumi up` again:
   * that gives the roles this stack's generated passwords, which the URL
   * outputs carry (until then they do not work). Import fails when a role or
   * the database does not exist. @default false
   */
  adopt?: boolean;
  /** Length of generated passwords, in characters (letters and digits). @default 32 */
  passwordLength?: number;
  /** libpq `connect_timeout` of the clients, in seconds. @default 10 (the seed's "10s") */
  connectTimeoutSeconds?: number;
  /** libpq `application_name` of the clients. @default the instance name */
  applicationName?: string;
}

export type { InstanceEnv } from './logins';

/**
 * Set by `SharedPostgres` on the args of the instances it has already
 * claimed on the server (internal; not part of the multi-language args).
 * @internal
 */
export const CLAIMED_PLAN: unique symbol = Symbol('postgres-strategies.claimedPlan');

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
 * (NOLOGIN), read-only role, grants and default privileges.
 *
 * Under a non-superuser admin (RDS, Neon, Supabase) a `postgresql.GrantRole`
 * makes the admin a member of the owner role before the database is created:
 * the provider otherwise grants that membership only for `CREATE DATABASE`
 * and revokes it afterwards, and the admin could then neither connect to the
 * database (PUBLIC's CONNECT is revoked), so the provider could not read or
 * change the grants inside it on the next run, nor `SET ROLE` to the owner
 * (migrations as the owner in the least-privilege shape). The rendered
 * bootstrap SQL grants the same membership, so both paths end in the same
 * catalog state (test/integration/bootstrap.test.ts, PostgreSQL 14–18).
 *
 * Retention: unless `allowDeletion`, every resource on the server is
 * `retainOnDelete` — not only the database: deleting a login role would run
 * the provider's `REASSIGN OWNED` + `DROP OWNED` (objects the app created
 * would pass to the admin), and deleting a grant would revoke it, so the
 * retained database would no longer be usable as it was. Grants, default
 * privileges and the admin's membership are retained even with
 * `allowDeletion`: a replaced one (a renamed database or role replaces them)
 * would otherwise be revoked by the old database or role name, which no
 * longer exists after the in-place rename, and every later `up` would fail
 * on it (seen on the real engine); a dropped database takes its grants
 * with it.
 *
 * Provider hazards handled here (pulumi/pulumi-postgresql issues):
 * - the admin's `GrantRole` ignores `withAdminOption` in diffs: on
 *   PostgreSQL 16+ a CREATEROLE admin holds a second, automatic membership
 *   (ADMIN, without INHERIT/SET) in each role it creates, and the provider
 *   reads either row. The cost: on 16+ the GrantRole itself cannot show
 *   our membership revoked by hand (the automatic row remains); `refresh`
 *   then fails with "permission denied for database" on the grants inside
 *   it. Repair: `pulumi up --replace <urn of …-admin-membership>` (verified
 *   on the real engine) or the bootstrap SQL;
 * - memberships only through `GrantRole`, never `Role.roles`, and every
 *   `Role` has `ignoreChanges: ["roles"]`, so a refresh + up never revokes a
 *   membership a `GrantRole` made (#131);
 * - every `Grant` and `DefaultPrivileges` is `deleteBeforeReplace`: a
 *   replacement created first would be revoked by the old one's delete (#233);
 * - the instance's operations run one after another: grants within one
 *   database never race ("tuple concurrently updated"), and the instance
 *   holds at most two admin connections at once; it starts when its turn in
 *   one of the server's lanes comes (`ProviderLanes`: ⌊adminMaxConnections
 *   / 2⌋ lanes, round robin per instance), so `pulumi up` holds at most the
 *   admin's share whatever `--parallel` is. The turn is the program's: the
 *   state records no dependency on another instance (`pulumi destroy
 *   --target`, `pulumi state delete` and `--continue-on-error` concern this
 *   instance alone). The provider's pool is the server's `max_connections`,
 *   so it never deadlocks on its advisory lock (upstream #514).
 *
 * Passwords are generated once and stay stable across runs. Every output
 * that carries a password is a Pulumi secret.
 *
 * Before anything is registered the instance is claimed on the server
 * handle: its budget share is checked together with everything else
 * provisioned on the same handle, and its database and roles may be neither
 * another component's nor the admin's own.
 *
 * Renames (warning):
 * - Changing `namePrefix` or `instance.database` renames the database and
 *   its roles **in place** (`ALTER DATABASE … RENAME`, `ALTER ROLE … RENAME`):
 *   the data stays, under the new name, and every URL output changes. The
 *   rename fails while sessions are open on the database (stop the apps
 *   first), and apps still configured with the old name can no longer
 *   connect.
 * - Changing the instance `name` changes the Pulumi resource names: a new,
 *   empty database and new roles are created, and the old ones leave the
 *   stack — retained on the server by default, **dropped with their data when
 *   `allowDeletion` is set**. Move the state instead (`aliases` on the
 *   component, or `pulumi state rename`). Nothing in a stack can refuse this
 *   at preview: the previous name is not visible to the program.
 *
 * @throws ValidationError before anything is created: bad names, pools,
 *   TLS settings, a handle whose `host` is not a bare host or whose `port`
 *   is not a number 1–65535 (`server.host`, `server.port`; checked when
 *   known if they are outputs), a database or role claimed on the server already, the
 *   admin's own role or database, or a share larger than what the server
 *   has left (ConnectionBudgetError).
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
  /** The typed direct connection (secret: it carries the password). */
  public readonly connection: pulumi.Output<ConnectionDescription>;
  /** The typed connection through the pooler, when the server has one (secret). */
  public readonly pooledConnection?: pulumi.Output<ConnectionDescription>;
  /** libpq URL of the direct endpoint, for psql, pg_dump, migrations and libpq drivers (secret). */
  public readonly url: pulumi.Output<string>;
  /** libpq URL through the pooler when there is one, else the same as {@link url} (secret). */
  public readonly pooledUrl: pulumi.Output<string>;
  /** pgx URL with the gateway's pool, through the pooler when there is one (secret). */
  public readonly pgxUrl: pulumi.Output<string>;
  /** Ory Kratos DSN for `kratos serve`, through the pooler when there is one (secret). */
  public readonly kratosDsn: pulumi.Output<string>;
  /** Ory Kratos DSN for `kratos migrate sql -e --yes`, always direct (secret). */
  public readonly kratosMigrateDsn: pulumi.Output<string>;
  /** Environment maps (secret). */
  public readonly env: InstanceEnv;
  /** Read-only role's libpq URL, direct (least-privilege shape only; secret). */
  public readonly readOnlyUrl?: pulumi.Output<string>;
  /**
   * libpq URL for reads (secret), when the server has standbys: the standbys
   * first, then the primary, `target_session_attrs=prefer-standby` (libpq 14+).
   */
  public readonly readerUrl?: pulumi.Output<string>;
  /** The same plan as an idempotent psql script (secret: it holds SCRAM verifiers). */
  public readonly bootstrapSql: pulumi.Output<string>;
  /** The server's CA certificate (PEM), when the server handle has one. */
  public readonly rootCertPem?: pulumi.Output<string>;
  /** SCRAM-SHA-256 verifiers of the login roles, by role name (secret). */
  public readonly verifiers: ReadonlyMap<string, pulumi.Output<string>>;

  constructor(name: string, args: InstanceDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    const server = args.server;
    const claimed = (args as InstanceDatabaseArgs & { [CLAIMED_PLAN]?: InstancePlan })[CLAIMED_PLAN];
    const plan = claimed ?? planInstance(args.instance, args.namePrefix ?? '', 'instance');
    validateClientTls({ sslmode: server.sslmode, sslrootcert: server.sslrootcert }, server.kind, 'server');
    // The handle's endpoint: plain values now, values known only at deploy inside apply (same messages).
    const host = checkedInput(server.host, (h) => validateHost(h, 'server.host', { portField: 'server.port' }));
    const port = checkedInput(server.port, (p) => validatePort(p, 'server.port'));
    if (typeof server.rootCertPem === 'string') {
      validateRootCertPem(server.rootCertPem, 'server.rootCertPem', { verify: sslModeVerifiesCertificate(server.sslmode) });
    }
    const { passwordLength, connectTimeoutSeconds } = checkLoginOptions(args);
    // Last check: a claim is recorded only when everything else passed.
    if (!claimed) server.claims.claim(name, [plan], ['instance'], 'instance');

    super('postgres-strategies:index:InstanceDatabase', name, {}, opts);
    this.plan = plan;

    const retain = !(args.allowDeletion ?? false);
    const adopt = args.adopt ?? false;
    // The instance's provider operations run one after another (each waits for the one before it:
    // dependencies inside this instance only), and the instance starts when its turn in one of the
    // server's lanes comes (the program registers its first resource then; no dependency on another
    // instance is recorded, see ProviderLanes). Every resource on the server is retained on delete
    // unless allowDeletion: removing an instance or `pulumi destroy` changes nothing on the server.
    const lane = server.lanes.take();
    let previous: pulumi.Input<pulumi.Resource[]> = lane.turn().then(() => [...server.dependsOn]);
    let last: pulumi.Resource | undefined;
    const onServer = <R extends pulumi.Resource>(make: (o: pulumi.CustomResourceOptions) => R, extra: pulumi.CustomResourceOptions = {}): R => {
      const resource = make({ parent: this, provider: server.provider, dependsOn: previous, retainOnDelete: retain, ...extra });
      previous = [resource];
      last = resource;
      return resource;
    };

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
      // adopt: the existing role, keeping its password until adopt is turned off again.
      const resource = onServer((o) => this.createRole(name, role, verifiers.get(role.name), o), adopt ? { import: role.name } : {});
      roles.set(role.name, resource);
      const login = logins.get(role.name);
      if (login) login.role = resource;
    }
    const owner = roles.get(plan.owner.name) as postgresql.Role;

    // 3. A non-superuser admin keeps its membership in the owner role (the
    //    provider's own grant for CREATE DATABASE is revoked right after).
    if (!server.adminIsSuperuser) {
      // ignoreChanges withAdminOption: on PostgreSQL 16+ a CREATEROLE admin also holds the automatic
      // ADMIN membership in every role it creates (granted by the bootstrap superuser, INHERIT and SET
      // false), so pg_auth_members has two rows for (owner, admin) and the provider reads either: its
      // admin_option would otherwise plan a replacement on every run (seen on the real engine, PG 17).
      onServer(
        (o) => new postgresql.GrantRole(`${name}-admin-membership`, { role: server.adminUser, grantRole: owner.name, withAdminOption: false }, o),
        { ignoreChanges: ['withAdminOption'], retainOnDelete: true },
      );
    }

    // 4. The database, owned by the owner role (after it: so it is dropped before the role).
    //    At preview its name waits for the check that nothing this instance creates exists already (retained.ts).
    const planned = { component: `InstanceDatabase "${name}"`, roles: plan.roles.map((r) => ({ name: r.name, resource: roles.get(r.name) as postgresql.Role })), database: plan.database };
    const notRetained = adopt ? remindAdopted(planned, this) : checkNotRetained(server.catalog, planned, this);
    const databaseName = pulumi.output(notRetained.then(() => plan.database));
    const database = onServer((o) => new postgresql.Database(`${name}-database`, { name: databaseName, owner: owner.name }, o), adopt ? { import: plan.database } : {});

    // 5. Grants, one after another within the database ("tuple concurrently updated" otherwise).
    this.createGrants(name, plan, database, owner, roles, onServer);
    lane.finish(last as pulumi.Resource);

    // 6. Outputs.
    const login = logins.get(plan.login.name) as Login;
    this.database = database.name;
    this.user = login.role.name;
    this.password = login.password;
    this.rootCertPem = server.rootCertPem === undefined ? undefined : pulumi.output(server.rootCertPem);
    const tls = { sslmode: server.sslmode, ...(server.sslrootcert ? { sslrootcert: server.sslrootcert } : {}) };
    // A secret: it carries `password`, which is one (a login's secret password).
    const describe = (user: pulumi.Output<string>, password: pulumi.Output<string>): pulumi.Output<ConnectionDescription> =>
      pulumi.all([host, port, database.name, user, password]).apply(
        ([host, port, db, u, p]): ConnectionDescription => ({
          hosts: [{ host, port }],
          database: db,
          user: u,
          password: p,
          tls,
          connectTimeoutSeconds,
          applicationName: args.applicationName ?? plan.instance,
        }),
      );
    this.connection = pulumi.secret(describe(this.user, this.password));
    const pooler = server.pooler;
    if (pooler) {
      this.pooledConnection = pulumi.secret(
        pulumi
          .all([pooler.host, pooler.port, this.connection])
          .apply(([host, port, direct]) => throughPooler(direct, { host, port, mode: pooler.mode, userSuffix: pooler.userSuffix })),
      );
    }
    const derived = connectionOutputs(this.connection, plan, this.pooledConnection);
    this.url = derived.url;
    this.pooledUrl = derived.pooledUrl;
    this.pgxUrl = derived.pgxUrl;
    this.kratosDsn = derived.kratosDsn;
    this.kratosMigrateDsn = derived.kratosMigrateDsn;
    this.env = derived.env;
    if (plan.readOnly) {
      const ro = logins.get(plan.readOnly.name) as Login;
      this.readOnlyUrl = pulumi.secret(describe(ro.role.name, ro.password).apply((c) => libpqUrl(c)));
    }
    const standbys = server.standbys ?? [];
    if (standbys.length > 0) {
      this.readerUrl = pulumi.secret(
        pulumi
          .all([this.connection, pulumi.all(standbys.map((s) => pulumi.all([s.host, s.port])))])
          .apply(([c, hosts]) => libpqUrl(readerConnection(c, hosts.map(([host, port]) => ({ host, port }))))),
      );
    }
    this.bootstrapSql = bootstrapSqlOutput([plan], verifiers);

    // Only the names go into the state: the connection outputs are this object's properties (export
    // the ones you need from the stack). Registering ten secrets per instance made every checkpoint
    // write of `pulumi up` grow with them: 50 instances took 1.25× the hand-written program's time on
    // the real engine, and 1.04× without them (docs/benchmark.md).
    this.registerOutputs({ database: this.database, user: this.user });
  }

  private createRole(name: string, role: RolePlan, verifier: pulumi.Output<string> | undefined, opts: pulumi.CustomResourceOptions): postgresql.Role {
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
      // Memberships come from GrantRole only; an unset `roles` would revoke them on refresh + up (#131).
      { ...opts, ignoreChanges: opts.import === undefined ? ['roles'] : ['roles', 'password'] },
    );
  }

  private createGrants(
    name: string,
    plan: InstancePlan,
    database: postgresql.Database,
    owner: postgresql.Role,
    roles: Map<string, postgresql.Role>,
    onServer: <R extends pulumi.Resource>(make: (o: pulumi.CustomResourceOptions) => R, extra?: pulumi.CustomResourceOptions) => R,
  ): void {
    const roleName = (role: string): pulumi.Input<string> => (role === 'PUBLIC' ? 'public' : (roles.get(role) as postgresql.Role).name);
    // deleteBeforeReplace: a replacement created before the old grant is deleted would be
    // revoked by that delete (#233).
    // retainOnDelete always: see "Retention" in the class docs.
    const chain = <R extends pulumi.Resource>(make: (o: pulumi.CustomResourceOptions) => R): void => {
      onServer(make, { deleteBeforeReplace: true, retainOnDelete: true });
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
