/**
 * The containers of the local stack as data: what each runs, its
 * environment (secrets by name only), files, volumes, ports, healthcheck
 * and the condition it waits for. The Pulumi component and the
 * docker-compose renderer both translate these plans.
 */
import { CONTAINER_PATHS, LOCAL_SERVER_PORT, LocalPaths } from './paths';

/**
 * One environment variable. Never a secret: passwords reach containers as
 * files (`POSTGRES_PASSWORD_FILE`, Kratos' config file), which `docker
 * inspect` does not show.
 */
export interface EnvEntry {
  name: string;
  value: string;
}

/** What a file in a container holds. */
export enum FileContent {
  PostgresqlConf = 'postgresql.conf',
  PgHba = 'pg_hba.conf',
  TlsEntrypoint = 'entrypoint.sh',
  BootstrapSql = 'bootstrap.sql',
  /** The superuser's password, read by the image's entrypoint through `POSTGRES_PASSWORD_FILE` (a Docker secret file). */
  SuperuserPassword = 'postgres-password',
  ServerCert = 'server.crt',
  ServerKey = 'server.key',
  CaCert = 'ca.crt',
  /** Kratos' config, with its `dsn` (a secret). */
  KratosConfig = 'kratos.yml',
  IdentitySchema = 'identity.schema.json',
}

/** Where each file sits next to the docker-compose.yml (bind-mount source). */
export const COMPOSE_SOURCES: Readonly<Record<FileContent, string>> = {
  [FileContent.PostgresqlConf]: './postgres/postgresql.conf',
  [FileContent.PgHba]: './postgres/pg_hba.conf',
  [FileContent.TlsEntrypoint]: './postgres/entrypoint.sh',
  [FileContent.BootstrapSql]: './postgres/bootstrap.sql',
  [FileContent.SuperuserPassword]: './secrets/postgres-password',
  [FileContent.ServerCert]: './postgres/tls/server.crt',
  [FileContent.ServerKey]: './postgres/tls/server.key',
  [FileContent.CaCert]: './postgres/tls/ca.crt',
  [FileContent.KratosConfig]: './kratos/kratos.yml',
  [FileContent.IdentitySchema]: './kratos/identity.schema.json',
};

/**
 * Files that hold a password or a key: uploaded as Pulumi secrets, kept out
 * of the plan.
 */
export const SECRET_FILES: ReadonlySet<FileContent> = new Set([FileContent.ServerKey, FileContent.BootstrapSql, FileContent.SuperuserPassword, FileContent.KratosConfig]);

/** A file placed in a container. */
export interface FileMount {
  /** Path in the container. Under `/run/secrets/`: a Docker secret (a compose `secrets:` entry). */
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
  /** Mount point of the volume holding the server's Unix socket (server and bootstrap). */
  socketVolumePath?: string;
  /** The OS user the command runs as (Docker `user`). @default the image's */
  user?: string;
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
   * The bootstrap script as an init script (/docker-entrypoint-initdb.d)
   * only: runs once, when the volume is empty. Later changes to the
   * instances replace the server container but never reach existing data,
   * and a kept volume keeps its old superuser password.
   */
  InitScript = 'init-script',
  /**
   * A one-shot `postgres-bootstrap` container runs the idempotent script
   * with psql once the server is healthy, and again whenever the script
   * changes: it logs in through the server's Unix socket as the OS user
   * postgres (`peer`, no password), sets the superuser's password to the
   * stack's current verifier, then creates or repairs the instances. The
   * server container does not depend on the instances, so adding one or
   * changing a pool never restarts PostgreSQL.
   */
  OneShot = 'one-shot',
  /**
   * Both: complete on first boot, and later changes re-run the script.
   * Warning: the init script is a file of the server container, so any
   * change to the instances or pools replaces (restarts) the server.
   */
  InitScriptAndOneShot = 'init-script-and-one-shot',
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
