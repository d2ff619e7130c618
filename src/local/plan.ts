/**
 * The local Docker strategy (the primary seed's Strategy 1) as data: which
 * image and PostgreSQL major, where the data volume is mounted, the
 * server's postgresql.conf and pg_hba.conf, the TLS wrapper script, what is
 * published on the host, the app instances' plan, and one
 * {@link ContainerPlan} per container (postgres, the one-shot bootstrap,
 * kratos-migrate, kratos). The Pulumi component and the docker-compose
 * renderer both translate this plan; neither decides anything on its own.
 *
 * The pieces live next to this file: `paths.ts` (names, ports, paths),
 * `image.ts` (image and major), `publish.ts` (host ports),
 * `server-files.ts` (postgresql.conf, pg_hba.conf, TLS wrapper,
 * certificate names, the superuser's part of the bootstrap),
 * `containers.ts` (the container plan types), `kratos.ts` (Kratos).
 *
 * Sources: the primary seed's Strategy 1 compose file (pg_isready
 * healthcheck every 5 s, timeout 5 s, 10 retries; `kratos migrate sql -e
 * --yes` after the server is healthy; Kratos after the migration completed
 * successfully; the `postgres_data` volume), seed 002 (readiness probe
 * `pg_isready -U <user> -d <db> -p <port>` from the actual values;
 * `pg_config` key rules), seed 004 (TLS server settings, `hostssl` + reject,
 * `POSTGRES_INITDB_ARGS`, "127.0.0.1:5432:5432  # Localhost only"), and the
 * official postgres image's entrypoint (init scripts in
 * /docker-entrypoint-initdb.d and `POSTGRES_PASSWORD` apply only when the
 * data directory is empty; init scripts run through psql on the Unix socket
 * as the OS user `postgres`; the command's arguments also start the
 * temporary init server, with `listen_addresses=''`; PGDATA moved to
 * /var/lib/postgresql/<major>/docker in the 18 images).
 */
import { ServerCapacity, connectionBudget } from '../core/budget';
import { KRATOS_ADMIN_PORT } from '../core/kratos';
import { ServerCertificatePlan } from '../core/certificates';
import { ValidationError, check } from '../core/errors';
import { IdentifierKind, validateIdentifier } from '../core/identifiers';
import { InstanceSpec, ServerPlan, planServer } from '../core/plan';
import { LoginRotationSpec, resolveLoginRotation } from '../core/rotation';
import { ConfValue, HbaRule, renderPgHba, renderPostgresqlConf } from '../core/server-config';
import { BootstrapMode, ContainerPlan, FileContent, FileMount, ImageRef, ServiceCondition, healthcheckTest, serverCommand } from './containers';
import { DEFAULT_LOCAL_IMAGE, PostgresImage, dataMountPath, parsePostgresImage } from './image';
import { LocalKratosOptions, LocalKratosPlan, pickKratosInstance, planKratos } from './kratos';
import { CONTAINER_PATHS, LOCAL_HEALTHCHECK_TIMING, LOCAL_INITDB_ARGS, LOCAL_SERVER_HOST, LOCAL_SERVER_PORT, LOCAL_SUPERUSER, LocalPaths } from './paths';
import { PublishPlan, checkDistinctPorts, planPublish } from './publish';
import { localCapacity, localCertificatePlan, localHbaRules, localServerSettings, renderTlsEntrypoint } from './server-files';

export * from './containers';
export * from './image';
export * from './kratos';
export * from './paths';
export * from './publish';
export * from './server-files';

/**
 * Everything the local strategy is given: the plain arguments of
 * `LocalPostgres` that decide the plan (the component adds the Pulumi-only ones).
 */
