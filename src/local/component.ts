/**
 * `LocalPostgres`: PostgreSQL in a local Docker container, optionally with
 * Ory Kratos next to it (the primary seed's Strategy 1), turned into the
 * same {@link PostgresServerHandle} every strategy produces.
 *
 * The whole stack is planned by the pure core (`planLocalStack`): image and
 * major, postgresql.conf, pg_hba.conf, TLS wrapper, bootstrap SQL, one plan
 * per container. This component only translates that plan into
 * `@pulumi/docker`, `@pulumi/tls`, `@pulumi/random` and `@pulumi/postgresql`
 * resources; the docker-compose.yml output is rendered from the same plan.
 */
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import { composeFileSources, renderComposeFile } from './compose';
import { ConnectionDescription, PoolerMode, checkLoginOptions, libpqUrl } from '../core/dsn';
import { ValidationError, check } from '../core/errors';
import { KRATOS_ADMIN_PORT, checkOneShotExit, kratosConfigWithDsn } from '../core/kratos';
import {
  CONTAINER_PATHS,
  ContainerPlan,
  FileContent,
  ImageRef,
  LOCAL_SERVER_HOST,
  LOCAL_SERVER_PORT,
  LocalKratosOptions,
  LocalStackOptions,
  LocalStackPlan,
  SECRET_FILES,
  ServiceCondition,
  VOLUME_OWNER_LABEL,
  dockerNames,
  localHostPorts,
  localImages,
  planLocalStack,
  renderLocalBootstrapSql,
} from './plan';
import { InstancePlan } from '../core/plan';
import { pgSettingCautions } from '../core/pg-settings';
import { ClientTls, ServerKind, SslMode } from '../core/tls';
import { GeneratedLogin, InstanceOutputs, bootstrapSqlOutput, connectionOutputs, generateInstanceLogins, generateLogin } from '../provisioning/logins';
import { RotationLogins, rotationLogins } from '../provisioning/rotation';
import { PostgresServerHandle, createServerHandle } from '../provisioning/server-handle';
import { adminProviderPoolSize } from '../core/budget';
import { createServerCertificates } from '../provisioning/tls-certificates';
import { LocalDataGuard } from './data-guard';

/** Kratos next to the server (see {@link LocalKratosOptions} for the other fields). */
export interface LocalKratosArgs extends Omit<LocalKratosOptions, 'config'> {
  /**
   * Kratos' config file (YAML) instead of the minimal one rendered here,
   * e.g. `cfg.requireSecret("kratosConfig")`: it carries cookie and cipher
   * secrets, so it is uploaded as a secret, never copied into `plan`, and
   * checked (a YAML mapping without `dsn`) at preview when it is plain
   * text, else once its value is known.
   * @default the minimal config (no secrets: Kratos makes new cookie secrets on every start)
   * Warning: any change replaces the Kratos container.
   */
  config?: pulumi.Input<string>;
}

/** Arguments of {@link LocalPostgres}: the plan's options (see {@link LocalStackOptions}) and these. */
export interface LocalPostgresArgs extends Omit<LocalStackOptions, 'kratos'> {
  /** Run Ory Kratos next to the server (see {@link LocalStackOptions.kratos}). @default no Kratos */
  kratos?: LocalKratosArgs;
  /**
   * Prefix of the Docker names of the containers, network and volumes
   * (`<prefix><name>-postgres`, `<prefix><name>-postgres-data`, …), so that
   * two stacks or projects on one Docker host never collide.
   * @default "<project>-<stack>-"
   * Warning: changing it (or the stack's name) replaces every container and
   * names a new, empty data volume (the old one is retained unless
   * `allowDataDeletion`); pin `volumeName` to keep the data.
   */
  dockerNamePrefix?: string;
  /**
   * Path of the CA file on this machine that `hostUrl` names as
   * `sslrootcert` (TLS only); save the `caPem` output there.
   * @default "postgres-ca.pem"
   */
  hostCaFile?: string;
  /**
   * Let `pulumi destroy` delete the data volume. By default it is retained:
   * the volume leaves the stack and stays on the Docker host, and a new stack
   * with the same volume name picks the data up again.
   * @default false
   */
  allowDataDeletion?: boolean;
  /**
   * Attach a data volume another stack made (its owner label names that
   * stack) and take its data. Only when that stack is gone or no longer
   * runs a server on it: two servers on one data directory corrupt it.
   * Without it, such a volume is refused before any container starts.
   * @default false
   */
  adoptVolume?: boolean;
  /**
   * The data volume's Docker name. @default "<dockerNamePrefix><name>-postgres-data"
   * Warning: a new name means a new, empty volume (the old one is retained).
   * Re-attaching a kept volume is safe: the bootstrap sets the superuser's
   * password (and every instance role's) to this stack's current ones.
   */
  volumeName?: string;
  /**
   * Length of generated passwords, in characters (letters and digits).
   * @default 32
   * Warning: a change makes new passwords; the server container (its
   * password file) and every client container are replaced.
   */
  passwordLength?: number;
  /** libpq `connect_timeout` of the clients, in seconds. @default 10 */
  connectTimeoutSeconds?: number;
}

