/**
 * The local Docker strategy (the primary seed's Strategy 1) as data: which
 * image and PostgreSQL major, where the data volume is mounted, the
 * server's postgresql.conf and pg_hba.conf, the TLS wrapper script, what is
 * published on the host, the app instances' plan, and one
 * {@link ContainerPlan} per container (postgres, the one-shot bootstrap,
 * kratos-migrate, kratos). The Pulumi component and the docker-compose
 * renderer both translate this plan; neither decides anything on its own.
 *
 * Sources: the primary seed's Strategy 1 compose file (pg_isready
 * healthcheck every 5 s, timeout 5 s, 10 retries; `kratos migrate sql -e
 * --yes` after the server is healthy; Kratos after the migration completed
 * successfully; the `postgres_data` volume), seed 002 (readiness probe
 * `pg_isready -U <user> -d <db> -p <port>` from the actual values;
 * `pg_config` key rules), seed 004 (TLS server settings, `hostssl` + reject,
 * `POSTGRES_INITDB_ARGS`, "127.0.0.1:5432:5432  # Localhost only"), and the
 * official postgres image's entrypoint (init scripts in
 * /docker-entrypoint-initdb.d run only when the data directory is empty,
 * through psql on the Unix socket as the OS user `postgres`; the command's
 * arguments also start the temporary init server, with
 * `listen_addresses=''`; PGDATA moved to /var/lib/postgresql/<major>/docker
 * in the 18 images).
 */
import { isIP } from 'node:net';
import { ServerCapacity, connectionBudget } from '../core/budget';
import { ServerCertificatePlan, planServerCertificates } from '../core/certificates';
import { DEFAULT_PORT } from '../core/dsn';
import { ValidationError, check, checkInteger } from '../core/errors';
import { IdentifierKind, validateIdentifier } from '../core/identifiers';
import { InstanceSpec, RoleShape, ServerPlan, planServer } from '../core/plan';
import {
  ConfValue,
  HbaMethod,
  HbaRule,
  MANAGED_CONF_KEYS,
  renderPgHba,
  renderPostgresqlConf,
  standardHba,
  tlsServerSettings,
  validatePgConfig,
} from '../core/server-config';
import { KRATOS_DEFAULT_IMAGE, KRATOS_MIGRATE_COMMAND, KRATOS_PUBLIC_PORT, KRATOS_ADMIN_PORT, KratosConfigOptions, kratosServeCommand, renderKratosConfig, KRATOS_IDENTITY_SCHEMA, validateKratosConfig } from '../core/kratos';

/** The image the seed pins. */
export const DEFAULT_LOCAL_IMAGE = 'postgres:17-alpine';
/** The oldest major this library supports (seed 001: PostgreSQL ≥ 14). */
export const MIN_POSTGRES_MAJOR = 14;
/** The superuser the image creates; kept as `postgres` so `local … peer` lets the entrypoint in. */
export const LOCAL_SUPERUSER = 'postgres';
/** The server's name on the private network (the compose service name in the seed). */
export const LOCAL_SERVER_HOST = 'postgres';
/** The port inside the container and on the private network. */
export const LOCAL_SERVER_PORT = DEFAULT_PORT;
/** Seed 004's initdb arguments: SCRAM for TCP logins, data checksums. */
export const LOCAL_INITDB_ARGS = '--auth-host=scram-sha-256 --data-checksums';
/** The healthcheck timing of the seed's compose file, plus a start period for initdb and init scripts. */
export const LOCAL_HEALTHCHECK_TIMING = { intervalSeconds: 5, timeoutSeconds: 5, retries: 10, startPeriodSeconds: 30 } as const;

/** Where things live in the containers. */
export interface LocalPaths {
  /** postgresql.conf, passed as `-c config_file=…`. */
  configFile: string;
  /** pg_hba.conf, passed as `-c hba_file=…`. */
  hbaFile: string;
  /** The TLS wrapper entrypoint (TLS only). */
  entrypointScript: string;
  /** The server certificate. */
  certFile: string;
  /** Where the server key is uploaded (root-owned, 0600). */
  keyUpload: string;
  /** The directory the wrapper copies the key into, owned by the OS user postgres. */
  keyDir: string;
  /** The key the server reads (`ssl_key_file`): `<keyDir>/server.key`. */
  keyFile: string;
  /** The bootstrap script as an init script (runs on an empty volume only). */
  initScript: string;
  /** The bootstrap script in the one-shot bootstrap container. */
  bootstrapScript: string;
  /** The CA certificate in client containers (Kratos, bootstrap): their `sslrootcert`. */
  clientCaFile: string;
  /** Kratos' config file. */
  kratosConfig: string;
  /** Kratos' identity schema. */
  kratosIdentitySchema: string;
}