export interface LocalStackOptions {
  /**
   * The PostgreSQL image, pinned by major (and better by minor: the seed's
   * advice is `postgres:17.2-alpine`, updated deliberately).
   * @default "postgres:17-alpine"
   * Warning: changing it replaces the server container (the data stays in
   * the volume). A new *major* cannot start on the old data directory; it
   * needs a dump and restore or pg_upgrade first.
   */
  image?: string;
  /**
   * The image's PostgreSQL major, for an image whose tag does not carry it
   * (a custom image, `latest`, a digest). Decides where the volume is
   * mounted: /var/lib/postgresql from 18 on, /var/lib/postgresql/data before.
   * @default the major of the tag; an error when the tag has none
   */
  majorVersion?: number;
  /** POSTGRES_DB: the database the image creates and the admin connects to. @default "postgres" */
  database?: string;
  /**
   * Serve TLS only: a private CA and a server certificate for `postgres`,
   * `localhost` and 127.0.0.1 (and a specific publishAddress); `ssl = on`,
   * TLS 1.2 minimum; pg_hba accepts only `hostssl` and rejects the rest.
   * Clients use `sslmode=verify-full` against the CA, which Kratos gets at
   * `/etc/postgres-strategies/ca.crt`. (The bootstrap uses the Unix socket.)
   * @default false (the seed's `sslmode=disable` on the private network)
   * Warning: changing it replaces the server container.
   */
  tls?: boolean;
  /** Publish the server on this host port (TCP). Unpublished, only containers on the stack's network reach it. */
  publishPort?: number;
  /**
   * Host address the published ports bind to. Every interface (0.0.0.0 or ::)
   * only when given on purpose.
   * @default "127.0.0.1" (this machine only; seed 004's "Localhost only")
   */
  publishAddress?: string;
  /**
   * postgresql.conf overrides (seed 002's `pg_config`): keys must match
   * ^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$ and be parameters of the image's
   * major (its own `pg_settings`: a typo like `shared_bufers` is refused with
   * the name it meant), values must fit the parameter's type, unit and
   * range; numbers, booleans (`on`/`off`) or strings (quoted for you).
   * Extension keys (`name.name`) are checked for the pattern only. Paths, ports, TLS, `listen_addresses`,
   * `unix_socket_directories` and `password_encryption` are managed and
   * refused. `max_connections` (default 100) and
   * `superuser_reserved_connections` (default 3) feed the connection budget.
   * @default {} (over listen_addresses '*', max_connections 100, scram-sha-256, shared_buffers 128MB, UTC)
   * Warning: any change replaces the server container (a restart).
   */
  pgConfig?: Record<string, ConfValue>;
  /**
   * App instances: a login role and a database each (the same plan and SQL
   * as {@link SharedPostgres}), created by the server itself from the
   * bootstrap script — no published port needed. See `bootstrap`.
   * @default []
   */
  instances?: InstanceSpec[];
  /** Prefix of default database names, e.g. "vw_". @default "" */
  namePrefix?: string;
  /**
   * The default login rotation of every instance: those in `instances`
   * (Kratos' too) and those provisioned on `handle` (see
   * `InstanceSpec.loginRotation` and docs/rotation.md). A
   * rotation re-runs the bootstrap container (it sets the new password, and
   * on an emergency revocation cuts the old sessions) and replaces the
   * Kratos containers with the new DSN in their config file.
   * @default off
   */
  loginRotation?: LoginRotationSpec;
  /**
   * Run Ory Kratos: a one-shot `kratos-migrate` (`migrate sql -e --yes`) once
   * the server (and the bootstrap) is ready, and `kratos serve` only if the
   * migration exited 0. Kratos logs in as its instance's role (not the
   * superuser, unlike the seed), its DSN in the mounted config file (a
   * secret), never in its environment.
   * @default no Kratos
   */
  kratos?: LocalKratosOptions;
  /**
   * How the superuser's password and the instances reach the server. The
   * default one-shot container re-runs the idempotent script whenever it
   * changes and repairs the superuser's password on a kept volume; init
   * scripts run only while the data volume is empty.
   * @default BootstrapMode.OneShot
   */
  bootstrap?: BootstrapMode;
}