/**
 * One app instance on the local server: connection, URLs and env maps as
 * containers on the stack's network reach it (host `postgres`); everything
 * that carries a password is secret.
 */
export interface LocalInstance extends InstanceOutputs {
  /** libpq URL from this machine through the published port (when published). */
  hostUrl?: pulumi.Output<string>;
  /** Read-only role's libpq URL from the stack's network (least-privilege shape). */
  readOnlyUrl?: pulumi.Output<string>;
}

/**
 * PostgreSQL in Docker on this machine, with optional TLS, app instances
 * and Ory Kratos — the primary seed's Strategy 1.
 *
 * Resources: `LocalDataGuard` (state only: refuses at preview another
 * PostgreSQL major over the same data volume, another stack's volume, a
 * host port something already holds, and an image the Docker engine
 * neither has nor can pull),
 * a `docker.RemoteImage` (kept locally on destroy), a private
 * `docker.Network` on which the server answers as `postgres`, a named data
 * `docker.Volume` (retained on delete; labelled with its owner stack), a volume for the server's Unix
 * socket, a generated superuser password and SCRAM salt (`random`), the
 * server container (the password as a root-only file,
 * `POSTGRES_PASSWORD_FILE`, never in its environment; healthcheck `pg_isready -h 127.0.0.1 -p 5432 -U
 * postgres -d <database>` every 5 s, 10 retries, 30 s start period; `wait:
 * true`, so dependants start only once it is healthy; 60 s to shut down
 * cleanly on replace or destroy); with TLS the CA and server certificate
 * (`@pulumi/tls`, renewed early on an `up` in their last month); a password
 * and SCRAM salt per login role; the one-shot `postgres-bootstrap`
 * container, which runs the bootstrap script (verifiers only) through the
 * server's Unix socket as the OS user postgres (`peer`, no password): it
 * sets the superuser's password to this stack's, so a kept data volume
 * whose password is another stack's is repaired, then creates or repairs
 * the instances; with Kratos its image and the `kratos-migrate` and
 * `kratos` containers. Containers are replaced delete-first (a second
 * server must never open the same data directory). Docker names start
 * with `<project>-<stack>-` (see `dockerNamePrefix`).
 *
 * Nothing of the server container depends on the instances: adding one or
 * changing a pool re-runs only the bootstrap container, never restarts
 * PostgreSQL (unless `bootstrap` includes the init script).
 *
 * Admin access: when `publishPort` is set, a `@pulumi/postgresql` provider
 * connects as the superuser through 127.0.0.1, once the bootstrap exited 0
 * (sslmode=require with TLS: the
 * provider only takes the CA as a file, which does not exist before the
 * first deployment; app clients verify the certificate), and {@link handle}
 * can be given to `SharedPostgres` or `InstanceDatabase`. Unpublished, the
 * server is reachable only from the stack's network and `handle` throws;
 * declare the databases in `instances` instead.
 *
 * Cost: none beyond the machine. Limits (seed): the data lives on this
 * machine's disk — back it up (`pg_dump` through the published port or
 * `docker exec`).
 *
 * @example
 * ```ts
 * const local = new LocalPostgres('auth', { tls: true, publishPort: 5432, kratos: {} });
 * export const kratosDsn = local.kratosDsn;      // secret
 * export const compose = local.composeYaml;      // the same stack as docker-compose.yml
 * ```
 * @throws ValidationError before anything is created: an image without a
 *   major, a bad pgConfig key or a managed one, a bad publish port or
 *   address, bad instances or an over-budget server, a least-privilege
 *   instance for Kratos, a Kratos config with a `dsn`, a host port
 *   published twice, a Docker name prefix Docker refuses.
 */