/** The paths in the containers. */
export const CONTAINER_PATHS: Readonly<LocalPaths> = {
  configFile: '/etc/postgresql/postgresql.conf',
  hbaFile: '/etc/postgresql/pg_hba.conf',
  entrypointScript: '/etc/postgresql/postgres-strategies-entrypoint.sh',
  certFile: '/etc/postgresql/tls/server.crt',
  keyUpload: '/etc/postgresql/tls/server.key',
  keyDir: '/run/postgres-strategies',
  keyFile: '/run/postgres-strategies/server.key',
  initScript: '/docker-entrypoint-initdb.d/10-postgres-strategies.sql',
  bootstrapScript: '/etc/postgres-strategies/bootstrap.sql',
  clientCaFile: '/etc/postgres-strategies/ca.crt',
  kratosConfig: '/etc/config/kratos/kratos.yml',
  kratosIdentitySchema: '/etc/config/kratos/identity.schema.json',
};

// ---------------------------------------------------------------------------
// Image and major version

/** A PostgreSQL image and its major version. */
export interface PostgresImage {
  /** The image reference as given. */
  image: string;
  /** Its PostgreSQL major version. */
  major: number;
}

/** The tag of an image reference (`registry:5000/postgres:17-alpine@sha256:…` → `17-alpine`), or undefined. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] as string;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon < 0 ? undefined : withoutDigest.slice(colon + 1);
}

/**
 * Parses the image reference and derives the PostgreSQL major from its tag
 * (`17-alpine`, `17.2`, `16-bookworm` → 17, 17, 16).
 * @throws ValidationError for an empty or malformed reference, a tag without
 *   a major (`latest`, no tag, a digest only) unless `majorVersion` is given,
 *   a major that disagrees with the tag, or a major below 14.
 */
export function parsePostgresImage(image: string, majorVersion?: number, field = 'image'): PostgresImage {
  check(
    typeof image === 'string' && /^[a-z0-9][a-z0-9._\-/:]*(@sha256:[a-f0-9]{64})?$/i.test(image) && !/\s/.test(image),
    field,
    `"${String(image)}" is not an image reference`,
    'Give a reference like "postgres:17-alpine" or "registry.example.com/postgres:17.2"',
  );
  const tag = imageTag(image);
  const fromTag = tag !== undefined && /^(\d+)(\.\d+)*([-_].*)?$/.test(tag) ? Number(/^\d+/.exec(tag)![0]) : undefined;
  if (majorVersion !== undefined) {
    checkInteger(majorVersion, 'majorVersion', MIN_POSTGRES_MAJOR, 99, 'major version');
    check(
      fromTag === undefined || fromTag === majorVersion,
      'majorVersion',
      `${majorVersion} disagrees with the image tag "${tag}" (major ${fromTag})`,
      'Remove majorVersion, or pin an image of that major',
    );
  }
  const major = majorVersion ?? fromTag;
  if (major === undefined) {
    throw new ValidationError(
      field,
      `the tag of "${image}" does not name a PostgreSQL major version, and the data directory layout and the upgrade path depend on it`,
      'Pin a tag with the major, e.g. "postgres:17-alpine" or "postgres:17.2-alpine", or give majorVersion for a custom image',
    );
  }
  check(
    major >= MIN_POSTGRES_MAJOR,
    field,
    `PostgreSQL ${major} is older than the supported ${MIN_POSTGRES_MAJOR}`,
    `Use PostgreSQL ${MIN_POSTGRES_MAJOR} or newer (the default image is ${DEFAULT_LOCAL_IMAGE})`,
  );
  return { image, major };
}

/**
 * Where the data volume is mounted: `/var/lib/postgresql` from 18 on (the 18
 * images keep PGDATA in `/var/lib/postgresql/18/docker`, so that
 * `pg_upgrade --link` can see old and new data on one mount), and
 * `/var/lib/postgresql/data` (= PGDATA) before.
 */