/** The whole local stack. */
export interface LocalStackPlan {
  postgres: PostgresImage;
  /** POSTGRES_DB. */
  database: string;
  superuser: string;
  tls: boolean;
  publish?: PublishPlan;
  /** The server's settings and their rendering. */
  settings: Record<string, ConfValue>;
  postgresqlConf: string;
  hbaRules: HbaRule[];
  pgHbaConf: string;
  /** The TLS wrapper (TLS only). */
  tlsEntrypoint?: string;
  /** The CA and server certificate to make (TLS only). */
  certificates?: ServerCertificatePlan;
  capacity: ServerCapacity;
  /** The app instances (with Kratos' instance) and the budget. */
  server: ServerPlan;
  bootstrap: BootstrapMode;
  /** Whether the bootstrap script creates instances (no instances → only the superuser's password). */
  hasBootstrapSql: boolean;
  /** Whether the one-shot bootstrap container runs (every mode but `InitScript`). */
  oneShotBootstrap: boolean;
  kratos?: LocalKratosPlan;
  /** Mount point of the data volume. */
  dataPath: string;
  /** The containers, dependencies first. */
  containers: ContainerPlan[];
  /** File contents known without secrets. */
  staticFiles: Partial<Record<FileContent, string>>;
  paths: LocalPaths;
}

/** Options the component passes besides the user's. */
export interface LocalPlanContext {
  /** The Kratos config comes as a Pulumi Input the component validates itself; the plan renders none. @default false */
  kratosConfigSupplied?: boolean;
}

/**
 * Plans the local stack and validates everything before anything is created.
 * @throws ValidationError (naming the argument and the fix) for a bad image
 *   or major, database, pgConfig key or value, publish port or address, a
 *   host port published twice, instance, connection budget, Kratos instance
 *   (the least-privilege shape cannot run Kratos' migrations) or Kratos config.
 */