export class LocalPostgres extends pulumi.ComponentResource {
  /** The plan this component deployed (plain data, no secrets: a user's Kratos config is not in it). */
  public readonly plan: LocalStackPlan;
  /** The superuser's password (secret). */
  public readonly superuserPassword: pulumi.Output<string>;
  /** Host name of the server on the stack's network. */
  public readonly host: string = LOCAL_SERVER_HOST;
  /** Port of the server on the stack's network. */
  public readonly port: number = LOCAL_SERVER_PORT;
  /** The sslmode clients use. */
  public readonly sslmode: SslMode;
  /** The CA certificate (PEM), when TLS is on. */
  public readonly caPem?: pulumi.Output<string>;
  /** The superuser's libpq URL from this machine through the published port (secret; when published). */
  public readonly hostUrl?: pulumi.Output<string>;
  /** The app instances, by name. */
  public readonly instances: Record<string, LocalInstance>;
  /** The bootstrap script: the superuser's password, then every instance (secret: SCRAM verifiers; psql, as a superuser). */
  public readonly bootstrapSql: pulumi.Output<string>;
  /** Kratos' DSN (secret), when Kratos runs. */
  public readonly kratosDsn?: pulumi.Output<string>;
  /** Kratos' environment, `{ DSN }` (secret), when Kratos runs. */
  public readonly kratosEnv?: pulumi.Output<{ DSN: string }>;
  /** The equivalent docker-compose.yml (no password in it: see {@link composeFiles}). */
  public readonly composeYaml: pulumi.Output<string>;
  /**
   * Files the compose file mounts, by path relative to it (secret: the
   * superuser's password as `secrets/postgres-password`, Kratos' config with
   * its DSN, the TLS key, the bootstrap's verifiers).
   */
  public readonly composeFiles: pulumi.Output<Record<string, string>>;
  /** The admin provider, when published. */
  public readonly provider?: postgresql.Provider;
  public readonly network: docker.Network;
  public readonly volume: docker.Volume;
  /** The volume of the server's Unix socket, shared with the bootstrap container (one-shot bootstrap only). */
  public readonly socketVolume?: docker.Volume;
  public readonly serverContainer: docker.Container;
  public readonly bootstrapContainer?: docker.Container;
  public readonly migrationContainer?: docker.Container;
  public readonly kratosContainer?: docker.Container;
  private readonly serverHandle?: PostgresServerHandle;