export function dataMountPath(major: number): string {
  return major >= 18 ? '/var/lib/postgresql' : '/var/lib/postgresql/data';
}

// ---------------------------------------------------------------------------
// Publishing on the host

/** A port published on the host. */
export interface PublishPlan {
  /** The host port. */
  hostPort: number;
  /** The host address it is bound to. */
  address: string;
  /** Whether that is every interface (0.0.0.0 or ::). */
  allInterfaces: boolean;
  /** The address clients on the host connect to (127.0.0.1 for 0.0.0.0, ::1 for ::). */
  clientHost: string;
}

/** Whether an address is a loopback address. */
export function isLoopback(address: string): boolean {
  return address === '::1' || (isIP(address) === 4 && address.startsWith('127.'));
}

/**
 * Plans a published port: bound to `address` (default 127.0.0.1), never to
 * every interface unless that address (0.0.0.0 or ::) is given on purpose.
 * @throws ValidationError for a bad port, an address that is not an IP
 *   address, or an address without a port.
 */
export function planPublish(port: number | undefined, address: string | undefined, portField: string, addressField = 'publishAddress'): PublishPlan | undefined {
  if (port === undefined) return undefined;
  checkInteger(port, portField, 1, 65535, 'port');
  const bind = address ?? '127.0.0.1';
  check(
    isIP(bind) !== 0,
    addressField,
    `"${bind}" is not an IP address`,
    'Give the host address to bind to, e.g. "127.0.0.1" (the default, this machine only) or, on purpose, "0.0.0.0" (every interface)',
  );
  const allInterfaces = bind === '0.0.0.0' || bind === '::';
  const clientHost = bind === '0.0.0.0' ? '127.0.0.1' : bind === '::' ? '::1' : bind;
  return { hostPort: port, address: bind, allInterfaces, clientHost };
}

// ---------------------------------------------------------------------------
// postgresql.conf and pg_hba.conf

/**
 * Keys the local strategy manages on top of the general ones: the server
 * must listen on the private network, the entrypoint needs its Unix socket,
 * and passwords are SCRAM verifiers.
 */
export const LOCAL_MANAGED_CONF_KEYS: ReadonlySet<string> = new Set([
  ...MANAGED_CONF_KEYS,
  'listen_addresses',
  'unix_socket_directories',
  'password_encryption',
]);

/**
 * Defaults of the local server. The container passes its own
 * postgresql.conf (`config_file`), so the file initdb wrote is not read: the
 * settings initdb would have chosen are restated here.
 */
export const LOCAL_DEFAULT_SETTINGS: Readonly<Record<string, ConfValue>> = {
  listen_addresses: '*',
  max_connections: 100,
  password_encryption: 'scram-sha-256',
  shared_buffers: '128MB',
  dynamic_shared_memory_type: 'posix',
  max_wal_size: '1GB',
  min_wal_size: '80MB',
  timezone: 'Etc/UTC',
  log_timezone: 'Etc/UTC',
  datestyle: 'iso, mdy',
  default_text_search_config: 'pg_catalog.english',
};

/**
 * The server's settings: defaults, then the user's `pgConfig`, then the
 * managed TLS settings (`ssl = on`, TLSv1.2 minimum, the certificate and
 * the key the wrapper copies) or `ssl = off`.
 * @throws ValidationError for a key that fails ^[a-z][a-z0-9_.]*$, a managed
 *   key, or a value postgresql.conf cannot hold.
 */
export function localServerSettings(pgConfig: Record<string, ConfValue>, tls: boolean, paths: LocalPaths = CONTAINER_PATHS): Record<string, ConfValue> {
  check(
    pgConfig !== null && typeof pgConfig === 'object' && !Array.isArray(pgConfig),
    'pgConfig',
    'is not a map of setting names to values',
    'Give an object such as { shared_buffers: "256MB", max_connections: 200 }',
  );
  validatePgConfig(pgConfig, 'pgConfig', LOCAL_MANAGED_CONF_KEYS);
  const settings: Record<string, ConfValue> = { ...LOCAL_DEFAULT_SETTINGS, ...pgConfig };
  if (tls) Object.assign(settings, tlsServerSettings({ certFile: paths.certFile, keyFile: paths.keyFile }));
  else settings['ssl'] = false;
  return settings;
}