export function planLocalStack(options: LocalStackOptions, paths: LocalPaths = CONTAINER_PATHS, context: LocalPlanContext = {}): LocalStackPlan {
  const postgres = parsePostgresImage(options.image ?? DEFAULT_LOCAL_IMAGE, options.majorVersion);
  const database = options.database ?? 'postgres';
  if (database !== 'postgres') validateIdentifier(database, IdentifierKind.Database, 'database');
  const tls = options.tls ?? false;
  check(typeof tls === 'boolean', 'tls', `${JSON.stringify(tls)} is not true or false`, 'Give tls: true to serve TLS only, or false');
  const publish = planPublish(options.publishPort, options.publishAddress, 'publishPort');
  check(
    options.publishAddress === undefined ||
      options.publishPort !== undefined ||
      options.kratos?.publishPublicPort !== undefined ||
      options.kratos?.publishAdminPort !== undefined,
    'publishAddress',
    `is set to "${options.publishAddress}" but nothing is published`,
    'Set publishPort (or a Kratos publish port) too, or remove publishAddress',
  );
  checkDistinctPorts([
    { field: 'publishPort', port: options.publishPort },
    { field: 'kratos.publishPublicPort', port: options.kratos?.publishPublicPort },
    { field: 'kratos.publishAdminPort', port: options.kratos?.publishAdminPort },
  ]);

  const settings = localServerSettings(options.pgConfig ?? {}, tls, paths, postgres.major, postgres.minor);
  const capacity = localCapacity(settings, postgres.major);
  const postgresqlConf = renderPostgresqlConf(settings, 'pgConfig', 'postgresql.conf rendered by postgres-strategies (local strategy)');
  const hbaRules = localHbaRules(tls);
  const pgHbaConf = renderPgHba(hbaRules);

  let specs = options.instances ?? [];
  check(Array.isArray(specs), 'instances', 'is not a list', 'Give a list of instances, e.g. [{ name: "blog" }]');
  // The default is checked on its own too: it also applies to instances provisioned on the handle.
  resolveLoginRotation(undefined, options.loginRotation, 'loginRotation');
  let kratosInstance: string | undefined;
  if (options.kratos !== undefined) ({ specs, instance: kratosInstance } = pickKratosInstance(specs, options.kratos));
  const server: ServerPlan =
    specs.length > 0
      ? planServer(specs, capacity, { namePrefix: options.namePrefix ?? '', adminUser: LOCAL_SUPERUSER, loginRotation: options.loginRotation })
      : { instances: [], budget: connectionBudget(capacity, []) };
  const hasBootstrapSql = server.instances.length > 0;
  const bootstrap = options.bootstrap ?? BootstrapMode.OneShot;
  check(
    Object.values(BootstrapMode).includes(bootstrap),
    'bootstrap',
    `"${String(bootstrap)}" is not a bootstrap mode`,
    `Use one of: ${Object.values(BootstrapMode).join(', ')}`,
  );
  const initScript = hasBootstrapSql && bootstrap !== BootstrapMode.OneShot;
  // The one-shot runs even without instances: it keeps the superuser's password current on a kept volume.
  const oneShot = bootstrap !== BootstrapMode.InitScript;

  const dataPath = dataMountPath(postgres.major);
  const staticFiles: Partial<Record<FileContent, string>> = {
    [FileContent.PostgresqlConf]: postgresqlConf,
    [FileContent.PgHba]: pgHbaConf,
  };

  // The server. Nothing in it depends on the instances (unless the init script is asked for).
  const serverFiles: FileMount[] = [
    { path: paths.superuserPasswordFile, content: FileContent.SuperuserPassword, mode: '0600' },
    { path: paths.configFile, content: FileContent.PostgresqlConf, mode: '0644' },
    { path: paths.hbaFile, content: FileContent.PgHba, mode: '0644' },
  ];
  let tlsEntrypoint: string | undefined;
  if (tls) {
    tlsEntrypoint = renderTlsEntrypoint(paths);
    staticFiles[FileContent.TlsEntrypoint] = tlsEntrypoint;
    serverFiles.push(
      { path: paths.entrypointScript, content: FileContent.TlsEntrypoint, mode: '0755' },
      { path: paths.certFile, content: FileContent.ServerCert, mode: '0644' },
      { path: paths.keyUpload, content: FileContent.ServerKey, mode: '0600' },
    );
  }
  if (initScript) serverFiles.push({ path: paths.initScript, content: FileContent.BootstrapSql, mode: '0644' });
  const containers: ContainerPlan[] = [
    {
      service: 'postgres',
      image: ImageRef.Postgres,
      ...(tls ? { entrypoint: ['/bin/sh', paths.entrypointScript] } : {}),
      command: serverCommand(paths),
      env: [
        { name: 'POSTGRES_USER', value: LOCAL_SUPERUSER },
        { name: 'POSTGRES_PASSWORD_FILE', value: paths.superuserPasswordFile },
        { name: 'POSTGRES_DB', value: database },
        { name: 'POSTGRES_INITDB_ARGS', value: LOCAL_INITDB_ARGS },
      ],
      files: serverFiles,
      dataVolumePath: dataPath,
      ...(oneShot ? { socketVolumePath: paths.socketDir } : {}),
      healthcheck: { test: healthcheckTest(LOCAL_SUPERUSER, database), ...LOCAL_HEALTHCHECK_TIMING },
      ports: publish ? [{ internal: LOCAL_SERVER_PORT, external: publish.hostPort, address: publish.address }] : [],
      aliases: [LOCAL_SERVER_HOST],
      oneShot: false,
      restart: 'unless-stopped',
      dependsOn: [],
    },
  ];

  // The one-shot bootstrap: psql with the idempotent script, as the OS user postgres on the
  // server's Unix socket (`local all postgres peer`): no password, so a kept volume whose
  // superuser password is not the stack's current one is repaired, not locked out.
  if (oneShot) {
    containers.push({
      service: 'postgres-bootstrap',
      image: ImageRef.Postgres,
      user: LOCAL_SUPERUSER,
      command: ['psql', '-X', '-w', '-v', 'ON_ERROR_STOP=1', '-f', paths.bootstrapScript],
      env: [
        { name: 'PGHOST', value: paths.socketDir },
        { name: 'PGPORT', value: String(LOCAL_SERVER_PORT) },
        { name: 'PGUSER', value: LOCAL_SUPERUSER },
        { name: 'PGDATABASE', value: database },
        { name: 'PGCONNECT_TIMEOUT', value: '10' },
        { name: 'PGAPPNAME', value: 'postgres-strategies-bootstrap' },
      ],
      files: [{ path: paths.bootstrapScript, content: FileContent.BootstrapSql, mode: '0644' }],
      socketVolumePath: paths.socketDir,
      ports: [],
      aliases: [],
      oneShot: true,
      restart: 'no',
      dependsOn: [{ service: 'postgres', condition: ServiceCondition.Healthy }],
    });
  }

  // Kratos: the migration, then the server.
  let kratos: LocalKratosPlan | undefined;
  if (options.kratos !== undefined) {
    const planned = planKratos(options.kratos, {
      instance: kratosInstance as string,
      tls,
      publishAddress: options.publishAddress,
      configSupplied: context.kratosConfigSupplied ?? false,
      migrateAfter: oneShot
        ? { service: 'postgres-bootstrap', condition: ServiceCondition.CompletedSuccessfully }
        : { service: 'postgres', condition: ServiceCondition.Healthy },
      paths,
    });
    kratos = planned.kratos;
    containers.push(...planned.containers);
    Object.assign(staticFiles, planned.staticFiles);
  }

  return {
    postgres,
    database,
    superuser: LOCAL_SUPERUSER,
    tls,
    publish,
    settings,
    postgresqlConf,
    hbaRules,
    pgHbaConf,
    tlsEntrypoint,
    certificates: tls ? localCertificatePlan(publish) : undefined,
    capacity,
    server,
    bootstrap,
    hasBootstrapSql,
    oneShotBootstrap: oneShot,
    kratos,
    dataPath,
    containers,
    staticFiles,
    paths,
  };
}