  constructor(name: string, args: LocalPostgresArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    // 0. Everything is validated before any resource exists.
    const kratosConfig = args.kratos?.config;
    const planOptions: LocalStackOptions = {
      ...args,
      kratos: args.kratos ? { ...args.kratos, config: typeof kratosConfig === 'string' ? kratosConfig : undefined } : undefined,
    };
    const plan = planLocalStack(planOptions, CONTAINER_PATHS, { kratosConfigSupplied: kratosConfig !== undefined });
    const prefix = args.dockerNamePrefix ?? `${pulumi.getProject()}-${pulumi.getStack()}-`;
    check(typeof prefix === 'string', 'dockerNamePrefix', 'is not a string', 'Give a prefix like "myapp-dev-", or "" for none');
    const names = dockerNames(name, args.volumeName, prefix);
    const { passwordLength, connectTimeoutSeconds } = checkLoginOptions(args);
    const hostCaFile = args.hostCaFile ?? 'postgres-ca.pem';
    check(hostCaFile.length > 0 && !/[\r\n\0]/.test(hostCaFile), 'hostCaFile', 'is empty or has a line break', 'Give the path of the CA file on this machine');

    super('postgres-strategies:index:LocalPostgres', name, {}, opts);
    this.plan = plan;
    // A parameter a minor release added: an image of an older release refuses it at its start.
    for (const caution of pgSettingCautions(args.pgConfig ?? {}, plan.postgres.major, plan.postgres.minor)) pulumi.log.warn(caution, this);
    this.sslmode = plan.tls ? SslMode.VerifyFull : SslMode.Disable;
    const parent = { parent: this };
    const everyInterface = [plan.publish?.address, ...(plan.kratos?.publish ?? []).map((p) => p.address)].find((a) => a === '0.0.0.0' || a === '::');
    if (everyInterface !== undefined) {
      const adminApi = plan.kratos?.publish.some((p) => p.internal === KRATOS_ADMIN_PORT) ? ', including Kratos\' admin API, which has no authentication' : '';
      pulumi.log.warn(`publishAddress ${everyInterface}: the published ports are reachable on every interface of this machine, not only from it${adminApi}`, this);
    }

    // 1. The data volume's guard, registered first: another major over the same volume (the server
    //    would crash-loop on the old data directory), or another stack's volume (two servers on one
    //    data directory), a busy host port or an image the engine cannot get (the containers would
    //    fail at up, after the volume and network), is refused at preview, before any step.
    const owner = `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
    const dataGuard = new LocalDataGuard(
      `${name}-data-guard`,
      {
        volume: names.volume,
        image: plan.postgres.image,
        major: plan.postgres.major,
        owner,
        adopt: args.adoptVolume ?? false,
        hostPorts: localHostPorts(plan),
        images: localImages(plan),
      },
      parent,
    );

    // 2. Passwords with a stable SCRAM salt each: the superuser's, and each login role's.
    const superuser = generateLogin(`${name}-superuser`, passwordLength, this);
    this.superuserPassword = superuser.password;
    const { logins, verifiers } = generateInstanceLogins(name, plan.server.instances, passwordLength, this);
    // With loginRotation: each rotating instance's state and alternating logins (the bootstrap sets their passwords).
    const rotations = new Map<string, RotationLogins>();
    for (const inst of plan.server.instances.filter((i) => i.rotation)) {
      const rotation = rotationLogins(`${name}-${inst.instance}`, inst, passwordLength, this);
      rotations.set(inst.instance, rotation);
      inst.rotation?.logins.forEach((role, i) => {
        logins.set(role, rotation.slots[i as 0 | 1]);
        verifiers.set(role, rotation.slots[i as 0 | 1].verifier);
      });
    }
    const instancesSql = bootstrapSqlOutput(plan.server.instances, verifiers, new Map([...rotations].map(([instance, r]) => [instance, r.state])));
    this.bootstrapSql = pulumi.secret(pulumi.all([superuser.verifier, instancesSql]).apply(([verifier, sql]) => renderLocalBootstrapSql(verifier, sql, plan.superuser)));

    // 3. Certificates.
    const certs = plan.certificates ? createServerCertificates(name, plan.certificates, this) : undefined;
    this.caPem = certs?.caCertPem;

    // 4. Images, network, volume.
    //    The images wait for the guard: under `up --skip-preview` a refused change (another major, a
    //    missing image) then fails before an image is replaced, and the state keeps the old one.
    const afterGuard = { ...parent, dependsOn: [dataGuard] };
    const postgresImage = new docker.RemoteImage(`${name}-postgres-image`, { name: plan.postgres.image, keepLocally: true }, afterGuard);
    const kratosImage = plan.kratos ? new docker.RemoteImage(`${name}-kratos-image`, { name: plan.kratos.image, keepLocally: true }, afterGuard) : undefined;
    // Nothing is made before the images are here (a missing image then changes nothing).
    const imagesFirst = { ...parent, dependsOn: kratosImage ? [postgresImage, kratosImage] : [postgresImage] };
    this.network = new docker.Network(`${name}-network`, { name: names.network, driver: 'bridge' }, imagesFirst);
    // The owner label, set when the volume is made (labels replace a volume, so a later change is
    // ignored): Docker hands an existing volume of the same name back; the guard reads whose it is.
    this.volume = new docker.Volume(
      `${name}-data`,
      { name: names.volume, labels: [{ label: VOLUME_OWNER_LABEL, value: owner }] },
      { ...imagesFirst, retainOnDelete: !(args.allowDataDeletion ?? false), ignoreChanges: ['labels'] },
    );

    // The socket directory holds nothing worth keeping (the server recreates its socket on start).
    this.socketVolume = plan.oneShotBootstrap ? new docker.Volume(`${name}-socket`, { name: names.socketVolume }, parent) : undefined;

    // 5. Connections of the instances (from the network and from this machine).
    const networkTls: ClientTls = plan.tls ? { sslmode: SslMode.VerifyFull, sslrootcert: plan.paths.clientCaFile } : { sslmode: SslMode.Disable };
    const hostTls: ClientTls = plan.tls ? { sslmode: SslMode.VerifyFull, sslrootcert: hostCaFile } : { sslmode: SslMode.Disable };
    this.instances = {};
    for (const inst of plan.server.instances) {
      this.instances[inst.instance] = this.instanceOutputs(inst, logins, networkTls, hostTls, connectTimeoutSeconds, rotations.get(inst.instance));
    }
    if (plan.kratos) {
      const kratosInstance = this.instances[plan.kratos.instance] as LocalInstance;
      this.kratosDsn = kratosInstance.kratosDsn;
      this.kratosEnv = kratosInstance.env.kratos;
    }

    // 6. File contents and secrets of the containers, then the containers in dependency order.
    // Passwords reach the containers as files (never in their environment, which `docker inspect` shows).
    const contents: Partial<Record<FileContent, pulumi.Input<string>>> = {
      ...plan.staticFiles,
      [FileContent.BootstrapSql]: this.bootstrapSql,
      [FileContent.SuperuserPassword]: this.superuserPassword,
    };
    if (plan.kratos && this.kratosDsn) {
      // The user's config (checked by the plan when plain text, here once an Output is known) or the
      // minimal one, with the DSN added: a secret.
      const config = kratosConfig ?? (plan.kratos.config as string);
      contents[FileContent.KratosConfig] = pulumi.secret(pulumi.all([config, this.kratosDsn]).apply(([text, dsn]) => kratosConfigWithDsn(text, dsn, 'kratos.config')));
    }
    if (certs) {
      contents[FileContent.ServerCert] = certs.serverCertPem;
      contents[FileContent.ServerKey] = certs.serverKeyPem;
      contents[FileContent.CaCert] = certs.caCertPem;
    }
    const images: Record<ImageRef, pulumi.Output<string> | undefined> = { [ImageRef.Postgres]: postgresImage.imageId, [ImageRef.Kratos]: kratosImage?.imageId };
    const containers = new Map<string, docker.Container>();
    for (const c of plan.containers) {
      containers.set(c.service, this.createContainer(name, c, names.container, containers, images, contents, c.dataVolumePath ? [dataGuard] : []));
    }
    this.serverContainer = containers.get('postgres') as docker.Container;
    this.bootstrapContainer = containers.get('postgres-bootstrap');
    this.migrationContainer = containers.get('kratos-migrate');
    this.kratosContainer = containers.get('kratos');

    // 7. Admin access through the published port: the provider and the handle.
    if (plan.publish) {
      const publish = plan.publish;
      // The superuser's password is this stack's once the bootstrap exited 0 (it repairs a kept volume's).
      const bootstrap = this.bootstrapContainer;
      const ready = bootstrap ? [bootstrap] : [this.serverContainer];
      const password = bootstrap
        ? pulumi.secret(
            pulumi
              .all([this.superuserPassword, this.exitGate([['postgres-bootstrap', bootstrap]], names.container, `the admin connection ${name}-admin`)])
              .apply(([p]) => p),
          )
        : this.superuserPassword;
      this.provider = new postgresql.Provider(
        `${name}-admin`,
        {
          host: publish.clientHost,
          port: publish.hostPort,
          username: plan.superuser,
          password,
          database: plan.database,
          sslmode: plan.tls ? SslMode.Require : SslMode.Disable,
          superuser: true,
          connectTimeout: 15,
          // Never the bound (the admin's share is, see ProviderLanes): the server's own limit.
          maxConnections: adminProviderPoolSize(plan.capacity.maxConnections),
        },
        { ...parent, dependsOn: ready },
      );
      this.hostUrl = pulumi.secret(
        this.superuserPassword.apply((password) =>
          libpqUrl({
            hosts: [{ host: publish.clientHost, port: publish.hostPort }],
            database: plan.database,
            user: plan.superuser,
            password,
            tls: hostTls,
            connectTimeoutSeconds,
            applicationName: 'postgres-strategies-admin',
          }),
        ),
      );
      this.serverHandle = createServerHandle({
        host: LOCAL_SERVER_HOST,
        port: LOCAL_SERVER_PORT,
        kind: ServerKind.Local,
        sslmode: this.sslmode,
        ...(plan.tls ? { sslrootcert: plan.paths.clientCaFile } : {}),
        rootCertPem: this.caPem,
        maxConnections: plan.capacity.maxConnections,
        reservedConnections: plan.capacity.reservedConnections,
        adminConnections: plan.capacity.adminConnections,
        adminUser: plan.superuser,
        adminDatabase: plan.database,
        adminIsSuperuser: true,
        provider: this.provider,
        // What the provider connects with, as a libpq URL (login rotation's LoginRevocation).
        adminUrl: pulumi.secret(
          password.apply((p) =>
            libpqUrl({
              hosts: [{ host: publish.clientHost, port: publish.hostPort }],
              database: plan.database,
              user: plan.superuser,
              password: p,
              tls: { sslmode: plan.tls ? SslMode.Require : SslMode.Disable },
              connectTimeoutSeconds: 15,
              applicationName: 'postgres-strategies-admin',
            }),
          ),
        ),
        ...(args.loginRotation !== undefined ? { loginRotation: args.loginRotation } : {}),
        dependsOn: ready,
      });
      // The instances declared here hold their share and their names already: databases
      // provisioned through the handle (SharedPostgres, InstanceDatabase) are checked against them.
      if (plan.server.instances.length > 0) this.serverHandle.claims.claim(name, plan.server.instances);
    }

    // 8. The same stack as docker-compose.yml and its files.
    this.composeYaml = pulumi.output(renderComposeFile(plan));
    const sources = composeFileSources(plan);
    this.composeFiles = pulumi.secret(
      pulumi.all(sources.map((s) => contents[s.content] as pulumi.Input<string>)).apply((texts) => Object.fromEntries(sources.map((s, i) => [s.source, texts[i] as string]))),
    );

    this.registerOutputs({
      superuserPassword: this.superuserPassword,
      caPem: this.caPem,
      hostUrl: this.hostUrl,
      kratosDsn: this.kratosDsn,
      bootstrapSql: this.bootstrapSql,
      composeYaml: this.composeYaml,
      composeFiles: this.composeFiles,
    });
  }

  /**
   * The server handle, for `SharedPostgres` and `InstanceDatabase`: host
   * `postgres`, port 5432 (containers on the stack's network), the admin
   * provider through the published port.
   * @throws ValidationError when `publishPort` is not set: without it,
   *   nothing outside the stack's network reaches the server.
   */
  get handle(): PostgresServerHandle {
    if (!this.serverHandle) {
      throw new ValidationError(
        'publishPort',
        'the local server is not published on this machine, so Pulumi has no admin connection to provision roles and databases through a server handle',
        'Set publishPort (it binds to 127.0.0.1 only), or declare the databases in LocalPostgres\' `instances`, which the server creates itself',
      );
    }
    return this.serverHandle;
  }

  /** Whether {@link handle} is available (the server is published). */
  get hasHandle(): boolean {
    return this.serverHandle !== undefined;
  }

  private instanceOutputs(
    inst: InstancePlan,
    logins: Map<string, GeneratedLogin>,
    networkTls: ClientTls,
    hostTls: ClientTls,
    connectTimeoutSeconds: number,
    rotation?: RotationLogins,
  ): LocalInstance {
    // The login's name and password: with rotation, the current one's (from the rotation state).
    const credentials = (role: string): pulumi.Output<[string, string]> =>
      rotation && role === inst.login.name
        ? pulumi.all([rotation.current.user, rotation.current.password])
        : pulumi.all([pulumi.output(role), (logins.get(role) as GeneratedLogin).password]);
    const describe = (role: string, host: string, port: number, tls: ClientTls): pulumi.Output<ConnectionDescription> =>
      pulumi.secret(
        credentials(role).apply(
          ([user, password]): ConnectionDescription => ({
            hosts: [{ host, port }],
            database: inst.database,
            user,
            password,
            tls,
            connectTimeoutSeconds,
            applicationName: inst.instance,
            pooler: PoolerMode.None,
          }),
        ),
      );
    const connection = describe(inst.login.name, LOCAL_SERVER_HOST, LOCAL_SERVER_PORT, networkTls);
    const out: LocalInstance = {
      database: inst.database,
      user: rotation ? rotation.current.user : pulumi.output(inst.login.name),
      password: rotation ? rotation.current.password : (logins.get(inst.login.name) as GeneratedLogin).password,
      connection,
      ...connectionOutputs(connection, inst),
      ...(rotation ? { rotationState: rotation.status } : {}),
    };
    const publish = this.plan.publish;
    if (publish) out.hostUrl = pulumi.secret(describe(inst.login.name, publish.clientHost, publish.hostPort, hostTls).apply((c) => libpqUrl(c)));
    if (inst.readOnly) out.readOnlyUrl = pulumi.secret(describe(inst.readOnly.name, LOCAL_SERVER_HOST, LOCAL_SERVER_PORT, networkTls).apply((c) => libpqUrl(c)));
    return out;
  }

  /**
   * Resolves once every one-shot in `gates` exited 0; fails the deployment
   * otherwise, naming the container, its exit code, `blocked` and its
   * (redacted) output.
   */
  private exitGate(gates: Array<[string, docker.Container]>, containerName: (service: string) => string, blocked: string): pulumi.Output<true> {
    // The logs are secret (additionalSecretOutputs); the gate's value is not.
    return pulumi.unsecret(
      pulumi.all(gates.map(([, dep]) => pulumi.all([dep.exitCode, dep.containerLogs]))).apply((results) => {
        results.forEach(([code, logs], i) => checkOneShotExit(containerName((gates[i] as [string, docker.Container])[0]), code, logs, blocked));
        return true as const;
      }),
    );
  }

  private createContainer(
    name: string,
    c: ContainerPlan,
    containerName: (service: string) => string,
    created: Map<string, docker.Container>,
    images: Record<ImageRef, pulumi.Output<string> | undefined>,
    contents: Partial<Record<FileContent, pulumi.Input<string>>>,
    guards: pulumi.Resource[],
  ): docker.Container {
    const baseImage = images[c.image] as pulumi.Output<string>;
    // The exit-code gate: Docker's attach does not fail on a non-zero exit, so the
    // dependant's image is only known once every one-shot it waits for exited 0.
    const gates = c.dependsOn
      .filter((d) => d.condition === ServiceCondition.CompletedSuccessfully)
      .map((d): [string, docker.Container] => [d.service, created.get(d.service) as docker.Container]);
    const image = gates.length === 0 ? baseImage : pulumi.all([baseImage, this.exitGate(gates, containerName, containerName(c.service))]).apply(([id]) => id);
    const volumes: docker.types.input.ContainerVolume[] = [];
    if (c.dataVolumePath) volumes.push({ volumeName: this.volume.name, containerPath: c.dataVolumePath });
    if (c.socketVolumePath && this.socketVolume) volumes.push({ volumeName: this.socketVolume.name, containerPath: c.socketVolumePath });
    return new docker.Container(
      `${name}-${c.service}`,
      {
        name: containerName(c.service),
        image,
        ...(c.entrypoint ? { entrypoints: c.entrypoint } : {}),
        command: c.command,
        envs: c.env.map((e) => `${e.name}=${e.value}`),
        ...(c.user !== undefined ? { user: c.user } : {}),
        uploads: c.files.map((f) => ({
          file: f.path,
          content: SECRET_FILES.has(f.content) ? pulumi.secret(contents[f.content] as pulumi.Input<string>) : (contents[f.content] as pulumi.Input<string>),
          permissions: f.mode,
        })),
        ...(volumes.length > 0 ? { volumes } : {}),
        networksAdvanced: [{ name: this.network.name, aliases: c.aliases }],
        ...(c.ports.length > 0 ? { ports: c.ports.map((p) => ({ internal: p.internal, external: p.external, ip: p.address, protocol: 'tcp' })) } : {}),
        ...(c.healthcheck
          ? {
              healthcheck: {
                tests: c.healthcheck.test,
                interval: `${c.healthcheck.intervalSeconds}s`,
                timeout: `${c.healthcheck.timeoutSeconds}s`,
                retries: c.healthcheck.retries,
                startPeriod: `${c.healthcheck.startPeriodSeconds}s`,
              },
              wait: true,
              waitTimeout: 180,
            }
          : {}),
        restart: c.restart,
        ...(c.oneShot ? { attach: true, logs: true, mustRun: false, rm: false } : { mustRun: true }),
        // A clean shutdown (SIGINT to postgres) instead of a forced removal.
        destroyGraceSeconds: c.image === ImageRef.Postgres && !c.oneShot ? 60 : 10,
      },
      {
        parent: this,
        dependsOn: [...guards, ...c.dependsOn.map((d) => created.get(d.service) as docker.Container)],
        // Never two servers on one data directory, and container names are unique.
        deleteBeforeReplace: true,
        // A one-shot's output may echo SQL (verifiers) or a DSN: keep it encrypted in the state.
        ...(c.oneShot ? { additionalSecretOutputs: ['containerLogs'] } : {}),
      },
    );
  }
}