/** The server's connection capacity from its settings (max_connections − reserved slots). @throws ValidationError */
export function localCapacity(settings: Record<string, ConfValue>): ServerCapacity {
  const number = (key: string, fallback: number, min: number, max: number): number => {
    const value = settings[key] ?? fallback;
    check(typeof value === 'number', `pgConfig.${key}`, `${JSON.stringify(value)} is not a number`, `Give ${key} as a whole number`);
    checkInteger(value, `pgConfig.${key}`, min, max, 'connections');
    return value;
  };
  const maxConnections = number('max_connections', 100, 1, 262143);
  const reserved = number('superuser_reserved_connections', 3, 0, maxConnections - 1) + number('reserved_connections', 0, 0, maxConnections - 1);
  check(reserved < maxConnections, 'pgConfig.max_connections', `${maxConnections} leaves no connection after ${reserved} reserved slots`, 'Raise max_connections');
  return { maxConnections, reservedConnections: reserved };
}

/**
 * pg_hba rules of the local server: `local all postgres peer` first (the
 * entrypoint runs initdb scripts through psql on the Unix socket as the OS
 * user postgres), SCRAM for every other socket login, and over TCP SCRAM
 * from any address (the Docker network's subnet is chosen by the engine) —
 * only over TLS when `tls`, with every `hostnossl` connection rejected —
 * then a final reject.
 */
export function localHbaRules(tls: boolean): HbaRule[] {
  return standardHba({ tls, localPeerUser: LOCAL_SUPERUSER, localMethod: HbaMethod.ScramSha256 });
}

// ---------------------------------------------------------------------------
// Shell

/** Quotes a word for POSIX sh: single quotes, `'` as `'\''`. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The TLS wrapper entrypoint (POSIX sh). PostgreSQL refuses a key file that
 * is not owned by its OS user (or root) or that others can read, and
 * uploaded files belong to root; the wrapper runs as root before the image's
 * entrypoint drops privileges, copies the key into a directory only the OS
 * user `postgres` can read (whatever its uid: 70 in the alpine images, 999
 * in the Debian ones), and hands over to `docker-entrypoint.sh` with the
 * same arguments.
 */