/** The Docker names of the stack's objects. */
export interface DockerNames {
  network: string;
  volume: string;
  /** The volume holding the server's Unix socket, shared with the bootstrap container. */
  socketVolume: string;
  container(service: string): string;
}

const DOCKER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * Docker names: `<prefix><name>-network`, `<prefix><name>-postgres-data`,
 * `<prefix><name>-postgres-socket`, `<prefix><name>-<service>`. The
 * component's prefix defaults to `<project>-<stack>-`, so two stacks (or
 * projects) on one Docker host never share a container, network or volume.
 * @throws ValidationError when the names cannot name Docker objects (the
 *   field is `dockerNamePrefix` when the prefix is at fault, else `name`).
 */
export function dockerNames(name: string, volumeName?: string, prefix = ''): DockerNames {
  check(DOCKER_NAME.test(name) && name.length <= 100, 'name', `"${name}" cannot name Docker containers, networks and volumes`, 'Use letters, digits, "_", "." and "-", starting with a letter or digit');
  const base = `${prefix}${name}`;
  check(
    prefix === '' || (DOCKER_NAME.test(base) && base.length <= 200),
    'dockerNamePrefix',
    `"${prefix}" cannot start Docker names (it makes "${base}")`,
    'Give letters, digits, "_", "." and "-", starting with a letter or digit (e.g. "myapp-dev-")',
  );
  const volume = volumeName ?? `${base}-postgres-data`;
  check(DOCKER_NAME.test(volume) && volume.length <= 255, 'volumeName', `"${volume}" is not a Docker volume name`, 'Use letters, digits, "_", "." and "-", starting with a letter or digit');
  return { network: `${base}-network`, volume, socketVolume: `${base}-postgres-socket`, container: (service) => `${base}-${service}` };
}

/** The label naming the stack a data volume belongs to (`<project>/<stack>/<component name>`). */
export const VOLUME_OWNER_LABEL = 'org.postgres-strategies.owner';

/** A Docker label as `@pulumi/docker` reports it. */
export interface DockerLabel {
  label: string;
  value: string;
}

