/**
 * Fixed names, ports and paths of the local Docker strategy: the superuser
 * the image creates, the server's name on the stack's network, seed 004's
 * initdb arguments, the seed's healthcheck timing, and where each file sits
 * in the containers.
 */
import { DEFAULT_PORT } from '../core/dsn';

/** The superuser the image creates; kept as `postgres` so `local … peer` lets the entrypoint and the bootstrap in. */
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
  /**
   * The server's Unix socket directory (`unix_socket_directories`), a volume
   * shared with the one-shot bootstrap container, which logs in through it
   * as the OS user postgres (`local all postgres peer`, no password).
   */
  socketDir: string;
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
  /**
   * The superuser's password file (`POSTGRES_PASSWORD_FILE`), where Docker
   * and compose put secrets. The entrypoint reads it as root, before it
   * steps down to the OS user postgres: root-owned, 0600.
   */
  superuserPasswordFile: string;
  /** The bootstrap script as an init script (runs on an empty volume only). */
  initScript: string;
  /** The bootstrap script in the one-shot bootstrap container. */
  bootstrapScript: string;
  /** The CA certificate in client containers (Kratos): their `sslrootcert`. */
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
  // The images' own socket directory (compiled in, owned by postgres, mode 3777).
  socketDir: '/var/run/postgresql',
  entrypointScript: '/etc/postgresql/postgres-strategies-entrypoint.sh',
  certFile: '/etc/postgresql/tls/server.crt',
  keyUpload: '/etc/postgresql/tls/server.key',
  keyDir: '/run/postgres-strategies',
  keyFile: '/run/postgres-strategies/server.key',
  superuserPasswordFile: '/run/secrets/postgres-password',
  initScript: '/docker-entrypoint-initdb.d/10-postgres-strategies.sql',
  bootstrapScript: '/etc/postgres-strategies/bootstrap.sql',
  clientCaFile: '/etc/postgres-strategies/ca.crt',
  kratosConfig: '/etc/config/kratos/kratos.yml',
  kratosIdentitySchema: '/etc/config/kratos/identity.schema.json',
};