export function renderTlsEntrypoint(paths: LocalPaths = CONTAINER_PATHS): string {
  return [
    '#!/bin/sh',
    '# Rendered by postgres-strategies. Gives the TLS key to the OS user postgres, which',
    '# PostgreSQL requires (owner-only key file), then starts the image\'s entrypoint.',
    'set -eu',
    `install -d -m 0700 -o postgres -g postgres ${shellQuote(paths.keyDir)}`,
    `install -m 0600 -o postgres -g postgres ${shellQuote(paths.keyUpload)} ${shellQuote(paths.keyFile)}`,
    'exec docker-entrypoint.sh "$@"',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// Containers

/** Secrets that containers receive through their environment. */
export enum EnvSecret {
  /** The superuser's password (`POSTGRES_PASSWORD`, and `PGPASSWORD` of the bootstrap). */
  SuperuserPassword = 'POSTGRES_PASSWORD',
  /** The Kratos DSN (it carries the Kratos role's password). */
  KratosDsn = 'KRATOS_DSN',
}

/** One environment variable: a plain value, or a secret filled in by the component / the .env file. */
export interface EnvEntry {
  name: string;
  value?: string;
  secret?: EnvSecret;
}

/** What a file in a container holds. */
export enum FileContent {
  PostgresqlConf = 'postgresql.conf',
  PgHba = 'pg_hba.conf',
  TlsEntrypoint = 'entrypoint.sh',
  BootstrapSql = 'bootstrap.sql',
  ServerCert = 'server.crt',
  ServerKey = 'server.key',
  CaCert = 'ca.crt',
  KratosConfig = 'kratos.yml',
  IdentitySchema = 'identity.schema.json',
}

/** Where each file sits next to the docker-compose.yml (bind-mount source). */
export const COMPOSE_SOURCES: Readonly<Record<FileContent, string>> = {
  [FileContent.PostgresqlConf]: './postgres/postgresql.conf',
  [FileContent.PgHba]: './postgres/pg_hba.conf',
  [FileContent.TlsEntrypoint]: './postgres/entrypoint.sh',
  [FileContent.BootstrapSql]: './postgres/bootstrap.sql',
  [FileContent.ServerCert]: './postgres/tls/server.crt',
  [FileContent.ServerKey]: './postgres/tls/server.key',
  [FileContent.CaCert]: './postgres/tls/ca.crt',
  [FileContent.KratosConfig]: './kratos/kratos.yml',
  [FileContent.IdentitySchema]: './kratos/identity.schema.json',
};

/** A file placed in a container. */
export interface FileMount {
  /** Path in the container. */
  path: string;
  content: FileContent;
  /** Octal mode, e.g. "0644". */
  mode: string;
}

/** A port of a container published on the host. */
export interface PortPlan {
  internal: number;
  external: number;
  address: string;
}

/** When a dependant may start. */
export enum ServiceCondition {
  /** The dependency's healthcheck passes (compose `service_healthy`; Pulumi: `wait: true`). */
  Healthy = 'service_healthy',
  /** The one-shot dependency exited 0 (compose `service_completed_successfully`; Pulumi: the exit-code gate). */
  CompletedSuccessfully = 'service_completed_successfully',
}

/** A container's dependency on another. */
export interface ServiceDependency {
  service: string;
  condition: ServiceCondition;
}

/** Docker healthcheck. */
export interface HealthcheckPlan {
  /** Exec form: `["CMD", "pg_isready", …]`. */
  test: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  retries: number;
  startPeriodSeconds: number;
}

/** Which image a container runs. */
export enum ImageRef {
  Postgres = 'postgres',
  Kratos = 'kratos',
}

/** One container of the stack. */
export interface ContainerPlan {
  /** Compose service name; the Docker container and Pulumi resource are `<name>-<service>`. */
  service: string;
  image: ImageRef;
  /** Overrides the image's entrypoint. */
  entrypoint?: string[];
  command: string[];
  env: EnvEntry[];
  files: FileMount[];
  /** Mount point of the data volume. */
  dataVolumePath?: string;
  healthcheck?: HealthcheckPlan;
  ports: PortPlan[];
  /** Names on the private network. */
  aliases: string[];
  /** Runs to completion once (bootstrap, migration) instead of serving. */
  oneShot: boolean;
  restart: 'unless-stopped' | 'no';
  dependsOn: ServiceDependency[];
}

/** How app instances get onto the server. */
export enum BootstrapMode {
  /**
   * The bootstrap script as an init script (/docker-entrypoint-initdb.d):
   * runs once, when the volume is empty. Later changes to the instances
   * replace the server container but never reach existing data.
   */
  InitScript = 'init-script',
  /**
   * A one-shot `postgres-bootstrap` container runs the idempotent script with
   * psql once the server is healthy, and again whenever the script changes.
   * The server container does not depend on the instances.
   */
  OneShot = 'one-shot',
  /** Both: complete on first boot, and later changes re-run the script (the server container is replaced on change). */
  InitScriptAndOneShot = 'init-script-and-one-shot',
}

/** Kratos settings of the stack. */
export interface LocalKratosOptions {
  /** The instance whose database and login Kratos uses. @default the only instance, or a new instance "kratos" when there is none */
  instance?: string;
  /** @default "oryd/kratos:v1.3.1" (the seed's pin) */
  image?: string;
  /**
   * Kratos' config file (YAML) instead of the minimal one rendered here. It
   * must not set `dsn` (Kratos gets it through the DSN variable). The minimal
   * identity schema is still mounted at /etc/config/kratos/identity.schema.json.
   * Warning: any change replaces the Kratos container.
   */
  config?: string;
  /** Kratos' public URL, as browsers reach it. @default http://127.0.0.1:<publishPublicPort or 4433>/ */
  publicBaseUrl?: string;
  /** Where browsers return after self-service flows. @default "http://127.0.0.1:4455/" */
  returnUrl?: string;
  /** Publish Kratos' public API (4433) on this host port (bound like publishAddress). */
  publishPublicPort?: number;
  /** Publish Kratos' admin API (4434, no authentication) on this host port (bound like publishAddress). */
  publishAdminPort?: number;
  /** Run `kratos serve --dev` (insecure cookies over plain HTTP). @default false */
  dev?: boolean;
}

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
   * Clients use `sslmode=verify-full` against the CA, which Kratos and the
   * bootstrap container get at `/etc/postgres-strategies/ca.crt`.
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
   * ^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$; numbers, booleans (`on`/`off`) or
   * strings (quoted for you). Paths, ports, TLS, `listen_addresses`,
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
   * Run Ory Kratos: a one-shot `kratos-migrate` (`migrate sql -e --yes`) once
   * the server (and the bootstrap) is ready, and `kratos serve` only if the
   * migration exited 0. Kratos logs in as its instance's role (not the
   * superuser, unlike the seed), with `DSN` in its environment.
   * @default no Kratos
   */
  kratos?: LocalKratosOptions;
  /**
   * How instances reach the server. Init scripts run only while the data
   * volume is empty; the one-shot bootstrap container re-runs the idempotent
   * script whenever it changes.
   * @default BootstrapMode.InitScriptAndOneShot
   */
  bootstrap?: BootstrapMode;
}