/**
 * Checks that the data volume Docker gave the stack is its own. Docker's
 * volume create returns an existing volume of the same name instead of
 * failing, so without this check a second stack with the same
 * `volumeName` would start a second server on the first stack's data
 * directory (PostgreSQL's lock file does not see across containers: the
 * data is corrupted). A volume with no owner label (made by hand, or by a
 * release before the label) is accepted.
 * @param labels the volume's labels as Docker reports them after the create
 * @param owner this component's owner value (`<project>/<stack>/<name>`)
 * @param adopt `adoptVolume`: take over a volume another stack made
 * @throws ValidationError naming `volumeName`, the volume and its owner
 */
export function checkVolumeOwner(volume: string, labels: readonly DockerLabel[] | undefined, owner: string, adopt: boolean): void {
  const current = labels?.find((l) => l.label === VOLUME_OWNER_LABEL)?.value;
  if (current === undefined || current === owner || adopt) return;
  throw new ValidationError(
    'volumeName',
    `the Docker volume "${volume}" belongs to ${current} (its ${VOLUME_OWNER_LABEL} label), and a second server on its data directory would corrupt it`,
    `Give this stack its own volumeName (or dockerNamePrefix). To take over the data of a stack that is gone, set adoptVolume: true; to copy it into this stack, use \`npx postgres-strategies migrate\``,
  );
}

/** A host port the stack publishes, with the argument that asks for it (checked free at preview). */
export interface HostPortClaim {
  /** The argument, e.g. `publishPort`, `kratos.publishAdminPort`. */
  field: string;
  /** The host address it binds to. */
  address: string;
  port: number;
}

/** An image the stack runs, with the argument that names it (checked present or pullable at preview). */
export interface ImageClaim {
  /** `image` or `kratos.image`. */
  field: string;
  image: string;
}

/** The host ports a plan publishes, by argument. */
export function localHostPorts(plan: LocalStackPlan): HostPortClaim[] {
  const ports: HostPortClaim[] = [];
  if (plan.publish) ports.push({ field: 'publishPort', address: plan.publish.address, port: plan.publish.hostPort });
  for (const p of plan.kratos?.publish ?? []) {
    ports.push({ field: p.internal === KRATOS_ADMIN_PORT ? 'kratos.publishAdminPort' : 'kratos.publishPublicPort', address: p.address, port: p.external });
  }
  return ports;
}

/** The images a plan runs, by argument. */
export function localImages(plan: LocalStackPlan): ImageClaim[] {
  return [{ field: 'image', image: plan.postgres.image }, ...(plan.kratos ? [{ field: 'kratos.image', image: plan.kratos.image }] : [])];
}

/** What holds a host port, as a probe found it. */
export interface PortHolder {
  /** A container of the Docker engine that publishes it, when one does. */
  container?: string;
  /** The error of binding it on this machine (EADDRINUSE), when no container was found. */
  bindError?: string;
}

/**
 * Refuses a host port something already holds: the container would not
 * start at `pulumi up` (Docker: "address already in use" / "port is already
 * allocated"), after the volume and network were made.
 * @throws ValidationError naming the argument, the address and the holder.
 */
export function checkHostPortFree(claim: HostPortClaim, holder: PortHolder | undefined): void {
  if (!holder) return;
  const by = holder.container ? `the container ${holder.container} publishes it` : `binding it failed: ${holder.bindError}`;
  throw new ValidationError(
    claim.field,
    `host port ${claim.port} on ${claim.address} is already in use (${by})`,
    `Give ${claim.field} a free port, or stop what holds ${claim.address}:${claim.port}`,
  );
}

/**
 * Refuses an image the Docker engine neither has nor can pull: `pulumi up`
 * would fail at the image pull.
 * @throws ValidationError naming the argument, the image and the registry's answer.
 */
export function checkImageAvailable(claim: ImageClaim, registryAnswer: string | undefined): void {
  if (registryAnswer === undefined) return;
  throw new ValidationError(
    claim.field,
    `the image "${claim.image}" is not in the Docker engine, and its registry could not be asked for it (${registryAnswer})`,
    `Pull or load "${claim.image}" into the engine (docker pull / docker load), or give ${claim.field} an image it has`,
  );
}