/** The Kratos part of the plan. */
export interface LocalKratosPlan {
  /** The instance Kratos uses. */
  instance: string;
  image: string;
  /** Kratos' config file (YAML). */
  config: string;
  identitySchema: string;
  publish: PortPlan[];
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
  /** Whether there is a bootstrap script at all (no instances → none). */
  hasBootstrapSql: boolean;
  kratos?: LocalKratosPlan;
  /** Mount point of the data volume. */
  dataPath: string;
  /** The containers, dependencies first. */
  containers: ContainerPlan[];
  /** File contents known without secrets. */
  staticFiles: Partial<Record<FileContent, string>>;
  paths: LocalPaths;
}

/** The readiness probe: pg_isready with the actual user, database and port (seed 002), over TCP. */
export function healthcheckTest(user: string, database: string, port: number = LOCAL_SERVER_PORT): string[] {
  // -h 127.0.0.1: the entrypoint's temporary init server listens on the Unix
  // socket only, so a socket probe would report healthy while init scripts
  // still run and before the server accepts TCP connections.
  return ['CMD', 'pg_isready', '-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', database];
}

/** The server's command: its own postgresql.conf and pg_hba.conf. */
export function serverCommand(paths: LocalPaths = CONTAINER_PATHS): string[] {
  return ['postgres', '-c', `config_file=${paths.configFile}`, '-c', `hba_file=${paths.hbaFile}`];
}

/** Names in the server certificate: the network alias, localhost, 127.0.0.1, and a specific published address. */
export function localCertificatePlan(publish: PublishPlan | undefined): ServerCertificatePlan {
  const ips = ['127.0.0.1'];
  if (publish && !publish.allInterfaces && !ips.includes(publish.address)) ips.push(publish.address);
  if (publish?.address === '::') ips.push('::1');
  return planServerCertificates({ dnsNames: [LOCAL_SERVER_HOST, 'localhost'], ipAddresses: ips });
}

function pickKratosInstance(specs: InstanceSpec[], kratos: LocalKratosOptions): { specs: InstanceSpec[]; instance: string } {
  if (kratos.instance !== undefined) {
    const spec = specs.find((s) => s.name === kratos.instance);
    check(
      spec !== undefined,
      'kratos.instance',
      `no instance is named "${kratos.instance}"`,
      `Name one of the instances (${specs.map((s) => s.name).join(', ') || 'none given'}), or leave kratos.instance out to get an instance "kratos"`,
    );
    return { specs, instance: kratos.instance };
  }
  if (specs.length === 0) return { specs: [{ name: 'kratos' }], instance: 'kratos' };
  check(
    specs.length === 1,
    'kratos.instance',
    `is not set and there are ${specs.length} instances`,
    'Name the instance whose database Kratos uses',
  );
  return { specs, instance: (specs[0] as InstanceSpec).name };
}

const ENV_SSL = (tls: boolean, paths: LocalPaths): EnvEntry[] =>
  tls
    ? [{ name: 'PGSSLMODE', value: 'verify-full' }, { name: 'PGSSLROOTCERT', value: paths.clientCaFile }]
    : [{ name: 'PGSSLMODE', value: 'disable' }];

/**
 * Plans the local stack and validates everything before anything is created.
 * @throws ValidationError (naming the argument and the fix) for a bad image
 *   or major, database, pgConfig key or value, publish port or address,
 *   instance, connection budget, Kratos instance (the least-privilege shape
 *   cannot run Kratos' migrations) or Kratos config.
 */
export function planLocalStack(options: LocalStackOptions, paths: LocalPaths = CONTAINER_PATHS): LocalStackPlan {
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

  const settings = localServerSettings(options.pgConfig ?? {}, tls, paths);
  const capacity = localCapacity(settings);
  const postgresqlConf = renderPostgresqlConf(settings, 'pgConfig', 'postgresql.conf rendered by postgres-strategies (local strategy)');
  const hbaRules = localHbaRules(tls);
  const pgHbaConf = renderPgHba(hbaRules);

  let specs = options.instances ?? [];
  check(Array.isArray(specs), 'instances', 'is not a list', 'Give a list of instances, e.g. [{ name: "blog" }]');
  let kratosInstance: string | undefined;
  if (options.kratos !== undefined) {
    ({ specs, instance: kratosInstance } = pickKratosInstance(specs, options.kratos));
    const spec = specs.find((s) => s.name === kratosInstance) as InstanceSpec;
    check(
      (spec.shape ?? RoleShape.Owner) === RoleShape.Owner,
      'kratos.instance',
      `instance "${kratosInstance}" uses the ${RoleShape.LeastPrivilege} shape, whose login role cannot create tables, so \`kratos migrate sql\` would fail`,
      `Give Kratos an instance with the ${RoleShape.Owner} shape (the default)`,
    );
  }
  const server: ServerPlan =
    specs.length > 0
      ? planServer(specs, capacity, { namePrefix: options.namePrefix ?? '', adminUser: LOCAL_SUPERUSER })
      : { instances: [], budget: connectionBudget(capacity, []) };
  const hasBootstrapSql = server.instances.length > 0;
  const bootstrap = options.bootstrap ?? BootstrapMode.InitScriptAndOneShot;
  check(
    Object.values(BootstrapMode).includes(bootstrap),
    'bootstrap',
    `"${String(bootstrap)}" is not a bootstrap mode`,
    `Use one of: ${Object.values(BootstrapMode).join(', ')}`,
  );
  const initScript = hasBootstrapSql && bootstrap !== BootstrapMode.OneShot;
  const oneShot = hasBootstrapSql && bootstrap !== BootstrapMode.InitScript;

  const dataPath = dataMountPath(postgres.major);
  const caMount: FileMount = { path: paths.clientCaFile, content: FileContent.CaCert, mode: '0644' };
  const staticFiles: Partial<Record<FileContent, string>> = {
    [FileContent.PostgresqlConf]: postgresqlConf,
    [FileContent.PgHba]: pgHbaConf,
  };

  // The server.
  const serverFiles: FileMount[] = [
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
        { name: 'POSTGRES_PASSWORD', secret: EnvSecret.SuperuserPassword },
        { name: 'POSTGRES_DB', value: database },
        { name: 'POSTGRES_INITDB_ARGS', value: LOCAL_INITDB_ARGS },
      ],
      files: serverFiles,
      dataVolumePath: dataPath,
      healthcheck: { test: healthcheckTest(LOCAL_SUPERUSER, database), ...LOCAL_HEALTHCHECK_TIMING },
      ports: publish ? [{ internal: LOCAL_SERVER_PORT, external: publish.hostPort, address: publish.address }] : [],
      aliases: [LOCAL_SERVER_HOST],
      oneShot: false,
      restart: 'unless-stopped',
      dependsOn: [],
    },
  ];

  // The one-shot bootstrap: psql with the idempotent script, as the superuser over the network.
  if (oneShot) {
    containers.push({
      service: 'postgres-bootstrap',
      image: ImageRef.Postgres,
      command: ['psql', '-X', '-w', '-v', 'ON_ERROR_STOP=1', '-f', paths.bootstrapScript],
      env: [
        { name: 'PGHOST', value: LOCAL_SERVER_HOST },
        { name: 'PGPORT', value: String(LOCAL_SERVER_PORT) },
        { name: 'PGUSER', value: LOCAL_SUPERUSER },
        { name: 'PGPASSWORD', secret: EnvSecret.SuperuserPassword },
        { name: 'PGDATABASE', value: database },
        ...ENV_SSL(tls, paths),
        { name: 'PGCONNECT_TIMEOUT', value: '10' },
        { name: 'PGAPPNAME', value: 'postgres-strategies-bootstrap' },
      ],
      files: [{ path: paths.bootstrapScript, content: FileContent.BootstrapSql, mode: '0644' }, ...(tls ? [caMount] : [])],
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
    const k = options.kratos;
    const image = k.image ?? KRATOS_DEFAULT_IMAGE;
    check(
      typeof image === 'string' && /^[a-z0-9][a-z0-9._\-/:]*(@sha256:[a-f0-9]{64})?$/i.test(image),
      'kratos.image',
      `"${String(image)}" is not an image reference`,
      `Give a pinned reference like "${KRATOS_DEFAULT_IMAGE}"`,
    );
    const publicPublish = planPublish(k.publishPublicPort, options.publishAddress, 'kratos.publishPublicPort');
    const adminPublish = planPublish(k.publishAdminPort, options.publishAddress, 'kratos.publishAdminPort');
    const configOptions: KratosConfigOptions = {
      publicBaseUrl: k.publicBaseUrl ?? `http://127.0.0.1:${publicPublish?.hostPort ?? KRATOS_PUBLIC_PORT}/`,
      adminBaseUrl: `http://kratos:${KRATOS_ADMIN_PORT}/`,
      returnUrl: k.returnUrl ?? 'http://127.0.0.1:4455/',
      identitySchemaPath: paths.kratosIdentitySchema,
    };
    const config = k.config !== undefined ? validateKratosConfig(k.config, 'kratos.config') : renderKratosConfig(configOptions, 'kratos');
    staticFiles[FileContent.KratosConfig] = config;
    staticFiles[FileContent.IdentitySchema] = KRATOS_IDENTITY_SCHEMA;
    const ports: PortPlan[] = [];
    if (publicPublish) ports.push({ internal: KRATOS_PUBLIC_PORT, external: publicPublish.hostPort, address: publicPublish.address });
    if (adminPublish) ports.push({ internal: KRATOS_ADMIN_PORT, external: adminPublish.hostPort, address: adminPublish.address });
    kratos = { instance: kratosInstance as string, image, config, identitySchema: KRATOS_IDENTITY_SCHEMA, publish: ports };
    const clientFiles = tls ? [caMount] : [];
    const dsnEnv: EnvEntry = { name: 'DSN', secret: EnvSecret.KratosDsn };
    containers.push(
      {
        service: 'kratos-migrate',
        image: ImageRef.Kratos,
        command: [...KRATOS_MIGRATE_COMMAND],
        env: [dsnEnv],
        files: clientFiles,
        ports: [],
        aliases: [],
        oneShot: true,
        restart: 'no',
        dependsOn: oneShot
          ? [{ service: 'postgres-bootstrap', condition: ServiceCondition.CompletedSuccessfully }]
          : [{ service: 'postgres', condition: ServiceCondition.Healthy }],
      },
      {
        service: 'kratos',
        image: ImageRef.Kratos,
        command: kratosServeCommand(paths.kratosConfig, k.dev ?? false),
        env: [dsnEnv],
        files: [
          { path: paths.kratosConfig, content: FileContent.KratosConfig, mode: '0644' },
          { path: paths.kratosIdentitySchema, content: FileContent.IdentitySchema, mode: '0644' },
          ...clientFiles,
        ],
        ports,
        aliases: ['kratos'],
        oneShot: false,
        restart: 'unless-stopped',
        dependsOn: [{ service: 'kratos-migrate', condition: ServiceCondition.CompletedSuccessfully }],
      },
    );
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
  container(service: string): string;
}

/**
 * Docker names derived from the component name (`<name>-network`,
 * `<name>-postgres-data`, `<name>-<service>`).
 * @throws ValidationError when the name cannot name Docker objects.
 */
export function dockerNames(name: string, volumeName?: string): DockerNames {
  const ok = (n: string): boolean => /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(n);
  check(ok(name) && name.length <= 100, 'name', `"${name}" cannot name Docker containers, networks and volumes`, 'Use letters, digits, "_", "." and "-", starting with a letter or digit');
  const volume = volumeName ?? `${name}-postgres-data`;
  check(ok(volume), 'volumeName', `"${volume}" is not a Docker volume name`, 'Use letters, digits, "_", "." and "-", starting with a letter or digit');
  return { network: `${name}-network`, volume, container: (service) => `${name}-${service}` };
}
